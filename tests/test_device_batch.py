"""The GPU engine, run with NumPy as its array module: against finite differences, against the CPU
engine (FullBatchGradient), and as the estimator's engine for a short fit.

On a machine with CuPy and a CUDA device, tests/test_gpu.py runs the same engine on the GPU."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.model import devices, nn, warps
from pipeline.model.device_batch import DeviceFullBatch, shift_parts
from pipeline.model.estimator import DigitNetClassifier, TrainingDiverged
from pipeline.model.full_batch import FullBatchGradient
from strict_cupy import StrictCupy
from test_estimator import blobs
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


@pytest.fixture
def strict_gpu(monkeypatch):
    """device="gpu" runs under the strict CuPy stand-in: no implicit trip to the host, every operation counted."""
    module = StrictCupy()
    monkeypatch.setattr(devices, "_cupy", lambda: module)
    return module


def digits(n=600, seed=0):
    """Real 8 x 8 digits from scikit-learn (no mlxtend: the GPU machine's image lacks it); image_shape (8, 8)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(X))[:n]
    return X[order], y[order]


def test_a_short_fit_on_the_device_engine_matches_the_cpu_fit(numpy_as_gpu):
    X, y = digits(500)
    kwargs = dict(hidden_layer_sizes=(24,), max_iter=30, eval_every=10, augment_groups=4, learning_rate=0.03,
                  image_shape=(8, 8), augment_translate=1, augment_rotate_degrees=0.0, augment_scale=0.0,
                  augment_shear_degrees=0.0, augment_elastic_alpha=0.0)
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
    fit = lambda: DigitNetClassifier(device="gpu", hidden_layer_sizes=(16,), max_iter=5,  # noqa: E731
                                     image_shape=(8, 8)).fit(X, y)
    a, b = fit(), fit()
    for (wa, ba), (wb, bb) in zip(a.layers_, b.layers_):
        assert wa.tobytes() == wb.tobytes() and ba.tobytes() == bb.tobytes()


# -- the device path under the strict stand-in: what a GPU would do, counted ---------------------------------------

def pixels(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 784)).astype(np.uint8), np.arange(n) % 10


def counted_fit(module, **params):
    """(operations, host syncs) of one fit of the default network (784-256-256-10, 16 groups, warps) on 160 rows."""
    X, y = pixels(200)
    module.reset_counts()
    eval_set = params.pop("eval_set", None)
    DigitNetClassifier(device="gpu", **params).fit(X[:160], y[:160], eval_set=eval_set and (X[160:], y[160:]))
    return module.counts["ops"], module.counts["syncs"]


@pytest.mark.parametrize("optimizer, budget", [("adam", 80), ("muon", 170)])
def test_an_update_is_at_most_its_budget_of_array_operations_with_16_groups(strict_gpu, optimizer, budget):
    """Each array operation is a kernel launch on a GPU. The engine and an Adam step: at most 80 (issue 29's
    budget; the engine before it made 244). Muon adds five Newton-Schulz iterations per hidden matrix."""
    counted_fit(strict_gpu, max_iter=1)  # the self-check, once per process
    short, _ = counted_fit(strict_gpu, max_iter=10, optimizer=optimizer)
    long, _ = counted_fit(strict_gpu, max_iter=30, optimizer=optimizer)
    per_update = (long - short) / 20
    assert per_update <= budget, f"{per_update} array operations per update"


def test_a_gpu_fit_waits_for_the_device_once_per_eval_every_updates(strict_gpu):
    counted_fit(strict_gpu, max_iter=1)
    _, syncs = counted_fit(strict_gpu, max_iter=30, eval_every=10, eval_set=True)
    assert syncs <= 30 // 10 + 1  # a read per validation check, and the trained weights once at the end


