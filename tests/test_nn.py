"""The network's plain math: softmax, shifts, initialisation."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.model import nn
from test_full_batch import roll_zero

@pytest.mark.parametrize("dy, dx", [(0, 0), (2, 0), (0, -3), (-1, 2), (5, 5)])
def test_shift_images_moves_pixels_down_and_right(dy, dx):
    rng = np.random.default_rng(abs(dy * 10 + dx))
    images = rng.integers(1, 9, size=(3, 5 * 6))
    moved = nn.shift_images(images, dy, dx, (5, 6))
    for image, got in zip(images, moved):
        np.testing.assert_array_equal(got.reshape(5, 6), roll_zero(image.reshape(5, 6), dy, dx))


def test_log_softmax_is_stable_for_huge_logits():
    logits = np.array([[1e30, 0.0, -1e30], [1000.0, 1000.0, 1000.0], [-1e4, -1e4 + 1, -1e4 + 2]])
    out = nn.log_softmax(logits)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[0], [0.0, -1e30, -2e30])
    np.testing.assert_allclose(out[1], np.log([1 / 3] * 3))
    small = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(out[2], small - np.log(np.exp(small).sum()))
    assert nn.cross_entropy(logits, np.array([0, 1, 2])) == pytest.approx(
        -(0.0 + np.log(1 / 3) + out[2, 2]) / 3)


def test_he_init_scale_and_determinism():
    a = nn.he_init(np.random.default_rng(1), [400, 300, 10])
    b = nn.he_init(np.random.default_rng(1), [400, 300, 10])
    assert [w.shape for w, _ in a] == [(400, 300), (300, 10)]
    assert all(w.dtype == np.float32 and not bias.any() for w, bias in a)
    assert a[0][0].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert all(np.array_equal(wa, wb) for (wa, _), (wb, _) in zip(a, b))

