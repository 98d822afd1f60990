"""Optimizers (gd, momentum, adam, muon) that update parameter arrays in place, and learning-rate schedules.

The state lives beside the parameters, in their array module (NumPy, or CuPy on a GPU).

``muon`` (Jordan et al. 2024, "Muon: an optimizer for hidden layers") suits full-batch training: each
hidden weight matrix steps along its Nesterov momentum orthogonalised by a few Newton-Schulz
iterations (a handful of products of the matrix with itself: for 784 x 256 about 4 % of a default
update's arithmetic), so every direction of the matrix moves at the same rate however ill-conditioned
its gradient. The step is scaled by 0.2 sqrt(max(fan_in, fan_out)), which gives it the root-mean-square
size of an Adam step (Liu et al. 2025, "Muon is scalable"), so one ``learning_rate`` serves both: the
biases and the output layer keep Adam.
"""

from __future__ import annotations

import math

from pipeline.model.devices import array_module


def learning_rate_at(step: int, base: float, total: int, schedule: str, warmup: int = 0) -> float:
    """Learning rate for 0-based ``step`` of ``total``: linear warmup, then constant, cosine or step decay."""
    if warmup and step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    if schedule == "constant":
        return base
    if schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * progress))
    if schedule == "step":  # divide by 10 at 50 % and 75 % of the run
        return base * (0.1 ** ((progress >= 0.5) + (progress >= 0.75)))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}")


class Optimizer:
    """Updates ``params`` in place from ``grads`` (lists of arrays of the same shapes)."""

    def __init__(self, kind: str, params: list, momentum: float = 0.9,
                 beta_1: float = 0.9, beta_2: float = 0.999, eps: float = 1e-8, matrices: list = (),
                 run_each=None):
        """``matrices``: for ``muon``, the (weight, gradient) views of the hidden layers' weight matrices,
        which Muon updates; everything else in ``params`` is updated by Adam. ``run_each``: how to call the
        per-matrix steps (the CPU engine shares them out among its worker threads); in order by default."""
        if kind not in ("gd", "momentum", "adam", "muon"):
            raise ValueError(f"unknown optimizer {kind!r}")
        self.kind, self.momentum, self.beta_1, self.beta_2, self.eps = kind, momentum, beta_1, beta_2, eps
        self.t = 0
        self.xp = xp = array_module(*params[:1])
        self.first = [xp.zeros_like(p) for p in params] if kind != "gd" else []
        self.second = [xp.zeros_like(p) for p in params] if kind in ("adam", "muon") else []
        self.matrices = list(matrices) if kind == "muon" else []
        self.velocity = [xp.zeros_like(w) for w, _ in self.matrices]
        self.run_each = run_each or (lambda tasks: [task() for task in tasks])

    def step(self, params: list, grads: list, lr: float) -> None:
        if self.kind == "muon":
            self.run_each([lambda m=m, v=v: self._muon_step(*m, v, lr) for m, v in zip(self.matrices, self.velocity)])
        self.t += 1
        if self.kind == "gd":
            for p, g in zip(params, grads):
                p -= lr * g
        elif self.kind == "momentum":  # heavy ball: v = mu v + g; p -= lr v
            for p, g, v in zip(params, grads, self.first):
                v *= self.momentum
                v += g
                p -= lr * v
        else:
            b1, b2 = self.beta_1, self.beta_2
            step_size = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
            for p, g, m, v in zip(params, grads, self.first, self.second):
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * (g * g)
                p -= step_size * m / (self.xp.sqrt(v) + self.eps)

    def _muon_step(self, w, g, v, lr: float) -> None:
        v *= self.momentum
        v += g
        g += self.momentum * v  # Nesterov: the step looks ahead along the momentum
        w -= (lr * 0.2 * math.sqrt(max(w.shape))) * orthogonalised(g)
        g.fill(0)  # Adam then sees no gradient here, so it leaves these weights alone


NEWTON_SCHULZ = (3.4445, -4.7750, 2.0315)  # Jordan et al.'s quintic: singular values to about 1 in 5 steps


def orthogonalised(g, steps: int = 5):
    """The nearest semi-orthogonal matrix to ``g`` (U Vᵀ of its SVD U S Vᵀ), approximately, by Newton-Schulz
    iterations on ``g`` / ||g||; products only, so it runs on any array module. Singular values land
    within about [0.7, 1.2] (the quintic trades exactness for speed), which is all the step needs."""
    xp = array_module(g)
    a, b, c = NEWTON_SCHULZ
    wide = g.shape[0] <= g.shape[1]
    x = g if wide else g.T  # iterate on the wide side: X Xᵀ is the smaller square
    x = x / (xp.sqrt(xp.vdot(x.ravel(), x.ravel())) + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x if wide else x.T
