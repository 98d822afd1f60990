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
    ``n_groups``: the rows are cut into this many consecutive groups; each call's ``shifts`` gives
    one (dy, dx) per group, applied to that group's images (``image_shape`` says how d folds into
    rows, cols).

    Where the time goes: the first layer's two products (``x @ W0`` forward, ``x.T @ delta0``
    backward) are nearly all of the work and run on every BLAS thread, group by group. Everything
    else is done one group at a time while the group's rows are still in cache, on one BLAS
    thread: threaded BLAS is slow for products with a 10-wide side (it waits for the other
    threads, many times over on a busy machine), and elementwise NumPy is single-threaded anyway.
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
        self.shifted_w = np.empty((d, sizes[1]), dtype)
        self.group_grad = np.empty((d, sizes[1]), dtype)
        self.true_logit = np.empty(n, np.float64)
        self.threads = _blas_threads()

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
        groups = [(group, None if shifts is None else (int(dy), int(dx)))
                  for group, (dy, dx) in zip(self.groups, shifts if shifts is not None else [(0, 0)] * len(self.groups))]
        last = len(layers) - 1
        grads: Layers = [None] * len(layers)  # type: ignore[list-item]

        # Forward, first layer: each group times its (shifted) weights, on every thread.
        w0, b0 = layers[0]
        z0 = self.acts[0]
        for group, shift in groups:
            weights = w0 if shift is None else self._shifted_first_weights(w0, *shift)
            np.matmul(self.x[group], weights, out=z0[group])
        with self.threads.limit(limits=1, user_api="blas"):
            if last == 1:  # one hidden layer: bias, ReLU and the output layer group by group, in cache
                for group, _ in groups:
                    _bias_relu(z0[group], b0)
                    np.matmul(z0[group], layers[1][0], out=self.acts[1][group])
            else:
                for group, _ in groups:
                    _bias_relu(z0[group], b0)
        for i in range(1, last):  # deeper hidden layers: big products, every thread
            np.matmul(self.acts[i - 1], layers[i][0], out=self.acts[i])
            _bias_relu(self.acts[i], layers[i][1])
        with self.threads.limit(limits=1, user_api="blas"):
            if last > 1:
                for group, _ in groups:
                    np.matmul(self.acts[last - 1][group], layers[last][0], out=self.acts[last][group])
            loss, accuracy = self._softmax_cross_entropy(layers[last][1])
            loss += l2_penalty(layers, self.weight_decay)
            # Backward through the output layer, group by group.
            w, _ = layers[last]
            below, grad_w = self.acts[last - 1], np.zeros_like(w)
            for group, _ in groups:
                grad_w += below[group].T @ self.deltas[last][group]
                self._back_through_relu(group, last, w)
            grads[last] = (self._decayed(grad_w, w), self.deltas[last].sum(axis=0))
        for i in range(last - 1, 0, -1):  # deeper hidden layers: big products, every thread
            w = layers[i][0]
            grad_w = self.acts[i - 1].T @ self.deltas[i]
            grads[i] = (self._decayed(grad_w, w), self.deltas[i].sum(axis=0))
            np.matmul(self.deltas[i], w.T, out=self.deltas[i - 1])
            self.deltas[i - 1] *= self.acts[i - 1] > 0
        # Backward, first layer: each group's gradient moved back by its shift, on every thread.
        delta0 = self.deltas[0]
        if shifts is None:
            grad_w0 = np.matmul(self.x.T, delta0)
        else:
            rows, cols = self.image_shape
            grad_w0 = np.zeros_like(w0)
            grid = grad_w0.reshape(rows, cols, -1)
            shifted = self.group_grad.reshape(rows, cols, -1)
            for group, (dy, dx) in groups:
                np.matmul(self.x[group].T, delta0[group], out=self.group_grad)
                (dst_r, src_r), (dst_c, src_c) = shift_slices(dy, rows), shift_slices(dx, cols)
                grid[src_r, src_c] += shifted[dst_r, dst_c]
        grads[0] = (self._decayed(grad_w0, w0), delta0.sum(axis=0))
        return loss, accuracy, grads

    def _softmax_cross_entropy(self, bias: np.ndarray) -> tuple[float, float]:
        """Mean loss and accuracy; leaves dLoss/dlogits in ``deltas[-1]``. Logits are small (n x classes)."""
        logits, delta, rows = self.acts[-1], self.deltas[-1], np.arange(self.n)
        logits += bias
        accuracy = float(np.mean(logits.argmax(axis=1) == self.targets))
        logits -= logits.max(axis=1, keepdims=True)
        self.true_logit[:] = logits[rows, self.targets]
        np.exp(logits, out=delta)
        sums = delta.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(sums[:, 0].astype(np.float64)) - self.true_logit))
        delta /= sums
        delta[rows, self.targets] -= 1
        delta *= 1.0 / self.n
        return loss, accuracy

    def _back_through_relu(self, group: slice, layer: int, w: np.ndarray) -> None:
        """deltas[layer - 1][group] = (deltas[layer][group] @ w.T) where the ReLU below was active."""
        below = self.deltas[layer - 1][group]
        np.matmul(self.deltas[layer][group], w.T, out=below)
        below *= self.acts[layer - 1][group] > 0

    def _decayed(self, grad_w: np.ndarray, w: np.ndarray) -> np.ndarray:
        if self.weight_decay:
            grad_w += self.weight_decay * w
        return grad_w


def _bias_relu(z: np.ndarray, bias: np.ndarray) -> None:
    z += bias
    np.maximum(z, 0, out=z)


def _blas_threads():
    """A controller that can limit BLAS threads for a block (imported lazily: only training needs it)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
