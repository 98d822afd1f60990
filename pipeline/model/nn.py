"""The math of a ReLU-softmax network, as functions on arrays.

``layers`` is a list of (W, b) pairs: W of shape (fan_in, fan_out), b of shape (fan_out,). Every
hidden layer is followed by ReLU; the last layer's output goes through softmax.

The training loop's loss and gradients live in ``pipeline.model.full_batch``; these functions are the
plain definitions (prediction, the report, and the tests' references).
"""

from __future__ import annotations

import numpy as np

Layers = list[tuple[np.ndarray, np.ndarray]]


def he_init(rng: np.random.Generator, sizes: list[int], dtype=np.float32) -> Layers:
    """He-normal weights (std sqrt(2 / fan_in)) and zero biases for consecutive layer ``sizes``."""
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights = rng.standard_normal((fan_in, fan_out), dtype=np.float64) * np.sqrt(2.0 / fan_in)
        layers.append((weights.astype(dtype), np.zeros(fan_out, dtype=dtype)))
    return layers


def forward(layers: Layers, x: np.ndarray) -> np.ndarray:
    """Logits for inputs ``x`` (already scaled)."""
    h = x
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            np.maximum(h, 0, out=h)
    return h


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


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax over the last axis (finite for any finite logits)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(logits))


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean cross-entropy of integer ``targets`` under softmax(``logits``)."""
    return float(-log_softmax(logits)[np.arange(len(targets)), targets].mean())


def l2_penalty(layers: Layers, weight_decay: float) -> float:
    return 0.5 * weight_decay * sum(float(np.vdot(w, w)) for w, _ in layers)


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
