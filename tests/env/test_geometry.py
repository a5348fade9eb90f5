"""The image <-> task geometry: points land where the image shows them, and back."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grasp_env.errors import ConfigError, InvalidAction
from grasp_env.geometry import ImageGeometry, Pose
from grasp_env.grasp_grid import GraspGrid

GEOMETRY = ImageGeometry()
GRID = GraspGrid(GEOMETRY)
coord = st.floats(-0.109, 0.109, allow_nan=False)
angle = st.floats(-np.pi, np.pi, allow_nan=False)


@given(coord, coord)
def test_task_to_pixel_and_back_is_identity(x, y):
    row, col = GEOMETRY.task_to_pixel(x, y)
    back = GEOMETRY.pixel_to_task(row, col)
    np.testing.assert_allclose(back, (x, y), atol=1e-12)


@given(coord, coord, st.floats(0.0, 0.15))
def test_a_point_is_rendered_at_the_pixel_that_maps_back_to_it(x, y, z):
    image = GEOMETRY.render(np.array([[x, y, z]]))
    rows, cols = np.nonzero(image.valid)
    assert len(rows) == 1
    bx, by = GEOMETRY.pixel_to_task(rows[0], cols[0])
    half = GEOMETRY.pixel_size / 2 + 1e-12
    assert abs(bx - x) <= half
    assert abs(by - y) <= half
    assert image.height[rows[0], cols[0]] == pytest.approx(z, abs=1e-6)


def test_image_rows_grow_towards_negative_y_and_cols_towards_positive_x():
    image = GEOMETRY.render(np.array([[0.05, 0.08, 0.01]]))
    row, col = np.argwhere(image.valid)[0]
    assert row < GEOMETRY.rows / 2
    assert col > GEOMETRY.cols / 2


def test_render_keeps_the_highest_point_per_pixel_and_marks_the_rest_missing():
    points = np.array([[0.0, 0.0, 0.02], [0.0, 0.0, 0.05], [0.0, 0.0, 0.03], [1.0, 1.0, 0.1]])
    image = GEOMETRY.render(points)
    assert image.valid.sum() == 1
    assert image.height.max() == pytest.approx(0.05)
    assert image.height.dtype == np.float32
    assert image.valid.dtype == np.uint8


def test_render_clips_heights_and_ignores_non_finite_points():
    points = np.array([[0.0, 0.0, 0.5], [0.01, 0.0, -0.01], [np.nan, 0.0, 0.01]])
    image = GEOMETRY.render(points)
    assert image.valid.sum() == 2
    assert image.height.max() == pytest.approx(GEOMETRY.max_height)
    assert image.height.min() == 0.0


def test_height_at_falls_back_to_the_neighbourhood_then_the_floor():
    image = GEOMETRY.render(np.array([[0.004, 0.0, 0.03]]))
    assert GEOMETRY.height_at(image, 0.004, 0.0) == pytest.approx(0.03)
    assert GEOMETRY.height_at(image, 0.0, 0.0) == pytest.approx(0.03)
    assert GEOMETRY.height_at(image, -0.05, 0.05) == 0.0


@given(coord, coord, angle)
def test_window_centre_maps_to_the_grasp_point(x, y, a):
    m = GEOMETRY.window_affine(x, y, a, GRID.window_px)
    half = (GRID.window_px - 1) / 2
    col, row = m @ np.array([half, half, 1.0])
    np.testing.assert_allclose(GEOMETRY.pixel_to_task(row, col), (x, y), atol=1e-9)


@given(coord, coord, angle)
def test_window_columns_run_along_the_closing_direction(x, y, a):
    m = GEOMETRY.window_affine(x, y, a, GRID.window_px)
    step = m[:, 0]  # one window column to the right, in image (col, row)
    dx, dy = step[0] * GEOMETRY.pixel_size, -step[1] * GEOMETRY.pixel_size
    np.testing.assert_allclose(
        (dx, dy), GEOMETRY.pixel_size * np.array([np.cos(a), np.sin(a)]), atol=1e-12
    )


@settings(max_examples=200)
@given(st.integers(0, 19), st.integers(0, 39), st.integers(0, 39), st.integers(0, 2))
def test_grid_window_is_the_window_of_the_turned_image(r, i, j, k):
    x, y, a, d = GRID.index_to_action((r, i, j, k))
    crop = GEOMETRY.window_affine(float(x), float(y), float(a), GRID.window_px)
    turned = GEOMETRY.window_affine(0.0, 0.0, float(a), GEOMETRY.rows)
    shift = np.array([j * GRID.stride_px, i * GRID.stride_px])
    np.testing.assert_allclose(crop[:, :2], turned[:, :2], atol=1e-9)
    np.testing.assert_allclose(crop[:, 2], turned[:, :2] @ shift + turned[:, 2], atol=1e-4)
    assert d == pytest.approx(GRID.widths[k])


@settings(max_examples=200)
@given(st.integers(0, 19), st.integers(0, 39), st.integers(0, 39), st.integers(0, 2))
def test_nearest_index_of_a_grid_grasp_is_that_grasp(r, i, j, k):
    assert GRID.nearest_index(GRID.index_to_action((r, i, j, k))) == (r, i, j, k)


@given(st.integers(0, 19), st.integers(0, 39), st.integers(0, 39), st.integers(0, 2),
       st.floats(-0.9, 0.9), st.floats(-0.9, 0.9), st.sampled_from([-1, 1]))  # fmt: skip
def test_nearest_index_of_a_grasp_between_cells_is_its_cell(r, i, j, k, di, dj, turn):
    x, y, a, d = GRID.index_to_action((r, i, j, k))
    step = 0.5 * GRID.stride_px * GEOMETRY.pixel_size  # less than half a cell each way
    along, across = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    xy = np.array([x, y]) + step * (dj * along - di * across)
    near = GRID.nearest_index(np.array([*xy, a + turn * np.pi, d + 0.004]))
    assert near == (r, i, j, k)


def test_nearest_index_refuses_what_is_not_an_action():
    with pytest.raises(InvalidAction, match="4 finite numbers"):
        GRID.nearest_index(np.array([0.0, 0.0, np.nan, 0.05]))


def test_default_grid_is_the_papers_grasp_space():
    assert GRID.shape == (20, 40, 40, 3)
    assert GRID.size == 96_000
    assert np.rad2deg(np.diff(GRID.angles)).max() < 9.0
    assert GRID.stride_px * GEOMETRY.pixel_size == pytest.approx(0.004)


@pytest.mark.parametrize("index", [(20, 0, 0, 0), (0, 40, 0, 0), (0, 0, -1, 0), (0, 0, 0, 3)])
def test_grid_index_out_of_range_is_refused(index):
    with pytest.raises(InvalidAction, match="index must be in"):
        GRID.index_to_action(index)


def test_bad_geometry_is_refused():
    with pytest.raises(ConfigError, match="pixel_size"):
        ImageGeometry(pixel_size=0.0)
    with pytest.raises(ConfigError, match="window_px"):
        GraspGrid(ImageGeometry(rows=20, cols=20))


@given(coord, coord, st.floats(0, 0.5), angle)
def test_pose_inverse_undoes_the_pose(x, y, z, a):
    pose = Pose.tool_down(x, y, z, a)
    points = np.array([[0.1, -0.2, 0.3], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose((pose.inverse() @ pose).apply(points), points, atol=1e-12)
    assert np.isclose(np.cos(pose.yaw - a), 1.0)
