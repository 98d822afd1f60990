"""The math of a ReLU-softmax network, as functions on arrays.

``layers`` is a list of (W, b) pairs: W of shape (fan_in, fan_out), b of shape (fan_out,). Every
hidden layer is followed by ReLU; the last layer's output goes through softmax.

Each function works on the array module of its inputs (``numpy``, or ``cupy`` on a GPU). The CPU
training loop (``pipeline.model.full_batch``) computes the same loss and gradients group by group on
its own buffers; the device engine (``pipeline.model.device_batch``) uses ``forward_all``,
``softmax_cross_entropy_sums`` and ``backward`` here over all rows at once. Prediction, the report and
the tests' references use the rest.
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


def forward(layers: Layers, x):
    """Logits for inputs ``x`` (already scaled)."""
    return forward_all(layers, x)[-1]


def forward_all(layers: Layers, x) -> list:
    """Every layer's output for inputs ``x``: ReLU applied to the hidden ones, the logits last."""
    xp, h, out = array_module(x), x, []
    for i, (w, b) in enumerate(layers):
        h = h @ w
        h += b
        if i < len(layers) - 1:
            xp.maximum(h, 0, out=h)
        out.append(h)
    return out


def softmax_cross_entropy_sums(logits, targets, rows) -> tuple:
    """(summed cross-entropy in float64, count of right answers, softmax minus one-hot) for integer
    ``targets`` (``rows``: ``arange(len(targets))``, on the same device). The sums are 0-d arrays of
    the inputs' module, left on the device until the caller reads them. ``logits`` is overwritten."""
    xp = array_module(logits)
    correct = xp.count_nonzero(logits.argmax(axis=1) == targets)
    logits -= logits.max(axis=1, keepdims=True)
    delta = xp.exp(logits)
    sums = delta.sum(axis=1, keepdims=True)
    loss = xp.log(sums[:, 0].astype(xp.float64)).sum() - logits[rows, targets].astype(xp.float64).sum()
    delta /= sums
    delta[rows, targets] -= 1
    return loss, correct, delta


def backward(layers: Layers, x, acts: list, delta) -> Layers:
    """Gradients (dW, db) of every layer from dLoss/dlogits ``delta``, the inputs ``x`` and ``forward_all``'s ``acts``."""
    grads = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        below = x if i == 0 else acts[i - 1]
        grads[i] = (below.T @ delta, delta.sum(axis=0))
        if i > 0:
            delta = delta @ layers[i][0].T
            delta *= below > 0  # ReLU passes the gradient only where it was active
    return grads


def forward_rowwise(layers: Layers, x: np.ndarray) -> np.ndarray:
    """``forward``, with each row through every layer in a product of its own.

    A stack of (1 x d) @ (d x width) products: the same call for a row alone as for a row among
    many, so a row's logits do not depend on the other rows of the batch, bit for bit. (One many-row
    product is blocked by BLAS according to its shape, which would move a row's float64 logits by ~1e-15.)
    """
    h = x[:, None, :]
    for i, (w, b) in enumerate(layers):
        h = np.matmul(h, w) + b
        if i < len(layers) - 1:
            np.maximum(h, 0, out=h)
    return h[:, 0, :]


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


def l2_penalty(layers: Layers, weight_decay: float) -> float:
    if not weight_decay:
        return 0.0
    return 0.5 * weight_decay * sum(float(array_module(w).vdot(w.ravel(), w.ravel())) for w, _ in layers)


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
