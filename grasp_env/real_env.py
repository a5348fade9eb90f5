"""The real cell: KUKA iiwa (KST), WSG 50 and flange Ensenso behind the Cell contract.

:class:`RealCell` composes the three drivers of :mod:`grasp_env.hardware` into a
:class:`grasp_env.cell.Cell`, and :class:`RealBinGraspEnv` is
:class:`grasp_env.env.BinGraspEnv` over it, built from a typed :class:`RealCellConfig`.
No file is read here: the YAML (``configs/cell_real.yaml``; ``configs/cell_emulated.yaml``
for the loopback emulators) is read at the edge by
:func:`grasp_env.factory.load_cell_config`, and ``gymnasium.make("RealBinGrasp-v0",
cell_config=PATH)`` goes through it.

Faults: the first :class:`grasp_env.errors.DeviceError` any device raises *halts* the cell:
the gripper is told to STOP (best effort; the arm's KST server has no abort, and its
motions are synchronous, so none is left running), the error propagates unchanged (it names
the device and the cause), and from then on every device call raises
:class:`grasp_env.hardware.faults.FaultLatched` naming the first fault. Nothing moves again,
reconnect or not, until a person calls :meth:`RealCell.recover` and then ``env.reset()``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grasp_env.cell import ApproachResult, CellReport, GripperState
from grasp_env.config import CellLayout, EnvConfig
from grasp_env.env import BinGraspEnv
from grasp_env.errors import ConfigError, DeviceError
from grasp_env.geometry import Pose
from grasp_env.hardware.driver_state import DriverState
from grasp_env.hardware.ensenso import EnsensoCamera, EnsensoConfig
from grasp_env.hardware.faults import FaultLatched
from grasp_env.hardware.iiwa import Iiwa, IiwaConfig
from grasp_env.hardware.wsg50 import WSG50, WSG50Config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RealCellConfig:
    """Everything about one real cell (what its YAML file holds); SI units.

    Attributes:
        layout: where the bins stand in the robot's base frame, photo height.
        robot: the arm's address, tool, workspace guard, speeds and deadlines.
        gripper: the gripper's address, speeds and deadlines.
        camera: the camera's serial, hand-eye link and deadlines.
        env: the environment's own config (image, grid, primitive forces and distances).
    """

    layout: CellLayout = CellLayout()
    robot: IiwaConfig = field(default_factory=IiwaConfig)
    gripper: WSG50Config = WSG50Config()
    camera: EnsensoConfig = EnsensoConfig()
    env: EnvConfig = EnvConfig()


def with_addresses(
    config: RealCellConfig,
    robot: tuple[str, int] | None = None,
    gripper: tuple[str, int] | None = None,
) -> RealCellConfig:
    """``config`` with the arm's and/or the gripper's (host, port) replaced (emulators)."""
    if robot is not None:
        config = dataclasses.replace(
            config, robot=dataclasses.replace(config.robot, host=robot[0], port=robot[1])
        )
    if gripper is not None:
        config = dataclasses.replace(
            config, gripper=dataclasses.replace(config.gripper, host=gripper[0], port=gripper[1])
        )
    return config


class _Guarded:
    """Routes a driver's calls through the cell, which halts on the first device error."""

    def __init__(self, cell: RealCell, driver: Any) -> None:
        self._cell = cell
        self.driver = driver

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self._cell.check_running()
        try:
            return getattr(self.driver, name)(*args, **kwargs)
        except DeviceError as exc:
            self._cell.halt(exc)
            raise


class GuardedRobot(_Guarded):
    """The arm as the cell exposes it (:class:`grasp_env.cell.Robot`)."""

    def pose(self) -> Pose:
        """The current TCP pose in the base frame."""
        return self._call("pose")

    def move_ptp(self, target: Pose) -> None:
        """Move to ``target`` (guarded before anything is sent)."""
        self._call("move_ptp", target)

    def move_linear(self, target: Pose) -> None:
        """Move the TCP along a straight line to ``target``."""
        self._call("move_linear", target)

    def approach(self, target: Pose, contact_force: float) -> ApproachResult:
        """Move towards ``target`` until reached or a contact above ``contact_force`` N."""
        return self._call("approach", target, contact_force)


