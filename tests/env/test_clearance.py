"""The wall mask: a grasp is allowed exactly when both open fingers stay inside the bin."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grasp_env.clearance import FingerFootprint, WallClearance, inside_walls
from grasp_env.config import CellLayout
from grasp_env.errors import ConfigError
from grasp_env.grasp_grid import GraspGrid
from sim.gripper import GripperSpec

GRID = GraspGrid()
CLEARANCE = WallClearance()
MASK = inside_walls(GRID, CLEARANCE)
index = st.tuples(*(st.integers(0, n - 1) for n in GRID.shape))


def footprint_corners(action: np.ndarray, fingers: FingerFootprint) -> np.ndarray:
    """The eight corners of both fingers' boxes, task (x, y), for the action (x, y, a, d)."""
    x, y, a, d = (float(v) for v in action)
    u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    corners = []
    for side in (-1.0, 1.0):
        for depth in (d / 2.0, d / 2.0 + fingers.thickness):
            for across in (-fingers.width / 2.0, fingers.width / 2.0):
                corners.append(np.array([x, y]) + side * depth * u + across * v)
    return np.array(corners)


@given(index)
def test_a_grasp_is_allowed_exactly_when_every_finger_corner_is_inside_the_margin(idx):
    corners = footprint_corners(GRID.index_to_action(idx), CLEARANCE.fingers)
    hx, hy = (s / 2.0 - CLEARANCE.margin for s in CLEARANCE.bin_inner)
    inside = bool(np.all(np.abs(corners[:, 0]) <= hx + 1e-6)) and bool(
        np.all(np.abs(corners[:, 1]) <= hy + 1e-6)
    )
    near_edge = np.min(np.abs(np.abs(corners) - [hx, hy])) < 1e-5
    if not near_edge:  # float32 actions: leave the boundary itself alone
        assert MASK[idx] == inside


def test_the_mask_has_the_grid_shape_and_allows_every_centred_grasp():
    assert MASK.shape == GRID.shape
    rows, cols = GRID.shape[1:3]
    assert MASK[:, rows // 2, cols // 2, :].all()


def test_wider_openings_are_never_allowed_where_narrower_ones_are_not():
    assert not (MASK[..., 1] & ~MASK[..., 0]).any()
    assert not (MASK[..., 2] & ~MASK[..., 1]).any()


def test_a_bigger_bin_allows_more_grasps():
    bigger = inside_walls(GRID, WallClearance(bin_inner=(0.24, 0.24)))
    assert bigger.sum() > MASK.sum()
    assert not (MASK & ~bigger).any()


def test_the_defaults_are_the_cell_layouts_bin_and_the_twins_fingers():
    assert CLEARANCE.bin_inner == CellLayout().bin_inner
    assert GripperSpec().finger_size[:2] == (CLEARANCE.fingers.thickness, CLEARANCE.fingers.width)


@pytest.mark.parametrize("fields", [{"margin": -0.001}, {"margin": 0.2}, {"bin_inner": (0.0, 0.2)}])
def test_an_impossible_clearance_is_refused_naming_what_came(fields):
    with pytest.raises(ConfigError, match="wall clearance"):
        WallClearance(**fields)
