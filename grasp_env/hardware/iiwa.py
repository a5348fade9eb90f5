"""A KUKA LBR iiwa over the KST line protocol, as a :class:`grasp_env.cell.Robot`.

The controller runs KST's ``MatlabToolboxServer`` app (port 30001); this driver is its
client (:mod:`grasp_env.hardware.iiwa_protocol`). Poses in the API are TCP poses in the
base frame, metres and rotation matrices; the driver turns them into flange frames with the
configured tool offset (the server's default motion frame is the flange) and sends mm and
KUKA A-B-C radians, as the server expects.

Every target passes :class:`grasp_env.hardware.workspace.MotionGuard` before a byte is sent.
Every request has a deadline: ``request_timeout`` for acknowledgements and getters, and for a
motion its length over its speed plus ``motion_margin`` (at most ``max_motion_time``).

The guarded approach is the controller-side break condition of hardware.md section 2.3: read
the external joint torques, put a window of +-(contact force x lever) around each watched
joint's torque, send ``doPTP!inCS`` with the windows, and read the pose where it stopped.
``interrupted`` means contact.

Faults: ``nak`` raises :class:`~grasp_env.hardware.faults.DeviceFault`; no reply in time
raises :class:`~grasp_env.hardware.faults.DeviceTimeout` and closes the connection (KST has
no abort command, so a person must check the robot); a dropped connection raises
:class:`~grasp_env.hardware.faults.DeviceDisconnected`. Every fault latches until
:meth:`Iiwa.acknowledge_fault`; reconnecting does not clear it.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from grasp_env.cell import ApproachResult
from grasp_env.errors import ConfigError, UnreachablePose
from grasp_env.geometry import Pose
from grasp_env.hardware import iiwa_protocol as kst
from grasp_env.hardware.driver_base import TcpDriver
from grasp_env.hardware.driver_state import DriverState
from grasp_env.hardware.faults import (
    DeviceFault,
    DeviceProtocolError,
    DeviceTimeout,
    DriverError,
)
from grasp_env.hardware.link import Deadline
from grasp_env.hardware.workspace import MotionGuard, MotionLimits

log = logging.getLogger(__name__)

#: Longest reply line believed, bytes.
MAX_LINE = 4096
#: Rotation speed assumed when sizing a motion's deadline, rad/s.
ROTATION_SPEED = 0.5


@dataclass(frozen=True)
class IiwaConfig:
    """How to reach and drive the arm; SI units.

    Attributes:
        host: the cabinet's KONI/X66 address.
        port: the KST server's port (30001).
        connect_timeout: seconds per connection attempt.
        connect_attempts: connection attempts before giving up (backoff doubles from 0.2 s).
        request_timeout: deadline of an acknowledgement or a getter, seconds.
        motion_margin: added to a motion's nominal duration for its deadline, seconds.
        max_motion_time: the longest deadline any motion gets, seconds.
        tool: the TCP in the flange frame: x, y, z (m) and KUKA A, B, C (rad).
        limits: the guard's workspace box, tilt, speed and force limits.
        ptp_speed: TCP speed of :meth:`Iiwa.move_ptp`, m/s (KST moves LIN to a Cartesian
            target; it has no Cartesian PTP).
        lin_speed: TCP speed of :meth:`Iiwa.move_linear` and relative moves, m/s.
        approach_speed: TCP speed of the guarded approach, m/s.
        joint_velocity: relative joint velocity of :meth:`Iiwa.move_joints`, (0, 1].
        contact_joints: zero-based joints watched during an approach (A2, A4, A6).
        contact_levers: per watched joint, Nm of torque per N of vertical contact force at
            the TCP (calibrate on the cell: the horizontal distance from the joint axis).
        min_torque_window: half width of a torque window is at least this, Nm.
    """

    host: str = "172.31.1.147"
    port: int = 30001
    connect_timeout: float = 2.0
    connect_attempts: int = 1
    request_timeout: float = 1.0
    motion_margin: float = 2.0
    max_motion_time: float = 30.0
    tool: tuple[float, float, float, float, float, float] = (0.0, 0.0, 0.2, 0.0, 0.0, 0.0)
    limits: MotionLimits = field(default_factory=MotionLimits)
    ptp_speed: float = 0.2
    lin_speed: float = 0.1
    approach_speed: float = 0.03
    joint_velocity: float = 0.2
    contact_joints: tuple[int, ...] = (1, 3, 5)
    contact_levers: tuple[float, ...] = (0.5, 0.3, 0.1)
    min_torque_window: float = 1.0

    def __post_init__(self) -> None:
        if len(self.tool) != 6:
            raise ConfigError(f"IiwaConfig.tool needs 6 values (x y z a b c), got {self.tool}")
        if len(self.contact_joints) != len(self.contact_levers) or not self.contact_joints:
            raise ConfigError("IiwaConfig.contact_joints and contact_levers must pair up")
        if any(not 0 <= j <= 6 for j in self.contact_joints):
            raise ConfigError(f"contact_joints must be 0..6, got {self.contact_joints}")
        if any(lever <= 0 for lever in self.contact_levers):
            raise ConfigError(f"contact_levers must be > 0 m, got {self.contact_levers}")
        for name in ("connect_timeout", "request_timeout", "max_motion_time"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"IiwaConfig.{name} must be > 0, got {getattr(self, name)}")
        guard = MotionGuard(self.limits, "IiwaConfig")
        try:
            for name in ("ptp_speed", "lin_speed", "approach_speed"):
                guard.check_speed(getattr(self, name))
            guard.check_joint_velocity(self.joint_velocity)
        except UnreachablePose as exc:
            raise ConfigError(str(exc)) from exc

    @property
    def tool_pose(self) -> Pose:
        """The TCP in the flange frame."""
        x, y, z, a, b, c = self.tool
        return Pose(np.array([x, y, z], dtype=float), kst.rotation_from_abc(a, b, c))


class Iiwa(TcpDriver):
    """A KUKA LBR iiwa behind a KST server.

    The life cycle (``state_name``, ``fault``, ``connected``, ``reconnect()``, ``close()``,
    ``with``) comes from :class:`~grasp_env.hardware.driver_base.TcpDriver`. ``close()``
    sends ``end``, which ends KST's server app, as does a client leaving: an operator must
    restart the app before :meth:`reconnect`.

    Args:
        config: address, tool, guard limits, speeds and deadlines.
    """

    goodbye = (kst.END + "\n").encode("ascii")
    ack_hint = "; call acknowledge_fault() once the robot is checked"

    def __init__(self, config: IiwaConfig | None = None) -> None:
        self.config = config = config or IiwaConfig()
        super().__init__(f"KUKA iiwa (KST) at {config.host}:{config.port}", config, log)
        self.guard = MotionGuard(config.limits, self.device)
        self._tool = config.tool_pose
        self._tool_inv = self._tool.inverse()
        self._buf = bytearray()
        self._io = threading.Lock()

    # --- life cycle ---------------------------------------------------------------------

    def connect(self) -> None:
        """Connect and read the pose (proves the server answers); never moves."""
        self._open_link()
        self.flange_pose()

    def acknowledge_fault(self) -> None:
        """Clear the latched fault, for a person who has checked the robot; reads the pose."""
        self.flange_pose()
        self._acknowledged()

    # --- Robot interface ------------------------------------------------------------------

    def pose(self) -> Pose:
        """The current TCP pose in the base frame."""
        return self.flange_pose() @ self._tool

    def flange_pose(self) -> Pose:
        """The current flange pose in the base frame (for the camera's hand-eye link)."""
        values = self._getter(kst.EEF_POS, 6)
        return kst.frame_to_pose(values)

    def move_ptp(self, target: Pose, speed: float | None = None) -> None:
        """Move the TCP to ``target`` (``doPTPinCS``: a LIN motion; KST has no Cartesian PTP)."""
        self._lin_to(target, self.config.ptp_speed if speed is None else speed, "PTP target")

    def move_linear(self, target: Pose, speed: float | None = None) -> None:
        """Move the TCP along a straight line to ``target``."""
        self._lin_to(target, self.config.lin_speed if speed is None else speed, "LIN target")

    def approach(
        self, target: Pose, contact_force: float, speed: float | None = None
    ) -> ApproachResult:
        """Move linearly towards ``target`` until reached or a contact above ``contact_force``.

        Returns where the TCP stopped and whether the torque condition stopped it.
        """
        speed = self.config.approach_speed if speed is None else speed
        self.guard.check_pose(target, "approach target")
        self.guard.check_speed(speed)
        self.guard.check_contact_force(contact_force)
        self._check_latch("approach")
        torques = self._getter(kst.TORQUES_EXTERNAL, 7)
        windows = []
        for joint, lever in zip(
            self.config.contact_joints, self.config.contact_levers, strict=True
        ):
            half = max(contact_force * lever, self.config.min_torque_window)
            windows.append(kst.TorqueWindow(joint, torques[joint] - half, torques[joint] + half))
        start = self.flange_pose()
        flange = target @ self._tool_inv
        final = self._motion(
            [kst.velocity_line(speed * 1000.0), kst.cartesian_line(kst.pose_to_frame(flange))],
            kst.guarded_line(windows),
            self._duration(start, flange, speed),
            allowed=(kst.DONE, kst.INTERRUPTED),
        )
        return ApproachResult(contact=final == kst.INTERRUPTED, pose=self.pose())

    # --- further motions and getters ----------------------------------------------------------

    def move_relative(self, offset: Sequence[float], speed: float | None = None) -> None:
        """Move the TCP by ``offset`` (dx, dy, dz; m) in the base frame (``doPTPinCSRelBase``).

        The resulting target is guarded like any other, after reading the current pose and
        before any motion command is sent.
        """
        speed = self.config.lin_speed if speed is None else speed
        delta = np.asarray(offset, dtype=float)
        if delta.shape != (3,):
            raise ValueError(f"{self.device}: offset must be (dx, dy, dz), got {offset!r}")
        self.guard.check_speed(speed)
        self._check_latch("relative move")
        current = self.pose()
        target = Pose(current.position + delta, current.rotation)
        self.guard.check_pose(target, "relative target")
        frame = (*(delta * 1000.0), 0.0, 0.0, 0.0)
        seconds = float(np.linalg.norm(delta)) / speed
        self._motion(
            [kst.velocity_line(speed * 1000.0), kst.cartesian_line(frame)],
            kst.DO_LIN_REL_BASE,
            seconds,
        )

    def move_joints(self, joints: Sequence[float], velocity: float | None = None) -> None:
        """PTP in joint space to ``joints`` (rad) at a relative joint velocity in (0, 1]."""
        velocity = self.config.joint_velocity if velocity is None else velocity
        self.guard.check_joints(joints)
        self.guard.check_joint_velocity(velocity)
        self._check_latch("joint move")
        current = np.asarray(self.joints())
        # the slowest iiwa 7 joints turn at 98 deg/s at full speed
        seconds = float(np.abs(np.asarray(joints) - current).max()) / (math.radians(98) * velocity)
        self._motion(
            [kst.velocity_line(velocity), kst.joints_line(joints)], kst.DO_PTP_JOINTS, seconds
        )

    def joints(self) -> tuple[float, ...]:
        """The joint angles, rad."""
        return self._getter(kst.GET_JOINTS, 7)

    def external_torques(self) -> tuple[float, ...]:
        """The estimated external joint torques, Nm."""
        return self._getter(kst.TORQUES_EXTERNAL, 7)

    def measured_torques(self) -> tuple[float, ...]:
        """The measured joint torques, Nm."""
        return self._getter(kst.TORQUES_MEASURED, 7)

    def tcp_force(self) -> tuple[float, ...]:
        """The estimated external force at the TCP, N."""
        return self._getter(kst.EEF_FORCE, 3)

    # --- internals ----------------------------------------------------------------------

    def _lin_to(self, target: Pose, speed: float, what: str) -> None:
        self.guard.check_pose(target, what)
        self.guard.check_speed(speed)
        self._check_latch(what)
        start = self.flange_pose()
        flange = target @ self._tool_inv
        self._motion(
            [kst.velocity_line(speed * 1000.0), kst.cartesian_line(kst.pose_to_frame(flange))],
            kst.DO_LIN,
            self._duration(start, flange, speed),
        )

    def _duration(self, start: Pose, end: Pose, speed: float) -> float:
        distance = float(np.linalg.norm(end.position - start.position))
        turn = start.rotation.T @ end.rotation
        angle = math.acos(float(np.clip((np.trace(turn) - 1.0) / 2.0, -1.0, 1.0)))
        return distance / speed + angle / ROTATION_SPEED

    def _motion(
        self,
        prelude: list[str],
        trigger: str,
        nominal: float,
        allowed: tuple[str, ...] = (kst.DONE,),
    ) -> str:
        """Store the target, trigger the motion, await its ack and its final reply."""
        seconds = min(nominal + self.config.motion_margin, self.config.max_motion_time)
        self.machine.to(DriverState.ACTIVE, trigger)
        with self._io:
            try:
                for line in prelude:
                    self._expect_done(line)
                self._expect_done(trigger)
                final = self._read_reply(trigger, Deadline.after(seconds))
            except DriverError as exc:
                raise self._fail(exc) from None
        if final not in allowed:
            raise self._fail(self._unexpected(trigger, final, allowed))
        self.machine.to(DriverState.IDLE, f"{trigger} -> {final}")
        return final

    def _getter(self, line: str, count: int) -> tuple[float, ...]:
        with self._io:
            try:
                self._send(line, Deadline.after(self.config.request_timeout))
                reply = self._read_reply(line, Deadline.after(self.config.request_timeout))
                if reply == kst.NAK:
                    raise self._nak(line)
                try:
                    return kst.parse_values(reply, count)
                except ValueError as exc:
                    raise DeviceProtocolError(
                        self.device, f"reply to {line}: {exc}", self.recorder.entries()
                    ) from None
            except DriverError as exc:
                raise self._fail(exc) from None

    def _expect_done(self, line: str) -> None:
        deadline = Deadline.after(self.config.request_timeout)
        self._send(line, deadline)
        reply = self._read_reply(line, deadline)
        if reply != kst.DONE:
            raise self._unexpected(line, reply, (kst.DONE,))

    def _unexpected(self, line: str, reply: str, allowed: tuple[str, ...]) -> DriverError:
        if reply == kst.NAK:
            return self._nak(line)
        return DeviceProtocolError(
            self.device,
            f"expected {' or '.join(map(repr, allowed))} in reply to {line!r}, got {reply!r}",
            self.recorder.entries(),
        )

    def _nak(self, line: str) -> DeviceFault:
        return DeviceFault(
            self.device,
            f"the controller answered 'nak' to {line!r}: an exception on the server (e.g. a"
            " safety stop after a collision, or an unreachable target); check the smartPAD",
            self.recorder.entries(),
        )

    def _send(self, line: str, deadline: Deadline) -> None:
        self.recorder.record("->", line)
        self._link.send((line + "\n").encode("ascii"), deadline, repr(line))

    def _read_reply(self, line: str, deadline: Deadline) -> str:
        # bounded: each pass takes at least one byte or the deadline ends it
        for _ in range(MAX_LINE + 1):
            end = self._buf.find(b"\n")
            if end >= 0:
                raw = bytes(self._buf[:end])
                del self._buf[: end + 1]
                try:
                    reply = raw.decode("ascii").strip()
                except UnicodeDecodeError:
                    raise DeviceProtocolError(
                        self.device, f"non-ASCII reply to {line!r}: {raw[:40]!r}"
                    ) from None
                self.recorder.record("<-", reply)
                return reply
            if len(self._buf) > MAX_LINE:
                raise DeviceProtocolError(
                    self.device, f"reply to {line!r} longer than {MAX_LINE} bytes without LF"
                )
            self._buf += self._link.receive(deadline, repr(line))
        raise DeviceProtocolError(self.device, f"no complete reply line to {line!r}")

    def _reset_input(self) -> None:
        self._buf.clear()

    def _fail(self, exc: DriverError) -> DriverError:
        """Latch the fault; after a timeout or a garbled reply also drop the connection."""
        cause = exc.cause
        if isinstance(exc, DeviceTimeout | DeviceProtocolError):
            self._link.close()
            self._buf.clear()
            cause += (
                "; closed the connection (KST has no abort command: check the robot and"
                " use the E-stop if it is still moving)"
            )
        self.machine.latch(cause)
        return type(exc)(self.device, cause, self.recorder.entries())


__all__ = ["Iiwa", "IiwaConfig"]
