"""The two industrial storage bins and the table they stand on.

Each bin is one static body of five boxes (floor and four walls) whose frame is the
:class:`grasp_env.config.BinPlacement` pose: origin at the centre of the inner floor, z up.
The table is a plane just under the bins' floors, so that parts that leave the bins land
somewhere the cell can find them. For the paper's IV-C tests ("simple height differences have
no measurable effect, as well as removing the bin"), a ``floor_tilt`` adds a ramp over the
whole inner floor, rising along the bin's x axis, and ``walls`` False leaves only the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet

from grasp_env.config import CellLayout
from grasp_env.errors import ConfigError
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
        floor_tilt: the ramp's slope, radians (0: none); its low edge lies on the floor at
            -x, its high edge ``bin_inner[0] * tan(floor_tilt)`` above it at +x.
        walls: False leaves the walls out: the parts lie on a plate the size of the bin, as
            on a table (paper IV-C: "as well as removing the bin").
    """

    wall_thickness: float = 0.01
    floor_thickness: float = 0.01
    friction: float = 0.5
    colour: tuple[float, float, float, float] = (0.15, 0.3, 0.75, 1.0)
    floor_tilt: float = 0.0
    walls: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.floor_tilt <= np.deg2rad(20.0):
            raise ConfigError(
                f"bins.floor_tilt: expected 0 to 20 degrees (radians), got {self.floor_tilt}"
            )


def _ramp(hx: float, hy: float, thickness: float, tilt: float) -> tuple[list, list, list]:
    """The ramp's box: half extents, centre and orientation in the bin frame."""
    half_length = hx / np.cos(tilt)
    top_centre = np.array([0.0, 0.0, hx * np.tan(tilt)])
    normal = np.array([-np.sin(tilt), 0.0, np.cos(tilt)])
    centre = top_centre - normal * thickness / 2.0
    # a turn of -tilt about y lifts the box's +x end
    orientation = [0.0, float(np.sin(-tilt / 2.0)), 0.0, float(np.cos(-tilt / 2.0))]
    return [half_length, hy, thickness / 2.0], centre.tolist(), orientation


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
    if not spec.walls:
        boxes = boxes[:1]
    halves = [b[0] for b in boxes]
    centres = [b[1] for b in boxes]
    # orientations only with a ramp, so that the plain bin is built exactly as before
    collision_turns: dict[str, list] = {}
    visual_turns: dict[str, list] = {}
    if spec.floor_tilt > 0:
        half, centre, turn = _ramp(hx, hy, f, spec.floor_tilt)
        halves, centres = [*halves, half], [*centres, centre]
        turns = [[0.0, 0.0, 0.0, 1.0]] * len(boxes) + [turn]
        collision_turns = {"collisionFrameOrientations": turns}
        visual_turns = {"visualFrameOrientations": turns}
    for index, placement in enumerate(layout.bins):
        shape = c.createCollisionShapeArray(
            [pybullet.GEOM_BOX] * len(halves),
            halfExtents=halves,
            collisionFramePositions=centres,
            **collision_turns,
        )
        visual = c.createVisualShapeArray(
            [pybullet.GEOM_BOX] * len(halves),
            halfExtents=halves,
            visualFramePositions=centres,
            rgbaColors=[list(spec.colour)] * len(halves),
            **visual_turns,
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
