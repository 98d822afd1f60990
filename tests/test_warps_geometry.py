"""The warps training draws, checked against geometry computed independently of ``pipeline.model.warps``.

tests/test_warps.py checks the interpolation: scipy reads the image at the coordinates of the code's own
matrix. Here the expected images come from the angle, zoom factor and shift alone (scipy.ndimage's
``rotate``, ``zoom`` and ``shift``, or trigonometry by hand), so a drawn matrix that is not the rotation,
zoom or shift it stands for fails, even when the interpolation is right.

To choose a warp instead of drawing it, ``random_affines`` gets a generator whose every draw sits at the
same fraction ``q`` of its range: ``uniform(low, high)`` returns ``low + q (high - low)``. So the angle is
``(2q - 1) rotate_degrees``, the zoom ``1 + (2q - 1) scale`` and the shift ``(2q - 1) translate``,
whatever the order of the draws.

Direction (``random_affines``' docstring): with row 0 at the top, as the report shows digits, a drawn
angle θ > 0 turns the image clockwise, as ``scipy.ndimage.rotate(image, -θ)`` does.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage

from pipeline.model import warps

SHAPE = (28, 28)
CENTRE = np.array([13.5, 13.5])


class AtFraction:
    """A stand-in for ``np.random.Generator`` whose uniform draws are all at fraction ``q`` of their range."""

    def __init__(self, q: float):
        self.q = q

    def uniform(self, low=0.0, high=1.0, size=None):
        low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
        return np.broadcast_to(low + self.q * (high - low), size if size is not None else low.shape).copy()


def warped(image: np.ndarray, matrix: np.ndarray, offset: np.ndarray) -> np.ndarray:
    return (warps.warp_matrix(SHAPE, matrix, offset) @ image.ravel()).reshape(SHAPE)


def bar() -> np.ndarray:
    """A vertical bar off the centre, and a dot: nothing about them is symmetric under the wrong turn."""
    image = np.zeros(SHAPE)
    image[5:21, 15:18] = 1.0
    image[20, 6] = 1.0
    return image


def blob(row: float, col: float, width: float = 1.2) -> np.ndarray:
    rows, cols = np.indices(SHAPE, dtype=np.float64)
    return np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * width ** 2))


def centroid(image: np.ndarray) -> np.ndarray:
    rows, cols = np.indices(SHAPE, dtype=np.float64)
    return np.array([(rows * image).sum(), (cols * image).sum()]) / image.sum()


# -- the drawn affine ----------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [0.0, 0.1, 0.37, 0.5, 0.8, 1.0])
def test_with_scale_shear_and_elastic_at_0_a_drawn_affine_is_a_turn_by_the_drawn_angle(q):
    ranges = warps.WarpRanges(rotate_degrees=30.0)
    matrices, offsets = warps.random_affines(AtFraction(q), 1, SHAPE, ranges)
    m, angle = matrices[0], math.radians((2 * q - 1) * 30.0)
    np.testing.assert_allclose(m @ m.T, np.eye(2), atol=1e-12)  # orthogonal: lengths and angles kept
    assert np.linalg.det(m) == pytest.approx(1.0, abs=1e-12)  # a turn, not a mirror
    assert math.atan2(m[1, 0], m[0, 0]) == pytest.approx(angle, abs=1e-12)  # by the drawn angle
    np.testing.assert_allclose(m @ CENTRE + offsets[0], CENTRE, atol=1e-12)  # about the image's centre


def test_drawn_affines_are_turns_spread_over_the_whole_range():
    matrices, offsets = warps.random_affines(np.random.default_rng(7), 2000, SHAPE,
                                             warps.WarpRanges(rotate_degrees=12.0))
    np.testing.assert_allclose(matrices @ matrices.transpose(0, 2, 1), np.broadcast_to(np.eye(2), (2000, 2, 2)),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(matrices), 1.0, atol=1e-12)
    angles = np.degrees(np.arctan2(matrices[:, 1, 0], matrices[:, 0, 0]))
    assert angles.min() >= -12 and angles.max() <= 12
    assert angles.min() < -11.8 and angles.max() > 11.8 and abs(angles.mean()) < 0.5  # uniform in [-12, 12]
    assert (angles > 0).mean() == pytest.approx(0.5, abs=0.05)


def test_a_positive_angle_turns_the_image_clockwise_as_shown():
    """A dot right of the centre, turned by +90°, ends below it (row 0 at the top)."""
    dot = blob(13.5, 23.5)
    matrix, offset = warps.random_affine(AtFraction(1.0), SHAPE, warps.WarpRanges(rotate_degrees=90.0))
    np.testing.assert_allclose(centroid(warped(dot, matrix, offset)), [23.5, 13.5], atol=0.01)


@pytest.mark.parametrize("degrees", [-40.0, -12.0, 5.0, 23.0])
def test_a_bar_and_a_dot_turned_by_a_chosen_angle_match_scipy_rotate(degrees):
    q = 0.75  # the angle is half the range
    matrix, offset = warps.random_affine(AtFraction(q), SHAPE, warps.WarpRanges(rotate_degrees=2 * degrees))
    expected = scipy.ndimage.rotate(bar(), -degrees, reshape=False, order=1, mode="grid-constant", cval=0.0)
    np.testing.assert_allclose(warped(bar(), matrix, offset), expected, atol=1e-9)


def test_a_chosen_zoom_in_matches_scipy_zoom_cropped_to_the_middle():
    matrix, offset = warps.random_affine(AtFraction(1.0), SHAPE, warps.WarpRanges(scale=0.5))  # zoom 1.5
    big = scipy.ndimage.zoom(bar(), 1.5, order=1, mode="grid-constant", grid_mode=True)  # 42 x 42
    np.testing.assert_allclose(warped(bar(), matrix, offset), big[7:35, 7:35], atol=1e-9)


def test_a_chosen_zoom_out_matches_scipy_zoom_in_the_middle_of_a_blank_image():
    matrix, offset = warps.random_affine(AtFraction(0.0), SHAPE, warps.WarpRanges(scale=0.5))  # zoom 0.5
    expected = np.zeros(SHAPE)
    expected[7:21, 7:21] = scipy.ndimage.zoom(bar(), 0.5, order=1, mode="grid-constant", grid_mode=True)
    np.testing.assert_allclose(warped(bar(), matrix, offset), expected, atol=1e-9)


@pytest.mark.parametrize("q, pixels", [(1.0, 2.0), (0.75, 1.0), (0.3, -0.8)])
def test_a_chosen_shift_matches_scipy_shift(q, pixels):
    """A drawn shift reads the input ``pixels`` further on: the image moves back by as many."""
    matrix, offset = warps.random_affine(AtFraction(q), SHAPE, warps.WarpRanges(translate=2.0))
    expected = scipy.ndimage.shift(bar(), -pixels, order=1, mode="grid-constant", cval=0.0)
    np.testing.assert_allclose(warped(bar(), matrix, offset), expected, atol=1e-9)


@pytest.mark.parametrize("q", [0.2, 0.9])
def test_a_turn_and_a_zoom_together_move_a_dot_where_trigonometry_puts_it(q):
    ranges = warps.WarpRanges(rotate_degrees=40.0, scale=0.3)
    theta, zoom = math.radians((2 * q - 1) * 40.0), 1 + (2 * q - 1) * 0.3
    start = np.array([9.0, 18.0])
    matrix, offset = warps.random_affine(AtFraction(q), SHAPE, ranges)
    r, c = start - CENTRE
    clockwise = np.array([r * math.cos(theta) + c * math.sin(theta), -r * math.sin(theta) + c * math.cos(theta)])
    np.testing.assert_allclose(centroid(warped(blob(*start), matrix, offset)), CENTRE + zoom * clockwise, atol=0.02)


def test_a_chosen_shear_keeps_area_and_rows_and_slants_by_its_angle():
    matrix, offset = warps.random_affine(AtFraction(1.0), SHAPE, warps.WarpRanges(shear_degrees=20.0))
    assert np.linalg.det(matrix) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(matrix[1], [0.0, 1.0], atol=1e-12)  # a row of pixels stays a row
    assert math.degrees(math.atan(matrix[0, 1])) == pytest.approx(20.0)
    np.testing.assert_allclose(matrix @ CENTRE + offset, CENTRE, atol=1e-12)


# -- the elastic field ---------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha, sigma", [(2.0, 4.0), (0.5, 2.0), (6.0, 3.0)])
def test_an_elastic_field_is_as_large_as_alpha_says(alpha, sigma):
    fields = warps.random_displacements(np.random.default_rng(1), 50, SHAPE,
                                        warps.WarpRanges(elastic_alpha=alpha, elastic_sigma=sigma))
    assert fields.shape == (50, 2, *SHAPE)
    np.testing.assert_allclose(np.abs(fields).reshape(50, -1).max(axis=1), alpha)  # its largest move, exactly
    assert np.abs(fields).mean() > alpha / 8  # not one spike with the rest still
    assert warps.random_displacements(np.random.default_rng(1), 3, SHAPE, warps.WarpRanges(elastic_alpha=0)) is None


@pytest.mark.parametrize("sigma", [2.0, 4.0])
def test_an_elastic_field_is_as_smooth_as_sigma_says(sigma):
    """Gaussian-smoothed white noise: the correlation of two points δ pixels apart is exp(-δ² / 4σ²),
    along rows and along columns, for each of the two components; the components are independent."""
    fields = warps.random_displacements(np.random.default_rng(0), 400, SHAPE,
                                        warps.WarpRanges(elastic_alpha=2.0, elastic_sigma=sigma))
    inner = slice(8, 20)  # away from the edges, where the smoothing is renormalised
    for delta in (1, 2, 4, 6):
        moved = slice(8 + delta, 20 + delta)
        along_rows = np.corrcoef(fields[:, :, inner, inner].ravel(), fields[:, :, moved, inner].ravel())[0, 1]
        along_cols = np.corrcoef(fields[:, :, inner, inner].ravel(), fields[:, :, inner, moved].ravel())[0, 1]
        expected = math.exp(-delta ** 2 / (4 * sigma ** 2))
        assert along_rows == pytest.approx(expected, abs=0.03) and along_cols == pytest.approx(expected, abs=0.03)
    between = np.corrcoef(fields[:, 0, inner, inner].ravel(), fields[:, 1, inner, inner].ravel())[0, 1]
    assert abs(between) < 0.05
    assert abs(fields.mean()) < 0.05


def test_a_constant_elastic_field_is_a_shift():
    """The displacement adds to where each pixel is read: a field of +1 row everywhere moves the image up 1."""
    field = np.zeros((2, *SHAPE))
    field[0] = 1.0
    t = warps.warp_matrix(SHAPE, np.eye(2), np.zeros(2), field)
    expected = scipy.ndimage.shift(bar(), (-1, 0), order=1, mode="grid-constant", cval=0.0)
    np.testing.assert_allclose((t @ bar().ravel()).reshape(SHAPE), expected, atol=1e-12)


# -- found by mutation testing: the plumbing around the geometry ------------------------------------------------


def test_the_ranges_are_the_train_params_own():
    from pipeline.core.config import TrainParams

    params = TrainParams(augment_translate=3, augment_rotate_degrees=7.0, augment_scale=0.2,
                         augment_shear_degrees=5.0, augment_elastic_alpha=1.5, augment_elastic_sigma=2.5)
    ranges = warps.ranges_of(params)
    assert ranges == warps.WarpRanges(3.0, 7.0, 0.2, 5.0, 1.5, 2.5) and type(ranges.translate) is float


def test_one_warp_is_the_first_of_a_batch_of_one_drawn_the_same_way():
    r = warps.WarpRanges(translate=2.0, rotate_degrees=10, scale=0.1, shear_degrees=5, elastic_alpha=2.0)
    matrices, offsets = warps.random_affines(np.random.default_rng(4), 1, SHAPE, r)
    matrix, offset = warps.random_affine(np.random.default_rng(4), SHAPE, r)
    np.testing.assert_array_equal(matrix, matrices[0])
    np.testing.assert_array_equal(offset, offsets[0])
    np.testing.assert_array_equal(warps.random_displacement(np.random.default_rng(4), SHAPE, r),
                                  warps.random_displacements(np.random.default_rng(4), 1, SHAPE, r)[0])
    assert (warps.random_warp(np.random.default_rng(4), SHAPE, r)
            != warps.random_warps(np.random.default_rng(4), 1, SHAPE, r)[0]).nnz == 0
    assert warps.random_displacement(np.random.default_rng(4), SHAPE, warps.WarpRanges()) is None


def test_each_warp_of_a_batch_shifts_by_its_own_amount_along_each_axis():
    _, offsets = warps.random_affines(np.random.default_rng(2), 50, SHAPE, warps.WarpRanges(translate=2.0))
    assert np.abs(offsets).max() <= 2.0 and len(np.unique(offsets)) == 100


def test_noise_that_is_all_zero_gives_no_displacement_rather_than_nans():
    fields = warps.random_displacements(AtFraction(0.5), 3, SHAPE, warps.WarpRanges(elastic_alpha=2.0))
    np.testing.assert_array_equal(fields, np.zeros((3, 2, *SHAPE)))


def test_the_identity_keeps_an_image_with_ink_up_to_every_edge():
    image = np.random.default_rng(0).random(SHAPE)
    t = warps.warp_matrix(SHAPE, np.eye(2), np.zeros(2))
    np.testing.assert_allclose((t @ image.ravel()).reshape(SHAPE), image, atol=1e-12)


def test_a_neighbour_outside_the_image_reads_pixel_0_with_weight_0():
    columns, weights = warps.interpolation_parts(SHAPE, np.array([-0.5, 27.5]), np.array([3.25, 27.0]))
    assert columns.dtype == np.int32 and columns.shape == weights.shape == (8,)
    np.testing.assert_array_equal(columns, [0, 0, 3, 4, 783, 0, 0, 0])
    np.testing.assert_allclose(weights, [0, 0, 0.375, 0.125, 0.5, 0, 0, 0])


def test_warps_of_an_image_that_is_not_square():
    shape = (20, 30)
    r = warps.WarpRanges(rotate_degrees=10, elastic_alpha=2.0, elastic_sigma=3.0)
    fields = warps.random_displacements(np.random.default_rng(0), 4, shape, r)
    assert fields.shape == (4, 2, 20, 30) and np.isfinite(fields).all()
    image = np.random.default_rng(1).random(shape)
    t = warps.warp_matrix(shape, np.eye(2), np.array([1.0, -2.0]))
    expected = scipy.ndimage.shift(image, (-1.0, 2.0), order=1, mode="grid-constant", cval=0.0)
    np.testing.assert_allclose((t @ image.ravel()).reshape(shape), expected, atol=1e-12)


def test_a_batch_of_warps_holds_its_weights_in_the_type_asked_for():
    batch = warps.random_warps(np.random.default_rng(0), 2, SHAPE, warps.WarpRanges(rotate_degrees=5), np.float32)
    assert batch.weights.dtype == np.float32 and batch[0].dtype == np.float32
    assert warps.random_warps(np.random.default_rng(0), 2, SHAPE, warps.WarpRanges(rotate_degrees=5)).weights.dtype \
        == np.float64
