"""The object sets of the twin and how a bin is filled with them.

Sets:
    * ``cylinders``: the paper's wooden cylinders, 15 mm diameter x 60 mm, about 7 g.
    * ``cubes``: wooden cubes, 25 mm, about 11 g.
    * ``train``: shapes from pybullet_data's ``random_urdfs`` whose folder index does not end
      in 0 (900 shapes).
    * ``novel``: the ``random_urdfs`` shapes whose folder index ends in 0 (100 shapes), never
      seen in the train set; for generalisation tests.
    * your own: a YAML file listing URDF files, or a packaged one by name (``pybullet``); the
      format is :mod:`grasp_env.object_sets`, the loading :mod:`sim.listed_objects`.

A bin is filled by dropping objects from just above the pile in small batches, each settled
for a bounded number of physics steps; a spawn pose that would interpenetrate the bin or
another object is redrawn a bounded number of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet
import pybullet_data

from grasp_env.config import BinPlacement, CellLayout
from grasp_env.errors import ConfigError
from grasp_env.geometry import Pose
from grasp_env.object_sets import PACKAGED_OBJECT_SETS, ObjectSetFile, read_object_set
from sim.listed_objects import check_entries, load_entry
from sim.transforms import matrix_from_quaternion
from sim.world import World

#: The built-in sets, by name.
OBJECT_SETS = ("cylinders", "cubes", "train", "novel")


def listed_objects(object_set: str) -> ObjectSetFile | None:
    """The YAML set ``object_set`` names, read and checked; None for a built-in set.

    Raises:
        ConfigError: ``object_set`` is neither a built-in set nor a YAML file of the format of
            :mod:`grasp_env.object_sets` (an :class:`~grasp_env.object_sets.ObjectSetError`
            naming the file, entry and field).
    """
    if object_set in OBJECT_SETS:
        return None
    listed = read_object_set(object_set)
    if listed is None:
        raise ConfigError(
            f"object_set must be one of {OBJECT_SETS + tuple(PACKAGED_OBJECT_SETS)} or the path"
            f" of a YAML file (.yaml) listing URDF files, got {object_set!r}"
        )
    return listed


def random_urdf_indices(split: str) -> tuple[int, ...]:
    """The ``random_urdfs`` folder indices of the ``train`` or ``novel`` split."""
    if split == "novel":
        return tuple(i for i in range(1000) if i % 10 == 0)
    if split == "train":
        return tuple(i for i in range(1000) if i % 10 != 0)
    raise ConfigError(f"expected split 'train' or 'novel', got {split!r}")


@dataclass(frozen=True)
class ObjectSpec:
    """Sizes, masses, friction and the filling procedure.

    Attributes:
        cylinder_radius: m. cylinder_length: m. cylinder_mass: kg (beech, ~700 kg/m^3).
        cube_size: edge, m. cube_mass: kg.
        mesh_scale: scale of the ``random_urdfs`` meshes (their files are ~0.04 x 0.11 x
            0.10 m at 1.0; 0.5 brings them near the cylinders' size).
        mesh_mass: kg, for every ``random_urdfs`` shape.
        friction: lateral friction (wood); pybullet multiplies the two bodies' coefficients.
        rolling_friction: keeps lying cylinders from rolling forever, m.
        spinning_friction: m.
        batch: objects dropped together before a settle.
        drop_gap: spawn height above the current pile top, metres.
        drop_steps: the most steps one batch may take to settle.
        spawn_tries: redraws of a spawn pose that interpenetrates something.
    """

    cylinder_radius: float = 0.0075
    cylinder_length: float = 0.060
    cylinder_mass: float = 0.0074
    cube_size: float = 0.025
    cube_mass: float = 0.011
    mesh_scale: float = 0.5
    mesh_mass: float = 0.02
    friction: float = 0.5
    rolling_friction: float = 5e-4
    spinning_friction: float = 5e-4
    batch: int = 10
    drop_gap: float = 0.015
    drop_steps: int = 60
    spawn_tries: int = 30


class ObjectFactory:
    """Makes the bodies of one object set in a world.

    Args:
        world: the simulation.
        object_set: one of :data:`OBJECT_SETS`, or a YAML set (see :func:`listed_objects`).
        spec: sizes, masses and friction (a YAML set's entries override mass and friction).

    Attributes:
        listed: the YAML set, or None for a built-in set.
    """

    def __init__(self, world: World, object_set: str, spec: ObjectSpec) -> None:
        self.listed = listed_objects(object_set)
        self.world = world
        self.object_set = object_set
        self.spec = spec
        self._shapes: tuple[int, int] | None = None
        self._pool = random_urdf_indices(object_set) if object_set in ("train", "novel") else ()

    def check_fit(self, *, max_opening: float, bin_inner: tuple[float, float]) -> None:
        """Refuse a YAML set's objects that the twin cannot load, grasp or drop in the bin.

        The built-in sets fit by construction. See :func:`sim.listed_objects.check_entries`.
        """
        if self.listed is not None:
            check_entries(self.world, self.listed, max_opening=max_opening, bin_inner=bin_inner)

    def forget_shapes(self) -> None:
        """Drop cached shape ids (after the world was reset)."""
        self._shapes = None

    def create(self, serial: int, rng: np.random.Generator) -> str:
        """Add one object, far above the cell, and return its name."""
        c = self.world.client
        s = self.spec
        parking = [0.0, 0.0, 5.0 + 0.2 * serial]
        friction = s.friction
        if self.listed is not None:
            body, name, friction = self._create_listed(self.listed, serial, rng, parking)
        elif self.object_set in ("cylinders", "cubes"):
            col, vis = self._primitive_shapes()
            mass = s.cylinder_mass if self.object_set == "cylinders" else s.cube_mass
            body = c.createMultiBody(mass, col, vis, parking, useMaximalCoordinates=True)
            name = f"{self.object_set[:-1]}_{serial:02d}"
        else:
            index = int(self._pool[int(rng.integers(len(self._pool)))])
            path = Path(pybullet_data.getDataPath()) / "random_urdfs" / f"{index:03d}"
            body = c.loadURDF(
                str(path / f"{index:03d}.urdf"),
                parking,
                globalScaling=s.mesh_scale,
                useMaximalCoordinates=True,
            )
            c.changeDynamics(body, -1, mass=s.mesh_mass)
            name = f"shape{index:03d}_{serial:02d}"
        c.changeDynamics(
            body,
            -1,
            lateralFriction=friction,
            rollingFriction=s.rolling_friction,
            spinningFriction=s.spinning_friction,
            restitution=0.0,
        )
        self.world.add(name, body, movable=True)
        return name

    def _create_listed(
        self, listed: ObjectSetFile, serial: int, rng: np.random.Generator, parking: list[float]
    ) -> tuple[int, str, float]:
        """A body of an entry drawn by weight: its id, name and lateral friction."""
        index = listed.draw(rng)
        entry = listed.entries[index]
        body = load_entry(self.world, listed, index, parking)
        friction = entry.friction if entry.friction is not None else self.spec.friction
        return body, f"{entry.path.stem}_{serial:02d}", friction

    def _primitive_shapes(self) -> tuple[int, int]:
        if self._shapes is None:
            c = self.world.client
            s = self.spec
            if self.object_set == "cylinders":
                col = c.createCollisionShape(
                    pybullet.GEOM_CYLINDER, radius=s.cylinder_radius, height=s.cylinder_length
                )
                vis = c.createVisualShape(
                    pybullet.GEOM_CYLINDER,
                    radius=s.cylinder_radius,
                    length=s.cylinder_length,
                    rgbaColor=[0.85, 0.65, 0.4, 1.0],
                )
            else:
                half = [s.cube_size / 2.0] * 3
                col = c.createCollisionShape(pybullet.GEOM_BOX, halfExtents=half)
                vis = c.createVisualShape(
                    pybullet.GEOM_BOX, halfExtents=half, rgbaColor=[0.85, 0.65, 0.4, 1.0]
                )
            self._shapes = (col, vis)
        return self._shapes


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rotation matrix drawn from ``rng``."""
    q = rng.normal(size=4)
    return matrix_from_quaternion(q / np.linalg.norm(q))


def fill_bin(
    world: World,
    factory: ObjectFactory,
    layout: CellLayout,
    index: int,
    count: int,
    rng: np.random.Generator,
) -> list[str]:
    """Drop ``count`` objects into bin ``index`` and let them settle; return their names."""
    spec = factory.spec
    placement = layout.bins[index]
    names: list[str] = []
    for first in range(0, count, spec.batch):
        batch = [factory.create(k, rng) for k in range(first, min(count, first + spec.batch))]
        top = _pile_top(world, placement, names)
        for name in batch:
            placed = names + batch[: batch.index(name)]
            _place_freely(world, layout, placement, name, placed, top, rng, spec)
        names.extend(batch)
        world.settle(batch, spec.drop_steps)
    world.settle(names)
    return names


def _pile_top(world: World, placement: BinPlacement, names: list[str]) -> float:
    """Height of the highest object above the bin floor (0 for an empty bin)."""
    tops = [world.aabb(world.id(n))[1][2] - placement.z for n in names]
    return max(tops, default=0.0)


def _place_freely(
    world: World,
    layout: CellLayout,
    placement: BinPlacement,
    name: str,
    placed: list[str],
    top: float,
    rng: np.random.Generator,
    spec: ObjectSpec,
) -> None:
    """Put ``name`` a gap above the pile top at a random pose inside the bin's walls.

    A pose that sticks out of the bin or interpenetrates another body is redrawn up to
    ``spec.spawn_tries`` times; after that the object goes above the ``placed`` objects at
    the last drawn pose.
    """
    gap = spec.drop_gap
    body = world.id(name)
    hx, hy = layout.bin_inner[0] / 2.0, layout.bin_inner[1] / 2.0
    bin_pose = placement.pose
    for _ in range(spec.spawn_tries):
        rotation = random_rotation(rng)
        x, y = rng.uniform(-hx, hx), rng.uniform(-hy, hy)
        world.set_pose(name, bin_pose @ Pose(np.array([x, y, 0.0]), rotation))
        lo, hi = _box_in(world, body, bin_pose)
        world.set_pose(name, bin_pose @ Pose(np.array([x, y, top + gap - lo[2]]), rotation))
        inside = lo[0] >= -hx and hi[0] <= hx and lo[1] >= -hy and hi[1] <= hy
        if inside and _touches_nothing(world, body):
            return
    lo, _ = _box_in(world, body, bin_pose)
    highest = max((world.aabb(world.id(n))[1][2] for n in placed), default=bin_pose.position[2])
    lift = highest - bin_pose.position[2] + gap - lo[2]
    current = world.pose(name)
    world.set_pose(name, Pose(current.position + np.array([0.0, 0.0, lift]), current.rotation))


def _box_in(world: World, body: int, frame: Pose) -> tuple[np.ndarray, np.ndarray]:
    """The axis-aligned box around ``body``'s world box, expressed in ``frame``."""
    lo, hi = world.aabb(body)
    corners = np.array(np.meshgrid(*zip(lo, hi, strict=True))).reshape(3, -1).T
    local = frame.inverse().apply(corners)
    return local.min(axis=0), local.max(axis=0)


def _touches_nothing(world: World, body: int) -> bool:
    """Whether ``body`` interpenetrates no other body."""
    lo, hi = world.aabb(body)
    others = [b for b in world.bodies_in_box(lo, hi) if b != body]
    return all(d >= 0.0 for d in world.distances(body, others, 0.0).values())
