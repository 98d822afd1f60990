"""pipeline/model/nn.py's promises that no other test pinned, each found by mutation testing (issue 31): a
mutant that changed the behaviour survived until the test here was written.

The math itself is checked against finite differences in test_full_batch.py and test_device_batch.py;
here: the layout of the flat parameters, the buffers the CPU engine hands in (results go into them), the
array module (a device array stays on the device: the strict CuPy stand-in refuses NumPy), the float64
sums, and the numerically stable softmax row by row.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.model import devices, nn
from strict_cupy import StrictCupy

SIZES = [7, 6, 5, 3]


def problem(n=9, seed=4, dtype=np.float32):
    rng = np.random.default_rng(seed)
    layers = [(rng.standard_normal((a, b)).astype(dtype), rng.standard_normal(b).astype(dtype))
              for a, b in zip(SIZES[:-1], SIZES[1:])]
    return rng.standard_normal((n, SIZES[0])).astype(dtype), rng.integers(0, 3, n), layers


def test_he_init_biases_are_zeros_of_the_type_asked_for():
    for dtype in (np.float32, np.float64):
        layers = nn.he_init(np.random.default_rng(0), [5, 4, 3], dtype)
        assert all(w.dtype == dtype and b.dtype == dtype and b.shape == (w.shape[1],) for w, b in layers)


def test_the_flat_parameters_hold_every_layer_in_order():
    sizes = [4, 3, 2, 5]
    assert nn.flat_size(sizes) == 4 * 3 + 3 + 3 * 2 + 2 + 2 * 5 + 5
    flat = np.arange(nn.flat_size(sizes), dtype=np.float64)
    layers = nn.flat_views(flat, sizes)
    assert [(w.shape, b.shape) for w, b in layers] == [((4, 3), (3,)), ((3, 2), (2,)), ((2, 5), (5,))]
    np.testing.assert_array_equal(nn.flatten(layers), flat)
    assert layers[1][0][0, 0] == 15 and layers[2][1][-1] == flat[-1]
    layers[2][0][...] = -1  # views: an update of the layers is an update of the flat array
    assert (flat[23:33] == -1).all() and (flat[:23] >= 0).all() and (flat[33:] >= 0).all()


def test_the_engines_buffers_receive_every_result():
    x, targets, layers = problem()
    rows = np.arange(len(x))
    nan = lambda shape: np.full(shape, np.nan, np.float32)  # noqa: E731
    buffers = {"acts": [nan((9, w)) for w in SIZES[1:]], "logit_delta": nan((9, 3)),
               "deltas": [nan((9, w)) for w in SIZES[1:-1]], "mask": np.zeros((20, 20), bool),
               "grads": [(nan((a, b)), nan(b)) for a, b in zip(SIZES[:-1], SIZES[1:])]}
    plain = nn.loss_and_gradients(layers, x, targets, rows, 1 / 9)
    loss, correct, grads = nn.loss_and_gradients(layers, x, targets, rows, 1 / 9, buffers)
    assert not any(np.isnan(a).any() for a in buffers["acts"] + buffers["deltas"] + [buffers["logit_delta"]])
    assert buffers["mask"][:9, :6].any() and not buffers["mask"][9:].any()  # the ReLU's scratch was used
    assert loss == plain[0] and correct == plain[1]
    for (w, b), (pw, pb), (bw, bb) in zip(grads, plain[2], buffers["grads"]):
        assert w is bw and b is bb and np.array_equal(w, pw) and np.array_equal(b, pb)
    acts = nn.forward_all(layers, x, out=buffers["acts"])
    assert all(a is buffer for a, buffer in zip(acts, buffers["acts"]))


def test_softmax_cross_entropy_sums_in_float64_with_delta_scaled():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((2000, 10)).astype(np.float32) * 3
    targets, rows = rng.integers(0, 10, 2000), np.arange(2000)
    reference = -nn.log_softmax(logits.astype(np.float64))[rows, targets].sum()
    expected_delta = np.exp(nn.log_softmax(logits.astype(np.float64)))
    expected_delta[rows, targets] -= 1
    loss, correct, delta = nn.softmax_cross_entropy_sums(logits.copy(), targets, rows)  # scale 1 by default
    assert loss.dtype == np.float64 and loss == pytest.approx(reference, rel=1e-9)
    assert correct == np.count_nonzero(logits.argmax(axis=1) == targets)
    np.testing.assert_allclose(delta, expected_delta, atol=1e-6)
    _, _, halved = nn.softmax_cross_entropy_sums(logits.copy(), targets, rows, scale=2.0)
    np.testing.assert_allclose(halved, 2 * expected_delta, atol=2e-6)


def test_each_row_is_stabilised_by_its_own_largest_logit():
    logits = np.array([[1000.0, 0.0], [-1000.0, -1001.0]])
    loss, _, delta = nn.softmax_cross_entropy_sums(logits.copy(), np.array([0, 1]), np.arange(2))
    assert loss == pytest.approx(np.log1p(np.exp(-1000.0)) + np.log1p(np.exp(1.0)))
    assert np.isfinite(delta).all()


def test_log_softmax_and_softmax_of_one_vector_and_of_a_batch_of_batches():
    vector = np.array([1.0, 2.0, 3.0])
    expected = vector - np.log(np.exp(vector).sum())
    np.testing.assert_allclose(nn.log_softmax(vector), expected)
    stack = np.stack([np.stack([vector, vector + 5])] * 3)  # (3, 2, 3): softmax over the last axis
    np.testing.assert_allclose(nn.log_softmax(stack), np.broadcast_to(expected, stack.shape))
    np.testing.assert_allclose(nn.softmax(stack).sum(axis=-1), 1.0)
    np.testing.assert_allclose(nn.softmax(vector), np.exp(expected))


def test_scores_are_the_mean_cross_entropy_and_the_share_of_right_answers():
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3], [0.5, 0.25, 0.25]]))
    targets = np.array([0, 2, 1, 1])
    loss, accuracy = nn.scores(logits, targets, np.arange(4))
    assert loss == pytest.approx(-(np.log(0.7) + np.log(0.8) + np.log(0.4) + np.log(0.25)) / 4)
    assert accuracy == 0.75


def test_the_penalty_is_a_float64_sum_of_the_layers():
    w = np.full((1000, 100), 0.1, np.float32) + np.float32(1e-4) * np.arange(100, dtype=np.float32)
    layers = [(w, np.ones(100, np.float32)), (np.ones((100, 3), np.float32), np.zeros(3, np.float32))]
    penalty = nn.l2_penalty(layers, 0.5)
    exact = 0.25 * ((w.astype(np.float64) ** 2).sum() + 300)  # each layer's vdot is float32; their sum is not
    assert np.asarray(penalty).dtype == np.float64 and penalty == pytest.approx(exact, rel=1e-5)
    assert nn.l2_penalty(layers[1:], 2.0) == pytest.approx(300.0)  # a network of one layer


@pytest.fixture
def strict(monkeypatch):
    module = StrictCupy()
    monkeypatch.setattr(devices, "_cupy", lambda: module)
    return module


def test_device_arrays_stay_on_the_device_through_every_function(strict):
    """Each function takes its array module from its inputs: NumPy applied to a device array is refused."""
    x, targets, layers = problem()
    on = lambda a: strict.asarray(a)  # noqa: E731
    dx, dlayers, dtargets, drows = on(x), [(on(w), on(b)) for w, b in layers], on(targets), on(np.arange(9))
    loss, correct, grads = nn.loss_and_gradients(dlayers, dx, dtargets, drows, 1 / 9)
    expected = nn.loss_and_gradients(layers, x, targets, np.arange(9), 1 / 9)
    assert float(loss.get()) == pytest.approx(float(expected[0]), rel=1e-5) and int(correct.get()) == expected[1]
    for (w, b), (ew, eb) in zip(grads, expected[2]):
        np.testing.assert_allclose(strict.asnumpy(w), ew, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(strict.asnumpy(b), eb, rtol=1e-4, atol=1e-5)
    logits = nn.forward(dlayers, dx)
    np.testing.assert_allclose(strict.asnumpy(nn.softmax(logits)), nn.softmax(nn.forward(layers, x)), rtol=1e-5)
    np.testing.assert_allclose(strict.asnumpy(nn.log_softmax(logits)), nn.log_softmax(nn.forward(layers, x)),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(TypeError, match="implicitly"):  # a host float in the end: all up to that read is on the device
        nn.cross_entropy(logits, dtargets)
    device_scores = nn.scores(logits, dtargets, drows)
    host_scores = nn.scores(nn.forward(layers, x), targets, np.arange(9))
    assert float(device_scores[0].get()) == pytest.approx(host_scores[0], rel=1e-5)
    assert float(device_scores[1].get()) == pytest.approx(host_scores[1])
    assert float(strict.asnumpy(nn.l2_penalty(dlayers, 0.5))) == pytest.approx(float(nn.l2_penalty(layers, 0.5)),
                                                                               rel=1e-5)