def test_divergence_on_the_device_names_the_update_it_happened_at(strict_gpu):
    X, y = blobs()
    model = DigitNetClassifier(device="gpu", hidden_layer_sizes=(8,), max_iter=50, eval_every=10, learning_rate=1e12,
                               optimizer="gd")
    with pytest.raises(TrainingDiverged, match=r"^training diverged at iteration (\d+): the loss is (nan|inf)") as raised:
        model.fit(X, y)
    cpu = DigitNetClassifier(device="cpu", **{k: v for k, v in model.get_params().items() if k != "device"})
    with pytest.raises(TrainingDiverged) as on_cpu:
        cpu.fit(X, y)
    # read every 10 updates on the device, every update on the CPU: the same update is named
    assert str(raised.value).split(":")[0] == str(on_cpu.value).split(":")[0]


def test_a_fit_and_its_predictions_on_the_strict_device_agree_with_the_cpu(strict_gpu):
    X, y = digits(600)
    kwargs = dict(hidden_layer_sizes=(32,), max_iter=40, augment_groups=4, learning_rate=0.01, image_shape=(8, 8),
                  augment_translate=1, augment_rotate_degrees=10.0)
    gpu = DigitNetClassifier(device="gpu", **kwargs).fit(X[:500], y[:500], eval_set=(X[500:], y[500:]))
    cpu = DigitNetClassifier(device="cpu", **kwargs).fit(X[:500], y[:500], eval_set=(X[500:], y[500:]))
    assert gpu.device_.startswith("gpu: Strict CuPy stand-in")
    for (wg, bg), (wc, bc) in zip(gpu.layers_, cpu.layers_):
        np.testing.assert_allclose(wg, wc, rtol=0, atol=1e-3 * np.abs(wc).max())
    strict_gpu.reset_counts()
    on_device = gpu.predict(X)  # device "gpu": the stand-in, float32, fixed-size batches
    assert strict_gpu.counts["ops"] > 0
    gpu.set_params(device="cpu")
    assert np.mean(on_device == gpu.predict(X)) >= 0.995  # float32 on the device, float64 on the CPU: ties may move
    gpu.set_params(device="gpu")
    order = np.random.default_rng(1).permutation(len(X))
    batch = gpu.predict_proba(X)
    np.testing.assert_array_equal(gpu.predict_proba(X[order]), batch[order])  # a row's answer is its own
    np.testing.assert_array_equal(gpu.predict_proba(X[7:8]), batch[7:8])


def test_muon_and_deskew_run_on_the_strict_device_as_on_the_cpu(strict_gpu):
    X, y = pixels(120)
    kwargs = dict(hidden_layer_sizes=(16, 16), max_iter=12, augment_groups=4, optimizer="muon", deskew=True)
    gpu = DigitNetClassifier(device="gpu", **kwargs).fit(X, y)
    cpu = DigitNetClassifier(device="cpu", **kwargs).fit(X, y)
    for (wg, bg), (wc, bc) in zip(gpu.layers_, cpu.layers_):
        np.testing.assert_allclose(wg, wc, rtol=0, atol=1e-3 * np.abs(wc).max())


def test_dropout_runs_on_the_strict_device_as_on_the_cpu(strict_gpu):
    """The device engine draws the CPU engine's masks on the host and copies them over: the same fit."""
    X, y = pixels(120)
    kwargs = dict(hidden_layer_sizes=(16, 16), max_iter=12, augment_groups=4, dropout=0.3, input_components=0)
    gpu = DigitNetClassifier(device="gpu", **kwargs).fit(X, y)
    cpu = DigitNetClassifier(device="cpu", **kwargs).fit(X, y)
    plain = DigitNetClassifier(device="cpu", **{**kwargs, "dropout": 0.0}).fit(X, y)
    for (wg, bg), (wc, bc), (wp, _) in zip(gpu.layers_, cpu.layers_, plain.layers_):
        np.testing.assert_allclose(wg, wc, rtol=0, atol=1e-3 * np.abs(wc).max())
        assert np.abs(wc - wp).max() > 1e-2 * np.abs(wc).max()  # and dropout did change the fit
