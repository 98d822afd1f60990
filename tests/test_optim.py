"""Optimizers against textbook implementations, and the learning-rate schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.model.optim import Optimizer, learning_rate_at


def textbook_adam(p, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Kingma & Ba, Algorithm 1, one parameter array, in float64."""
    m, v, p = np.zeros_like(p), np.zeros_like(p), p.copy()
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def run(kind, p0, grads, lr, **kw):
    p = p0.copy()
    opt = Optimizer(kind, [p], **kw)
    for g in grads:
        opt.step([p], [g], lr)
    return p


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 4)), [rng.standard_normal((3, 4)) for _ in range(6)]


def test_gd_is_plain_steepest_descent(problem):
    p0, grads = problem
    np.testing.assert_allclose(run("gd", p0, grads, 0.1), p0 - 0.1 * sum(grads))


def test_momentum_is_heavy_ball(problem):
    p0, grads = problem
    velocity, expected = np.zeros_like(p0), p0.copy()
    for g in grads:
        velocity = 0.8 * velocity + g
        expected -= 0.05 * velocity
    np.testing.assert_allclose(run("momentum", p0, grads, 0.05, momentum=0.8), expected)


@pytest.mark.parametrize("b1, b2", [(0.9, 0.999), (0.5, 0.9)])
def test_adam_matches_the_paper(problem, b1, b2):
    p0, grads = problem
    # eps enters in a slightly different place in the efficient form; a tiny eps makes that moot
    got = run("adam", p0, grads, 0.01, beta_1=b1, beta_2=b2, eps=1e-12)
    np.testing.assert_allclose(got, textbook_adam(p0, grads, 0.01, b1, b2, eps=1e-12), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("kind, lr", [("gd", 0.1), ("momentum", 0.02), ("adam", 0.05)])
def test_each_optimizer_minimises_a_quadratic(kind, lr):
    target = np.array([3.0, -2.0, 0.5], dtype=np.float32)
    p = np.zeros(3, dtype=np.float32)
    opt = Optimizer(kind, [p])
    for _ in range(500):
        opt.step([p], [2 * (p - target)], lr)
    np.testing.assert_allclose(p, target, atol=1e-2)
    assert p.dtype == np.float32


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        Optimizer("sgd", [])


def test_schedules():
    assert [learning_rate_at(s, 1.0, 10, "constant") for s in (0, 9)] == [1.0, 1.0]
    assert learning_rate_at(0, 1.0, 10, "cosine") == 1.0
    assert learning_rate_at(5, 1.0, 10, "cosine") == pytest.approx(0.5)
    assert learning_rate_at(9, 1.0, 10, "cosine") == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.9)))
    assert [learning_rate_at(s, 1.0, 100, "step") for s in (0, 49, 50, 74, 75, 99)] == pytest.approx(
        [1, 1, 0.1, 0.1, 0.01, 0.01])
    # linear warmup to the base rate, then the schedule runs over the remaining steps
    assert [learning_rate_at(s, 1.0, 14, "cosine", warmup=4) for s in range(5)] == pytest.approx(
        [0.25, 0.5, 0.75, 1.0, 1.0])
    assert learning_rate_at(9, 1.0, 14, "cosine", warmup=4) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        learning_rate_at(0, 1.0, 10, "linear")


# -- muon ---------------------------------------------------------------------------------------------

def newton_schulz_by_hand(g, steps=5):
    """Jordan et al.'s quintic iteration written out in float64 from the paper's coefficients."""
    a, b, c = 3.4445, -4.7750, 2.0315
    x = np.array(g, np.float64)
    flip = x.shape[0] > x.shape[1]
    if flip:
        x = x.T
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        s = x @ x.T
        x = a * x + (b * s + c * s @ s) @ x
    return x.T if flip else x


@pytest.mark.parametrize("shape", [(784, 256), (256, 256), (64, 300)])
def test_orthogonalised_is_the_polar_factor_up_to_the_quintics_spread(shape):
    from pipeline.model.optim import orthogonalised

    rng = np.random.default_rng(0)
    # an ill-conditioned gradient: singular values over two decades
    u, _ = np.linalg.qr(rng.standard_normal((shape[0], min(shape))))
    v, _ = np.linalg.qr(rng.standard_normal((shape[1], min(shape))))
    g = (u * np.logspace(0, -2, min(shape))) @ v.T
    got = orthogonalised(g.astype(np.float32))
    assert got.shape == shape and got.dtype == np.float32
    np.testing.assert_allclose(got, newton_schulz_by_hand(g), atol=2e-4)
    singular = np.linalg.svd(got.astype(np.float64), compute_uv=False)
    # every direction moves: g's largest singular value is 100 times its smallest, the step's within ~2x
    assert singular.max() < 1.3 and singular.min() > 0.5
    polar = u @ v.T  # the exact U V^T
    cosine = np.vdot(got, polar) / (np.linalg.norm(got) * np.linalg.norm(polar))
    assert cosine > 0.9


