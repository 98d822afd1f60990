"""``make_engine``: the gradient engine a fit runs on, for the device it resolved.

Both engines compute ``nn.loss_and_gradients`` over the whole training set and answer the same calls:
``launch(layers, shifts, warps, grads, keep_seed)`` (loss, accuracy and gradients; on a GPU the first two stay 0-d device
arrays until read), ``put(host_array)`` (an array where the engine computes), ``groups``, and use as a
context manager. They differ only in what is their own: the CPU engine cuts the rows into groups for its
worker threads and moves the first layer's weights; the device engine moves the images with a gather.
"""

from __future__ import annotations

import numpy as np

from pipeline.model import devices
from pipeline.model.device_batch import DeviceFullBatch
from pipeline.model.full_batch import FullBatchGradient, auto_workers


def make_engine(device: str, x: np.ndarray, targets: np.ndarray, sizes: list[int], weight_decay: float,
                image_shape: tuple[int, int] | None, groups: int | None, basis: np.ndarray | None = None,
                dropout: float = 0.0):
    """The engine for ``device`` (``cpu`` or ``gpu``) over host arrays ``x`` (n, d) and ``targets`` (n,).

    ``groups``: how many groups of images get a move of their own each update; None when nothing moves,
    and the groups are then only units of work (one per worker thread on the CPU, one on a device).
    ``basis``: (d, k) orthonormal columns the images are projected on (``input_components``), or None.
    ``dropout``: the hidden units' dropout rate, applied in updates launched with a ``keep_seed``.
    """
    if device == "cpu":
        return FullBatchGradient(x, targets, sizes, weight_decay, image_shape,
                                 groups if groups is not None else auto_workers(len(x), sizes), basis=basis,
                                 dropout=dropout)
    xp = devices.module_for(device)
    return DeviceFullBatch(xp.asarray(x), xp.asarray(targets), sizes, weight_decay, image_shape,
                           groups if groups is not None else 1, basis=None if basis is None else xp.asarray(basis),
                           dropout=dropout)
