"""An Ensenso stereo camera on the flange, through the official ``nxlib`` Python API.

Pipeline per capture (hardware.md sections 3.3-3.5): write the current flange pose (from the
robot) into the global link ``/Links/<link_name>``, then ``Capture``, ``ComputeDisparityMap``
and ``ComputePointMap``, and read ``/Cameras/<serial>/Images/PointMap``: float32 (H, W, 3) in
millimetres, NaN where there is no depth. Because the camera's own ``Link`` (its pose in the
flange frame from the hand-eye calibration, stored in the camera or given in the config)
targets that global link, the point map comes out in the robot's base frame. The driver
returns it as float64 (N, 3) metres with the NaN rows dropped: a
:class:`grasp_env.cell.DepthCamera`.

Transformations in the NxLib tree are ``{"Translation": [x, y, z] mm, "Rotation": {"Angle":
rad, "Axis": [x, y, z]}}``; a link transforms from its own frame into its target's frame.

``nxlib`` is the optional extra ``ensenso`` (and needs the Ensenso SDK installed); without
it, constructing the camera raises :class:`grasp_env.errors.DependencyNotInstalled`. Any
object with the same attributes (``NxLibItem``, ``NxLibCommand``, ``NxLibException``, ``api``)
can stand in for the module, e.g. ``sim.emulators.fake_nxlib.FakeNxLib`` in tests.

Every command has a deadline: it is started without waiting and polled until it finishes;
past the deadline the driver raises :class:`~grasp_env.hardware.faults.DeviceTimeout`. A
failing command raises :class:`~grasp_env.hardware.faults.DeviceFault` with NxLib's error text.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from grasp_env.errors import ConfigError, DependencyNotInstalled
from grasp_env.extras import install_hint
from grasp_env.geometry import Pose
from grasp_env.hardware.driver_base import Driver
from grasp_env.hardware.driver_state import DriverState
from grasp_env.hardware.faults import DeviceFault, DeviceTimeout
from grasp_env.hardware.iiwa_protocol import rotation_from_abc
from grasp_env.hardware.link import Deadline

log = logging.getLogger(__name__)

# NxLib tree and command names (the string values of nxlib.constants)
ITM_CAMERAS = "Cameras"
ITM_IMAGES = "Images"
ITM_POINT_MAP = "PointMap"
ITM_LINK = "Link"
ITM_LINKS = "Links"
ITM_TARGET = "Target"
ITM_TIMEOUT = "Timeout"
ITM_ERROR_SYMBOL = "ErrorSymbol"
ITM_ERROR_TEXT = "ErrorText"
CMD_OPEN = "Open"
CMD_CLOSE = "Close"
CMD_CAPTURE = "Capture"
CMD_COMPUTE_DISPARITY_MAP = "ComputeDisparityMap"
CMD_COMPUTE_POINT_MAP = "ComputePointMap"

INSTALL_HINT = install_hint("ensenso")


def load_nxlib() -> Any:
    """Import the ``nxlib`` package (with ``nxlib.api``), or say which extra to install."""
    try:
        import nxlib
        import nxlib.api
    except ImportError as exc:
        raise DependencyNotInstalled(
            f"the Ensenso camera needs the 'nxlib' package and the Ensenso SDK: {INSTALL_HINT}"
            f" (import failed: {exc})"
        ) from exc
    return nxlib


def axis_angle(rotation: np.ndarray) -> tuple[float, np.ndarray]:
    """A rotation matrix as (angle in [0, pi], unit axis), NxLib's ``Rotation`` node."""
    r = np.asarray(rotation, dtype=float)
    angle = math.acos(float(np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0)))
    if angle < 1e-9:
        return 0.0, np.array([0.0, 0.0, 1.0])
    if math.pi - angle < 1e-6:
        # near pi: the axis is the column of R + I with the largest norm
        m = (r + np.eye(3)) / 2.0
        axis = m[:, int(np.argmax(np.diag(m)))]
        return angle, axis / np.linalg.norm(axis)
    axis = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    return angle, axis / (2.0 * math.sin(angle))


def rotation_from_axis_angle(angle: float, axis: np.ndarray) -> np.ndarray:
    """Rodrigues: the rotation by ``angle`` about ``axis``."""
    a = np.asarray(axis, dtype=float)
    n = np.linalg.norm(a)
    if n < 1e-12 or abs(angle) < 1e-12:
        return np.eye(3)
    x, y, z = a / n
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * (k @ k)


