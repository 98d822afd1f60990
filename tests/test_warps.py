"""Warps as interpolation matrices: against scipy.ndimage on real digits, and in weight space."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage

from pipeline.data.sample import load_mnist_sample
from pipeline.model import warps

SHAPE = (28, 28)


@pytest.fixture(scope="module")
def digits():
    pixels, _labels = load_mnist_sample()
    return pixels[::500][:10].astype(np.float64)  # one of each digit, real MNIST


RANGES = warps.WarpRanges(translate=2.0, rotate_degrees=15, scale=0.15, shear_degrees=15,
                          elastic_alpha=2.0, elastic_sigma=4.0)


@pytest.mark.parametrize("seed", range(4))
def test_affine_warp_equals_scipy_affine_transform_on_real_digits(digits, seed):
    rng = np.random.default_rng(seed)
    matrix, offset = warps.random_affine(rng, SHAPE, RANGES)
    t = warps.warp_matrix(SHAPE, matrix, offset)
    assert t.getnnz(axis=1).max() <= 4
    for image in digits:
        expected = scipy.ndimage.affine_transform(image.reshape(SHAPE), matrix, offset, order=1,
                                                  mode="grid-constant", cval=0.0)
        np.testing.assert_allclose((t @ image).reshape(SHAPE), expected, atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_elastic_warp_equals_scipy_map_coordinates_on_real_digits(digits, seed):
    rng = np.random.default_rng(seed)
    matrix, offset = warps.random_affine(rng, SHAPE, RANGES)
    field = warps.random_displacement(rng, SHAPE, RANGES)
    assert np.abs(field).max() == pytest.approx(RANGES.elastic_alpha)
    t = warps.warp_matrix(SHAPE, matrix, offset, field)
    grid = np.indices(SHAPE, dtype=np.float64).reshape(2, -1)
    coords = matrix @ grid + offset[:, None] + field.reshape(2, -1)
    for image in digits:
        expected = scipy.ndimage.map_coordinates(image.reshape(SHAPE), coords, order=1, mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(t @ image, expected, atol=1e-9)


def test_smoothing_is_scipys_gaussian_filter_away_from_the_edges():
    field = np.random.default_rng(0).uniform(-1, 1, (40, 40))
    g = warps.gaussian_smoothing(40, 3.0)
    ours = g @ field @ g.T
    theirs = scipy.ndimage.gaussian_filter(field, 3.0, truncate=20.0)
    # the edges differ on purpose (ours renormalises instead of reflecting); the middle is the same filter
    np.testing.assert_allclose(ours[15:25, 15:25], theirs[15:25, 15:25], atol=1e-6)


def test_integer_translation_is_the_shift():
    from pipeline.model import nn
    x = np.random.default_rng(1).random((3, 784))
    t = warps.warp_matrix(SHAPE, np.eye(2), np.array([-2.0, 1.0]))  # read 2 up, 1 right: moved down 2, left 1
    np.testing.assert_allclose((t @ x.T).T, nn.shift_images(x, 2, -1, SHAPE))


def test_weight_space_product_equals_warping_the_images_float32(digits):
    rng = np.random.default_rng(5)
    x = (digits / 255).astype(np.float32)
    w = rng.standard_normal((784, 64)).astype(np.float32)
    for _ in range(3):
        t = warps.random_warp(rng, SHAPE, RANGES)
        tf = t.astype(np.float32)
        image_space = (tf @ x.T).T @ w
        weight_space = x @ (tf.T @ w)
        np.testing.assert_allclose(weight_space, image_space, rtol=1e-4, atol=1e-4)


def test_a_batch_of_warps_is_each_warp_drawn_alone_read_by_scipy(digits):
    """``random_warps`` (what training uses: all groups' warps drawn and interpolated at once)
    against ``scipy.ndimage.map_coordinates`` at the coordinates of the same draws."""
    n = 5
    batch = warps.random_warps(np.random.default_rng(3), n, SHAPE, RANGES)
    rng = np.random.default_rng(3)  # the same draws, in the same order
    matrices, offsets = warps.random_affines(rng, n, SHAPE, RANGES)
    fields = warps.random_displacements(rng, n, SHAPE, RANGES)
    assert len(batch) == n and fields.shape == (n, 2, *SHAPE)
    np.testing.assert_allclose(np.abs(fields).reshape(n, -1).max(axis=1), RANGES.elastic_alpha)
    grid = np.indices(SHAPE, dtype=np.float64).reshape(2, -1)
    for g in range(n):
        coords = matrices[g] @ grid + offsets[g][:, None] + fields[g].reshape(2, -1)
        for image in digits[:4]:
            expected = scipy.ndimage.map_coordinates(image.reshape(SHAPE), coords, order=1,
                                                     mode="grid-constant", cval=0.0)
            np.testing.assert_allclose(batch[g] @ image, expected, atol=1e-9)
    # each group its own warp, and its own elastic field
    assert len({batch[g].toarray().tobytes() for g in range(n)}) == n
    assert len({fields[g].tobytes() for g in range(n)}) == n
