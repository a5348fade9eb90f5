"""The Weiss WSG 50 gripper over TCP (binary protocol), as a :class:`grasp_env.cell.Gripper`.

SI units in every method (m, m/s, m/s^2, N); millimetres only on the wire. Every request has
a deadline: ``request_timeout`` for queries and settings, and for motions the time the full
stroke takes at the commanded speed plus ``motion_margin``. Motions get two replies, the
immediate E_CMD_PENDING and the final status; packets of other IDs (automatic updates) are
kept in :attr:`WSG50.updates` and never mistaken for a reply.

Faults: a status other than E_SUCCESS raises the typed
:class:`grasp_env.hardware.wsg50_protocol.WsgStatusError` subclass for it; no reply in time
raises :class:`~grasp_env.hardware.faults.DeviceTimeout` (or
:class:`~grasp_env.hardware.faults.DeviceProtocolError` when corrupt bytes came instead), after
the driver sends FAST STOP and closes the connection; a dropped connection raises
:class:`~grasp_env.hardware.faults.DeviceDisconnected`. Every fault latches: motions raise
:class:`~grasp_env.hardware.faults.FaultLatched` until :meth:`WSG50.acknowledge_fault`, which
the driver never calls itself. A grasp that finds no part is an outcome, not a fault.
"""

from __future__ import annotations

import logging
import math
import struct
import threading
from dataclasses import dataclass

from grasp_env.cell import GripperState
from grasp_env.errors import ConfigError
from grasp_env.hardware.driver_base import TcpDriver
from grasp_env.hardware.driver_state import DriverState
from grasp_env.hardware.faults import (
    DeviceDisconnected,
    DeviceFault,
    DeviceProtocolError,
    DeviceTimeout,
    DriverError,
)
from grasp_env.hardware.link import Deadline
from grasp_env.hardware.wsg50_protocol import (
    ACK_PAYLOAD,
    FAULT_FLAGS,
    RELEASE_STATES,
    Command,
    GraspingState,
    Packet,
    PacketParser,
    Status,
    SystemFlag,
    SystemLimits,
    WsgStatusError,
    command_name,
    encode_packet,
    flag_names,
    float_payload,
    grasp_payload,
    homing_payload,
    move_payload,
    query_payload,
    release_payload,
    status_error,
    unpack_floats,
)

log = logging.getLogger(__name__)

#: Longest reply payload the driver believes (the largest real one is 34 bytes).
MAX_REPLY_PAYLOAD = 1024


@dataclass(frozen=True)
class WSG50Config:
    """How to reach and drive the gripper; SI units.

    Attributes:
        host: the gripper's address (factory default 192.168.1.20).
        port: its TCP command port (1000).
        connect_timeout: seconds allowed per connection attempt.
        connect_attempts: connection attempts before giving up (backoff doubles from 0.2 s).
        request_timeout: deadline of a query or setting, seconds.
        motion_margin: added to a motion's nominal duration for its deadline, seconds.
        speed: finger speed for move and release, m/s.
        grasp_speed: finger speed while grasping, m/s.
        acceleration: finger acceleration set at connect, m/s^2 (None: leave as configured).
        part_width: nominal part width sent with GRASP, m (0: close until the fingers stop;
            the gripper's part-width tolerance, set in its web UI, decides what counts).
        expected_serial: refuse a gripper with another serial number (None: any).
        home_on_connect: home the fingers after connecting (moves them!).
    """

    host: str = "192.168.1.20"
    port: int = 1000
    connect_timeout: float = 2.0
    connect_attempts: int = 1
    request_timeout: float = 1.0
    motion_margin: float = 2.0
    speed: float = 0.1
    grasp_speed: float = 0.05
    acceleration: float | None = None
    part_width: float = 0.0
    expected_serial: int | None = None
    home_on_connect: bool = False

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "request_timeout", "speed", "grasp_speed"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"WSG50Config.{name} must be > 0, got {getattr(self, name)!r}")
        if self.motion_margin < 0 or self.part_width < 0:
            raise ConfigError("WSG50Config.motion_margin and part_width must be >= 0")


