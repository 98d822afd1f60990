"""One implementation of the network's math, run by both engines, and the factory that picks the engine."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core import param_rules
from pipeline.core.config import TrainParams
from pipeline.model import devices, estimator, nn
from pipeline.model.device_batch import DeviceFullBatch
from pipeline.model.engines import make_engine
from pipeline.model.full_batch import FullBatchGradient
from test_full_batch import small_problem


def engines(x, targets, sizes, groups=3):
    return [FullBatchGradient(x, targets, sizes, 0.01, n_groups=groups, workers=1),
            DeviceFullBatch(x, targets, sizes, 0.01, n_groups=groups)]


def test_both_engines_compute_through_nn_and_nothing_else(monkeypatch):
    """A change to nn's backward reaches both engines: neither keeps a copy of the layers' arithmetic."""
    sizes = [6, 5, 4, 3]
    x, targets, layers = small_problem(sizes, n=12)
    calls = []
    real = nn.loss_and_gradients

    def counted(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(nn, "loss_and_gradients", counted)
    for engine in engines(x, targets, sizes):
        calls.clear()
        engine(layers)
        assert sum(calls) == len(x), type(engine).__name__  # every row went through nn, once

    def doubled_backward(*args, **kwargs):  # a planted change in the shared math
        grads = real_backward(*args, **kwargs)
        for grad_w, grad_b in grads:
            grad_w *= 2
            grad_b *= 2
        return grads

    real_backward = nn.backward
    expected = [g for layer in FullBatchGradient(x, targets, sizes, 0.0, workers=1)(layers)[2] for g in layer]
    monkeypatch.setattr(nn, "backward", doubled_backward)
    for engine in (FullBatchGradient(x, targets, sizes, 0.0, n_groups=3, workers=1),
                   DeviceFullBatch(x, targets, sizes, 0.0, n_groups=3)):
        got = [g for layer in engine(layers)[2] for g in layer]
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, 2 * b, rtol=1e-12, atol=1e-15)


def test_the_buffered_and_the_allocating_calls_give_the_same_bits():
    """The CPU engine's preallocated outputs change where results go, not what they are."""
    sizes = [7, 6, 5, 3]
    x, targets, layers = small_problem(sizes, n=9, seed=4)
    x, layers = x.astype(np.float32), [(w.astype(np.float32), b.astype(np.float32)) for w, b in layers]
    rows = np.arange(len(x))
    plain = nn.loss_and_gradients(layers, x, targets, rows, 1 / 9)
    buffers = {"acts": [np.full((9, w), np.nan, np.float32) for w in sizes[1:]],
               "logit_delta": np.full((9, 3), np.nan, np.float32),
               "deltas": [np.full((9, w), np.nan, np.float32) for w in sizes[1:-1]],
               "grads": [(np.full((a, b), np.nan, np.float32), np.full(b, np.nan, np.float32))
                         for a, b in zip(sizes[:-1], sizes[1:])],
               "mask": np.zeros((20, 20), bool)}
    buffered = nn.loss_and_gradients(layers, x, targets, rows, 1 / 9, buffers)
    assert plain[0] == buffered[0] and plain[1] == buffered[1]
    for (pw, pb), (bw, bb), (ow, ob) in zip(plain[2], buffered[2], buffers["grads"]):
        assert bw is ow and bb is ob  # written into the buffers given
        assert pw.tobytes() == bw.tobytes() and pb.tobytes() == bb.tobytes()


def test_regularised_adds_decay_to_the_weights_only_and_the_penalty_to_the_mean_loss():
    rng = np.random.default_rng(0)
    layers = [(rng.standard_normal((3, 2)), rng.standard_normal(2)) for _ in range(2)]
    grads = [(np.zeros((3, 2)), np.zeros(2)) for _ in range(2)]
    loss = nn.regularised(6.0, 3, layers, grads, 0.5)
    assert loss == pytest.approx(2.0 + 0.25 * sum(np.sum(w ** 2) for w, _ in layers), rel=1e-12)
    for (gw, gb), (w, _) in zip(grads, layers):
        np.testing.assert_array_equal(gw, 0.5 * w)
        assert not gb.any()


def test_make_engine_picks_the_engine_and_its_groups(monkeypatch):
    sizes = [6, 5, 3]
    x, targets, _ = small_problem(sizes, n=40)
    x = x.astype(np.float32)
    with make_engine("cpu", x, targets, sizes, 0.0, None, None) as cpu:
        assert isinstance(cpu, FullBatchGradient) and len(cpu.groups) == 1  # small work: one worker, one group
        assert cpu.put(x) is x
    with make_engine("cpu", x, targets, sizes, 0.0, (2, 3), 4) as cpu:
        assert len(cpu.groups) == 4
    monkeypatch.setattr(devices, "_cupy", lambda: np)  # NumPy standing in for CuPy
    with make_engine("gpu", x, targets, sizes, 0.0, None, None) as gpu:
        assert isinstance(gpu, DeviceFullBatch) and len(gpu.groups) == 1
    with make_engine("gpu", x, targets, sizes, 0.0, (2, 3), 4) as gpu:
        assert len(gpu.groups) == 4


def test_params_from_params_yaml_are_checked_once_and_changed_ones_again(monkeypatch):
    params = TrainParams(hidden_layer_sizes=(4,), max_iter=2)
    checks = []
    real = param_rules.check_fields
    monkeypatch.setattr(estimator, "check_fields", lambda *a, **k: checks.append(1) or real(*a, **k))
    X = np.random.default_rng(0).random((20, 5))
    y = np.arange(20) % 2
    model = estimator.DigitNetClassifier.from_params(params)
    model.fit(X, y)
    assert checks == []  # the loader checked them
    model.set_params(learning_rate=-1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        model.fit(X, y)
    assert checks == [1]
