"""The two industrial storage bins and the table they stand on.

Each bin is one static body of five boxes (floor and four walls) whose frame is the
:class:`grasp_env.config.BinPlacement` pose: origin at the centre of the inner floor, z up.
The table is a plane just under the bins' floors, so that parts that leave the bins land
somewhere the cell can find them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet

from grasp_env.config import CellLayout
from sim.transforms import to_bullet
from sim.world import World

TABLE = "table"


def bin_name(index: int) -> str:
    """The world name of bin ``index``."""
    return f"bin{index}"


@dataclass(frozen=True)
class BinSpec:
    """What the layout does not say about the bins.

    Attributes:
        wall_thickness: metres.
        floor_thickness: metres; the table lies this far below the inner floor.
        friction: lateral friction of the bins' plastic and of the table.
        colour: RGBA of the bins.
    """

    wall_thickness: float = 0.01
    floor_thickness: float = 0.01
    friction: float = 0.5
    colour: tuple[float, float, float, float] = (0.15, 0.3, 0.75, 1.0)


def build_bins(world: World, layout: CellLayout, spec: BinSpec) -> None:
    """Add the table and both bins of ``layout`` to a freshly reset world."""
    c = world.client
    plane = c.createCollisionShape(pybullet.GEOM_PLANE)
    table = c.createMultiBody(0.0, plane, -1, [0.0, 0.0, -spec.floor_thickness])
    c.changeDynamics(table, -1, lateralFriction=spec.friction)
    world.add(TABLE, table)
    hx, hy = layout.bin_inner[0] / 2.0, layout.bin_inner[1] / 2.0
    t, f, h = spec.wall_thickness, spec.floor_thickness, layout.wall_height
    wall_z = (h - f) / 2.0
    half_height = (h + f) / 2.0
    boxes = [
        ([hx + t, hy + t, f / 2.0], [0.0, 0.0, -f / 2.0]),
        ([t / 2.0, hy + t, half_height], [hx + t / 2.0, 0.0, wall_z]),
        ([t / 2.0, hy + t, half_height], [-hx - t / 2.0, 0.0, wall_z]),
        ([hx, t / 2.0, half_height], [0.0, hy + t / 2.0, wall_z]),
        ([hx, t / 2.0, half_height], [0.0, -hy - t / 2.0, wall_z]),
    ]
    halves = [b[0] for b in boxes]
    centres = [b[1] for b in boxes]
    for index, placement in enumerate(layout.bins):
        shape = c.createCollisionShapeArray(
            [pybullet.GEOM_BOX] * len(boxes),
            halfExtents=halves,
            collisionFramePositions=centres,
        )
        visual = c.createVisualShapeArray(
            [pybullet.GEOM_BOX] * len(boxes),
            halfExtents=halves,
            visualFramePositions=centres,
            rgbaColors=[list(spec.colour)] * len(boxes),
        )
        position, orientation = to_bullet(placement.pose)
        body = c.createMultiBody(0.0, shape, visual, position, orientation)
        c.changeDynamics(body, -1, lateralFriction=spec.friction)
        world.add(bin_name(index), body)


def bin_of(layout: CellLayout, point: np.ndarray, margin: float = 0.005) -> int | None:
    """Which bin's inner volume holds ``point`` (base frame), or None when neither does.

    A point counts as inside when it lies over the inner floor (plus ``margin``) and no
    lower than ``margin`` under it.
    """
    p = np.asarray(point, dtype=np.float64)
    if not np.isfinite(p).all():
        return None
    hx, hy = layout.bin_inner[0] / 2.0 + margin, layout.bin_inner[1] / 2.0 + margin
    for index, placement in enumerate(layout.bins):
        local = placement.pose.inverse().apply(p[None, :])[0]
        if abs(local[0]) <= hx and abs(local[1]) <= hy and local[2] >= -margin:
            return index
    return None