class GuardedGripper(_Guarded):
    """The gripper as the cell exposes it (:class:`grasp_env.cell.Gripper`)."""

    def move(self, width: float) -> None:
        """Pre-position the fingers to ``width`` m."""
        self._call("move", width)

    def grasp(self, force: float) -> GripperState:
        """Close with at most ``force`` N; report the outcome."""
        return self._call("grasp", force)

    def release(self, width: float) -> None:
        """Open to ``width`` m."""
        self._call("release", width)

    def state(self) -> GripperState:
        """The opening and whether a part is held."""
        return self._call("state")


class GuardedCamera(_Guarded):
    """The camera as the cell exposes it (:class:`grasp_env.cell.DepthCamera`)."""

    def capture(self) -> np.ndarray:
        """Base-frame points, metres, (N, 3)."""
        points = self._call("capture")
        self._cell.last_points = points
        return points


class RealCell:
    """The physical cell: connects the three devices (fails fast, naming the one that failed).

    Args:
        config: addresses, layout, guard limits, deadlines (see :class:`RealCellConfig`).
        nxlib: the ``nxlib`` module or a stand-in (e.g. the fake of ``sim.emulators``);
            None imports the real one.
        clock: the cell's time source, seconds (wall time).
        scene: who sets the bins up and watches them, an object with
            ``prepare(rng, grasp_bin)`` and ``report()``: the twin's cell when the devices
            are emulated; None on the real cell, whose bins are filled by hand.

    Attributes:
        robot, gripper, camera: the devices, wrapped so that a fault halts the cell.
        layout: the bins' placement.
        halted: the first fault's message, or None while running.
    """

    def __init__(
        self,
        config: RealCellConfig,
        nxlib: Any = None,
        clock: Callable[[], float] = time.monotonic,
        scene: Any = None,
    ) -> None:
        self.config = config
        self.layout = config.layout
        self.scene = scene
        self._clock = clock
        self.halted: str | None = None
        self._fault_device = ""
        self.last_points: np.ndarray | None = None
        self.iiwa = Iiwa(config.robot)
        self.wsg = WSG50(config.gripper)
        self.ensenso = EnsensoCamera(config.camera, self.iiwa.flange_pose, nxlib)
        opened: list[Any] = []
        try:
            for device, start in (
                (self.iiwa, self.iiwa.connect),
                (self.wsg, self.wsg.connect),
                (self.ensenso, self.ensenso.open),
            ):
                start()
                opened.append(device)
        except BaseException:
            for device in reversed(opened):
                device.close()
            raise
        faults = [d.fault for d in (self.iiwa, self.wsg, self.ensenso) if d.fault]
        if faults:
            self.halted = "; ".join(faults)
            self._fault_device = "cell"
        self.robot = GuardedRobot(self, self.iiwa)
        self.gripper = GuardedGripper(self, self.wsg)
        self.camera = GuardedCamera(self, self.ensenso)

    # --- Cell interface -------------------------------------------------------------------

    def clock(self) -> float:
        """Seconds on the cell's clock (monotonic wall time unless another was given)."""
        return float(self._clock())

    def prepare(self, rng: np.random.Generator | None, grasp_bin: int) -> None:
        """Refuse while halted; else let the scene (if any) set up the bins.

        On the real cell there is nothing to build: the bins are filled by hand.
        """
        if grasp_bin not in (0, 1):
            raise ValueError(f"grasp_bin must be 0 or 1, got {grasp_bin!r}")
        self.check_running()
        if self.scene is not None:
            self.scene.prepare(rng, grasp_bin)

    def render(self) -> np.ndarray:
        """A top view of the last point cloud, heights as grey levels, uint8 (240, 320, 3)."""
        image = np.zeros((240, 320, 3), dtype=np.uint8)
        points = self.last_points
        if points is None or len(points) == 0:
            return image
        lo, hi = points.min(axis=0), points.max(axis=0)
        span = np.maximum(hi - lo, 1e-6)
        cols = ((points[:, 0] - lo[0]) / span[0] * 319).astype(int)
        rows = (239 - (points[:, 1] - lo[1]) / span[1] * 239).astype(int)
        grey = ((points[:, 2] - lo[2]) / span[2] * 255).astype(np.uint8)
        image[rows, cols] = grey[:, None]
        return image

    def report(self) -> CellReport:
        """The scene's report if there is one; a real cell cannot tell what was filed."""
        return self.scene.report() if self.scene is not None else CellReport()

    def close(self) -> None:
        """Close every device; calling it twice is harmless."""
        for device in (self.ensenso, self.wsg, self.iiwa):
            try:
                device.close()
            except DeviceError as exc:
                log.warning("closing %s: %s", device.device, exc)

    # --- faults -------------------------------------------------------------------------

    def check_running(self) -> None:
        """Raise :class:`FaultLatched` naming the first fault while the cell is halted."""
        if self.halted is not None:
            raise FaultLatched(
                self._fault_device,
                f"the cell is halted since: {self.halted}; after checking the cell call"
                " RealCell.recover(), then env.reset()",
            )

    def halt(self, error: DeviceError) -> None:
        """Stop motion after ``error`` and refuse further motion until :meth:`recover`."""
        if self.halted is None:
            self.halted = str(error)
            self._fault_device = error.device
            log.error("cell halted: %s", error)
        if self.wsg.state_name not in (DriverState.CLOSED, DriverState.DISCONNECTED):
            self.wsg.stop()

    def recover(self) -> None:
        """For a person who has checked the cell: reconnect, acknowledge faults, run again.

        Never moves anything; the next ``env.reset()`` does.
        """
        for device in (self.iiwa, self.wsg):
            if device.fault is not None or not device.connected:
                device.reconnect()
        for driver in (self.iiwa, self.wsg, self.ensenso):
            if driver.fault is not None:
                driver.acknowledge_fault()
        self.halted = None
        self._fault_device = ""


