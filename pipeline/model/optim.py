"""Optimizers (gd, momentum, adam) that update parameter arrays in place, and learning-rate schedules.

The state lives beside the parameters, in their array module (NumPy, or CuPy on a GPU)."""

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
                 beta_1: float = 0.9, beta_2: float = 0.999, eps: float = 1e-8):
        if kind not in ("gd", "momentum", "adam"):
            raise ValueError(f"unknown optimizer {kind!r}")
        self.kind, self.momentum, self.beta_1, self.beta_2, self.eps = kind, momentum, beta_1, beta_2, eps
        self.t = 0
        self.xp = xp = array_module(*params[:1])
        self.first = [xp.zeros_like(p) for p in params] if kind != "gd" else []
        self.second = [xp.zeros_like(p) for p in params] if kind == "adam" else []

    def step(self, params: list, grads: list, lr: float) -> None:
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
