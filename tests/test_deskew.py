"""Deskewing against scipy.ndimage.affine_transform with moments computed here by plain sums, and what it promises."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pipeline.model.deskew import deskew, slants

SHAPE = (28, 28)


def moments_by_hand(image):
    """Mean row, mean column and cov(row, col) / var(row) of the ink, by plain loops."""
    total = mr = mc = 0.0
    for r in range(image.shape[0]):
        for c in range(image.shape[1]):
            total += image[r, c]
            mr += r * image[r, c]
            mc += c * image[r, c]
    mr, mc = mr / total, mc / total
    var = cov = 0.0
    for r in range(image.shape[0]):
        for c in range(image.shape[1]):
            var += (r - mr) ** 2 * image[r, c]
            cov += (r - mr) * (c - mc) * image[r, c]
    return mr, mc, cov / var


def slanted_bar(slope: float, shift=(0.0, 0.0)) -> np.ndarray:
    """A bar from top to bottom, leaning ``slope`` columns per row, drawn as a smooth line."""
    r, c = np.indices(SHAPE, dtype=np.float64)
    centre_c = 13.5 + shift[1] + slope * (r - 13.5 - shift[0])
    image = np.exp(-0.5 * ((c - centre_c) / 1.2) ** 2) * ((r > 4 + shift[0]) & (r < 23 + shift[0]))
    return image * 255


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deskew_is_scipys_affine_transform_with_the_images_own_moments(seed):
    rng = np.random.default_rng(seed)
    images = [slanted_bar(rng.uniform(-0.5, 0.5), rng.uniform(-3, 3, 2)) + rng.uniform(0, 30, SHAPE) for _ in range(3)]
    got = deskew(np.stack([im.ravel() for im in images]), SHAPE)
    for image, row in zip(images, got):
        mr, mc, alpha = moments_by_hand(image)
        matrix = np.array([[1.0, 0.0], [alpha, 1.0]])
        centre = np.array([13.5, 13.5])
        expected = ndimage.affine_transform(image, matrix, offset=np.array([mr, mc]) - matrix @ centre, order=1,
                                            mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(row.reshape(SHAPE), expected, atol=1e-9)


def test_a_slanted_digit_comes_out_upright_and_centred():
    image = slanted_bar(0.4, shift=(2.0, -3.0))
    (alpha_before,) = slants(image[None])[2]
    mean_r, mean_c, alpha = (v[0] for v in slants(deskew(image.ravel()[None], SHAPE).reshape(1, *SHAPE)))
    assert alpha_before == pytest.approx(0.4, abs=0.05)
    assert abs(alpha) < 0.02 and mean_r == pytest.approx(13.5, abs=0.1) and mean_c == pytest.approx(13.5, abs=0.1)


def test_blank_and_upright_centred_images_are_left_as_they_are():
    upright = slanted_bar(0.0)
    out = deskew(np.stack([np.zeros(784), upright.ravel()]), SHAPE)
    assert not out[0].any()
    np.testing.assert_allclose(out[1], upright.ravel(), atol=1e-6 * 255)


def test_a_row_is_deskewed_the_same_alone_or_among_others_in_any_place():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 256, (1100, 784)).astype(np.uint8)  # more than one chunk
    whole = deskew(x, SHAPE)
    order = rng.permutation(len(x))
    np.testing.assert_array_equal(deskew(x[order], SHAPE), whole[order])
    for i in (0, 513, 1099):
        np.testing.assert_array_equal(deskew(x[i:i + 1], SHAPE), whole[i:i + 1])
    assert whole.dtype == np.float64 and deskew(x.astype(np.float32), SHAPE).dtype == np.float32


def test_the_estimator_deskews_what_it_trains_on_and_leaves_inputs_that_are_not_images():
    from pipeline.model.estimator import DigitNetClassifier

    rng = np.random.default_rng(5)
    X = rng.integers(0, 256, (40, 784)).astype(np.uint8)
    model = DigitNetClassifier(hidden_layer_sizes=[8], max_iter=2, deskew=True, input_components=0).fit(X, np.arange(40) % 4)
    np.testing.assert_allclose(model.transform_inputs(X), deskew(X / 255.0, SHAPE), rtol=1e-12)
    plain = DigitNetClassifier(hidden_layer_sizes=[8], max_iter=2, deskew=False, input_components=0).fit(X, np.arange(40) % 4)
    np.testing.assert_array_equal(plain.transform_inputs(X), X * plain.input_scale_)
    other = rng.random((20, 64))  # not 28 x 28 images: as with the augmentation, left as they are
    model = DigitNetClassifier(hidden_layer_sizes=[8], max_iter=2, deskew=True).fit(other, np.arange(20) % 2)
    np.testing.assert_array_equal(model.transform_inputs(other), other * model.input_scale_)
    with pytest.raises(ValueError, match="image_shape"):  # an explicit shape that does not fit is refused
        DigitNetClassifier(hidden_layer_sizes=[8], max_iter=2, deskew=True, image_shape=(7, 7)).fit(other, np.arange(20) % 2)