def pose_to_nx(pose: Pose) -> dict:
    """A pose (m) as an NxLib transformation node (mm, axis-angle)."""
    angle, axis = axis_angle(pose.rotation)
    return {
        "Translation": [float(v) * 1000.0 for v in pose.position],
        "Rotation": {"Angle": angle, "Axis": [float(v) for v in axis]},
    }


def pose_from_nx(node: dict) -> Pose:
    """An NxLib transformation node (mm, axis-angle) as a pose in metres."""
    rot = node.get("Rotation", {})
    rotation = rotation_from_axis_angle(rot.get("Angle", 0.0), rot.get("Axis", [0.0, 0.0, 1.0]))
    return Pose(np.asarray(node.get("Translation", [0.0, 0.0, 0.0]), float) / 1000.0, rotation)


@dataclass(frozen=True)
class EnsensoConfig:
    """Which camera, how it is linked to the robot, and its deadlines.

    Attributes:
        serial: the camera's serial number.
        link_name: the global link that holds the flange pose in the base frame.
        hand_eye: the camera in the flange frame (x, y, z m; KUKA A, B, C rad) to write into
            the camera's ``Link``; None keeps the hand-eye calibration stored in the camera.
        open_timeout: deadline of ``Open``, seconds.
        capture_timeout: deadline of ``Capture`` (also passed as its ``Timeout``), seconds.
        compute_timeout: deadline of each of the disparity and point map computations, s.
        min_points: fewer valid points than this is a fault (lens covered, no projector).
    """

    serial: str = ""
    link_name: str = "RobotFlange"
    hand_eye: tuple[float, float, float, float, float, float] | None = None
    open_timeout: float = 10.0
    capture_timeout: float = 2.0
    compute_timeout: float = 5.0
    min_points: int = 100

    def __post_init__(self) -> None:
        if self.hand_eye is not None and len(self.hand_eye) != 6:
            raise ConfigError(f"EnsensoConfig.hand_eye needs 6 values, got {self.hand_eye}")
        for name in ("open_timeout", "capture_timeout", "compute_timeout"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"EnsensoConfig.{name} must be > 0, got {getattr(self, name)}")

    @property
    def hand_eye_pose(self) -> Pose | None:
        """The configured camera pose in the flange frame, if any."""
        if self.hand_eye is None:
            return None
        x, y, z, a, b, c = self.hand_eye
        return Pose(np.array([x, y, z], dtype=float), rotation_from_abc(a, b, c))


