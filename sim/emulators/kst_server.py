"""The KST ``MatlabToolboxServer`` of a KUKA iiwa on loopback, with a Robot backend moving.

It speaks the line protocol of :mod:`grasp_env.hardware.iiwa_protocol` as the Java server
does (hardware.md section 2.2): setters answer ``done``; motion triggers answer ``done`` at
once and ``done`` (or ``interrupted``) when the motion ends; getters answer ``v1_..._vn_``;
an exception answers ``nak``; unknown lines get no answer; ``end`` closes the connection.

Motions are carried out by ``backend``, any :class:`grasp_env.cell.Robot` working in TCP
poses: the twin's robot, or a kinematic fake. The emulator is the controller: it keeps the
flange, so it needs the physical tool (``tool``, the backend's TCP in the flange frame) to
turn the wire's flange frames (or ``TFtrans`` frames) into the backend's TCP poses.

A guarded motion (``doPTP!inCS``) is given to ``backend.approach`` with the contact force at
which the first torque window would break, under a linear model: external torque on joint j
= ``torque_bias[j] + levers[j] * F`` for a contact force F. A window that already excludes the
bias breaks at once (``interrupted`` without moving), as on the real controller.

Faults: :meth:`KSTEmulator.silence` (no reply, or a motion that never ends),
:meth:`~KSTEmulator.drop_connection`, :meth:`~KSTEmulator.collide_next_motion` (the motion
stops with ``nak``), :meth:`~KSTEmulator.garble_reply`. A backend that raises also gives
``nak``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from grasp_env.cell import Robot
from grasp_env.geometry import Pose
from grasp_env.hardware import iiwa_protocol as kst
from sim.emulators.loopback import LoopbackServer

log = logging.getLogger(__name__)

#: The server's tolerance for "target reached", mm (``PTPmotionClass.java``).
REACHED_TOLERANCE_MM = 0.2

#: A command handler: (the request line, whether its motion is to hang) -> None.
_Handler = Callable[[str, bool], None]


class KSTEmulator(LoopbackServer):
    """A KST server on loopback (listening, serving and stopping: :class:`LoopbackServer`).

    Args:
        backend: the arm that carries out motions, in TCP poses.
        tool: the backend's TCP in the flange frame (the physical tool).
        host: address to listen on.
        port: TCP port; 0 picks a free one (see :attr:`address`).
        torque_bias: the external joint torques reported at rest, Nm.
        levers: Nm per N of contact force for each joint (7 values).
        backend_lock: held around every backend call.
    """

    def __init__(
        self,
        backend: Robot,
        tool: Pose | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        torque_bias: Sequence[float] = (0.0, 2.0, 0.0, -1.5, 0.0, 0.3, 0.0),
        levers: Sequence[float] = (0.0, 0.5, 0.0, 0.3, 0.0, 0.1, 0.0),
        backend_lock: threading.Lock | None = None,
    ) -> None:
        self.backend = backend
        self.tool = tool or Pose.identity()
        self.torque_bias = tuple(float(t) for t in torque_bias)
        self.levers = tuple(float(v) for v in levers)
        super().__init__(host, port, "kst-emulator", threading.Lock())
        self._backend_lock = backend_lock or threading.Lock()
        # server state (MatlabToolboxServer's static fields)
        self.motion_frame = Pose.identity()  # TFtrans: motion frame in the flange
        self.rel_velocity = 0.0
        self.joint_target: tuple[float, ...] = (0.0,) * 7
        self.cartesian_target: tuple[float, ...] = (0.0,) * 6
        self._handlers = self._command_table()
        # observation and fault injection
        self.received: list[str] = []
        self.contact_forces: list[float] = []
        self._silence: dict[str, str] = {}
        self._drop: set[str] = set()
        self._garble: set[str] = set()
        self._collide = False

    # --- fault injection ----------------------------------------------------------------

    def silence(self, prefix: str = "", phase: str = "all") -> None:
        """Don't answer the next line starting with ``prefix`` ("" = any line).

        ``phase="all"``: no reply and nothing done. ``phase="final"``: a motion is
        acknowledged, then never ends (until the emulator stops).
        """
        if phase not in ("all", "final"):
            raise ValueError(f"phase must be 'all' or 'final', got {phase!r}")
        with self._lock:
            self._silence[prefix] = phase

    def drop_connection(self, prefix: str = "") -> None:
        """Close the connection, unanswered, on the next line starting with ``prefix``."""
        with self._lock:
            self._drop.add(prefix)

    def garble_reply(self, prefix: str = "") -> None:
        """Answer the next line starting with ``prefix`` with a line no client expects."""
        with self._lock:
            self._garble.add(prefix)

    def collide_next_motion(self) -> None:
        """The next unguarded motion hits something: it stops, and the server says ``nak``."""
        with self._lock:
            self._collide = True

    def _take(self, table: dict[str, str] | set[str], line: str) -> str | bool:
        with self._lock:
            for prefix in sorted(table, key=len, reverse=True):
                if line.startswith(prefix):
                    if isinstance(table, dict):
                        return table.pop(prefix)
                    table.discard(prefix)
                    return True
        return False

    # --- serving ------------------------------------------------------------------------

    def _consume(self, buf: bytearray, conn: socket.socket) -> None:
        """Answer each complete line in ``buf``; stop when one closed the connection."""
        for _ in range(buf.count(b"\n")):
            end = buf.find(b"\n")
            line = buf[:end].decode("ascii", "replace").strip()
            del buf[: end + 1]
            self._dispatch(line)
            if self._conn is not conn:
                return

    def _send(self, line: str, request: str) -> None:
        if self._take(self._garble, request):
            line = "#?garbled?#"
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.sendall((line + "\n").encode("ascii"))

    # --- commands -----------------------------------------------------------------------

    def _dispatch(self, line: str) -> None:
        self.received.append(line)
        if self._take(self._drop, line):
            self._close_conn()
            return
        phase = self._take(self._silence, line)
        if phase == "all":
            return
        try:
            self._command(line, stuck=phase == "final")
        except Exception as exc:  # the Java server answers any exception with nak
            log.warning("KST emulator: %r failed: %s", line, exc)
            self._send(kst.NAK, line)

    def _command(self, line: str, stuck: bool) -> None:
        for prefix, handle in self._handlers:
            if line.startswith(prefix):
                handle(line, stuck)
                return
        log.info("KST emulator: unrecognised line %r (no reply, like the server)", line)

    def _command_table(self) -> tuple[tuple[str, _Handler], ...]:
        """The server's commands as (line prefix, handler), first match wins (order matters)."""
        return (
            (kst.END, lambda line, stuck: self._close_conn()),
            ("TFtrans", self._set_motion_frame),
            ("jRelVel", self._set_rel_velocity),
            ("jp_", self._set_joint_target),
            ("cArtixanPositionCirc", lambda line, stuck: self._send(kst.DONE, line)),
            ("cArtixanPosition", self._set_cartesian_target),
            ("doPTP!inCS", self._guarded_motion),
            ("doPTP!", self._motion(self._joint_motion)),
            ("doPTPinJS", self._motion(self._joint_motion)),
            (kst.DO_LIN_REL_BASE, self._motion(lambda: self._relative(tool_frame=False))),
            (kst.DO_LIN_REL_TOOL, self._motion(lambda: self._relative(tool_frame=True))),
            ("doPTPinCSCircle1", self._motion(lambda: kst.NAK)),
            (kst.DO_LIN, self._motion(self._lin)),
            (kst.EEF_POS, self._send_pose),
            (kst.EEF_FORCE, self._send_zero_vector),
            (kst.EEF_MOMENT, self._send_zero_vector),
            ("Torques_", lambda line, stuck: self._send(kst.format_values(self.torque_bias), line)),
            (kst.GET_JOINTS, self._send_joints),
        )

    # setters answer done

    def _set_motion_frame(self, line: str, stuck: bool) -> None:
        self.motion_frame = kst.frame_to_pose(kst.parse_values(line.split("_", 1)[1], 6))
        self._send(kst.DONE, line)

    def _set_rel_velocity(self, line: str, stuck: bool) -> None:
        self.rel_velocity = kst.parse_values(line.split("_", 1)[1], 1)[0]
        self._send(kst.DONE, line)

    def _set_joint_target(self, line: str, stuck: bool) -> None:
        self.joint_target = kst.parse_values(line.split("_", 1)[1], 7)
        self._send(kst.DONE, line)

    def _set_cartesian_target(self, line: str, stuck: bool) -> None:
        self.cartesian_target = kst.parse_values(line.split("_", 1)[1], 6)
        self._send(kst.DONE, line)

    # motion triggers answer done at once, then done / interrupted / nak when it ends

    def _motion(self, motion: Callable[[], str]) -> _Handler:
        def trigger(line: str, stuck: bool) -> None:
            self._send(kst.DONE, line)
            self._finish(line, stuck, motion)

        return trigger

    def _guarded_motion(self, line: str, stuck: bool) -> None:
        windows = kst.parse_guarded(line)
        self._motion(lambda: self._guarded(windows))(line, stuck)

    # getters answer v1_..._vn_

    def _send_pose(self, line: str, stuck: bool) -> None:
        self._send(kst.format_values(kst.pose_to_frame(self._wire_pose())), line)

    def _send_zero_vector(self, line: str, stuck: bool) -> None:
        self._send(kst.format_values((0.0, 0.0, 0.0)), line)

    def _send_joints(self, line: str, stuck: bool) -> None:
        if getattr(type(self.backend), "joints", None) is None:  # a Robot need not have joints
            self._send(kst.NAK, line)
            return
        with self._backend_lock:
            value: Any = getattr(self.backend, "joints", None)  # a property or a method
            value = value() if callable(value) else value
        self._send(kst.format_values(tuple(value)), line)

    def _finish(self, line: str, stuck: bool, motion: Callable[[], str]) -> None:
        """Run a motion and send its final reply; a backend exception becomes ``nak``."""
        if stuck:
            self._stopping.wait(60.0)
            return
        try:
            with self._backend_lock:
                final = motion()
        except Exception as exc:  # the controller stops and reports an exception
            log.warning("KST emulator: motion %r failed: %s", line, exc)
            final = kst.NAK
        self._send(final, line)

    def _take_collision(self) -> bool:
        with self._lock:
            hit, self._collide = self._collide, False
        return hit

    # --- frames -------------------------------------------------------------------------

    def _wire_pose(self) -> Pose:
        """The motion frame's pose in the base frame, from the backend's TCP."""
        with self._backend_lock:
            tcp = self.backend.pose()
        return tcp @ self.tool.inverse() @ self.motion_frame

    def _tcp_target(self, wire: Pose) -> Pose:
        return wire @ self.motion_frame.inverse() @ self.tool

    def _lin(self) -> str:
        if self._take_collision():
            return kst.NAK
        self.backend.move_linear(self._tcp_target(kst.frame_to_pose(self.cartesian_target)))
        return kst.DONE

    def _relative(self, tool_frame: bool) -> str:
        if self._take_collision():
            return kst.NAK
        delta = np.array(self.cartesian_target[:3], dtype=float) / 1000.0
        tcp = self.backend.pose()
        wire = tcp @ self.tool.inverse() @ self.motion_frame
        if tool_frame:
            target = wire @ Pose(delta, np.eye(3))
        else:
            target = Pose(wire.position + delta, wire.rotation)
        self.backend.move_linear(self._tcp_target(target))
        return kst.DONE

    def _joint_motion(self) -> str:
        if self._take_collision():
            return kst.NAK
        move_joints = getattr(self.backend, "move_joints", None)
        if move_joints is None:
            return kst.NAK
        move_joints(self.joint_target)
        return kst.DONE

    def _guarded(self, windows: list[kst.TorqueWindow]) -> str:
        force = np.inf
        for w in windows:
            bias = self.torque_bias[w.joint]
            if not w.low <= bias <= w.high:
                return kst.INTERRUPTED  # the condition holds already: breaks at once
            lever = self.levers[w.joint]
            if lever > 0:
                force = min(force, (w.high - bias) / lever, (bias - w.low) / lever)
        self.contact_forces.append(float(force))
        wire_target = kst.frame_to_pose(self.cartesian_target)
        result = self.backend.approach(self._tcp_target(wire_target), float(force))
        reached = result.pose @ self.tool.inverse() @ self.motion_frame
        miss_mm = float(np.linalg.norm(reached.position - wire_target.position)) * 1000.0
        if result.contact or miss_mm > REACHED_TOLERANCE_MM:
            return kst.INTERRUPTED
        return kst.DONE


__all__ = ["KSTEmulator"]