def test_muon_steps_the_hidden_matrices_by_nesterov_orthogonalised_momentum_and_adams_the_rest():
    rng = np.random.default_rng(1)
    sizes = [12, 8, 5]
    from pipeline.model import nn

    flat = nn.flatten(nn.he_init(rng, sizes, np.float64))
    grad = np.zeros_like(flat)
    layers, grads = nn.flat_views(flat, sizes), nn.flat_views(grad, sizes)
    start = flat.copy()
    opt = Optimizer("muon", [flat], momentum=0.9, eps=1e-12, matrices=[(layers[0][0], grads[0][0])])
    steps = [rng.standard_normal(flat.shape) for _ in range(4)]
    for g in steps:
        grad[:] = g
        opt.step([flat], [grad], 0.01)
    # by hand: W0 by Muon, everything else (b0, W1, b1) by Adam from the same gradients
    w0 = nn.flat_views(start.copy(), sizes)[0][0]
    velocity = np.zeros_like(w0)
    for g in steps:
        g0 = nn.flat_views(g.copy(), sizes)[0][0]
        velocity = 0.9 * velocity + g0
        w0 = w0 - 0.01 * 0.2 * np.sqrt(12) * newton_schulz_by_hand(g0 + 0.9 * velocity)
    np.testing.assert_allclose(layers[0][0], w0, rtol=1e-9, atol=1e-12)
    rest = np.ones(flat.shape, bool)
    rest[:12 * 8] = False
    adam = textbook_adam(start[rest], [g[rest] for g in steps], 0.01, eps=1e-12)
    np.testing.assert_allclose(flat[rest], adam, rtol=1e-7, atol=1e-10)


def test_muon_minimises_a_matrix_least_squares():
    rng = np.random.default_rng(2)
    a, target = rng.standard_normal((40, 10)), rng.standard_normal((10, 6))
    w = np.zeros((10, 6))
    flat = w.reshape(-1)
    grad = np.zeros_like(flat)
    opt = Optimizer("muon", [flat], momentum=0.9, matrices=[(w, grad.reshape(10, 6))])
    loss = lambda: float(np.sum((a @ w - a @ target) ** 2)) / 40  # noqa: E731
    first = loss()
    for step in range(300):
        grad.reshape(10, 6)[:] = a.T @ (a @ w - a @ target) / 40
        opt.step([flat], [grad], 0.1 * (1 - step / 300))
    assert loss() < 1e-3 * first


@pytest.mark.parametrize("shape", [(9, 6), (6, 9), (7, 7)])
def test_orthogonalised_on_buffers_gives_the_bits_of_the_iteration_written_with_temporaries(shape):
    """The buffers change where results are written, not what is computed, nor in which order."""
    from pipeline.model.optim import NEWTON_SCHULZ, newton_schulz_buffers, orthogonalised

    g = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    a, b, c = NEWTON_SCHULZ
    x = g if shape[0] <= shape[1] else g.T
    x = x / (np.sqrt(np.vdot(x.ravel(), x.ravel())) + 1e-7)
    for _ in range(5):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    expected = x if shape[0] <= shape[1] else x.T
    buffers = newton_schulz_buffers(g)
    for _ in range(2):  # reused buffers hold nothing over from the call before
        got = orthogonalised(g, buffers=buffers)
        assert got.shape == shape and np.array_equal(got, expected)


@pytest.mark.parametrize("kind", ["adam", "muon"])
def test_a_step_gives_the_bits_of_the_update_written_with_temporaries(kind):
    """Adam's scratch arrays, like Muon's, change where results are written, not what is computed."""
    from pipeline.model import nn
    from pipeline.model.optim import network_optimizer, orthogonalised

    rng = np.random.default_rng(4)
    sizes = [9, 7, 6, 3]
    flat, grad = nn.flatten(nn.he_init(rng, sizes)), np.zeros(nn.flat_size(sizes), np.float32)
    step = network_optimizer(kind, flat, grad, sizes)
    expected = flat.copy()
    m, v = np.zeros_like(flat), np.zeros_like(flat)
    velocity = [np.zeros((9, 7), np.float32), np.zeros((7, 6), np.float32)]
    for t in range(1, 4):
        g = rng.standard_normal(flat.shape).astype(np.float32)
        grad[:] = g
        step(0.01)
        if kind == "muon":  # the hidden matrices by Muon, written with temporaries; their gradient then zero for Adam
            views_w = [w for w, _ in nn.flat_views(expected, sizes)[:-1]]
            views_g = [w for w, _ in nn.flat_views(g, sizes)[:-1]]
            for w, gw, vel in zip(views_w, views_g, velocity):
                vel *= 0.9
                vel += gw
                gw += 0.9 * vel
                w -= (0.01 * 0.2 * math.sqrt(max(w.shape))) * orthogonalised(gw)
                gw.fill(0)
        m *= 0.9
        m += (1 - 0.9) * g
        v *= 0.999
        v += (1 - 0.999) * (g * g)
        expected -= (0.01 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)) * m / (np.sqrt(v) + 1e-8)
        assert np.array_equal(flat, expected)
