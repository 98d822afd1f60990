"""The math of a ReLU-softmax network, as functions on arrays.

``layers`` is a list of (W, b) pairs: W of shape (fan_in, fan_out), b of shape (fan_out,). Every
hidden layer is followed by ReLU; the last layer's output goes through softmax.

``FullBatchGradient`` computes the loss and gradients over a whole training set with its buffers
allocated once. It can train on randomly shifted images at the cost of nothing but a copy of the
first layer's weights: shifting an image permutes its pixels, and a product with permuted inputs
equals a product with the inverse-permuted weight rows, so a group of images that share a shift is
multiplied by shifted weights instead of being copied.
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


class FullBatchGradient:
    """Loss and gradients of the network over all of ``x``, with every buffer allocated once.

    ``x``: (n, d) scaled inputs in the working dtype; ``targets``: (n,) class indices.
    ``group_size``: rows per augmentation group; each call's ``shifts`` gives one (dy, dx) per
    group, applied to the images of that group (``image_shape`` says how d folds into rows, cols).
    """

    def __init__(self, x: np.ndarray, targets: np.ndarray, sizes: list[int], weight_decay: float = 0.0,
                 image_shape: tuple[int, int] | None = None, n_groups: int = 1):
        n, d = x.shape
        if sizes[0] != d:
            raise ValueError(f"first layer expects {sizes[0]} inputs, data has {d}")
        if image_shape is not None and image_shape[0] * image_shape[1] != d:
            raise ValueError(f"image_shape {image_shape} does not hold {d} features")
        self.x, self.targets = x, np.asarray(targets, dtype=np.intp)
        self.n, self.sizes, self.weight_decay = n, list(sizes), weight_decay
        self.image_shape = image_shape
        dtype = x.dtype
        bounds = np.linspace(0, n, min(n_groups, n) + 1).astype(int)
        self.groups = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        self.acts = [np.empty((n, width), dtype) for width in sizes[1:]]  # post-ReLU hidden outputs, then logits
        self.deltas = [np.empty((n, width), dtype) for width in sizes[1:]]  # dLoss/dZ per layer
        self.mask = [np.empty((n, width), bool) for width in sizes[1:-1]]
        self.shifted_w = np.empty((d, sizes[1]), dtype)
        self.group_grad = np.empty((d, sizes[1]), dtype)
        self.rows = np.arange(n)

    def _shifted_first_weights(self, w: np.ndarray, dy: int, dx: int) -> np.ndarray:
        """Rows of ``w`` rearranged so that x @ result == shift_images(x, dy, dx) @ w."""
        rows, cols = self.image_shape
        out = self.shifted_w.reshape(rows, cols, -1)
        out.fill(0)
        (dst_r, src_r), (dst_c, src_c) = shift_slices(dy, rows), shift_slices(dx, cols)
        out[dst_r, dst_c] = w.reshape(rows, cols, -1)[src_r, src_c]
        return self.shifted_w

    def __call__(self, layers: Layers, shifts: np.ndarray | None = None) -> tuple[float, float, Layers]:
        """Return (loss, accuracy, gradients) for the current ``layers``.

        ``shifts``: None, or an int array of shape (n_groups, 2) holding (dy, dx) per group.
        """
        if shifts is not None and self.image_shape is None:
            raise ValueError("shifts need an image_shape")
        x, n = self.x, self.n
        (w0, b0) = layers[0]
        z0 = self.acts[0]
        # Forward, first layer: one product per group, with that group's shifted weights.
        if shifts is None:
            np.matmul(x, w0, out=z0)
        else:
            for group, (dy, dx) in zip(self.groups, shifts):
                np.matmul(x[group], self._shifted_first_weights(w0, int(dy), int(dx)), out=z0[group])
        z0 += b0
        for i in range(1, len(layers)):
            np.maximum(self.acts[i - 1], 0, out=self.acts[i - 1])
            np.matmul(self.acts[i - 1], layers[i][0], out=self.acts[i])
            self.acts[i] += layers[i][1]
        # Softmax cross-entropy, in place on the logits buffer.
        logits = self.acts[-1]
        predicted = logits.argmax(axis=1)
        accuracy = float(np.mean(predicted == self.targets))
        logits -= logits.max(axis=1, keepdims=True)
        true_logit = logits[self.rows, self.targets].astype(np.float64)
        np.exp(logits, out=logits)
        sums = logits.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(sums[:, 0].astype(np.float64)) - true_logit))
        loss += l2_penalty(layers, self.weight_decay)
        delta = self.deltas[-1]
        np.divide(logits, sums, out=delta)
        delta[self.rows, self.targets] -= 1
        delta *= 1.0 / n
        # Backward.
        grads: Layers = [None] * len(layers)  # type: ignore[list-item]
        for i in range(len(layers) - 1, 0, -1):
            w, _ = layers[i]
            grad_w = self.acts[i - 1].T @ self.deltas[i]
            if self.weight_decay:
                grad_w += self.weight_decay * w
            grads[i] = (grad_w, self.deltas[i].sum(axis=0))
            below = self.deltas[i - 1]
            np.matmul(self.deltas[i], w.T, out=below)
            np.greater(self.acts[i - 1], 0, out=self.mask[i - 1])
            np.multiply(below, self.mask[i - 1], out=below)
        delta0 = self.deltas[0]
        if shifts is None:
            grad_w0 = x.T @ delta0
        else:
            rows, cols = self.image_shape
            grad_w0 = np.zeros_like(w0)
            grid = grad_w0.reshape(rows, cols, -1)
            shifted = self.group_grad.reshape(rows, cols, -1)
            for group, (dy, dx) in zip(self.groups, shifts):
                np.matmul(x[group].T, delta0[group], out=self.group_grad)
                (dst_r, src_r), (dst_c, src_c) = shift_slices(int(dy), rows), shift_slices(int(dx), cols)
                grid[src_r, src_c] += shifted[dst_r, dst_c]
        if self.weight_decay:
            grad_w0 += self.weight_decay * w0
        grads[0] = (grad_w0, delta0.sum(axis=0))
        return loss, accuracy, grads
