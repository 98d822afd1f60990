"""``DeviceFullBatch``: the loss and gradients over the whole training set, on any array module (the GPU engine).

``FullBatchGradient`` (``full_batch.py``) is shaped for CPU caches and cores: groups of rows pass
through the network one at a time, on worker threads, with the moves applied to the first layer's
weights. A GPU wants the opposite: few, large operations, with the data and the weights staying in
its memory for the whole fit. So this engine keeps the whole training set on the device, moves
each group's images with a gather of their 4 source pixels (the warp's bilinear interpolation, or
a whole-pixel shift, which is the same gather with weights 0 and 1), and runs every layer as one
product over all rows.

It computes the same function as ``FullBatchGradient``: moving the images, ``(x Tᵀ) W``, equals
moving the weights, ``x (Tᵀ W)``, and the first layer's gradient ``(x Tᵀ)ᵀ δ`` equals ``T (xᵀ δ)``;
only float32 rounding differs. Every step is deterministic on a GPU: products through cuBLAS,
the gather reads without atomics, the 4 neighbours are summed by a reduction (no atomics), and no
sparse product is used (cuSPARSE's SpMM with a transposed operand is not run-to-run reproducible).

The array module is the one of the inputs (``numpy`` or ``cupy``), so the tests run this very code
with NumPy and compare it with the CPU engine and with finite differences.
"""

from __future__ import annotations

import contextlib

import numpy as np

from pipeline.model import devices, nn
from pipeline.model import dropout as dropout_masks
from pipeline.model.devices import array_module
from pipeline.model.full_batch import check_moves, check_shapes, row_groups
from pipeline.model.warps import interpolation_parts


def shift_parts(shifts: np.ndarray, shape: tuple[int, int], dtype) -> tuple[np.ndarray, np.ndarray]:
    """The gather of whole-pixel shifts: group g's image moved down ``shifts[g, 0]`` and right
    ``shifts[g, 1]`` pixels, zero-filled, as ``interpolation_parts`` (weights exactly 0 or 1)."""
    grid = np.indices(shape, dtype=np.float64).reshape(2, -1)
    rows = grid[0][None, :] - np.asarray(shifts, np.float64)[:, 0:1]
    cols = grid[1][None, :] - np.asarray(shifts, np.float64)[:, 1:2]
    return interpolation_parts(shape, rows, cols, dtype)


