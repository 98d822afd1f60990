"""dropout: the masks, the engines' gradients against finite differences of the network written out by hand
with the same masks, the two engines alike, and the estimator (deterministic, nothing dropped at prediction)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.model import dropout, warps
from pipeline.model.device_batch import DeviceFullBatch
from pipeline.model.estimator import DigitNetClassifier
from pipeline.model.full_batch import FullBatchGradient
from test_full_batch import assert_finite_differences, assert_same_gradients, small_problem


def test_a_unit_is_dropped_at_the_rate_in_steps_of_1_256_and_kept_ones_are_scaled_to_keep_the_mean():
    assert dropout.threshold(0.25) == 64 and dropout.keep_scale(0.25) == pytest.approx(4 / 3)
    assert dropout.threshold(0.1) == 26 and dropout.keep_scale(0.1) == pytest.approx(256 / 230)
    masks = dropout.keep_masks(seed=7, group=0, rows=400, widths=[300, 200], rate=0.25)
    assert [m.shape for m in masks] == [(400, 300), (400, 200)] and masks[0].dtype == bool
    for m in masks:
        assert abs(1 - m.mean() - 0.25) < 0.01  # 80,000 units or more: about 0.002 of spread
    assert all(m.all() for m in dropout.keep_masks(7, 0, 50, [30], 0.0))


def test_masks_come_from_the_seed_and_the_group_alone():
    one = dropout.keep_masks(3, 2, 40, [16, 8], 0.5)
    again = dropout.keep_masks(3, 2, 40, [16, 8], 0.5)
    assert all(np.array_equal(a, b) for a, b in zip(one, again))
    assert not np.array_equal(one[0], dropout.keep_masks(3, 1, 40, [16, 8], 0.5)[0])
    assert not np.array_equal(one[0], dropout.keep_masks(4, 2, 40, [16, 8], 0.5)[0])
    out = [np.ones((64, 16), bool), np.ones((64, 8), bool)]
    written = dropout.keep_masks(3, 2, 40, [16, 8], 0.5, out=out)
    assert all(np.array_equal(w, o) for w, o in zip(written, one))
    assert np.shares_memory(written[0], out[0]) and out[0][40:].all()  # only the top-left part is written


def dropped_loss(layers, x, targets, keep, scale):
    """The loss written out plainly in float64 with the given masks on the hidden outputs (no shared code)."""
    h = x.astype(np.float64)
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = np.where(h > 0, h, 0.0) * keep[i] * scale
    h = h - h.max(axis=1, keepdims=True)
    log_p = h - np.log(np.exp(h).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(targets)), targets])


@pytest.mark.parametrize("sizes", [[30, 7, 5, 3], [30, 6, 3]])
def test_both_engines_give_the_gradients_of_the_network_with_the_seeds_masks(sizes):
    shape, n_groups, rate, seed = (5, 6), 3, 0.3, 12345
    x, targets, layers = small_problem(sizes, n=14, seed=2)
    batch = warps.random_warps(np.random.default_rng(1), n_groups, shape, warps.WarpRanges(1.0, 20, 0.2, 10, 1.0, 2.0))
    engine = FullBatchGradient(x, targets, sizes, 0.0, image_shape=shape, n_groups=n_groups, workers=2, dropout=rate)
    # by hand: each group's masks from (seed, group), its images warped densely
    keep = [np.concatenate(parts) for parts in zip(*[
        dropout.keep_masks(seed, g, rows.stop - rows.start, sizes[1:-1], rate) for g, rows in enumerate(engine.groups)])]
    assert 0 < np.mean(np.concatenate([k.ravel() for k in keep])) < 1
    seen = np.concatenate([x[rows] @ batch[g].toarray().T for g, rows in enumerate(engine.groups)])
    f = lambda: dropped_loss(layers, seen, targets, keep, dropout.keep_scale(rate))  # noqa: E731
    loss, _, grads = engine(layers, warps=batch, keep_seed=seed)
    assert loss == pytest.approx(f(), rel=1e-12)
    assert_finite_differences(f, layers, grads)
    device = DeviceFullBatch(x, targets, sizes, 0.0, image_shape=shape, n_groups=n_groups, dropout=rate)
    d_loss, _, d_grads = device(layers, warps=batch, keep_seed=seed)
    assert d_loss == pytest.approx(loss, rel=1e-10)
    assert_same_gradients(d_grads, grads)
    one_worker = FullBatchGradient(x, targets, sizes, 0.0, image_shape=shape, n_groups=n_groups, workers=1, dropout=rate)
    assert one_worker(layers, warps=batch, keep_seed=seed)[0] == loss  # the masks do not depend on the threads
    no_seed, _, _ = engine(layers, warps=batch)  # without a seed nothing is dropped (as when the rate is 0)
    assert no_seed == pytest.approx(dropped_loss(layers, seen, targets, [1, 1], 1.0), rel=1e-12)


def test_a_fit_with_dropout_is_deterministic_and_predicts_with_every_unit():
    rng = np.random.default_rng(0)
    X = (rng.random((200, 784)) < 0.2) * rng.integers(1, 256, (200, 784))
    y = np.arange(200) % 10
    kwargs = dict(hidden_layer_sizes=[24, 16], max_iter=6, augment_groups=4, input_components=0, deskew=False)
    first = DigitNetClassifier(dropout=0.25, **kwargs).fit(X, y)
    second = DigitNetClassifier(dropout=0.25, **kwargs).fit(X, y)
    plain = DigitNetClassifier(dropout=0.0, **kwargs).fit(X, y)
    for (w1, b1), (w2, b2), (w0, _) in zip(first.layers_, second.layers_, plain.layers_):
        assert np.array_equal(w1, w2) and np.array_equal(b1, b2)
        assert not np.array_equal(w1, w0)
    np.testing.assert_array_equal(first.predict_proba(X), first.predict_proba(X))
    h = X * first.input_scale_  # prediction is the network as it is: no unit dropped, none scaled
    for i, (w, b) in enumerate(first.layers_):
        h = h @ np.asarray(w, np.float64) + b
        h = np.maximum(h, 0) if i < len(first.layers_) - 1 else h
    np.testing.assert_allclose(first.decision_function_logits(X), h, rtol=1e-9, atol=1e-9)
