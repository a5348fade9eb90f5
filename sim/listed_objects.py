"""The objects of a YAML object set (:mod:`grasp_env.object_sets`) as bodies of the twin.

:func:`load_entry` loads one entry's URDF with its scale and mass, and refuses a URDF
pybullet cannot load or whose base link has no mass: pybullet fixes such a body in place, and
with the maximal coordinates the twin's parts use a later mass does not free it.
:func:`check_entries` loads each entry once when the cell is built, so that those errors come
before anything runs, and refuses an object that cannot be grasped or dropped: its smallest
horizontal extent wider than the gripper's largest opening, or its largest horizontal extent
wider than the bin. Extents are those of pybullet's bounding box of the scaled object in the
URDF's own orientation.
"""

from __future__ import annotations

import numpy as np
import pybullet

from grasp_env.object_sets import ObjectSetFile
from sim.world import World

#: Where the check loads its bodies: far above the cell, out of everything's way.
_CHECK_POSITION = (0.0, 0.0, 50.0)


def load_entry(
    world: World, objects: ObjectSetFile, index: int, position: list[float] | tuple[float, ...]
) -> int:
    """Load entry ``index`` of ``objects`` at ``position`` and return its pybullet id.

    Raises:
        ObjectSetError: pybullet cannot load its URDF, or its base link has no mass.
    """
    entry = objects.entries[index]
    c = world.client
    try:
        body = c.loadURDF(
            str(entry.path), position, globalScaling=entry.scale, useMaximalCoordinates=True
        )
    except pybullet.error as exc:
        raise objects.error(
            index, "urdf", "a URDF file pybullet can load", f"{entry.urdf!r} ({exc})"
        ) from exc
    if c.getDynamicsInfo(body, -1)[0] <= 0.0:
        c.removeBody(body)
        raise objects.error(
            index,
            "urdf",
            "a URDF whose base link has a mass > 0 (pybullet fixes a massless base in place)",
            f"base mass 0 in {entry.urdf!r}",
        )
    if entry.mass is not None:
        c.changeDynamics(body, -1, mass=entry.mass)
    return body


def check_entries(
    world: World, objects: ObjectSetFile, *, max_opening: float, bin_inner: tuple[float, float]
) -> None:
    """Load each entry once and refuse what the twin cannot use.

    Args:
        world: the simulation; the bodies loaded here are removed again.
        objects: the set.
        max_opening: the gripper's largest opening, metres.
        bin_inner: the bin's inner floor size (x, y), metres.

    Raises:
        ObjectSetError: naming the entry and field: as :func:`load_entry`, or an object too
            large for the fingers or the bin.
    """
    for index in range(len(objects.entries)):
        body = load_entry(world, objects, index, _CHECK_POSITION)
        lo, hi = world.aabb(body)
        world.client.removeBody(body)
        _check_size(objects, index, hi[:2] - lo[:2], max_opening, bin_inner)


def _check_size(
    objects: ObjectSetFile,
    index: int,
    extents: np.ndarray,
    max_opening: float,
    bin_inner: tuple[float, float],
) -> None:
    """Refuse horizontal ``extents`` too wide for the open fingers or for the bin."""
    size = " x ".join(f"{e:.3f}" for e in extents) + f" m at scale {objects.entries[index].scale}"
    if extents.min() > max_opening:
        raise objects.error(
            index,
            "scale",
            f"an object whose smallest horizontal extent fits the gripper's largest opening"
            f" of {max_opening:.3f} m",
            size,
        )
    if extents.max() > min(bin_inner):
        raise objects.error(
            index,
            "scale",
            f"an object that fits in the bin's inner {bin_inner[0]:.3f} x {bin_inner[1]:.3f} m",
            size,
        )
