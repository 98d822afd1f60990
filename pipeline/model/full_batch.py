"""``FullBatchGradient``: the loss and gradients of the network over the whole training set.

The rows are cut into groups. Everything a row needs, forward and backward, depends on that row
alone, so each group goes through the whole network on its own, with its rows still in cache,
and leaves its share of every gradient in a slot of its own; the slots are then summed in group
order. The groups are shared out among one worker thread per core, each calling single-threaded
BLAS: NumPy releases the GIL inside its kernels, so both cores stay busy with no thread handoff
inside BLAS calls (threaded OpenBLAS waits for its helper threads at every call, which costs
milliseconds per call on a busy machine), and elementwise work runs in parallel too. The result
does not depend on the number of workers: every group's arithmetic and the order of the sums
are fixed.

Shift augmentation costs nearly nothing: shifting a group's images permutes their pixels, and a
product with permuted inputs equals a product with the weight rows moved the other way, so the
group is multiplied by a shifted copy of the first layer's weights (784 x width, far smaller
than the images), and its gradient is shifted back before the sum.

Input columns that are zero in every training row (MNIST's corners: 72 of 784 pixels) add nothing
to ``x @ W`` and their rows of ``x.T @ delta`` are zero, so the engine keeps only the other columns
of ``x`` and multiplies them by the matching rows of the (moved) weights: 9 % less of the two
largest products, with the same gradients. The moves still act on all 784 weight rows, since a
shift or warp carries weight into and out of those pixels.

With a ``basis`` P (d x k, orthonormal columns: the leading principal directions of the training images),
the same idea goes further: each image is kept as its k coordinates z = Pᵀ x, so the group's first layer
is z @ ((T P)ᵀ W) and its weight gradient (T P)(zᵀ delta). The network then sees the projected image
P Pᵀ x, warped: the first layer's two products shrink from d to k columns. The move is applied to the
basis once per group (T P: d x k, half the width of the weights) instead of to the weights and back to
their gradient, and the groups' gradients (T_g P) G_g are summed by one product of the groups' moved
bases side by side, [T_1 P ... T_m P] (d x mk), with their k x width shares stacked. The estimator
projects its validation and test rows the same way.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pipeline.core.threads import available_cores
from pipeline.model import dropout as dropout_masks
from pipeline.model import nn
from pipeline.model.nn import Layers, shift_slices



# Below this many multiply-adds per update, handing groups to worker threads costs more than it
# saves (a thread hand-off is tens of microseconds, far more on a busy machine).
MIN_THREADED_WORK = 2_000_000


def auto_workers(n: int, sizes: list[int], environ=os.environ) -> int:
    """Worker threads worth using for ``n`` rows through layer ``sizes``: one per core, or one for small work."""
    work = n * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return available_cores(environ) if work >= MIN_THREADED_WORK else 1


def check_shapes(d: int, sizes: list[int], image_shape: tuple[int, int] | None) -> None:
    """``d`` input features fit the first layer, and fold into ``image_shape`` when there is one."""
    if sizes[0] != d:
        raise ValueError(f"first layer expects {sizes[0]} inputs, data has {d}")
    if image_shape is not None and image_shape[0] * image_shape[1] != d:
        raise ValueError(f"image_shape {image_shape} does not hold {d} features")


def check_moves(shifts, warps, image_shape, n_groups: int) -> None:
    """A call's moves: shifts only for images, warps one per group, never both."""
    if shifts is not None and image_shape is None:
        raise ValueError("shifts need an image_shape")
    if warps is not None and (shifts is not None or len(warps) != n_groups):
        raise ValueError("warps: one per group, and not together with shifts")


def row_groups(n: int, n_groups: int) -> list[slice]:
    """``n`` rows cut into ``n_groups`` consecutive groups (fewer when there are fewer rows), sizes within one."""
    bounds = np.linspace(0, n, min(n_groups, n) + 1).astype(int)
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


