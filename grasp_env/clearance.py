"""Which grasps of the grid keep both open fingers inside the bin's walls.

The value network judges a grasp by the 64 mm window around it, but the open fingers of the
wider grasps reach past that window: a finger's outer face lies d/2 + its thickness from the
grasp centre, 45 mm at a 70 mm opening. So the network cannot see, and cannot learn, that a
finger will land on a wall just outside its window; in the twin such grasps struck the wall's
top edge and were chosen again and again while the bin stayed as it was. The bin's inner
size and the fingers' footprint are fixed facts of the cell, so the grasps whose footprint
leaves the inner floor are known before any image: :func:`inside_walls` gives them as a mask
over the grid, which an agent applies before it selects
(:class:`agents.policies.fcn.FCNAgent`'s ``walls``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grasp_env.config import CellLayout
from grasp_env.errors import ConfigError
from grasp_env.grasp_grid import GraspGrid


@dataclass(frozen=True)
class FingerFootprint:
    """One finger's box seen from above (the twin builds its fingers from it).

    Attributes:
        thickness: along the closing direction, metres.
        width: across it, metres.
    """

    thickness: float = 0.010
    width: float = 0.020


@dataclass(frozen=True)
class WallClearance:
    """The bin interior the fingers must stay in.

    Attributes:
        bin_inner: inner floor size (x, y) of the grasp bin, metres, centred on the task
            frame's origin (the image centre).
        fingers: the fingers' footprint.
        margin: distance kept from the walls' inner faces, metres (the arm's and the
            camera's calibration error).
    """

    bin_inner: tuple[float, float] = CellLayout().bin_inner
    fingers: FingerFootprint = FingerFootprint()
    margin: float = 0.002

    def __post_init__(self) -> None:
        half = min(self.bin_inner) / 2.0
        if not 0.0 <= self.margin < half or min(self.bin_inner) <= 0:
            raise ConfigError(
                f"wall clearance: expected a positive bin_inner and 0 <= margin < {half} m,"
                f" got bin_inner {self.bin_inner} and margin {self.margin}"
            )


def inside_walls(grid: GraspGrid, clearance: WallClearance) -> np.ndarray:
    """True for the grid's grasps whose finger footprint lies inside the walls.

    The two open fingers span, along the closing direction u = (cos a, sin a), from
    -(d/2 + thickness) to +(d/2 + thickness) about the grasp centre, and width/2 to either
    side across it; the inner floor is convex, so the four corners of that box decide.

    Returns:
        a boolean array of ``grid.shape`` (rotations, rows, cols, widths).
    """
    x, y = grid.cell_positions()  # (rotations, rows, cols)
    a = grid.angles[:, None, None, None]
    along = np.asarray(grid.widths)[None, None, None, :] / 2.0 + clearance.fingers.thickness
    across = clearance.fingers.width / 2.0
    # the box's farthest reach along task x and y, for any sign of its corners
    reach_x = np.abs(np.cos(a)) * along + np.abs(np.sin(a)) * across
    reach_y = np.abs(np.sin(a)) * along + np.abs(np.cos(a)) * across
    hx, hy = (s / 2.0 - clearance.margin for s in clearance.bin_inner)
    return (np.abs(x[..., None]) + reach_x <= hx) & (np.abs(y[..., None]) + reach_y <= hy)


__all__ = ["FingerFootprint", "WallClearance", "inside_walls"]
