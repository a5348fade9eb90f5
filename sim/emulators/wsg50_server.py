"""A WSG 50 on loopback: the binary TCP protocol, with a Gripper backend doing the motions.

The emulator answers every command of :class:`grasp_env.hardware.wsg50_protocol.Command` as
the reference describes the gripper (hardware.md sections 1.4-1.8): two-phase replies for
homing, move, grasp and release (E_CMD_PENDING at once, the final status when the motion
ends), E_ALREADY_RUNNING for overlapping motions, STOP turning the running motion's final
reply into E_CMD_ABORTED, FAST STOP locking motion until ACKNOWLEDGE FAULT ``"ack"``, a grasp
that holds when the backend reports a part (else NO PART FOUND with E_CMD_FAILED), automatic
update streams for the state queries, E_CHECKSUM_ERROR for a request with a bad CRC (when CRC
checking is on), and an optional fast stop when the client disconnects.

Motions are carried out by ``backend``, any :class:`grasp_env.cell.Gripper` (SI units): the
twin's gripper, or a kinematic fake in tests. Backend calls run on the motion thread, under
``backend_lock`` when one is given (share one lock between emulators driving one twin).

Faults are injected with :meth:`WSG50Emulator.silence`, :meth:`~WSG50Emulator.drop_connection`,
:meth:`~WSG50Emulator.corrupt_reply`, :meth:`~WSG50Emulator.block_next_motion`,
:meth:`~WSG50Emulator.press_fast_stop` and :meth:`~WSG50Emulator.lose_part`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from collections.abc import Callable, Iterable

from grasp_env.cell import Gripper
from grasp_env.hardware.wsg50_protocol import (
    ACK_PAYLOAD,
    CRC_SIZE,
    HEADER_SIZE,
    MOTION_COMMANDS,
    PREAMBLE,
    RELEASE_STATES,
    Command,
    GraspingState,
    Packet,
    Status,
    SystemFlag,
    SystemLimits,
    crc16,
    encode_response,
)
from sim.emulators.loopback import LoopbackServer

log = logging.getLogger(__name__)

#: Width error (mm) beyond which a finished move counts as blocked.
BLOCK_TOLERANCE_MM = 0.5
#: Queries that can be switched to automatic updates.
STREAMABLE = (
    Command.GET_SYSTEM_STATE,
    Command.GET_GRASPING_STATE,
    Command.GET_WIDTH,
    Command.GET_SPEED,
    Command.GET_FORCE,
)
ANY = -1


class WSG50Emulator(LoopbackServer):
    """A WSG 50 command server on loopback (listening, serving, stopping: :class:`LoopbackServer`).

    Args:
        backend: the gripper that carries out motions (SI units).
        host: address to listen on.
        port: TCP port; 0 picks a free one (see :attr:`address`).
        limits: the system limits the emulator reports and enforces (wire units).
        motion_delay: seconds between E_CMD_PENDING and the motion's start; STOP and FAST
            STOP can interrupt it.
        check_crc: reply E_CHECKSUM_ERROR to a request with a bad CRC (else accept it).
        fast_stop_on_disconnect: fast-stop when the client's connection drops.
        referenced: start homed; otherwise motions answer E_NOT_INITIALIZED until HOMING.
        part_tolerance_mm: when set, a grasp holds only if the width where the fingers stop
            is within this of the nominal part width sent; else the backend decides alone.
        backend_lock: held around every backend call.
        serial: the serial number GET SYSTEM INFO reports.
    """

    def __init__(
        self,
        backend: Gripper,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: SystemLimits | None = None,
        motion_delay: float = 0.0,
        check_crc: bool = True,
        fast_stop_on_disconnect: bool = False,
        referenced: bool = True,
        part_tolerance_mm: float | None = None,
        backend_lock: threading.Lock | None = None,
        serial: int = 50001,
    ) -> None:
        self.backend = backend
        self.limits = limits = limits or SystemLimits()
        self.motion_delay = motion_delay
        self.check_crc = check_crc
        self.fast_stop_on_disconnect = fast_stop_on_disconnect
        self.part_tolerance_mm = part_tolerance_mm
        self.serial = serial
        # re-entrant: _motion_request holds it while it calls _reply, which takes it again
        super().__init__(host, port, "wsg50-emulator", threading.RLock())
        self._backend_lock = backend_lock or threading.Lock()
        self._send_lock = threading.Lock()
        self._abort = threading.Event()
        self._motion: threading.Thread | None = None
        self._motion_command: int | None = None
        self._streams: dict[int, threading.Event] = {}
        # gripper state
        self.flags = SystemFlag(0)
        if referenced:
            self.flags |= SystemFlag.REFERENCED
        self.grasping = GraspingState.IDLE
        self.force_limit = limits.nominal_force
        self.acceleration = 1000.0
        self.speed = 0.0
        # observation and fault injection
        self.received: list[Packet] = []
        self._silence: dict[int, str] = {}
        self._drop: set[int] = set()
        self._corrupt: dict[int, int] = {}
        self._block_next = False

    # --- life cycle ---------------------------------------------------------------------

    def _release_waits(self) -> None:
        """End a running (or stuck) motion and every update stream."""
        self._abort.set()
        for ev in self._streams.values():
            ev.set()

    def _threads(self) -> Iterable[threading.Thread | None]:
        """The serving thread and the motion thread."""
        return (self._thread, self._motion)

    # --- fault injection ----------------------------------------------------------------

    def silence(self, command: int = ANY, phase: str = "all") -> None:
        """Don't answer the next request with ID ``command`` (any ID by default).

        ``phase="all"``: no reply at all and nothing done. ``phase="final"``: a motion sends
        E_CMD_PENDING, then hangs (stuck fingers) until STOP or FAST STOP.
        """
        if phase not in ("all", "final"):
            raise ValueError(f"phase must be 'all' or 'final', got {phase!r}")
        with self._lock:
            self._silence[int(command)] = phase

    def drop_connection(self, command: int = ANY) -> None:
        """Close the connection, unanswered, on the next request with ID ``command``."""
        with self._lock:
            self._drop.add(int(command))

    def corrupt_reply(self, command: int = ANY, skip: int = 0) -> None:
        """Send the next reply to ``command`` with a wrong CRC (after ``skip`` good replies)."""
        with self._lock:
            self._corrupt[int(command)] = skip

    def block_next_motion(self) -> None:
        """Make the next move or release end with E_AXIS_BLOCKED (fingers hit something)."""
        with self._lock:
            self._block_next = True

    def press_fast_stop(self) -> None:
        """A fast stop from outside (E-stop chain): motion stops and stays locked until ack."""
        with self._lock:
            self.flags |= SystemFlag.FAST_STOP
            self._abort.set()

    def lose_part(self) -> None:
        """The held part slips out: grasping state HOLDING becomes PART_LOST."""
        with self._lock:
            if self.grasping == GraspingState.HOLDING:
                self.grasping = GraspingState.PART_LOST

    def _take(self, table: dict[int, str] | set[int], command: int) -> bool | str:
        with self._lock:
            for key in (command, ANY):
                if key in table:
                    if isinstance(table, dict):
                        return table.pop(key)
                    table.discard(key)
                    return True
        return False

    # --- serving ------------------------------------------------------------------------

    def _consume(self, buf: bytearray, conn: socket.socket) -> None:
        """Answer each complete request in ``buf``; stop when one closed the connection."""
        for packet, crc_ok in self._frames(buf):
            try:
                self._dispatch(packet, crc_ok)
            except Exception as exc:  # keep serving: the gripper reports a failure
                log.warning("WSG 50 emulator: 0x%02X failed: %s", packet.command, exc)
                self._reply(packet.command, Status.E_CMD_FAILED)
            if self._conn is not conn:
                return

    def _frames(self, buf: bytearray) -> list[tuple[Packet, bool]]:
        """Cut requests out of ``buf`` the way the gripper does: sync on the preamble."""
        out = []
        for _ in range(len(buf) + 1):
            start = buf.find(PREAMBLE)
            if start < 0:
                del buf[: max(len(buf) - 2, 0)]
                break
            del buf[:start]
            if len(buf) < HEADER_SIZE:
                break
            size = HEADER_SIZE + struct.unpack_from("<H", buf, 4)[0] + CRC_SIZE
            if len(buf) < size:
                break
            frame = bytes(buf[:size])
            del buf[:size]
            out.append((Packet(frame[3], frame[HEADER_SIZE:-CRC_SIZE]), crc16(frame) == 0))
        return out

    def _disconnected(self, conn: socket.socket) -> None:
        """End the update streams; fast-stop if configured; close ``conn``."""
        with self._lock:
            if self._conn is conn:
                self._conn = None
            for ev in self._streams.values():
                ev.set()
            self._streams.clear()
            if self.fast_stop_on_disconnect and not self._stopping.is_set():
                self.flags |= SystemFlag.FAST_STOP
                self._abort.set()
        with contextlib.suppress(OSError):
            conn.close()

    def _reply(self, command: int, status: int, data: bytes = b"") -> None:
        raw = bytearray(encode_response(command, status, data))
        with self._lock:
            for key in (command, ANY):
                if key in self._corrupt:
                    if self._corrupt[key] > 0:
                        self._corrupt[key] -= 1
                    else:
                        del self._corrupt[key]
                        raw[-1] ^= 0xFF
                    break
            conn = self._conn
        if conn is None:
            return
        with self._send_lock, contextlib.suppress(OSError):
            conn.sendall(bytes(raw))

    # --- commands -----------------------------------------------------------------------

    def _dispatch(self, packet: Packet, crc_ok: bool) -> None:
        cmd = packet.command
        self.received.append(packet)
        if self._take(self._drop, cmd):
            self._close_conn()
            return
        silenced = self._take(self._silence, cmd)
        if silenced == "all":
            return
        if not crc_ok and self.check_crc:
            self._reply(cmd, Status.E_CHECKSUM_ERROR)
            return
        if cmd in MOTION_COMMANDS:
            self._motion_request(cmd, packet.payload, stuck=silenced == "final")
            return
        handler = self._handlers().get(cmd)
        if handler is None:
            self._reply(cmd, Status.E_CMD_UNKNOWN)
            return
        try:
            status, data = handler(packet.payload)
        except Exception as exc:  # e.g. the backend failed during a state query
            log.warning("WSG 50 emulator: %s failed: %s", cmd, exc)
            status, data = Status.E_CMD_FAILED, b""
        self._reply(cmd, status, data)

    def _handlers(self) -> dict[int, Callable[[bytes], tuple[int, bytes]]]:
        return {
            Command.LOOP: lambda p: (Status.E_SUCCESS, p),
            Command.DISCONNECT: lambda p: (Status.E_SUCCESS, b""),
            Command.STOP: self._stop,
            Command.FAST_STOP: self._fast_stop,
            Command.ACK_FAULT: self._ack,
            Command.SET_ACCELERATION: self._set_acceleration,
            Command.GET_ACCELERATION: lambda p: (
                Status.E_SUCCESS,
                struct.pack("<f", self.acceleration),
            ),
            Command.SET_FORCE_LIMIT: self._set_force_limit,
            Command.GET_FORCE_LIMIT: lambda p: (
                Status.E_SUCCESS,
                struct.pack("<f", self.force_limit),
            ),
            Command.TARE_FORCE: lambda p: (Status.E_NOT_AVAILABLE, b""),
            Command.GET_SYSTEM_INFO: lambda p: (
                Status.E_SUCCESS,
                struct.pack("<BBHI", 1, 1, 0x0400, self.serial),
            ),
            Command.GET_SYSTEM_LIMITS: lambda p: (Status.E_SUCCESS, self.limits.encode()),
            **{c: self._query_handler(c) for c in STREAMABLE},
        }

    def _stop(self, payload: bytes) -> tuple[int, bytes]:
        with self._lock:
            if self._motion_command is not None:
                self.flags |= SystemFlag.AXIS_STOPPED
                self._abort.set()
        return Status.E_SUCCESS, b""

    def _fast_stop(self, payload: bytes) -> tuple[int, bytes]:
        self.press_fast_stop()
        return Status.E_SUCCESS, b""

    def _ack(self, payload: bytes) -> tuple[int, bytes]:
        if payload != ACK_PAYLOAD:
            return Status.E_CMD_FORMAT_ERROR, b""
        with self._lock:
            self.flags &= ~SystemFlag.FAST_STOP
            if self.grasping == GraspingState.ERROR:
                self.grasping = GraspingState.IDLE
        return Status.E_SUCCESS, b""

    def _set_acceleration(self, payload: bytes) -> tuple[int, bytes]:
        if len(payload) != 4:
            return Status.E_CMD_FORMAT_ERROR, b""
        (value,) = struct.unpack("<f", payload)
        if not self.limits.min_acceleration <= value <= self.limits.max_acceleration:
            return Status.E_RANGE_ERROR, b""
        self.acceleration = value
        return Status.E_SUCCESS, b""

    def _set_force_limit(self, payload: bytes) -> tuple[int, bytes]:
        if len(payload) != 4:
            return Status.E_CMD_FORMAT_ERROR, b""
        (value,) = struct.unpack("<f", payload)
        if not self.limits.min_force <= value <= self.limits.overdrive_force:
            return Status.E_RANGE_ERROR, b""
        self.force_limit = value
        return Status.E_SUCCESS, b""

    def _query_handler(self, command: int) -> Callable[[bytes], tuple[int, bytes]]:
        def handle(payload: bytes) -> tuple[int, bytes]:
            if len(payload) != 3:
                return Status.E_CMD_FORMAT_ERROR, b""
            flags, period = struct.unpack("<BH", payload)
            if flags & 0x01:
                self._start_stream(command, max(period, 10) / 1000.0)
            else:
                ev = self._streams.pop(command, None)
                if ev is not None:
                    ev.set()
            return Status.E_SUCCESS, self._query_data(command)

        return handle

    def _query_data(self, command: int) -> bytes:
        if command == Command.GET_SYSTEM_STATE:
            return struct.pack("<I", int(self.flags))
        if command == Command.GET_GRASPING_STATE:
            self._check_part()
            return struct.pack("<B", int(self.grasping))
        if command == Command.GET_WIDTH:
            return struct.pack("<f", self._width_mm())
        if command == Command.GET_SPEED:
            return struct.pack("<f", self.speed)
        held = self.grasping == GraspingState.HOLDING
        return struct.pack("<f", self.force_limit if held else 0.0)

    def _start_stream(self, command: int, period: float) -> None:
        old = self._streams.pop(command, None)
        if old is not None:
            old.set()
        stop = threading.Event()
        self._streams[command] = stop

        def push() -> None:
            while not stop.wait(period) and not self._stopping.is_set():
                self._reply(command, Status.E_SUCCESS, self._query_data(command))

        threading.Thread(target=push, name=f"wsg50-stream-{command:02x}", daemon=True).start()

    def _width_mm(self) -> float:
        with self._backend_lock:
            return float(self.backend.state().width) * 1000.0

    def _check_part(self) -> None:
        if self.grasping != GraspingState.HOLDING or self._motion_command is not None:
            return
        with self._backend_lock:
            holding = self.backend.state().holding
        if not holding:
            self.grasping = GraspingState.PART_LOST

    # --- motions ------------------------------------------------------------------------

    def _motion_request(self, cmd: int, payload: bytes, stuck: bool) -> None:
        with self._lock:
            if self.flags & SystemFlag.FAST_STOP:
                self._reply(cmd, Status.E_ACCESS_DENIED)
                return
            if self._motion_command is not None:
                self._reply(cmd, Status.E_ALREADY_RUNNING)
                return
            if cmd != Command.HOMING and not self.flags & SystemFlag.REFERENCED:
                self._reply(cmd, Status.E_NOT_INITIALIZED)
                return
            checked = self._check_motion(cmd, payload)
            if isinstance(checked, int):
                self._reply(cmd, checked)
                return
            self._motion_command = cmd
            self._abort.clear()
            self.flags |= SystemFlag.MOVING
            self.flags &= ~(SystemFlag.AXIS_STOPPED | SystemFlag.TARGET_POS_REACHED)
        self._reply(cmd, Status.E_CMD_PENDING)
        self._motion = threading.Thread(
            target=self._run_motion, args=(cmd, checked, stuck), name="wsg50-motion", daemon=True
        )
        self._motion.start()

    def _check_motion(self, cmd: int, payload: bytes) -> int | Callable[[], int]:
        """Validate a motion request; a status code to refuse it, or the action to run."""
        if cmd == Command.HOMING:
            return self._check_homing(payload)
        if cmd == Command.MOVE:
            return self._check_move(payload)
        return self._check_grasp_or_release(cmd, payload)

    def _check_homing(self, payload: bytes) -> int | Callable[[], int]:
        if len(payload) != 1:
            return Status.E_CMD_FORMAT_ERROR
        if payload[0] not in (0, 1, 2):
            return Status.E_INVALID_PARAMETER
        target = 0.0 if payload[0] == 2 else self.limits.stroke
        return lambda: self._do_homing(target)

    def _check_move(self, payload: bytes) -> int | Callable[[], int]:
        if len(payload) != 9:
            return Status.E_CMD_FORMAT_ERROR
        flags, width, speed = struct.unpack("<Bff", payload)
        if flags & ~0x03:
            return Status.E_INVALID_PARAMETER
        target = width + self._width_mm() if flags & 0x01 else width
        if not (0.0 <= target <= self.limits.stroke and self._speed_ok(speed)):
            return Status.E_RANGE_ERROR
        return lambda: self._do_move(target, speed, bool(flags & 0x02))

    def _check_grasp_or_release(self, cmd: int, payload: bytes) -> int | Callable[[], int]:
        if len(payload) != 8:
            return Status.E_CMD_FORMAT_ERROR
        width, speed = struct.unpack("<ff", payload)
        if not (0.0 <= width <= self.limits.stroke and self._speed_ok(speed)):
            return Status.E_RANGE_ERROR
        if cmd == Command.GRASP:
            return lambda: self._do_grasp(width, speed)
        if self.grasping not in RELEASE_STATES:
            return Status.E_ACCESS_DENIED
        return lambda: self._do_release(width, speed)

    def _speed_ok(self, speed: float) -> bool:
        return self.limits.min_speed <= speed <= self.limits.max_speed

    def _run_motion(self, cmd: int, action: Callable[[], int], stuck: bool) -> None:
        if stuck:
            self._abort.wait(60.0)
        else:
            self._abort.wait(self.motion_delay)
        with self._lock:
            aborted = self._abort.is_set()
        status: int = Status.E_CMD_ABORTED
        if not (aborted or stuck):
            try:
                with self._backend_lock:
                    status = action()
            except Exception as exc:  # the backend failed: the gripper reports a failure
                log.warning("WSG 50 emulator backend failed: %s", exc)
                status = Status.E_CMD_FAILED
        with self._lock:
            self._motion_command = None
            self.flags &= ~SystemFlag.MOVING
            if status == Status.E_SUCCESS:
                self.flags |= SystemFlag.TARGET_POS_REACHED
            if status == Status.E_CMD_ABORTED and self.grasping in (
                GraspingState.GRASPING,
                GraspingState.RELEASING,
                GraspingState.POSITIONING,
            ):
                self.grasping = GraspingState.IDLE
        self._reply(cmd, status)

    def _take_block(self) -> bool:
        with self._lock:
            blocked, self._block_next = self._block_next, False
        return blocked

    def _do_homing(self, target_mm: float) -> int:
        self.backend.move(target_mm / 1000.0)
        self.flags |= SystemFlag.REFERENCED
        self.grasping = GraspingState.IDLE
        return Status.E_SUCCESS

    def _do_move(self, target_mm: float, speed: float, stop_on_block: bool) -> int:
        self.grasping = GraspingState.POSITIONING
        self.speed = speed
        self.backend.move(target_mm / 1000.0)
        self.speed = 0.0
        self.grasping = GraspingState.IDLE
        reached = float(self.backend.state().width) * 1000.0
        if self._take_block() or abs(reached - target_mm) > BLOCK_TOLERANCE_MM:
            self.flags |= (
                SystemFlag.BLOCKED_MINUS if target_mm < reached else SystemFlag.BLOCKED_PLUS
            )
            return Status.E_AXIS_BLOCKED
        self.flags &= ~(SystemFlag.BLOCKED_MINUS | SystemFlag.BLOCKED_PLUS)
        return Status.E_SUCCESS

    def _do_grasp(self, width_mm: float, speed: float) -> int:
        self.grasping = GraspingState.GRASPING
        result = self.backend.grasp(self.force_limit)
        holding = bool(result.holding)
        if holding and self.part_tolerance_mm is not None:
            holding = abs(result.width * 1000.0 - width_mm) <= self.part_tolerance_mm
        self.grasping = GraspingState.HOLDING if holding else GraspingState.NO_PART_FOUND
        return Status.E_SUCCESS if holding else Status.E_CMD_FAILED

    def _do_release(self, width_mm: float, speed: float) -> int:
        self.grasping = GraspingState.RELEASING
        self.backend.release(width_mm / 1000.0)
        self.grasping = GraspingState.IDLE
        if self._take_block():
            self.flags |= SystemFlag.BLOCKED_PLUS
            return Status.E_AXIS_BLOCKED
        return Status.E_SUCCESS


__all__ = ["ANY", "WSG50Emulator"]