class EnsensoCamera(Driver):
    """An Ensenso camera on the robot's flange; :meth:`capture` gives base-frame points.

    The life cycle (``state_name``, ``fault``, ``close()``, ``with``) comes from
    :class:`~grasp_env.hardware.driver_base.Driver`; ``with`` opens the camera.

    Args:
        config: serial, link name, optional hand-eye override, deadlines.
        flange_pose: returns the current flange pose in the base frame (e.g.
            :meth:`grasp_env.hardware.iiwa.Iiwa.flange_pose`); None leaves the global link
            as it is (a fixed camera whose link is set elsewhere).
        nxlib: the ``nxlib`` module or a stand-in; None imports the real one.
    """

    def __init__(
        self,
        config: EnsensoConfig,
        flange_pose: Callable[[], Pose] | None = None,
        nxlib: Any = None,
    ) -> None:
        if not config.serial:
            raise ConfigError("EnsensoConfig.serial must name the camera, got ''")
        self.config = config
        self.flange_pose = flange_pose
        self.nx = nxlib if nxlib is not None else load_nxlib()
        super().__init__(f"Ensenso {config.serial}", log)

    def open(self) -> None:
        """Initialise NxLib, open the camera and point its link at the flange link."""
        self._call("initialize", self.nx.api.initialize)
        self._run(CMD_OPEN, {ITM_CAMERAS: self.config.serial}, self.config.open_timeout)
        camera_link = self.nx.NxLibItem()[ITM_CAMERAS][self.config.serial][ITM_LINK]
        hand_eye = self.config.hand_eye_pose
        if hand_eye is not None:
            node = {**pose_to_nx(hand_eye), ITM_TARGET: self.config.link_name}
            self._call("write hand-eye link", camera_link.set_json, json.dumps(node))
        else:
            self._call(
                "set link target", camera_link.__setitem__, ITM_TARGET, self.config.link_name
            )
        self.machine.to(DriverState.IDLE, "opened")

    def capture(self) -> np.ndarray:
        """Points seen now: float64 (N, 3), metres, base frame, no NaN rows."""
        self._check_latch("capture")
        if self.machine.state is not DriverState.IDLE:
            raise DeviceFault(self.device, "capture before open()", self.recorder.entries())
        if self.flange_pose is not None:
            self.set_flange_pose(self.flange_pose())
        cameras = {ITM_CAMERAS: self.config.serial}
        timeout_ms = int(self.config.capture_timeout * 1000)
        self._run(CMD_CAPTURE, {**cameras, ITM_TIMEOUT: timeout_ms}, self.config.capture_timeout)
        self._run(CMD_COMPUTE_DISPARITY_MAP, cameras, self.config.compute_timeout)
        self._run(CMD_COMPUTE_POINT_MAP, cameras, self.config.compute_timeout)
        item = self.nx.NxLibItem()[ITM_CAMERAS][self.config.serial][ITM_IMAGES][ITM_POINT_MAP]
        point_map = np.asarray(self._call("read the point map", item.get_binary_data))
        if point_map.ndim != 3 or point_map.shape[2] != 3:
            raise self._fault(f"point map of shape {point_map.shape}, expected (H, W, 3)")
        points = point_map.reshape(-1, 3).astype(np.float64)
        points = points[np.isfinite(points).all(axis=1)] / 1000.0
        self.recorder.record("<-", f"point map {point_map.shape}: {len(points)} valid points")
        if len(points) < self.config.min_points:
            raise self._fault(
                f"only {len(points)} valid points, expected at least {self.config.min_points}"
            )
        return points

    def set_flange_pose(self, pose: Pose) -> None:
        """Write the flange pose (base frame) into the global link before a capture."""
        node = self.nx.NxLibItem()[ITM_LINKS][self.config.link_name]
        self._call("write the flange link", node.set_json, json.dumps(pose_to_nx(pose)))

    def acknowledge_fault(self) -> None:
        """Clear a latched fault (after a person checked the camera)."""
        self._acknowledged()

    # --- internals ----------------------------------------------------------------------

    def _start(self) -> None:
        self.open()

    def _shut_down(self) -> None:
        """Close the camera and NxLib; a failure is logged, the driver closes anyway."""
        try:
            if self.machine.state is not DriverState.DISCONNECTED:
                self._run(CMD_CLOSE, {ITM_CAMERAS: self.config.serial}, self.config.open_timeout)
            finalize = getattr(self.nx.api, "finalize", None)
            if finalize is not None:
                self._call("finalize", finalize)
        except DeviceFault as exc:
            log.warning("%s: close: %s", self.device, exc)

    def _call(self, what: str, fn: Callable, *args: Any) -> Any:
        try:
            return fn(*args)
        except self.nx.NxLibException as exc:
            raise self._fault(f"{what}: {self._error_text(exc)}") from exc

    def _run(self, name: str, params: dict, seconds: float) -> None:
        """Execute one NxLib command with a deadline; raise with NxLib's error text."""
        self.recorder.record("->", f"{name} {params}")
        deadline = Deadline.after(seconds)
        try:
            cmd = self.nx.NxLibCommand(name)
            for key, value in params.items():
                cmd.parameters()[key] = value
            cmd.execute(wait=False)
            # bounded: polls every millisecond until the deadline
            for _ in range(int(seconds * 1000) + 2):
                if cmd.finished():
                    break
                if deadline.expired:
                    break
                time.sleep(0.001)
            if not cmd.finished():
                self.machine.latch(f"{name} did not finish within {seconds:g} s")
                raise DeviceTimeout(
                    self.device,
                    f"{name} did not finish within {seconds:g} s",
                    self.recorder.entries(),
                )
            if not cmd.successful():
                result = cmd.result()
                symbol = result[ITM_ERROR_SYMBOL].as_string()
                text = result[ITM_ERROR_TEXT].as_string() if result[ITM_ERROR_TEXT].exists() else ""
                raise self._fault(f"{name} failed: {symbol}: {text}")
        except self.nx.NxLibException as exc:
            raise self._fault(f"{name}: {self._error_text(exc)}") from exc
        self.recorder.record("<-", f"{name} done")

    @staticmethod
    def _error_text(exc: Exception) -> str:
        getter = getattr(exc, "get_error_text", None)
        try:
            return str(getter()) if getter is not None else str(exc)
        except Exception:  # the real get_error_text can itself fail without the SDK
            return str(exc)

    def _fault(self, cause: str) -> DeviceFault:
        self.machine.latch(cause)
        return DeviceFault(self.device, cause, self.recorder.entries())


__all__ = [
    "EnsensoCamera",
    "EnsensoConfig",
    "axis_angle",
    "load_nxlib",
    "pose_from_nx",
    "pose_to_nx",
    "rotation_from_axis_angle",
]
