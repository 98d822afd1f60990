"""Test-time augmentation: the averaged shifted copies, checked against an independent shift (scipy.ndimage)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pipeline.model import tta
from pipeline.model.estimator import DigitNetClassifier


@pytest.fixture(scope="module")
def model_and_digits():
    rng = np.random.default_rng(5)
    x = (rng.random((120, 784)) < 0.2) * rng.integers(1, 256, size=(120, 784))
    y = np.arange(120) % 10
    # the views of the raw digits: no deskewing or projection in between (tested below)
    return DigitNetClassifier(hidden_layer_sizes=[16], max_iter=5, augment_groups=4, deskew=False,
                              input_components=0).fit(x, y), x


def test_offsets_are_every_move_up_to_the_shift_once():
    assert tta.shift_offsets(0) == [(0, 0)]
    one = tta.shift_offsets(1)
    assert len(one) == len(set(one)) == 9 and (0, 0) in one and max(max(map(abs, o)) for o in one) == 1
    assert len(set(tta.shift_offsets(2))) == 25


def test_probabilities_are_the_mean_over_independently_shifted_copies(model_and_digits):
    model, x = model_and_digits
    images = x.reshape(-1, 28, 28).astype(np.float64)
    expected = np.mean([model.predict_proba(ndimage.shift(images, (0, dy, dx), order=0, cval=0).reshape(-1, 784))
                        for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)
    got = tta.predict_proba_shifted(model, x, 1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert not np.allclose(got, model.predict_proba(x), atol=1e-6)  # the copies do change the answer
    np.testing.assert_array_equal(tta.predict_shifted(model, x, 1), model.classes_[expected.argmax(axis=1)])


def test_no_shift_is_plain_prediction(model_and_digits):
    model, x = model_and_digits
    np.testing.assert_array_equal(tta.predict_proba_shifted(model, x, 0), model.predict_proba(x))


def test_a_rows_answer_does_not_depend_on_the_chunking(model_and_digits, monkeypatch):
    model, x = model_and_digits
    whole = tta.predict_proba_shifted(model, x, 1)
    monkeypatch.setattr(tta, "CHUNK_ROWS", 7)
    np.testing.assert_array_equal(tta.predict_proba_shifted(model, x, 1), whole)
    np.testing.assert_array_equal(tta.predict_proba_shifted(model, x[50:51], 1), whole[50:51])


def test_inputs_that_are_not_images_are_predicted_once():
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 5)), np.arange(40) % 2
    model = DigitNetClassifier(hidden_layer_sizes=[4], max_iter=3).fit(x, y)
    np.testing.assert_array_equal(tta.predict_proba_shifted(model, x, 2), model.predict_proba(x))


def test_a_deskewing_model_moves_its_deskewed_inputs_not_the_raw_rows():
    """The views are shifted after deskewing: deskewing a shifted copy would centre it again, and every view
    would be the same view."""
    from pipeline.model import nn
    from pipeline.model.deskew import deskew

    rng = np.random.default_rng(6)
    x = (rng.random((60, 784)) < 0.2) * rng.integers(1, 256, size=(60, 784))
    model = DigitNetClassifier(hidden_layer_sizes=[16], max_iter=5, augment_groups=4, deskew=True,
                               input_components=0).fit(x, np.arange(60) % 10)
    inputs = deskew(x * model.input_scale_, (28, 28))
    np.testing.assert_allclose(model.transform_inputs(x), inputs, rtol=1e-12, atol=1e-12)
    expected = np.mean([nn.softmax(model.logits_of_inputs(nn.shift_images(inputs, dy, dx, (28, 28))))
                        for dy, dx in tta.shift_offsets(1)], axis=0)
    np.testing.assert_allclose(tta.predict_proba_shifted(model, x, 1), expected, rtol=1e-12, atol=1e-15)
    assert np.abs(expected - model.predict_proba(x)).max() > 1e-3  # the views differ from the plain view
