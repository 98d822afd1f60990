"""The math of a ReLU-softmax network, as functions on arrays.

``layers`` is a list of (W, b) pairs: W of shape (fan_in, fan_out), b of shape (fan_out,). Every
hidden layer is followed by ReLU; the last layer's output goes through softmax.

Each function works on the array module of its inputs (``numpy``, or ``cupy`` on a GPU). The math of
training is written here once: ``loss_and_gradients`` (forward, softmax cross-entropy, backward) and
``regularised`` (weight decay and the mean loss). The CPU engine (``pipeline.model.full_batch``) runs
them group by group on buffers it allocates once (the optional ``out`` arguments); the device engine
(``pipeline.model.device_batch``) runs them over all rows at once. The engines differ only in how rows
are grouped, threaded and moved. Prediction, the report and the tests' references use the rest.
"""

from __future__ import annotations

import numpy as np

from pipeline.model.devices import array_module

Layers = list[tuple[np.ndarray, np.ndarray]]


def he_init(rng: np.random.Generator, sizes: list[int], dtype=np.float32) -> Layers:
    """He-normal weights (std sqrt(2 / fan_in)) and zero biases for consecutive layer ``sizes``."""
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights = rng.standard_normal((fan_in, fan_out), dtype=np.float64) * np.sqrt(2.0 / fan_in)
        layers.append((weights.astype(dtype), np.zeros(fan_out, dtype=dtype)))
    return layers


def flat_size(sizes: list[int]) -> int:
    """How many numbers the weights and biases of layer ``sizes`` hold."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def flat_views(flat, sizes: list[int]) -> Layers:
    """``layers`` as views into one flat array (W0, b0, W1, b1, ... in order), so that an optimizer
    updates every parameter with a few operations over ``flat`` instead of a few per array."""
    layers, start = [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers.append((flat[start:start + a * b].reshape(a, b), flat[start + a * b:start + a * b + b]))
        start += a * b + b
    return layers


def flatten(layers: Layers) -> np.ndarray:
    """Host ``layers`` as one flat array, in ``flat_views``' order."""
    return np.concatenate([part.ravel() for layer in layers for part in layer])


def forward(layers: Layers, x):
    """Logits for inputs ``x`` (already scaled)."""
    return forward_all(layers, x)[-1]


def forward_all(layers: Layers, x, out: list | None = None, keep: list | None = None, keep_scale: float = 1.0) -> list:
    """Every layer's output for inputs ``x``: ReLU applied to the hidden ones, the logits last.

    ``out``: optional buffers, one (rows, width) array per layer, that receive the outputs (the CPU
    engine passes its group's slices of buffers allocated once); otherwise new arrays are made.
    ``keep``: dropout's masks, one bool (rows, width) array per hidden layer (``pipeline.model.dropout``):
    a hidden output is kept where True, times ``keep_scale``, and 0 elsewhere.
    """
    xp, h, acts = array_module(x), x, []
    for i, (w, b) in enumerate(layers):
        h = xp.matmul(h, w, out=None if out is None else out[i])
        h += b
        if i < len(layers) - 1:
            xp.maximum(h, 0, out=h)
            if keep is not None:
                h *= keep[i]
                h *= keep_scale
        acts.append(h)
    return acts


def softmax_cross_entropy_sums(logits, targets, rows, scale: float = 1.0, out=None) -> tuple:
    """(summed cross-entropy in float64, count of right answers, ``scale`` x (softmax minus one-hot)) for
    integer ``targets`` (``rows``: ``arange(len(targets))``, on the same device).

    The sums are 0-d arrays of the inputs' module (NumPy scalars on the CPU), left on the device until
    the caller reads them. ``logits`` is overwritten; ``out`` (same shape) receives the third result.
    ``scale`` is 1/n for a mean over n rows, of which these may be a group.
    """
    xp = array_module(logits)
    best = logits.argmax(axis=1)
    correct = xp.count_nonzero(best == targets)
    # Each row's largest logit, read at its argmax: the same value as max(axis=1), and on the CPU a tenth
    # of the time (NumPy's reduction over a row of 10 is scalar code).
    logits -= logits[rows, best][:, None]
    delta = xp.exp(logits, out=out)
    sums = delta.sum(axis=1, keepdims=True)
    loss = xp.sum(xp.log(sums[:, 0].astype(xp.float64))) - xp.sum(logits[rows, targets], dtype=xp.float64)
    delta /= sums
    delta[rows, targets] -= 1
    if scale != 1.0:
        delta *= scale
    return loss, correct, delta


