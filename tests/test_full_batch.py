"""The training loop's loss and gradients against central finite differences of an independent loss."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.model import nn
from pipeline.core.threads import available_cores
from pipeline.model.full_batch import FullBatchGradient


def reference_loss(layers, x, targets, weight_decay=0.0):
    """Loss written out plainly in float64, sharing no code with FullBatchGradient."""
    h = x.astype(np.float64)
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = np.where(h > 0, h, 0.0)
    h = h - h.max(axis=1, keepdims=True)
    log_p = h - np.log(np.exp(h).sum(axis=1, keepdims=True))
    data = -np.mean(log_p[np.arange(len(targets)), targets])
    return data + 0.5 * weight_decay * sum(np.sum(w * w) for w, _ in layers)


def roll_zero(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move a 2-d image down by dy and right by dx, filling with zeros (independent of nn.shift_images)."""
    out = np.zeros_like(image)
    rows, cols = image.shape
    for r in range(rows):
        for c in range(cols):
            if 0 <= r - dy < rows and 0 <= c - dx < cols:
                out[r, c] = image[r - dy, c - dx]
    return out


def numeric_gradient(f, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        up = f()
        array[index] = saved - eps
        down = f()
        array[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


def assert_finite_differences(f, layers, grads) -> None:
    """Every (dW, db) of ``grads`` against central differences of the loss ``f()`` in ``layers``' numbers."""
    for (w, b), (grad_w, grad_b) in zip(layers, grads):
        np.testing.assert_allclose(grad_w, numeric_gradient(f, w), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(grad_b, numeric_gradient(f, b), rtol=1e-5, atol=1e-8)


def assert_same_gradients(got, expected) -> None:
    """Two engines' (dW, db) pairs, equal to float64 rounding."""
    for (gw, gb), (ew, eb) in zip(got, expected):
        np.testing.assert_allclose(gw, ew, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(gb, eb, rtol=1e-8, atol=1e-12)


def small_problem(sizes, n=13, seed=0):
    rng = np.random.default_rng(seed)
    # Inputs away from ReLU kinks are not needed: FD steps of 1e-6 rarely cross one, and the
    # tolerance below would flag it if they did.
    x = rng.standard_normal((n, sizes[0]))
    targets = rng.integers(0, sizes[-1], n)
    layers = [(w.astype(np.float64), rng.standard_normal(b.shape) * 0.1) for w, b in nn.he_init(rng, sizes)]
    return x, targets, layers


@pytest.mark.parametrize("sizes, weight_decay", [([6, 5, 3], 0.0), ([7, 6, 4, 3], 0.01), ([5, 4, 3, 4, 2], 0.1)])
def test_gradients_match_finite_differences(sizes, weight_decay):
    x, targets, layers = small_problem(sizes)
    engine = FullBatchGradient(x, targets, sizes, weight_decay)
    loss, accuracy, grads = engine(layers)
    assert loss == pytest.approx(reference_loss(layers, x, targets, weight_decay), rel=1e-12)
    assert accuracy == np.mean(nn.forward(layers, x).argmax(axis=1) == targets)
    assert_finite_differences(lambda: reference_loss(layers, x, targets, weight_decay), layers, grads)


def test_shifted_training_matches_finite_differences_on_shifted_images():
    """Each group's images are shifted by its (dy, dx); the engine moves weights instead of pixels."""
    shape, sizes, n_groups = (4, 5), [20, 6, 3], 3
    x, targets, layers = small_problem(sizes, n=12, seed=3)
    shifts = np.array([[1, -2], [0, 0], [-1, 1]])
    engine = FullBatchGradient(x, targets, sizes, 0.01, image_shape=shape, n_groups=n_groups)
    shifted = np.concatenate([
        np.stack([roll_zero(img.reshape(shape), dy, dx).ravel() for img in x[group]])
        for group, (dy, dx) in zip(engine.groups, shifts)])
    loss, accuracy, grads = engine(layers, shifts)
    f = lambda: reference_loss(layers, shifted, targets, 0.01)  # noqa: E731
    assert loss == pytest.approx(f(), rel=1e-12)
    assert accuracy == np.mean(nn.forward(layers, shifted).argmax(axis=1) == targets)
    assert_finite_differences(f, layers, grads)


def test_zero_shifts_equal_no_augmentation_and_calls_do_not_leak_state():
    sizes = [12, 5, 3]
    x, targets, layers = small_problem(sizes, n=9)
    plain = FullBatchGradient(x, targets, sizes)
    grouped = FullBatchGradient(x, targets, sizes, image_shape=(3, 4), n_groups=4)
    expected = plain(layers)
    grouped(layers, np.array([[1, 1]] * 4))  # a different call in between must not change the next one
    got = grouped(layers, np.zeros((4, 2), int))
    assert got[0] == pytest.approx(expected[0], rel=1e-12)
    for (gw, gb), (ew, eb) in zip(got[2], expected[2]):
        np.testing.assert_allclose(gw, ew, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gb, eb, rtol=1e-10, atol=1e-12)


def test_float32_engine_agrees_with_float64():
    sizes = [30, 16, 10]
    x, targets, layers = small_problem(sizes, n=50, seed=5)
    loss64, _, grads64 = FullBatchGradient(x, targets, sizes, 0.001)(layers)
    layers32 = [(w.astype(np.float32), b.astype(np.float32)) for w, b in layers]
    loss32, _, grads32 = FullBatchGradient(x.astype(np.float32), targets, sizes, 0.001)(layers32)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for (w32, b32), (w64, b64) in zip(grads32, grads64):
        assert w32.dtype == np.float32 and b32.dtype == np.float32
        np.testing.assert_allclose(w32, w64, rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(b32, b64, rtol=1e-3, atol=1e-5)


def test_engine_is_stable_for_huge_logits():
    sizes = [4, 3, 2]
    x = np.array([[1e6, 0, 0, 0], [0, 1e6, 0, 0]], dtype=np.float32)
    layers = [(np.eye(4, 3, dtype=np.float32) * 100, np.zeros(3, np.float32)),
              (np.array([[1, -1], [-1, 1], [0, 0]], np.float32) * 100, np.zeros(2, np.float32))]
    loss, _, grads = FullBatchGradient(x, np.array([1, 0]), sizes)(layers)
    assert np.isfinite(loss) and loss > 1e9  # confidently wrong, and finite
    assert all(np.all(np.isfinite(g)) for layer in grads for g in layer)


def test_engine_refuses_mismatched_shapes():
    x = np.zeros((4, 6), np.float32)
    with pytest.raises(ValueError, match="expects 5 inputs, data has 6"):
        FullBatchGradient(x, np.zeros(4, int), [5, 3, 2])
    with pytest.raises(ValueError, match="does not hold 6 features"):
        FullBatchGradient(x, np.zeros(4, int), [6, 3, 2], image_shape=(2, 2))


@pytest.mark.parametrize("workers", [2, 3, 5])
@pytest.mark.parametrize("move", ["shifts", "warps"])
@pytest.mark.parametrize("components", [0, 5])
def test_result_does_not_depend_on_the_number_of_workers(workers, move, components):
    """Bit for bit: every group's arithmetic and the order of the sums are fixed (with a basis, the
    first layer's gradient is one product of the moved bases, cut by rows among the workers)."""
    from pipeline.model import warps
    from pipeline.model.projection import principal_basis

    sizes = [16, 9, 7, 4]
    x, targets, layers = small_problem(sizes, n=41, seed=7)
    x, layers = x.astype(np.float32), [(w.astype(np.float32), b.astype(np.float32)) for w, b in layers]
    basis = principal_basis(x, components).astype(np.float32) if components else None
    rng = np.random.default_rng(0)
    moves = ({"shifts": rng.integers(-1, 2, size=(6, 2))} if move == "shifts" else
             {"warps": warps.random_warps(rng, 6, (4, 4), warps.WarpRanges(1.0, 20, 0.2, 10, 1.0, 2.0), np.float32)})
    with FullBatchGradient(x, targets, sizes, 0.01, (4, 4), n_groups=6, workers=1, basis=basis) as one:
        expected = one(layers, **moves)
    with FullBatchGradient(x, targets, sizes, 0.01, (4, 4), n_groups=6, workers=workers, basis=basis) as many:
        assert many.workers == min(workers, 6)
        got = many(layers, **moves)
    assert got[:2] == expected[:2]
    for (gw, gb), (ew, eb) in zip(got[2], expected[2]):
        assert np.array_equal(gw, ew) and np.array_equal(gb, eb)


def test_a_worker_error_reaches_the_caller():
    sizes = [4, 3, 2]
    x, targets, layers = small_problem(sizes, n=8)
    with FullBatchGradient(x, targets, sizes, n_groups=4, workers=2) as engine:
        with pytest.raises(ValueError):
            engine([(np.zeros((5, 3)), np.zeros(3)), layers[1]])  # a first layer of the wrong shape


def test_small_work_stays_on_one_thread_large_work_uses_the_cores():
    from pipeline.model.full_batch import MIN_THREADED_WORK, auto_workers

    env = {}
    assert auto_workers(10, [4, 8, 3], env) == 1
    rows = MIN_THREADED_WORK // (784 * 512 + 512 * 10) + 1
    assert auto_workers(rows, [784, 512, 10], env) == available_cores(env)


@pytest.mark.parametrize("as_batch", [False, True], ids=["list", "WarpBatch"])
def test_warped_training_matches_finite_differences_on_warped_images(as_batch):
    """Each group's images are warped by its own T (rotation, scale, shear, elastic); the engine
    warps the first layer's weights instead, and its gradient must be the images' gradient.
    A ``WarpBatch`` (what training passes: the workers build the matrices) must do the same."""
    from pipeline.model import warps

    shape, sizes, n_groups = (5, 6), [30, 6, 3], 3
    x, targets, layers = small_problem(sizes, n=12, seed=4)
    rng = np.random.default_rng(0)
    ranges = warps.WarpRanges(translate=1.0, rotate_degrees=20, scale=0.2, shear_degrees=10,
                              elastic_alpha=1.0, elastic_sigma=2.0)
    batch = warps.random_warps(rng, n_groups, shape, ranges)
    ts = batch if as_batch else [batch[g] for g in range(n_groups)]
    engine = FullBatchGradient(x, targets, sizes, 0.01, image_shape=shape, n_groups=n_groups, workers=2)
    # The reference warps the pixels, densely, sharing no code with the engine's weight-space path.
    warped = np.concatenate([x[group] @ ts[g].toarray().T for g, group in enumerate(engine.groups)])
    loss, accuracy, grads = engine(layers, warps=ts)
    f = lambda: reference_loss(layers, warped, targets, 0.01)  # noqa: E731
    assert loss == pytest.approx(f(), rel=1e-12)
    assert accuracy == np.mean(nn.forward(layers, warped).argmax(axis=1) == targets)
    assert_finite_differences(f, layers, grads)


@pytest.mark.parametrize("move", ["none", "shift", "warp"])
def test_blank_input_columns_are_left_out_of_the_products_with_the_same_gradients(move):
    """Pixels that are zero in every row (MNIST's corners) are dropped from x; a shift or warp still carries
    weight into and out of them, so every gradient, theirs included, must be the images' own."""
    from pipeline.model import warps

    shape, sizes, n_groups = (5, 6), [30, 6, 3], 3
    x, targets, layers = small_problem(sizes, n=12, seed=5)
    blank = [0, 1, 2, 3, 4, 5, 17]  # the top row and one pixel inside
    x[:, blank] = 0.0
    engine = FullBatchGradient(x, targets, sizes, 0.01, image_shape=shape, n_groups=n_groups, workers=2)
    assert sorted(set(range(30)) - set(engine.used)) == blank and engine.x.shape == (12, 23)
    if move == "shift":
        shifts, ts = np.array([[1, -2], [0, 1], [-1, 1]]), None
        seen = np.concatenate([np.stack([roll_zero(img.reshape(shape), dy, dx).ravel() for img in x[group]])
                               for group, (dy, dx) in zip(engine.groups, shifts)])
    elif move == "warp":
        shifts = None
        ranges = warps.WarpRanges(translate=1.0, rotate_degrees=20, scale=0.2, elastic_alpha=1.0, elastic_sigma=2.0)
        ts = warps.random_warps(np.random.default_rng(1), n_groups, shape, ranges)
        seen = np.concatenate([x[group] @ ts[g].toarray().T for g, group in enumerate(engine.groups)])
    else:
        shifts = ts = None
        seen = x
    loss, _, grads = engine(layers, shifts, ts)
    f = lambda: reference_loss(layers, seen, targets, 0.01)  # noqa: E731
    assert loss == pytest.approx(f(), rel=1e-12)
    assert_finite_differences(f, layers, grads)


@pytest.mark.parametrize("workers", [1, 2])
def test_in_background_gives_the_tasks_result_and_its_failure(workers):
    import threading

    sizes = [4, 3, 2]
    x, targets, _ = small_problem(sizes, n=8)
    with FullBatchGradient(x, targets, sizes, n_groups=2, workers=workers) as engine:
        wait = engine.in_background(lambda: threading.current_thread().name)
        where = wait()
        assert where.startswith("full-batch") if workers == 2 else where == threading.current_thread().name

        def broken():
            raise RuntimeError("the draw failed")

        with pytest.raises(RuntimeError, match="the draw failed"):
            engine.in_background(broken)()
