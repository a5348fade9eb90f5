"""The twin's depth camera: geometry through the height image, artefacts and their noise."""

from __future__ import annotations

import numpy as np
import pytest

from grasp_env.geometry import ImageGeometry, Pose
from sim.cell import TwinCell
from sim.config import TwinConfig
from sim.stereo import add_depth_noise, occlusion_mask, steep_mask

GEOMETRY = ImageGeometry()


def height_image(cell: TwinCell, grasp_bin: int = 0):
    """Move to the photo pose, capture, and render the bin's height image, like the env."""
    bin_pose = cell.layout.bins[grasp_bin].pose
    cell.robot.move_ptp(bin_pose @ Pose.tool_down(0.0, 0.0, cell.layout.photo_height, 0.0))
    return GEOMETRY.render(bin_pose.inverse().apply(cell.camera.capture()))


def interior(margin_px: int = 8) -> tuple[slice, slice]:
    """The image's pixels well inside the bin walls."""
    return slice(margin_px, GEOMETRY.rows - margin_px), slice(margin_px, GEOMETRY.cols - margin_px)


@pytest.fixture
def empty():
    cell = TwinCell(TwinConfig(objects=1, artefacts=False))
    yield cell
    cell.close()


@pytest.mark.parametrize("grasp_bin", [0, 1])
def test_a_flat_bin_floor_reprojects_to_zero_height_everywhere(empty, grasp_bin):
    image = height_image(empty, grasp_bin)
    rows, cols = interior()
    assert image.valid[rows, cols].all()
    assert np.abs(image.height[rows, cols]).max() < 5e-4


def test_the_bin_walls_appear_at_their_height(empty):
    image = height_image(empty)
    assert image.height[GEOMETRY.rows // 2, -1] == pytest.approx(empty.layout.wall_height, abs=2e-3)


def test_a_box_top_reprojects_to_its_height():
    cell = TwinCell(TwinConfig(object_set="cubes", objects=1, artefacts=False))
    bin_pose = cell.layout.bins[0].pose
    cell.add_object(bin_pose @ Pose(np.array([0.03, -0.02, 0.0125]), np.eye(3)))
    cell.prepare(None, 0)
    image = height_image(cell)
    row, col = (round(float(v)) for v in GEOMETRY.task_to_pixel(0.03, -0.02))
    top = image.height[row - 4 : row + 5, col - 4 : col + 5]
    cell.close()
    assert np.abs(top - 0.025).max() < 1e-3


def test_artefacts_off_gives_noise_free_identical_clouds(empty):
    empty.robot.move_ptp(Pose.tool_down(0.55, 0.17, 0.4, 0.0))
    first, second = empty.camera.capture(), empty.camera.capture()
    np.testing.assert_array_equal(first, second)


def test_artefacts_on_add_noise_and_holes():
    cell = TwinCell(TwinConfig(objects=20))
    cell.prepare(np.random.default_rng(3), 0)
    noisy = height_image(cell)
    quiet_cell = TwinCell(TwinConfig(objects=20, artefacts=False))
    quiet_cell.prepare(np.random.default_rng(3), 0)
    quiet = height_image(quiet_cell)
    cell.close()
    quiet_cell.close()
    both = (noisy.valid > 0) & (quiet.valid > 0)
    assert noisy.valid.sum() < quiet.valid.sum()
    assert 1e-4 < np.abs(noisy.height - quiet.height)[both].mean() < 2e-3


def test_the_same_generator_gives_identical_clouds():
    clouds = []
    for _ in range(2):
        cell = TwinCell(TwinConfig(objects=8))
        cell.prepare(np.random.default_rng(21), 0)
        cell.robot.move_ptp(Pose.tool_down(0.55, 0.17, 0.4, 0.0))
        clouds.append(cell.camera.capture())
        cell.close()
    assert clouds[0].tobytes() == clouds[1].tobytes()


def test_the_camera_window_covers_every_pixel_of_the_height_image(empty):
    image = height_image(empty)
    assert image.valid.all()


def test_a_closer_surface_hides_the_floor_beside_it_from_the_second_view():
    depth = np.full((1, 40), 1.0)
    depth[0, 20:] = 0.5
    columns = np.arange(40, dtype=float)[None, :] + 0.5
    hidden = occlusion_mask(columns, depth, fx=100.0, baseline=0.1, tolerance=0.5)
    assert hidden[0, 11:20].all()
    assert not hidden[0, :10].any()
    assert not hidden[0, 20:].any()


def test_a_surface_seen_edge_on_counts_as_steep_and_one_seen_square_on_does_not():
    u, v = np.meshgrid(np.linspace(-0.1, 0.1, 9), np.linspace(-0.1, 0.1, 9))
    square_on = np.stack([u, v, np.full_like(u, 0.5)], axis=2)
    edge_on = np.stack([u, np.full_like(u, 0.05), 1.0 + 2.0 * v], axis=2)
    assert not steep_mask(square_on, np.radians(75.0))[1:-1, 1:-1].any()
    assert steep_mask(edge_on, np.radians(75.0))[1:-1, 1:-1].all()


def test_depth_noise_grows_with_the_square_of_the_distance():
    rng = np.random.default_rng(0)
    near = np.tile([0.0, 0.0, 0.5], (20000, 1))
    far = np.tile([0.0, 0.0, 1.0], (20000, 1))
    ratio = (
        add_depth_noise(far, 1e-3, rng)[:, 2].std() / add_depth_noise(near, 1e-3, rng)[:, 2].std()
    )
    assert ratio == pytest.approx(4.0, rel=0.05)