def backward(layers: Layers, x, acts: list, delta, grads: list | None = None, deltas: list | None = None,
             mask=None, keep_scale: float = 1.0) -> Layers:
    """Gradients (dW, db) of every layer from dLoss/dlogits ``delta``, the inputs ``x`` and ``forward_all``'s ``acts``.

    Optional buffers: ``grads`` a (dW, db) pair of arrays per layer to write into; ``deltas`` one array
    per hidden layer for dLoss/d(its output); ``mask`` a bool array at least as large as any hidden
    layer's output, scratch for the ReLU's mask. Only the layers above the first are read, so the
    first layer's weights may be a stand-in (the CPU engine's moved copy). ``keep_scale``: dropout's
    scale of the kept units, when ``acts`` came from ``forward_all`` with masks: a dropped unit's output
    is 0, so the ReLU's mask already drops its gradient, and a kept one passes it times the scale.
    """
    xp = array_module(x)
    found = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        below = x if i == 0 else acts[i - 1]
        grad_w, grad_b = (None, None) if grads is None else grads[i]
        found[i] = (xp.matmul(below.T, delta, out=grad_w), xp.sum(delta, axis=0, out=grad_b))
        if i > 0:
            under = xp.matmul(delta, layers[i][0].T, out=None if deltas is None else deltas[i - 1])
            active = xp.greater(below, 0, out=None if mask is None else mask[:below.shape[0], :below.shape[1]])
            under *= active  # ReLU passes the gradient only where it was active
            if keep_scale != 1.0:
                under *= keep_scale
            delta = under
    return found


def loss_and_gradients(layers: Layers, x, targets, rows, scale: float, buffers: dict | None = None,
                       keep: list | None = None, keep_scale: float = 1.0) -> tuple:
    """(summed cross-entropy, count of right answers, gradients of ``scale`` x that sum) of the rows ``x``.

    The one forward and backward pass both engines run: the CPU engine once per group of rows on its
    preallocated ``buffers`` (``acts``, ``logit_delta``, ``deltas``, ``grads``, ``mask``: see
    ``forward_all``, ``softmax_cross_entropy_sums`` and ``backward``), the device engine once over
    every row. ``layers[0]`` is the first layer as these rows see it (moved, or cut to the used columns).
    ``keep``, ``keep_scale``: dropout's masks for these rows and its scale (``forward_all``), or None.
    """
    b = buffers or {}
    acts = forward_all(layers, x, out=b.get("acts"), keep=keep, keep_scale=keep_scale)
    loss, correct, delta = softmax_cross_entropy_sums(acts[-1], targets, rows, scale, out=b.get("logit_delta"))
    grads = backward(layers, x, acts, delta, b.get("grads"), b.get("deltas"), b.get("mask"),
                     keep_scale if keep is not None else 1.0)
    return loss, correct, grads


def regularised(loss_sum, n: int, layers: Layers, grads: Layers, weight_decay: float):
    """The mean loss over ``n`` rows with the L2 penalty, after adding weight decay to ``grads`` in place."""
    if weight_decay:
        for (grad_w, _), (w, _) in zip(grads, layers):
            grad_w += weight_decay * w
    return loss_sum / n + l2_penalty(layers, weight_decay)


def log_softmax(logits):
    """Numerically stable log-softmax over the last axis (finite for any finite logits)."""
    xp = array_module(logits)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits):
    return array_module(logits).exp(log_softmax(logits))


def cross_entropy(logits, targets) -> float:
    """Mean cross-entropy of integer ``targets`` under softmax(``logits``)."""
    xp = array_module(logits)
    return float(-log_softmax(logits)[xp.arange(len(targets)), targets].mean())


def scores(logits, targets, rows) -> tuple:
    """(mean cross-entropy, share of right answers) of integer ``targets`` under softmax(``logits``), as
    0-d arrays of the logits' module (``rows``: ``arange(len(targets))`` there): read when the caller syncs."""
    xp = array_module(logits)
    loss = -log_softmax(logits)[rows, targets].mean()
    return loss, xp.count_nonzero(logits.argmax(axis=1) == targets) / len(targets)


def l2_penalty(layers: Layers, weight_decay: float):
    """0.5 x ``weight_decay`` x the summed squares of the weights (not the biases), in float64; a 0-d
    array of the weights' module, so a GPU fit does not wait for it."""
    if not weight_decay:
        return 0.0
    xp = array_module(layers[0][0])
    return 0.5 * weight_decay * sum(xp.vdot(w.ravel(), w.ravel()).astype(xp.float64) for w, _ in layers)


def shift_slices(shift: int, length: int) -> tuple[slice, slice]:
    """(destination, source) slices along one axis so that dest[i] = src[i + shift] where in range."""
    return slice(max(0, -shift), length - max(0, shift)), slice(max(0, shift), length + min(0, shift))


def shift_images(x: np.ndarray, dy: int, dx: int, shape: tuple[int, int]) -> np.ndarray:
    """Images moved down by ``dy`` and right by ``dx`` pixels, zero-filled (a reference for tests and plots)."""
    rows, cols = shape
    images = x.reshape(len(x), rows, cols)
    out = np.zeros_like(images)
    (dst_r, src_r), (dst_c, src_c) = shift_slices(-dy, rows), shift_slices(-dx, cols)
    out[:, dst_r, dst_c] = images[:, src_r, src_c]
    return out.reshape(len(x), rows * cols)
