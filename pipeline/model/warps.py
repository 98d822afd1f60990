"""Image warps as sparse interpolation matrices, for augmentation in weight space.

A warp with bilinear interpolation is a linear map of the pixels: the warped image is ``T @ x``
for a sparse (d x d) matrix ``T`` with at most 4 non-zeros per row (the 4 pixels around the
point each output pixel is read from; points outside the image read zero). So for a batch of
row images ``X`` and first-layer weights ``W``:

    warp(X) @ W == X @ (T.T @ W)      and the weight gradient is  T @ (X.T @ delta).

Coordinates follow ``scipy.ndimage``: output pixel ``o`` (row, col) reads the input at
``matrix @ o + offset (+ displacement[o])``, with zero beyond the edges (``mode="grid-constant"``),
which is what the tests check this module against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse


def interpolation_matrix(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray) -> scipy.sparse.csr_matrix:
    """The (d x d) matrix T with (T @ x)[o] = x bilinearly read at (rows[o], cols[o]), zero outside."""
    h, w = shape
    rows, cols = np.ravel(rows).astype(np.float64), np.ravel(cols).astype(np.float64)
    r0, c0 = np.floor(rows), np.floor(cols)
    fr, fc = rows - r0, cols - c0
    r0, c0 = r0.astype(np.int64), c0.astype(np.int64)
    rr = np.stack([r0, r0, r0 + 1, r0 + 1], axis=1).ravel()
    cc = np.stack([c0, c0 + 1, c0, c0 + 1], axis=1).ravel()
    weights = np.stack([(1 - fr) * (1 - fc), (1 - fr) * fc, fr * (1 - fc), fr * fc], axis=1).ravel()
    inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
    # Built as CSR directly (4 slots a row, in order; a neighbour outside the image keeps a zero
    # weight on pixel 0), which is several times faster than going through COO, then pruned.
    columns = np.where(inside, rr * w + cc, 0)
    t = scipy.sparse.csr_matrix((np.where(inside, weights, 0.0), columns, np.arange(0, 4 * h * w + 1, 4)),
                                shape=(h * w, h * w))
    t.eliminate_zeros()
    return t


def warp_matrix(shape: tuple[int, int], matrix: np.ndarray, offset: np.ndarray,
                displacement: np.ndarray | None = None) -> scipy.sparse.csr_matrix:
    """T for an affine map (``matrix``, ``offset``, as ``scipy.ndimage.affine_transform``) plus an
    optional per-pixel ``displacement`` of shape (2, rows, cols) added to the source coordinates."""
    grid = np.indices(shape, dtype=np.float64).reshape(2, -1)
    source = np.asarray(matrix, np.float64) @ grid + np.asarray(offset, np.float64)[:, None]
    if displacement is not None:
        source = source + np.asarray(displacement, np.float64).reshape(2, -1)
    return interpolation_matrix(shape, source[0], source[1])


def gaussian_smoothing(length: int, sigma: float) -> np.ndarray:
    """(length x length) matrix that smooths a signal by a Gaussian, zero beyond the ends."""
    i = np.arange(length, dtype=np.float64)
    g = np.exp(-0.5 * ((i[:, None] - i[None, :]) / sigma) ** 2)
    return g / g.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class WarpRanges:
    """How far random warps go: each drawn uniformly in [-x, x] (scale: a factor in [1-x, 1+x]).

    ``translate`` in pixels (sub-pixel); ``rotate_degrees`` and ``shear_degrees`` in degrees;
    ``elastic_alpha`` the displacement's size in pixels, ``elastic_sigma`` its smoothness (Simard et al.).
    """
    translate: float = 0.0
    rotate_degrees: float = 0.0
    scale: float = 0.0
    shear_degrees: float = 0.0
    elastic_alpha: float = 0.0
    elastic_sigma: float = 4.0


def random_affine(rng: np.random.Generator, shape: tuple[int, int], r: WarpRanges) -> tuple[np.ndarray, np.ndarray]:
    """(matrix, offset) of a random rotation, scale, shear and translation about the image centre."""
    angle, shear = np.deg2rad(rng.uniform(-1, 1, 2) * [r.rotate_degrees, r.shear_degrees])
    scale = 1.0 + rng.uniform(-r.scale, r.scale)
    shift = rng.uniform(-r.translate, r.translate, 2)
    cos, sin = np.cos(angle), np.sin(angle)
    matrix = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, np.tan(shear)], [0.0, 1.0]]) / scale
    centre = (np.asarray(shape, np.float64) - 1) / 2
    return matrix, centre - matrix @ centre + shift


def random_displacement(rng: np.random.Generator, shape: tuple[int, int], r: WarpRanges) -> np.ndarray | None:
    """A smooth random displacement field (2, rows, cols), largest about ``elastic_alpha`` pixels."""
    if r.elastic_alpha <= 0:
        return None
    gr, gc = gaussian_smoothing(shape[0], r.elastic_sigma), gaussian_smoothing(shape[1], r.elastic_sigma)
    field = rng.uniform(-1, 1, (2, *shape))
    smooth = np.einsum("ij,cjk,lk->cil", gr, field, gc)
    largest = np.abs(smooth).max()
    return smooth * (r.elastic_alpha / largest) if largest > 0 else smooth


def random_warp(rng: np.random.Generator, shape: tuple[int, int], r: WarpRanges) -> scipy.sparse.csr_matrix:
    matrix, offset = random_affine(rng, shape, r)
    return warp_matrix(shape, matrix, offset, random_displacement(rng, shape, r))