class RealBinGraspEnv(BinGraspEnv):
    """:class:`grasp_env.env.BinGraspEnv` on the real cell (``RealBinGrasp-v0``).

    Everything about the contract is in the base class's docstring. ``reset(seed=...)``
    seeds the environment's generator; it cannot rebuild the bins, which stay as they are.
    ``info`` never names the grasped object (the real cell cannot tell).

    Arguments:
        cell_config: the cell's :class:`RealCellConfig`. To start from a YAML file, read it
            with :func:`grasp_env.factory.load_cell_config`, or make the environment with
            ``gymnasium.make("RealBinGrasp-v0", cell_config=PATH)`` (a path, a packaged name
            such as "cell_emulated.yaml", or None for ``configs/cell_real.yaml``).
        config: an :class:`grasp_env.config.EnvConfig` that replaces the cell config's
            ``env`` section (as ``SimBinGraspEnv(config=...)`` does; ``grasp evaluate`` uses it
            for application mode without bin swaps).
        render_mode: None or "rgb_array" (a top view of the last point cloud).
        nxlib: the ``nxlib`` module or a stand-in (the emulated cell passes the fake).
        clock: the cell's time source, seconds (wall time; tests pass a stepping clock).
        scene: see :class:`RealCell` (the twin's cell when the devices are emulated).

    A device fault raises out of ``reset``/``step`` naming the device and the cause, and
    halts the cell until ``env.cell.recover()`` (see :mod:`grasp_env.real_env`).

    Version History:
        * v0: first version.
    """

    def __init__(
        self,
        cell_config: RealCellConfig,
        config: EnvConfig | None = None,
        render_mode: str | None = None,
        nxlib: Any = None,
        clock: Callable[[], float] = time.monotonic,
        scene: Any = None,
    ) -> None:
        if not isinstance(cell_config, RealCellConfig):
            raise ConfigError(
                f"RealBinGraspEnv expected a RealCellConfig, got {cell_config!r}; read a YAML"
                " file with grasp_env.factory.load_cell_config(PATH), or use"
                " gymnasium.make('RealBinGrasp-v0', cell_config=PATH)"
            )
        cell = RealCell(cell_config, nxlib=nxlib, clock=clock, scene=scene)
        env_config = config if config is not None else cell_config.env
        try:
            super().__init__(cell, env_config, render_mode=render_mode)
        except BaseException:
            cell.close()
            raise
        self.cell_config = cell_config


__all__ = [
    "GuardedCamera",
    "GuardedGripper",
    "GuardedRobot",
    "RealBinGraspEnv",
    "RealCell",
    "RealCellConfig",
    "with_addresses",
]
