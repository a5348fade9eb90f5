"""The PyBullet twin of the bin-picking cell: :class:`TwinCell` implements the Cell protocol.

It owns one :class:`sim.world.World` and the twin's arm, gripper and camera. A scene is built
from a generator by resetting the simulation and loading everything again (bins, arm,
gripper, objects), which makes the same seed give a bit-identical scene.

Between attempts the cell keeps the physics honest: :meth:`TwinCell.report` and
:meth:`TwinCell.prepare` let moving parts settle (bounded steps), find parts that left both
bins or diverged (non-finite pose, runaway speed), remove them and count them, and put
resting parts to sleep so that the next attempt's physics steps stay cheap.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pybullet

from grasp_env.cell import CellReport
from grasp_env.geometry import Pose
from sim.bins import TABLE, bin_of, build_bins
from sim.camera import TwinCamera
from sim.config import TwinConfig
from sim.gripper import TwinGripper
from sim.objects import ObjectFactory, fill_bin
from sim.robot import ARM, TwinRobot
from sim.timing import SimClock
from sim.world import World

#: Bodies the depth camera never sees (the arm is behind it, the table under the bins), hidden
#: from the renderer so that captures do not pay for drawing them; pictures show them.
_UNSEEN = (ARM, TABLE)


class TwinCell:
    """The simulated cell: an iiwa with a WSG 50 and a flange camera over two bins.

    Args:
        config: the twin's configuration.
        rng: the generator of the camera's noise until the first rebuild; each
            :meth:`prepare` with a generator draws a fresh noise generator from it.

    Attributes:
        robot: the arm (:class:`sim.robot.TwinRobot`).
        gripper: the gripper (:class:`sim.gripper.TwinGripper`).
        camera: the depth camera (:class:`sim.camera.TwinCamera`).
        layout: the bins and photo height.
        config: the twin's configuration.
        world: the simulation (for tests, benchmarks and the device emulators).
    """

    def __init__(self, config: TwinConfig | None = None, rng: np.random.Generator | None = None):
        self.config = config if config is not None else TwinConfig()
        self.layout = self.config.layout
        self.world = World(self.config.physics)
        self._clock = SimClock()
        self._files = tempfile.TemporaryDirectory(prefix="twin-cell-")
        c = self.config
        self.gripper = TwinGripper(
            self.world, c.gripper, c.timing, self._clock, Path(self._files.name) / "wsg50.urdf"
        )
        self.robot = TwinRobot(self.world, self.gripper, c.robot, c.timing, self._clock)
        self.camera = TwinCamera(
            self.world,
            self.robot,
            c.camera_spec,
            c.timing,
            self._clock,
            rng if rng is not None else np.random.default_rng(0),
        )
        self._factory = ObjectFactory(self.world, c.object_set, c.parts)
        self._factory.check_fit(max_opening=c.gripper.stroke, bin_inner=self.layout.bin_inner)
        self._where: dict[str, int | None] = {}
        self._lost = {"objects_lost": 0, "objects_diverged": 0}
        self._stamp: tuple[float, int] | None = None
        self._settled_at: int | None = None
        self._last_report = CellReport()
        self._build(0)
        self.camera.aoi = self._aoi()

    @property
    def objects(self) -> list[str]:
        """Names of the objects in the scene."""
        return self.world.movable()

    def clock(self) -> float:
        """Simulated seconds since the cell was made, by the timing model."""
        return self._clock.now()

    def prepare(self, rng: np.random.Generator | None, grasp_bin: int) -> None:
        """Rebuild the scene from ``rng`` into bin ``grasp_bin``, or keep it when None."""
        if grasp_bin not in (0, 1):
            raise ValueError(f"grasp_bin must be 0 or 1, got {grasp_bin!r}")
        if rng is None:
            self._tidy()
        else:
            self._build(grasp_bin)
            fill_bin(self.world, self._factory, self.layout, grasp_bin, self.config.objects, rng)
            self.camera.rng = np.random.default_rng(int(rng.integers(2**63)))
            self._tidy()
        self._start_attempt()

    def add_object(self, pose: Pose, rng: np.random.Generator | None = None) -> str:
        """Put one object of the configured set at ``pose`` (base frame); return its name.

        For scripted scenes in tests and benchmarks. The object starts at rest; it falls and
        settles when time next runs. ``rng`` picks the shape of the ``train`` and ``novel``
        sets and the entry of a YAML set (a fixed generator when None).
        """
        serial = max((int(n.rsplit("_", 1)[1]) + 1 for n in self.objects), default=0)
        name = self._factory.create(serial, rng if rng is not None else np.random.default_rng(0))
        self.world.set_pose(name, pose)
        self._where[name] = bin_of(self.layout, pose.position)
        self._settled_at = None
        return name

    def remove_objects(self) -> None:
        """Take every object out of the scene."""
        for name in self.objects:
            self.world.remove(name)
        self._where = {}

    def objects_in_bins(self) -> tuple[int, int]:
        """How many objects lie in bin 0 and in bin 1."""
        where = [bin_of(self.layout, self.world.position(n)) for n in self.objects]
        return (where.count(0), where.count(1))

    def report(self) -> CellReport:
        """What happened since the last report or prepare.

        ``grasped`` names an object that moved from one bin into the other (the first by
        name when several did); ``extra`` counts ``objects_lost`` (left both bins, removed)
        and ``objects_diverged`` (non-finite or runaway, removed), and gives
        ``objects_in_bins`` and ``objects_filed``. Calling it again without anything
        happening in between returns the same report.
        """
        if self._stamp == (self._clock.now(), self.world.steps):
            return self._last_report
        self._tidy()
        moved = sorted(
            n
            for n in self.objects
            if self._where.get(n) is not None
            and bin_of(self.layout, self.world.position(n)) not in (None, self._where[n])
        )
        report = CellReport(
            grasped=moved[0] if moved else None,
            extra={
                **self._lost,
                "objects_filed": len(moved),
                "objects_in_bins": self.objects_in_bins(),
            },
        )
        self._start_attempt()
        self._last_report = report
        self._stamp = (self._clock.now(), self.world.steps)
        return report

    def render(self) -> np.ndarray:
        """A picture of the cell from the side, uint8 (H, W, 3)."""
        width, height = self.config.render_size
        c = self.world.client
        centre = np.mean([b.pose.position for b in self.layout.bins], axis=0)
        view = c.computeViewMatrix(
            (centre + np.array([0.95, -1.05, 0.75])).tolist(),
            (centre + np.array([-0.25, 0.0, 0.3])).tolist(),
            [0.0, 0.0, 1.0],
        )
        projection = c.computeProjectionMatrixFOV(55.0, width / height, 0.05, 5.0)
        for name in _UNSEEN:
            self.world.show(name)
        _, _, rgba, _, _ = c.getCameraImage(
            width, height, view, projection, renderer=pybullet.ER_TINY_RENDERER
        )
        for name in _UNSEEN:
            self.world.hide(name)
        return np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[:, :, :3].copy()

    def close(self) -> None:
        """Release the simulation and the generated files; calling it twice is harmless."""
        self.world.close()
        self._files.cleanup()

    def _build(self, grasp_bin: int) -> None:
        """An empty scene: table, bins, gripper and arm, the robot at the photo pose."""
        self.world.reset()
        self._factory.forget_shapes()
        build_bins(self.world, self.layout, self.config.bins)
        self.gripper.build()
        self.robot.build(self._photo_pose(grasp_bin))
        for name in _UNSEEN:
            self.world.hide(name)

    def _photo_pose(self, grasp_bin: int) -> Pose:
        bin_pose = self.layout.bins[grasp_bin].pose
        return bin_pose @ Pose.tool_down(0.0, 0.0, self.layout.photo_height, 0.0)

    def _aoi(self) -> tuple[int, int, int, int]:
        """The camera window that sees the bin (walls plus margin) from the photo pose."""
        layout, spec = self.layout, self.config.bins
        hx, hy = (s / 2.0 + spec.wall_thickness + self.config.aoi_margin for s in layout.bin_inner)
        corners = np.array(
            [[x, y, z] for x in (-hx, hx) for y in (-hy, hy) for z in (0.0, layout.wall_height)]
        )
        camera_in_bin = Pose.tool_down(0.0, 0.0, layout.photo_height, 0.0) @ self.camera.mount
        return self.camera.window_seeing(camera_in_bin.inverse().apply(corners))

    def _start_attempt(self) -> None:
        self._where = {n: bin_of(self.layout, self.world.position(n)) for n in self.objects}
        self._lost = {"objects_lost": 0, "objects_diverged": 0}
        self._stamp = None

    def _tidy(self) -> None:
        """Settle moving parts, remove lost or diverged ones, and put the rest to sleep.

        The settle runs only when the physics ran since the last tidy, so a scene that
        nothing touched is left exactly as it is.
        """
        world = self.world
        self._drop_strays(outside=False)
        if self._settled_at != world.steps:
            world.settle(self.objects)
        if self._drop_strays(outside=True):
            world.wake(self.objects)
            world.settle(self.objects)
        world.freeze_resting(self.objects)
        self._settled_at = world.steps

    def _drop_strays(self, outside: bool) -> bool:
        """Remove diverged parts (and, when ``outside``, parts out of both bins). Any?"""
        world = self.world
        limit = self.config.physics.diverged_speed
        names = self.objects
        removed = False
        for name, (speed, _) in zip(names, world.speeds(names), strict=True):
            position = world.position(name)
            if not np.isfinite(position).all() or not speed < limit:
                self._lost["objects_diverged"] += 1
            elif outside and bin_of(self.layout, position) is None:
                self._lost["objects_lost"] += 1
            else:
                continue
            world.remove(name)
            removed = True
        return removed
