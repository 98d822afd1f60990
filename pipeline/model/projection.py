"""The images' leading principal directions: a fixed projection that makes the first layer's products smaller.

``train.input_components`` k > 0 keeps each image as its k coordinates in the top-k eigenvectors of the
training images' (uncentred) second-moment matrix, the directions that hold most of their ink. The
network then sees P Pᵀ x, the projected image, in training (warped after the projection, see
``pipeline/model/full_batch.py``), validation and prediction alike; P is saved with the model.
"""

from __future__ import annotations

import numpy as np

from pipeline.model.padded_batches import padded_batches

CHUNK_ROWS = 4096


def principal_basis(x: np.ndarray, k: int) -> np.ndarray:
    """(d, k) orthonormal columns: the eigenvectors of xᵀx with the k largest eigenvalues, largest first,
    each signed so that its largest entry is positive (a basis that does not depend on LAPACK's signs)."""
    d = x.shape[1]
    if not 0 < k <= d:
        raise ValueError(f"input_components must be between 1 and the {d} input features, got {k}")
    moments = np.zeros((d, d))
    for begin in range(0, len(x), CHUNK_ROWS):
        chunk = np.asarray(x[begin:begin + CHUNK_ROWS], np.float64)
        moments += chunk.T @ chunk
    values, vectors = np.linalg.eigh(moments)
    basis = vectors[:, np.argsort(values)[::-1][:k]]
    basis *= np.where(basis[np.abs(basis).argmax(axis=0), np.arange(k)] < 0, -1.0, 1.0)
    return basis.astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64)


def project(x: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``x``'s rows projected on ``basis``' span, as images again: (x P) Pᵀ, in ``padded_batches`` so that a
    row's projection is its own, bit for bit, whatever the number of rows."""
    basis = basis.astype(x.dtype)
    out = np.empty(x.shape, x.dtype)
    for begin, rows, batch in padded_batches(x):
        out[begin:begin + rows] = ((batch @ basis) @ basis.T)[:rows]
    return out
