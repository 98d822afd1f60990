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
