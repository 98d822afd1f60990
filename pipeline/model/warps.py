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


def interpolation_parts(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray,
                        dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The 4 source pixels and bilinear weights of every output pixel, for any number of warps at once.

    ``rows``, ``cols``: (..., d) source coordinates. Returns ``columns`` (..., 4 d) int32 and
    ``weights`` (..., 4 d): output pixel ``o`` reads ``columns[..., 4 o + k]`` with weight
    ``weights[..., 4 o + k]``; a neighbour outside the image gets weight 0 on pixel 0.
    """
    h, w = shape
    rows, cols = np.asarray(rows, np.float64), np.asarray(cols, np.float64)
    r0, c0 = np.floor(rows), np.floor(cols)
    fr, fc = rows - r0, cols - c0
    r0, c0 = r0.astype(np.int64), c0.astype(np.int64)
    rr = np.stack([r0, r0, r0 + 1, r0 + 1], axis=-1)
    cc = np.stack([c0, c0 + 1, c0, c0 + 1], axis=-1)
    weights = np.stack([(1 - fr) * (1 - fc), (1 - fr) * fc, fr * (1 - fc), fr * fc], axis=-1)
    inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
    lead = rows.shape[:-1]
    columns = np.where(inside, rr * w + cc, 0).astype(np.int32).reshape(*lead, -1)
    return columns, np.where(inside, weights, 0.0).astype(dtype).reshape(*lead, -1)


def matrix_from_parts(columns: np.ndarray, weights: np.ndarray) -> scipy.sparse.csr_matrix:
    """The (d x d) CSR matrix of one warp's ``interpolation_parts`` (4 slots a row, kept in order;
    built directly, which takes microseconds, where going through COO takes a millisecond)."""
    d = columns.shape[-1] // 4
    return scipy.sparse.csr_matrix((weights, columns, np.arange(0, 4 * d + 1, 4, dtype=np.int32)), shape=(d, d))


def interpolation_matrix(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray) -> scipy.sparse.csr_matrix:
    """The (d x d) matrix T with (T @ x)[o] = x bilinearly read at (rows[o], cols[o]), zero outside."""
    t = matrix_from_parts(*interpolation_parts(shape, np.ravel(rows), np.ravel(cols)))
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

    @property
    def warping(self) -> bool:
        """Whether any warp is on; with none, training translates by whole pixels only."""
        return any(v > 0 for v in (self.rotate_degrees, self.scale, self.shear_degrees, self.elastic_alpha))


# The training parameters that switch a warp on (all 0: whole-pixel translations only).
WARP_PARAMS = ("augment_rotate_degrees", "augment_scale", "augment_shear_degrees", "augment_elastic_alpha")


def ranges_of(params) -> WarpRanges:
    """The ranges of a ``TrainParams`` (or anything with its ``augment_*`` attributes)."""
    return WarpRanges(float(params.augment_translate), params.augment_rotate_degrees, params.augment_scale,
                      params.augment_shear_degrees, params.augment_elastic_alpha, params.augment_elastic_sigma)


def random_affines(rng: np.random.Generator, n: int, shape: tuple[int, int],
                   r: WarpRanges) -> tuple[np.ndarray, np.ndarray]:
    """(matrices (n, 2, 2), offsets (n, 2)) of random rotations, scales, shears and translations
    about the image centre. A drawn angle θ > 0 turns the image clockwise as shown with row 0 at the
    top (``scipy.ndimage.rotate(image, -θ)``); a zoom z > 1 enlarges it (tests/test_warps_geometry.py)."""
    angle, shear = np.deg2rad(rng.uniform(-1, 1, (2, n)) * np.array([[r.rotate_degrees], [r.shear_degrees]]))
    scale = 1.0 + rng.uniform(-r.scale, r.scale, n)
    shift = rng.uniform(-r.translate, r.translate, (n, 2))
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shearing = np.zeros((n, 2, 2))
    shearing[:, 0, 0] = shearing[:, 1, 1] = 1.0
    shearing[:, 0, 1] = np.tan(shear)
    matrices = rotation @ shearing / scale[:, None, None]
    centre = (np.asarray(shape, np.float64) - 1) / 2
    return matrices, centre - matrices @ centre + shift


def random_displacements(rng: np.random.Generator, n: int, shape: tuple[int, int],
                         r: WarpRanges) -> np.ndarray | None:
    """n smooth random displacement fields (n, 2, rows, cols), each largest about ``elastic_alpha`` pixels."""
    if r.elastic_alpha <= 0:
        return None
    gr, gc = gaussian_smoothing(shape[0], r.elastic_sigma), gaussian_smoothing(shape[1], r.elastic_sigma)
    smooth = gr @ rng.uniform(-1, 1, (n, 2, *shape)) @ gc.T
    largest = np.abs(smooth).reshape(n, -1).max(axis=1)[:, None, None, None]
    return smooth * np.divide(r.elastic_alpha, largest, out=np.ones_like(largest), where=largest > 0)


def random_affine(rng: np.random.Generator, shape: tuple[int, int], r: WarpRanges) -> tuple[np.ndarray, np.ndarray]:
    matrices, offsets = random_affines(rng, 1, shape, r)
    return matrices[0], offsets[0]


def random_displacement(rng: np.random.Generator, shape: tuple[int, int], r: WarpRanges) -> np.ndarray | None:
    fields = random_displacements(rng, 1, shape, r)
    return None if fields is None else fields[0]


@dataclass(frozen=True)
class WarpBatch:
    """n warps as their ``interpolation_parts``: ``batch[g]`` is warp g's sparse (d x d) matrix T,
    built on demand (in microseconds), so each worker thread builds the matrices of its own groups."""
    columns: np.ndarray  # (n, 4 d) int32
    weights: np.ndarray  # (n, 4 d)

    def __len__(self) -> int:
        return len(self.columns)

    def __getitem__(self, g: int) -> scipy.sparse.csr_matrix:
        return matrix_from_parts(self.columns[g], self.weights[g])


def random_warps(rng: np.random.Generator, n: int, shape: tuple[int, int], r: WarpRanges,
                 dtype=np.float64) -> WarpBatch:
    """n random warps (affine, plus elastic when ``elastic_alpha`` > 0), drawn and interpolated at once."""
    matrices, offsets = random_affines(rng, n, shape, r)
    grid = np.indices(shape, dtype=np.float64).reshape(2, -1)
    source = matrices @ grid + offsets[:, :, None]
    fields = random_displacements(rng, n, shape, r)
    if fields is not None:
        source += fields.reshape(n, 2, -1)
    return WarpBatch(*interpolation_parts(shape, source[:, 0], source[:, 1], dtype))


def random_warp(rng: np.random.Generator, shape: tuple[int, int], r: WarpRanges) -> scipy.sparse.csr_matrix:
    return random_warps(rng, 1, shape, r)[0]