class DeviceFullBatch:
    """Loss and gradients of the network over all of ``x``, computed where ``x`` lives.

    Same arguments and call as ``FullBatchGradient``: ``x`` (n, d) scaled inputs and ``targets``
    (n,) class indices, as arrays of the device's module; ``n_groups`` consecutive groups of rows,
    each with its own shift or warp per call; ``layers`` of that module too.

    An update is a few dozen array operations whatever the number of groups (each is a kernel launch
    on a GPU, where launches, not arithmetic, bound a network this small): the images of all groups
    are moved by one gather from ``padded``, a (groups, rows, d) copy of ``x`` with each group's rows
    zero-padded to the largest group's count, then the padding is dropped and every layer runs once
    over all rows.
    """

    def __init__(self, x, targets, sizes: list[int], weight_decay: float = 0.0,
                 image_shape: tuple[int, int] | None = None, n_groups: int = 1, basis=None, dropout: float = 0.0):
        self.xp = xp = array_module(x)
        self.dropout, self.hidden_widths = dropout, list(sizes[1:-1])
        n, d = x.shape
        check_shapes(d, sizes, image_shape)
        if basis is not None:  # the projected images P Pᵀ x, which the CPU engine's coordinates stand for
            basis = xp.asarray(basis, x.dtype)
            x = (x @ basis) @ basis.T
        self.x, self.n, self.d = x, n, d
        self.targets = xp.asarray(targets).astype(xp.int64)
        self.rows = xp.arange(n)
        self.weight_decay, self.image_shape = weight_decay, image_shape
        self.groups = row_groups(n, n_groups)
        self.padded = self.real_rows = None
        if image_shape is not None:  # the images may move: lay them out for the gather, once
            count, largest = len(self.groups), max(g.stop - g.start for g in self.groups)
            self.padded = xp.zeros((count, largest, d), x.dtype)
            for g, rows in enumerate(self.groups):
                self.padded[g, :rows.stop - rows.start] = x[rows]
            if count * largest != n:  # the rows of padded that hold an image, in x's order
                self.real_rows = xp.asarray(np.concatenate(
                    [np.arange(g * largest, g * largest + rows.stop - rows.start) for g, rows in enumerate(self.groups)]))
            self.group_index = xp.arange(count).reshape(count, 1, 1)
            self.row_index = xp.arange(largest).reshape(1, largest, 1)

    def single_threaded_blas(self):
        return contextlib.nullcontext()  # the device's products use the device, not the host's BLAS

    def close(self) -> None:
        pass

    @staticmethod
    def run_each(tasks: list) -> None:
        """Call every function of ``tasks`` in order: each queues its work on the device."""
        for task in tasks:
            task()

    @staticmethod
    def in_background(task):
        """``task()`` at once, on the host, while the device computes the update just launched; returns a
        function that gives its result (the CPU engine's runs on a worker thread)."""
        result = task()
        return lambda: result

    def put(self, array):
        """A host array copied to the device, once (the data and the weights stay there for the whole fit)."""
        return self.xp.asarray(array)

    def __enter__(self) -> "DeviceFullBatch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __call__(self, layers, shifts=None, warps=None, grads=None, keep_seed=None) -> tuple[float, float, list]:
        """Return (loss, accuracy, gradients) for ``layers``; ``shifts``/``warps``/``keep_seed`` as
        ``FullBatchGradient`` takes them."""
        loss, accuracy, grads = self.launch(layers, shifts, warps, grads, keep_seed)
        return float(devices.to_numpy(loss)), float(devices.to_numpy(accuracy)), grads

    def launch(self, layers, shifts=None, warps=None, grads=None, keep_seed=None) -> tuple:
        """``__call__``'s work queued on the device, without waiting for it: the loss and the accuracy
        come back as 0-d arrays of the device, so the host can draw the next update's moves meanwhile.
        ``grads``: optional (dW, db) device arrays, one pair per layer, that receive the gradients.
        ``keep_seed``: this update's dropout seed; the masks are the CPU engine's, group by group, drawn on
        the host and copied over (one byte per hidden unit and row)."""
        xp = self.xp
        check_moves(shifts, warps, self.image_shape, len(self.groups))
        inputs = self.x
        if warps is not None:  # drawn on the host: 8 bytes per pixel and group go to the device
            inputs = self._move(xp.asarray(warps.columns), xp.asarray(warps.weights, dtype=self.x.dtype))
        elif shifts is not None:
            columns, weights = shift_parts(shifts, self.image_shape, np.dtype(self.x.dtype))
            inputs = self._move(xp.asarray(columns), xp.asarray(weights))
        keep = None
        if self.dropout and keep_seed is not None:
            per_group = [dropout_masks.keep_masks(keep_seed, g, rows.stop - rows.start, self.hidden_widths, self.dropout)
                         for g, rows in enumerate(self.groups)]
            keep = [xp.asarray(np.concatenate([masks[i] for masks in per_group])) for i in range(len(self.hidden_widths))]
        loss_sum, correct, grads = nn.loss_and_gradients(layers, inputs, self.targets, self.rows, 1.0 / self.n,
                                                         None if grads is None else {"grads": grads},
                                                         keep, dropout_masks.keep_scale(self.dropout))
        return nn.regularised(loss_sum, self.n, layers, grads, self.weight_decay), correct / self.n, grads

    def _move(self, columns, weights):
        """Every group's images read through its gather, in one go:
        moved[r, o] = Σ_k weights[g, 4o+k] x[r, columns[g, 4o+k]] for row r of group g."""
        count, largest, d = self.padded.shape
        taken = self.padded[self.group_index, self.row_index, columns.reshape(count, 1, 4 * d)]
        moved = (taken.reshape(count, largest, d, 4) * weights.reshape(count, 1, d, 4)).sum(axis=3)
        moved = moved.reshape(count * largest, d)
        return moved if self.real_rows is None else moved[self.real_rows]