class FullBatchGradient:
    """Loss and gradients of the network over all of ``x``, with every buffer allocated once.

    ``x``: (n, d) scaled inputs in the working dtype; ``targets``: (n,) class indices.
    ``n_groups``: consecutive groups of rows; each call's ``shifts`` gives one (dy, dx) per group,
    applied to that group's images (``image_shape`` says how d folds into rows, cols).
    ``workers``: threads (default: one per available core, or OMP_NUM_THREADS if lower; at most one
    per group). ``dropout``: the rate of ``pipeline.model.dropout``, applied in calls given a ``keep_seed``.
    Call ``close()`` (or use ``with``) to stop the worker threads.
    """

    xp = np  # the array module its arrays live in

    def __init__(self, x: np.ndarray, targets: np.ndarray, sizes: list[int], weight_decay: float = 0.0,
                 image_shape: tuple[int, int] | None = None, n_groups: int = 1, workers: int | None = None,
                 basis: np.ndarray | None = None, dropout: float = 0.0):
        n, d = x.shape
        check_shapes(d, sizes, image_shape)
        self.n, self.weight_decay, self.image_shape = n, weight_decay, image_shape
        dtype, targets = x.dtype, np.asarray(targets, dtype=np.intp)
        self.basis = self.used = None
        if basis is not None:  # the images as coordinates in a basis of k pixel patterns (see the module's docstring)
            self.basis = np.ascontiguousarray(basis, dtype)
            self.x = x @ self.basis
        else:  # only the columns that are non-zero somewhere take part in the products
            used = np.flatnonzero(np.any(x != 0, axis=0))
            self.used = used if 0 < len(used) < d else None
            self.x = x if self.used is None else np.ascontiguousarray(x[:, used])
        self.groups = row_groups(n, n_groups)
        self.local_targets = [(np.arange(g.stop - g.start), targets[g]) for g in self.groups]
        self.workers = max(1, min(workers or auto_workers(n, sizes), len(self.groups)))
        # Row-wise buffers, written group by group: post-ReLU outputs (then logits) and dLoss/dZ.
        self.acts = [np.empty((n, width), dtype) for width in sizes[1:]]
        self.deltas = [np.empty((n, width), dtype) for width in sizes[1:]]
        # Each group's share of each gradient, and of the loss and the count of right answers.
        n_g = len(self.groups)
        # With a basis, each group's first-layer share stays in the coordinates of its moved basis T_g P
        # (d x k, laid side by side).
        k = None if self.basis is None else self.basis.shape[1]
        self.grad_w = [np.empty((n_g, k if i == 0 and k else a, b), dtype)
                       for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self.moved_bases = None if k is None else np.empty((d, n_g, k), dtype)
        self.grad_b = [np.empty((n_g, b), dtype) for b in sizes[1:]]
        self.loss_sums = np.empty(n_g, np.float64)
        self.correct = np.empty(n_g, np.int64)
        # Per-worker scratch: the moved first-layer weights (and their gradient moved back) or the shifted
        # basis, and the ReLU masks of the largest group.
        self.shifted_w = [np.empty((d, k or sizes[1]), dtype) for _ in range(self.workers)]
        used_rows = self.x.shape[1]  # the first layer's rows the products see
        self.used_w = [np.empty((used_rows, sizes[1]), dtype) for _ in range(self.workers)]
        self.used_grad = [np.empty((used_rows, sizes[1]), dtype) for _ in range(self.workers)]
        largest = max(g.stop - g.start for g in self.groups)
        self.masks = [np.empty((largest, max(sizes[1:-1], default=0)), bool) for _ in range(self.workers)]
        self.dropout, self.hidden_widths = dropout, list(sizes[1:-1])
        self.keep = [[np.empty((largest, w), bool) for w in self.hidden_widths] for _ in range(self.workers)] \
            if dropout else None
        self.row_bounds = np.linspace(0, d, self.workers + 1).astype(int)
        self.pool = ThreadPoolExecutor(self.workers, "full-batch") if self.workers > 1 else None
        self.blas = _blas_controller()

    def single_threaded_blas(self):
        """A context in which BLAS runs on the calling thread only (nested uses are fine).

        The training loop's other BLAS calls (scoring the validation split) run inside it too:
        a threaded BLAS call leaves its helper threads spinning for a while after it returns,
        taking the cores from this engine's workers.
        """
        return self.blas.limit(limits=1, user_api="blas")

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def __enter__(self) -> "FullBatchGradient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def put(array: np.ndarray) -> np.ndarray:
        """A host array where this engine computes: here, the host itself."""
        return array

    def launch(self, layers: Layers, shifts: np.ndarray | None = None, warps=None,
               grads: Layers | None = None, keep_seed: int | None = None) -> tuple[float, float, Layers]:
        """``__call__``: on the CPU an update is done when it returns (the device engine's returns at once)."""
        return self(layers, shifts, warps, grads, keep_seed)

    def __call__(self, layers: Layers, shifts: np.ndarray | None = None,
                 warps=None, grads: Layers | None = None, keep_seed: int | None = None) -> tuple[float, float, Layers]:
        """Return (loss, accuracy, gradients) for the current ``layers``.

        ``shifts``: None, or an int array of shape (n_groups, 2) holding (dy, dx) per group.
        ``warps``: None, or one sparse (d x d) interpolation matrix T per group: a list, or a
        ``pipeline.model.warps.WarpBatch``, whose matrices the worker threads build themselves.
        The group is trained on its images warped by T, through the first-layer weights T.T @ W,
        and its first-layer gradient is T @ (x.T @ delta).
        ``grads``: optional (dW, db) arrays, one pair per layer, that receive the gradients (the
        estimator's views into its flat gradient buffer); otherwise new arrays are returned.
        ``keep_seed``: this update's dropout seed (each group draws its masks from it and its index), or None.
        """
        check_moves(shifts, warps, self.image_shape, len(self.groups))
        if warps is not None:
            move_of = lambda g: warps[g]  # noqa: E731
        else:
            move_of = (lambda g: None) if shifts is None else (lambda g: (int(shifts[g][0]), int(shifts[g][1])))
        with self.single_threaded_blas():
            self._run(self._work, layers, move_of, keep_seed if self.dropout else None)
            if grads is None:
                grads = [(np.empty_like(w), np.empty_like(b)) for w, b in layers]
            # Every group's first-layer share is now in the images' frame (or in coordinates of its moved
            # basis); the sum is split by rows among the workers, each row summed in group order, so no
            # result depends on the workers.
            self._run(self._sum_rows if self.basis is None else self._sum_moved_bases, grads[0][0])
        for i, (grad_w, grad_b) in enumerate(grads):
            if i > 0:
                np.sum(self.grad_w[i], axis=0, out=grad_w)
            np.sum(self.grad_b[i], axis=0, out=grad_b)
        loss = nn.regularised(float(self.loss_sums.sum()), self.n, layers, grads, self.weight_decay)
        return float(loss), float(self.correct.sum()) / self.n, grads

    def run_each(self, tasks: list) -> None:
        """Call every function of ``tasks`` (no arguments), shared out among the worker threads, each on
        single-threaded BLAS as the groups are; a failure is re-raised. (The optimizer's per-matrix work.)"""
        if self.pool is None:
            for task in tasks:
                task()
        else:
            for done in [self.pool.submit(task) for task in tasks]:
                done.result()

    def in_background(self, task):
        """Start ``task()`` on a worker thread, beside what the caller does next, and return a function that
        waits for its result (re-raising its failure). The optimizer's per-matrix steps that follow leave a
        worker idle while another finishes the largest matrix, so the next update's draw costs no time
        there. With one worker, ``task`` runs here, at once."""
        if self.pool is None:
            result = task()
            return lambda: result
        return self.pool.submit(task).result

    def _run(self, task, *args) -> None:
        """``task(worker, *args)`` on every worker thread (here when there is one), re-raising a failure."""
        if self.pool is None:
            task(0, *args)
        else:
            for done in [self.pool.submit(task, k, *args) for k in range(self.workers)]:
                done.result()

    def _work(self, worker: int, layers: Layers, move_of, keep_seed: int | None) -> None:
        # Overflow makes the loss inf or NaN, which the caller checks; NumPy's warnings (per thread,
        # so the caller's errstate does not reach here) would only add noise.
        with np.errstate(over="ignore", invalid="ignore"):
            for g in range(worker, len(self.groups), self.workers):
                self._group(g, layers, move_of(g), worker, keep_seed)

    def _sum_rows(self, worker: int, total) -> None:
        slots, bounds = self.grad_w[0], self.row_bounds
        rows = slice(bounds[worker], bounds[worker + 1])
        out = total[rows]
        np.copyto(out, slots[0, rows])
        for g in range(1, len(slots)):
            out += slots[g, rows]

    def _sum_moved_bases(self, worker: int, total) -> None:
        """Rows of the first layer's gradient, sum over groups g of (T_g P) G_g: one product of the moved
        bases side by side with the groups' coordinate shares stacked."""
        bounds, (d, n_g, k) = self.row_bounds, self.moved_bases.shape
        rows = slice(bounds[worker], bounds[worker + 1])
        np.matmul(self.moved_bases.reshape(d, n_g * k)[rows], self.grad_w[0].reshape(n_g * k, -1), out=total[rows])

    def _group(self, g: int, layers: Layers, move, worker: int, keep_seed: int | None = None) -> None:
        """Forward and backward for the rows of group ``g``, on ``worker``'s scratch buffers; fills slot
        ``g`` of every gradient.

        ``move``: None, a (dy, dx) shift or a warp matrix T for this group's images. The math is
        ``nn.loss_and_gradients``; what is this engine's own is the first layer as the group sees it
        (moved, and cut to the used columns) and where every result is written.
        """
        rows, scratch = self.groups[g], self.shifted_w[worker]
        if self.basis is not None:  # T P: the basis as the moved images see it; the first layer (T P)ᵀ W
            moved_basis = self._moved_basis(move, self.moved_bases[:, g], scratch)
            first = np.matmul(moved_basis.T, layers[0][0], out=self.used_w[worker])
        else:
            first = layers[0][0] if move is None else self._moved_weights(layers[0][0], move, scratch)
        if self.used is not None:
            first = np.take(first, self.used, axis=0, out=self.used_w[worker])
        grads = [(self.grad_w[i][g], self.grad_b[i][g]) for i in range(len(layers))]
        if self.used is not None:  # the first layer's gradient in x's columns, taken back below
            grads[0] = (self.used_grad[worker], self.grad_b[0][g])
        local, targets = self.local_targets[g]
        keep = None if keep_seed is None else dropout_masks.keep_masks(
            keep_seed, g, rows.stop - rows.start, self.hidden_widths, self.dropout, out=self.keep[worker])
        loss, correct, _ = nn.loss_and_gradients(
            [(first, layers[0][1]), *layers[1:]], self.x[rows], targets, local, 1.0 / self.n,
            {"acts": [a[rows] for a in self.acts], "logit_delta": self.deltas[-1][rows],
             "deltas": [d[rows] for d in self.deltas[:-1]], "grads": grads, "mask": self.masks[worker]},
            keep, dropout_masks.keep_scale(self.dropout))
        self.loss_sums[g], self.correct[g] = float(loss), correct
        if self.basis is not None:  # the share stays in the moved basis' coordinates: summed by _sum_moved_bases
            return
        if self.used is not None:  # in the moved images' frame, zero on the unused pixels
            self.grad_w[0][g].fill(0)
            self.grad_w[0][g][self.used] = self.used_grad[worker]
        if move is not None:
            self._move_back(self.grad_w[0][g], move, scratch)

    def _moved_basis(self, move, out: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        """T P, the basis as the moved images see it (the group's first layer is z @ (T P)ᵀ W), written into
        ``out``: each column of P taken by T, as ``_move_back`` takes a gradient back to the images' frame."""
        np.copyto(out, self.basis)
        if move is not None:
            self._move_back(out, move, scratch)
        return out

    def _moved_weights(self, w: np.ndarray, move, out: np.ndarray) -> np.ndarray:
        """``w`` as seen by moved images: x @ result == move(x) @ w, written into ``out``."""
        if not isinstance(move, tuple):  # a warp matrix T: weights T.T @ W
            np.copyto(out, move.T @ w)
            return out
        rows, cols = self.image_shape
        grid = out.reshape(rows, cols, -1)
        grid.fill(0)
        (dst_r, src_r), (dst_c, src_c) = shift_slices(move[0], rows), shift_slices(move[1], cols)
        grid[dst_r, dst_c] = w.reshape(rows, cols, -1)[src_r, src_c]
        return out

    def _move_back(self, slot: np.ndarray, move, scratch: np.ndarray) -> None:
        """A first-layer gradient share computed on moved images, taken back to the images' frame, in place."""
        if not isinstance(move, tuple):  # T @ (x.T @ delta)
            np.copyto(slot, move @ slot)
            return
        rows, cols = self.image_shape
        grid = scratch.reshape(rows, cols, -1)
        grid.fill(0)
        (dst_r, src_r), (dst_c, src_c) = shift_slices(move[0], rows), shift_slices(move[1], cols)
        grid[src_r, src_c] = slot.reshape(rows, cols, -1)[dst_r, dst_c]
        np.copyto(slot, scratch)


def _blas_controller():
    """Limits BLAS threads for a block (imported lazily: only training needs it)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
