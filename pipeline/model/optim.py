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

from pipeline.model import nn
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
        # Adam's two temporaries per array, allocated once (an allocation per operation costs more than it does)
        self.temporaries = [(xp.empty_like(p), xp.empty_like(p)) for p in params] if self.second else []
        self.matrices = list(matrices) if kind == "muon" else []
        self.velocity = [xp.zeros_like(w) for w, _ in self.matrices]
        self.scratch = [newton_schulz_buffers(w) for w, _ in self.matrices]
        self.run_each = run_each or (lambda tasks: [task() for task in tasks])

    def step(self, params: list, grads: list, lr: float) -> None:
        if self.kind == "muon":
            self.run_each([lambda m=m, v=v, s=s: self._muon_step(*m, v, s, lr)
                           for m, v, s in zip(self.matrices, self.velocity, self.scratch)])
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
            xp = self.xp
            for p, g, m, v, (t, u) in zip(params, grads, self.first, self.second, self.temporaries):
                # m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g²;  p -= step_size m / (sqrt(v) + eps)
                m *= b1
                m += xp.multiply(g, 1 - b1, out=t)
                v *= b2
                t = xp.multiply(g, g, out=t)
                t *= 1 - b2
                v += t
                t = xp.multiply(m, step_size, out=t)
                u = xp.sqrt(v, out=u)
                u += self.eps
                t /= u
                p -= t

    def _muon_step(self, w, g, v, scratch: dict, lr: float) -> None:
        """One Muon step of weights ``w`` from gradient ``g`` (overwritten) with momentum ``v``, on ``scratch``
        buffers allocated once (``newton_schulz_buffers``): the same operations, in the same order, as
        written out with temporaries, without allocating a matrix per operation."""
        xp = self.xp
        v *= self.momentum
        v += g
        g += xp.multiply(v, self.momentum, out=scratch["like_w"])  # Nesterov: the step looks ahead along the momentum
        step = orthogonalised(g, buffers=scratch)
        step *= lr * 0.2 * math.sqrt(max(w.shape))
        w -= step
        g.fill(0)  # Adam then sees no gradient here, so it leaves these weights alone


def network_optimizer(kind: str, flat, flat_grad, sizes: list[int], momentum: float = 0.9, beta_1: float = 0.9,
                      beta_2: float = 0.999, run_each=None):
    """``step(lr)`` for a network whose weights and gradients are ``nn.flat_views`` of ``flat`` and
    ``flat_grad``: ``kind`` steps the whole flat array with a few operations; with ``muon``, Muon first steps
    the hidden weight matrices and zeroes their gradients, so Adam moves only the rest (every bias and the
    output layer). Adam then steps the flat array from the first bias on: the first weight matrix, the
    largest, is Muon's alone, and the others' zero gradients leave them where Muon put them."""
    layers, grads = nn.flat_views(flat, sizes), nn.flat_views(flat_grad, sizes)
    hidden = [(w, g) for (w, _), (g, _) in zip(layers[:-1], grads[:-1])]
    rest = slice(layers[0][0].size if kind == "muon" and hidden else 0, None)
    params, gradients = [flat[rest]], [flat_grad[rest]]
    optimizer = Optimizer(kind, params, momentum, beta_1, beta_2, matrices=hidden, run_each=run_each)
    return lambda lr: optimizer.step(params, gradients, lr)


NEWTON_SCHULZ = (3.4445, -4.7750, 2.0315)  # Jordan et al.'s quintic: singular values to about 1 in 5 steps


def newton_schulz_buffers(w) -> dict:
    """Scratch for ``orthogonalised`` of a matrix shaped like ``w`` (and for the Muon step around it), in
    ``w``'s array module and dtype: allocated once per matrix, so an update allocates nothing."""
    xp = array_module(w)
    small, big = min(w.shape), max(w.shape)
    return {"x": xp.empty((small, big), w.dtype), "product": xp.empty((small, big), w.dtype),
            "gram": xp.empty((small, small), w.dtype), "gram2": xp.empty((small, small), w.dtype),
            "poly": xp.empty((small, small), w.dtype), "like_w": xp.empty(w.shape, w.dtype)}


def orthogonalised(g, steps: int = 5, buffers: dict | None = None):
    """The nearest semi-orthogonal matrix to ``g`` (U Vᵀ of its SVD U S Vᵀ), approximately, by Newton-Schulz
    iterations on ``g`` / ||g||; products only, so it runs on any array module. Singular values land
    within about [0.7, 1.2] (the quintic trades exactness for speed), which is all the step needs.

    Each iteration is X <- a X + (b G + c G G) X with G = X Xᵀ, computed in that order on ``buffers``
    (``newton_schulz_buffers``; made here when not given). The result is a view of ``buffers["x"]``."""
    xp = array_module(g)
    a, b, c = NEWTON_SCHULZ
    buffers = buffers or newton_schulz_buffers(g)
    wide = g.shape[0] <= g.shape[1]
    x, product, gram, gram2, poly = (buffers[k] for k in ("x", "product", "gram", "gram2", "poly"))
    xp.copyto(x, g if wide else g.T)  # iterate on the wide side: X Xᵀ is the smaller square
    flat = x.ravel()
    x /= xp.sqrt(xp.vdot(flat, flat)) + 1e-7
    for _ in range(steps):
        xp.matmul(x, x.T, out=gram)
        xp.matmul(gram, gram, out=gram2)
        gram2 *= c
        xp.multiply(gram, b, out=poly)
        poly += gram2
        xp.matmul(poly, x, out=product)
        x *= a
        x += product
    return x if wide else x.T
