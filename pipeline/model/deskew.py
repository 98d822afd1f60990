"""Deskewing: each digit sheared upright and centred by its own second moments, before the network sees it.

A handwritten digit's slant is a shear its label does not depend on. For each image, the centre of its
ink (mean row and column, weighted by the pixels) and the slant ``alpha`` = cov(row, col) / var(row) give
an affine map that reads the input at

    row = r + (m_r - c_r),     col = c + alpha (r - c_r) + (m_c - c_c)

for output pixel (r, c) around the image centre (c_r, c_c): the shear is taken out and the ink centred
(the classic preprocessing for MNIST classifiers; e.g. LeCun et al. 1998's deskewed inputs). It reads
with the warps' own bilinear interpolation (``warps.interpolation_parts``), zero beyond the edges, as
``scipy.ndimage.affine_transform(order=1)`` does, which the tests check it against. It has nothing to
learn: the estimator applies it to every row it trains on, validates on and predicts, when its
``deskew`` parameter says so (the parameter is saved with the model).
"""

from __future__ import annotations

import numpy as np

from pipeline.model.padded_batches import padded_batches
from pipeline.model.warps import interpolation_parts

def slants(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean rows, mean columns, slants) of (n, rows, cols) ``images``; a blank image gets the centre and 0."""
    n, h, w = images.shape
    rows, cols = np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64)
    total = images.sum(axis=(1, 2))
    ink = np.where(total > 0, total, 1.0)
    by_row, by_col = images.sum(axis=2), images.sum(axis=1)
    mean_r = np.where(total > 0, by_row @ rows / ink, (h - 1) / 2)
    mean_c = np.where(total > 0, by_col @ cols / ink, (w - 1) / 2)
    dr = rows[None, :] - mean_r[:, None]
    dc = cols[None, :] - mean_c[:, None]
    var_r = np.einsum("nr,nrc,nr->n", dr, images, dr) / ink
    cov = np.einsum("nr,nrc,nc->n", dr, images, dc) / ink
    alpha = np.divide(cov, var_r, out=np.zeros_like(cov), where=var_r > 1e-12)
    return mean_r, mean_c, alpha


def deskew(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Rows of ``x`` (images of ``shape``, flattened) deskewed, in ``x``'s float dtype (float64 for integers).
    In ``padded_batches``: memory stays at a few (batch x 4 d) arrays, and a row comes out the same, bit for
    bit, whatever rows share its batch."""
    h, w = shape
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    out = np.empty(x.shape, dtype)
    grid_r, grid_c = (g.ravel() for g in np.indices(shape, dtype=np.float64))
    centre_r, centre_c = (h - 1) / 2, (w - 1) / 2
    for begin, rows, chunk in padded_batches(x, np.float64):
        mean_r, mean_c, alpha = slants(chunk.reshape(-1, h, w))
        source_r = grid_r[None, :] + (mean_r - centre_r)[:, None]
        source_c = grid_c[None, :] + alpha[:, None] * (grid_r[None, :] - centre_r) + (mean_c - centre_c)[:, None]
        columns, weights = interpolation_parts(shape, source_r, source_c)
        taken = np.take_along_axis(chunk, columns, axis=1).reshape(len(chunk), h * w, 4)
        out[begin:begin + rows] = np.einsum("nok,nok->no", taken, weights.reshape(len(chunk), h * w, 4))[:rows]
    return out