class WSG50(TcpDriver):
    """A WSG 50 gripper on a TCP connection.

    The life cycle (``state_name``, ``fault``, ``connected``, ``reconnect()``, ``close()``,
    ``with``) comes from :class:`~grasp_env.hardware.driver_base.TcpDriver`; ``close()``
    announces the disconnect (DISCONNECT 0x07) first.

    Args:
        config: address, deadlines and speeds.

    Use :meth:`connect` (or ``with WSG50(cfg) as gripper:``) before commanding it.
    """

    goodbye = encode_packet(Command.DISCONNECT)
    ack_hint = "; call acknowledge_fault() once the cell is checked"

    def __init__(self, config: WSG50Config = WSG50Config()) -> None:
        self.config = config
        super().__init__(f"WSG 50 at {config.host}:{config.port}", config, log)
        self.limits = SystemLimits()
        self.updates: dict[int, Packet] = {}
        self._parser = PacketParser(MAX_REPLY_PAYLOAD)
        self._io = threading.Lock()

    # --- life cycle ---------------------------------------------------------------------

    def connect(self) -> None:
        """Connect, read the gripper's limits and state; never moves unless configured to.

        A fault the gripper reports (e.g. FAST_STOP) is latched, not acknowledged.
        """
        self._open_link()
        self.limits = SystemLimits.decode(self._request(Command.GET_SYSTEM_LIMITS).data)
        if self.config.expected_serial is not None:
            serial = struct.unpack_from("<I", self._request(Command.GET_SYSTEM_INFO).data, 4)[0]
            if serial != self.config.expected_serial:
                self._latch_and_close()
                raise DeviceFault(
                    self.device,
                    f"expected serial {self.config.expected_serial}, the gripper reports {serial}",
                    self.recorder.entries(),
                )
        flags = self.system_state()
        if flags & FAULT_FLAGS:
            self.machine.latch(f"the gripper reports {flag_names(flags & FAULT_FLAGS)}")
        if self.config.acceleration is not None:
            self.set_acceleration(self.config.acceleration)
        if self.config.home_on_connect:
            self.home()

    # --- Gripper interface ----------------------------------------------------------------

    def move(self, width: float) -> None:
        """Pre-position the fingers to ``width`` m (clamped to the stroke), stop on block."""
        speed = self._speed_mm(self.config.speed)
        self._motion(Command.MOVE, move_payload(self._width_mm(width), speed), speed)

    def grasp(self, force: float) -> GripperState:
        """Close with at most ``force`` N until the fingers stop; report the outcome.

        No part found is an outcome (``holding=False``), not an error.
        """
        self._check_latch(command_name(Command.GRASP))
        self.set_force_limit(force)
        speed = self._speed_mm(self.config.grasp_speed)
        payload = grasp_payload(self._width_mm(self.config.part_width), speed)
        try:
            self._motion(Command.GRASP, payload, speed, latch_status=False)
        except WsgStatusError as exc:
            if self.grasping_state() != GraspingState.NO_PART_FOUND:
                self.machine.latch(exc.cause)
                raise
        return self.state()

    def release(self, width: float) -> None:
        """Open to ``width`` m, letting go of any part (RELEASE if a grasp happened, else MOVE)."""
        if self.grasping_state() in RELEASE_STATES:
            speed = self._speed_mm(self.config.speed)
            self._motion(Command.RELEASE, release_payload(self._width_mm(width), speed), speed)
        else:
            self.move(width)

    def state(self) -> GripperState:
        """The opening (m) and whether the gripper reports a part held."""
        holding = self.grasping_state() == GraspingState.HOLDING
        return GripperState(width=self.width(), holding=holding)

    # --- further commands -------------------------------------------------------------------

    def home(self, direction: int = 0) -> None:
        """Reference the fingers (HOMING 0x20): 0 default, 1 positive, 2 negative direction."""
        self._motion(Command.HOMING, homing_payload(direction), self.limits.min_speed)

    def stop(self) -> None:
        """STOP (0x22): end the running motion (its final reply becomes E_CMD_ABORTED).

        Safe from another thread while a motion is waited for: then it is sent without
        waiting for its reply.
        """
        self._urgent(Command.STOP)

    def fast_stop(self) -> None:
        """FAST STOP (0x23), best effort: motion locks until :meth:`acknowledge_fault`."""
        self.machine.latch("fast stop requested")
        self._urgent(Command.FAST_STOP)

    def acknowledge_fault(self) -> None:
        """ACKNOWLEDGE FAULT (0x24, ``"ack"``) and clear the latched fault.

        Only for a person who has checked the cell; the driver never calls it itself.
        """
        self._request(Command.ACK_FAULT, ACK_PAYLOAD, latch_status=False)
        flags = self.system_state()
        if flags & FAULT_FLAGS:
            raise DeviceFault(
                self.device,
                f"still faulted after acknowledge: {flag_names(flags & FAULT_FLAGS)}",
                self.recorder.entries(),
            )
        self._acknowledged()

    def set_force_limit(self, force: float) -> None:
        """SET GRASPING FORCE LIMIT (0x32), ``force`` N clamped to the gripper's range."""
        low, high = self.limits.min_force, self.limits.overdrive_force
        value = self._clamp(force, low, high, "force", "N")
        self._request(Command.SET_FORCE_LIMIT, float_payload(value))

    def force_limit(self) -> float:
        """GET GRASPING FORCE LIMIT (0x33), N."""
        return unpack_floats(self._request(Command.GET_FORCE_LIMIT).data, 1, "force limit")[0]

    def set_acceleration(self, acceleration: float) -> None:
        """SET ACCELERATION (0x30), m/s^2 clamped to the gripper's range."""
        low, high = self.limits.min_acceleration, self.limits.max_acceleration
        value = self._clamp(acceleration * 1000.0, low, high, "acceleration", "mm/s^2")
        self._request(Command.SET_ACCELERATION, float_payload(value))

    def acceleration(self) -> float:
        """GET ACCELERATION (0x31), m/s^2."""
        data = self._request(Command.GET_ACCELERATION).data
        return unpack_floats(data, 1, "acceleration")[0] / 1000.0

    def system_state(self) -> SystemFlag:
        """GET SYSTEM STATE (0x40): the flag word."""
        data = self._request(Command.GET_SYSTEM_STATE, query_payload()).data
        if len(data) < 4:
            raise self._protocol(f"GET_SYSTEM_STATE: expected 4 data bytes, got {len(data)}")
        return SystemFlag(struct.unpack_from("<I", data)[0])

    def grasping_state(self) -> GraspingState:
        """GET GRASPING STATE (0x41)."""
        data = self._request(Command.GET_GRASPING_STATE, query_payload()).data
        if len(data) < 1:
            raise self._protocol("GET_GRASPING_STATE: expected 1 data byte, got none")
        try:
            return GraspingState(data[0])
        except ValueError:
            raise self._protocol(f"GET_GRASPING_STATE: unknown state {data[0]}") from None

    def width(self) -> float:
        """GET OPENING WIDTH (0x43), m."""
        return self._query_float(Command.GET_WIDTH) / 1000.0

    def speed(self) -> float:
        """GET FINGER SPEED (0x44), m/s."""
        return self._query_float(Command.GET_SPEED) / 1000.0

    def force(self) -> float:
        """GET GRASPING FORCE (0x45), N."""
        return self._query_float(Command.GET_FORCE)

    def start_updates(self, command: Command, period: float) -> None:
        """Switch a state query (0x40, 0x41, 0x43-0x45) to automatic updates every ``period`` s.

        The newest pushed packet of each ID is kept in :attr:`updates`.
        """
        period_ms = min(max(round(period * 1000.0), 1), 0xFFFF)
        self._request(command, query_payload(auto_update=True, period_ms=period_ms))

    def stop_updates(self, command: Command) -> None:
        """Switch automatic updates of ``command`` off again."""
        self._request(command, query_payload())

    def system_limits(self) -> SystemLimits:
        """GET SYSTEM LIMITS (0x53), wire units (as read at connect)."""
        self.limits = SystemLimits.decode(self._request(Command.GET_SYSTEM_LIMITS).data)
        return self.limits

    # --- internals ----------------------------------------------------------------------

    def _query_float(self, command: Command) -> float:
        data = self._request(command, query_payload()).data
        return unpack_floats(data, 1, command.name)[0]

    def _width_mm(self, width: float) -> float:
        return self._clamp(width * 1000.0, 0.0, self.limits.stroke, "width", "mm")

    def _speed_mm(self, speed: float) -> float:
        low, high = self.limits.min_speed, self.limits.max_speed
        return self._clamp(speed * 1000.0, low, high, "speed", "mm/s")

    def _clamp(self, value: float, low: float, high: float, what: str, unit: str) -> float:
        if not math.isfinite(value):
            raise ValueError(f"{self.device}: {what} must be finite, got {value}")
        clamped = min(max(value, low), high)
        if clamped != value:
            log.warning(
                "%s: %s %.4g %s clamped to [%g, %g]", self.device, what, value, unit, low, high
            )
        return clamped

    def _motion(
        self, command: Command, payload: bytes, speed_mm: float, latch_status: bool = True
    ) -> None:
        """A two-phase motion: E_CMD_PENDING, then the final status within the deadline.

        The deadline is the full stroke at ``speed_mm`` plus the configured margin.
        """
        self._check_latch(command_name(command))
        seconds = self.limits.stroke / max(speed_mm, 1e-3) + self.config.motion_margin
        self.machine.to(DriverState.ACTIVE, command_name(command))
        try:
            self._request(
                command, payload, deadline=Deadline.after(seconds), latch_status=latch_status
            )
        finally:
            if self.machine.state is DriverState.ACTIVE:
                self.machine.to(DriverState.IDLE, f"{command_name(command)} done")

    def _urgent(self, command: Command) -> None:
        raw = encode_packet(command)
        if self._io.acquire(blocking=False):
            try:
                self._exchange(command, b"", Deadline.after(self.config.request_timeout))
            except DriverError as exc:
                log.warning("%s not delivered: %s", command_name(command), exc)
            finally:
                self._io.release()
        else:
            self.recorder.record("->", f"{command_name(command)} (no wait) {raw.hex(' ')}")
            self._link.send_best_effort(raw)

    def _request(
        self,
        command: int,
        payload: bytes = b"",
        deadline: Deadline | None = None,
        latch_status: bool = True,
    ) -> Packet:
        """Send one request and return its final reply, which has status E_SUCCESS."""
        deadline = deadline or Deadline.after(self.config.request_timeout)
        with self._io:
            try:
                reply = self._exchange(command, payload, deadline)
            except (DeviceTimeout, DeviceProtocolError) as exc:
                raise self._give_up(exc) from None
            except DeviceDisconnected as exc:
                self.machine.latch(exc.cause)
                raise
            if reply.status == Status.E_SUCCESS:
                return reply
            detail = "" if command == Command.GET_SYSTEM_STATE else self._flags_detail()
        error = status_error(reply.status, self.device, command, detail, self.recorder.entries())
        if latch_status:
            self.machine.latch(error.cause)
        raise error

    def _exchange(self, command: int, payload: bytes, deadline: Deadline) -> Packet:
        """Send and wait for the final reply with the same ID; pending replies are skipped."""
        raw = encode_packet(command, payload)
        what = command_name(command)
        self.recorder.record("->", f"{what} {raw.hex(' ')}")
        self._link.send(raw, deadline, what)
        self._parser.take_discarded()
        dropped: list[bytes] = []
        reasons: list[str] = []
        # bounded: each pass takes at least one byte from the link, or the deadline ends it
        for _ in range(1 << 20):
            try:
                chunk = self._link.receive(deadline, what)
            except DeviceTimeout as exc:
                if dropped:
                    bad = b"".join(dropped)
                    raise DeviceProtocolError(
                        self.device,
                        f"no valid reply to {what} within {deadline.seconds:g} s;"
                        f" dropped {len(bad)} corrupt byte(s) ({reasons[0]}): {bad[:32].hex(' ')}",
                        self.recorder.entries(),
                    ) from exc
                raise
            packets = self._parser.feed(chunk)
            for d in self._parser.take_discarded():
                self.recorder.record("!!", f"dropped {len(d.data)} byte(s) ({d.reason})")
                dropped.append(d.data)
                reasons.append(d.reason)
            for packet in packets:
                name = command_name(packet.command)
                self.recorder.record("<-", f"{name} {packet.payload.hex(' ')}")
                if packet.command != command:
                    self.updates[packet.command] = packet
                    continue
                if len(packet.payload) < 2:
                    raise self._protocol(f"{what}: reply without a status code")
                if packet.status == Status.E_CMD_PENDING:
                    continue
                return packet
        raise self._protocol(f"{what}: endless reply stream")

    def _give_up(self, exc: DriverError) -> DriverError:
        """After a timeout: FAST STOP (best effort), close, latch; return the error to raise."""
        sent = self._link.send_best_effort(encode_packet(Command.FAST_STOP))
        self._link.close()
        action = "sent FAST STOP and closed" if sent else "closed"
        cause = f"{exc.cause}; {action} the connection"
        self.machine.latch(cause)
        return type(exc)(self.device, cause, self.recorder.entries())

    def _flags_detail(self) -> str:
        try:
            reply = self._exchange(
                Command.GET_SYSTEM_STATE,
                query_payload(),
                Deadline.after(self.config.request_timeout),
            )
            flags = struct.unpack_from("<I", reply.data)[0]
        except (DriverError, struct.error):
            return ""
        return f"system flags: {flag_names(flags)}"

    def _reset_input(self) -> None:
        self._parser.flush()
        self._parser.take_discarded()

    def _latch_and_close(self) -> None:
        self._link.close()
        self.machine.latch("refused at connect")

    def _protocol(self, cause: str) -> DeviceProtocolError:
        return DeviceProtocolError(self.device, cause, self.recorder.entries())


__all__ = ["WSG50", "WSG50Config"]
