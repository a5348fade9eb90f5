"""The Weiss WSG 50 binary command protocol: packets, CRC, stream parser, codes and errors.

Wire format (both directions, little-endian; reference: hardware.md section 1.2)::

    AA AA AA | id (u8) | N (u16) | payload (N bytes) | CRC (u16, low byte first)

Responses start their payload with a u16 status code (N includes it). The CRC runs over
everything before it, preamble included, with the WSG's own CRC-16 (section 1.3): the
MSB-first table of polynomial 0x1021 driven by a *reflected* update from 0xFFFF, no final
XOR. It is not CRC-CCITT, and no generic CRC library reproduces it, so it is written out
literally here. Running it over a whole valid packet, CRC included, gives 0.

Everything in this module is in the gripper's wire units: millimetres, mm/s, mm/s^2, N.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from grasp_env.hardware.faults import DeviceFault

PREAMBLE = b"\xaa\xaa\xaa"
HEADER_SIZE = 6
CRC_SIZE = 2
MAX_PAYLOAD = 0xFFFF
ACK_PAYLOAD = b"ack"


def _crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
            c &= 0xFFFF
        table.append(c)
    return tuple(table)


CRC_TABLE = _crc_table()


def crc16(data: bytes | bytearray | memoryview, crc: int = 0xFFFF) -> int:
    """The WSG 50 checksum of ``data``, continuing from ``crc`` (0xFFFF to start).

    Per byte: ``crc = T[(crc ^ b) & 0xFF] ^ (crc >> 8)`` with the table above.
    """
    for b in bytes(data):
        crc = CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


class Command(enum.IntEnum):
    """Command IDs used by the driver and understood by the emulator (section 1.5)."""

    LOOP = 0x06
    DISCONNECT = 0x07
    HOMING = 0x20
    MOVE = 0x21
    STOP = 0x22
    FAST_STOP = 0x23
    ACK_FAULT = 0x24
    GRASP = 0x25
    RELEASE = 0x26
    SET_ACCELERATION = 0x30
    GET_ACCELERATION = 0x31
    SET_FORCE_LIMIT = 0x32
    GET_FORCE_LIMIT = 0x33
    TARE_FORCE = 0x38
    GET_SYSTEM_STATE = 0x40
    GET_GRASPING_STATE = 0x41
    GET_WIDTH = 0x43
    GET_SPEED = 0x44
    GET_FORCE = 0x45
    GET_SYSTEM_INFO = 0x50
    GET_SYSTEM_LIMITS = 0x53


#: Commands that answer E_CMD_PENDING at once and their final status when the motion ends.
MOTION_COMMANDS = frozenset({Command.HOMING, Command.MOVE, Command.GRASP, Command.RELEASE})


def command_name(command_id: int) -> str:
    """``"GRASP (0x25)"`` for a known ID, ``"0x90"`` otherwise."""
    try:
        return f"{Command(command_id).name} (0x{command_id:02X})"
    except ValueError:
        return f"0x{command_id:02X}"


class Status(enum.IntEnum):
    """Status codes, the first u16 of every response payload (section 1.6.4), and their meaning.

    The one table of the codes: :data:`STATUS_ERRORS` makes an exception type of each
    failure code, and :func:`status_error` words its message from ``meaning``.
    """

    _value_: int
    meaning: str

    def __new__(cls, code: int, meaning: str = "") -> Status:
        """A member of value ``code`` (lookups such as ``Status(29)`` do not come here)."""
        member = int.__new__(cls, code)
        member._value_ = code
        member.meaning = meaning
        return member

    E_SUCCESS = 0, "no error"
    E_NOT_AVAILABLE = 1, "function or data not available"
    E_NO_SENSOR = 2, "no measuring converter connected"
    E_NOT_INITIALIZED = 3, "device not initialised (e.g. not homed)"
    E_ALREADY_RUNNING = 4, "another motion is still running"
    E_FEATURE_NOT_SUPPORTED = 5, "feature not supported"
    E_INCONSISTENT_DATA = 6, "inconsistent data"
    E_TIMEOUT = 7, "the gripper itself timed out"
    E_READ_ERROR = 8, "read error"
    E_WRITE_ERROR = 9, "write error"
    E_INSUFFICIENT_RESOURCES = 10, "insufficient resources"
    E_CHECKSUM_ERROR = 11, "the gripper saw a bad CRC in the request"
    E_NO_PARAM_EXPECTED = 12, "no parameters expected"
    E_NOT_ENOUGH_PARAMS = 13, "not enough parameters"
    E_CMD_UNKNOWN = 14, "unknown command"
    E_CMD_FORMAT_ERROR = 15, "command format error"
    E_ACCESS_DENIED = 16, "access denied (e.g. motion while fast-stopped)"
    E_ALREADY_OPEN = 17, "already open"
    E_CMD_FAILED = 18, "command failed"
    E_CMD_ABORTED = 19, "a STOP interrupted the motion"
    E_INVALID_HANDLE = 20, "invalid handle"
    E_NOT_FOUND = 21, "not found"
    E_NOT_OPEN = 22, "not open"
    E_IO_ERROR = 23, "I/O error"
    E_INVALID_PARAMETER = 24, "invalid parameter"
    E_INDEX_OUT_OF_BOUNDS = 25, "index out of bounds"
    E_CMD_PENDING = 26, "command still pending where a final answer was due"
    E_OVERRUN = 27, "overrun"
    E_RANGE_ERROR = 28, "a parameter out of range"
    E_AXIS_BLOCKED = 29, "the fingers were blocked during a move"
    E_FILE_EXISTS = 30, "file exists"


def status_name(code: int) -> str:
    """``"E_AXIS_BLOCKED (29)"`` for a known code, ``"unknown status 99"`` otherwise."""
    try:
        return f"{Status(code).name} ({code})"
    except ValueError:
        return f"unknown status {code}"


class SystemFlag(enum.IntFlag):
    """Bits of the u32 system state word (command 0x40, section 1.6.2)."""

    REFERENCED = 1 << 0
    MOVING = 1 << 1
    BLOCKED_MINUS = 1 << 2
    BLOCKED_PLUS = 1 << 3
    SOFT_LIMIT_MINUS = 1 << 4
    SOFT_LIMIT_PLUS = 1 << 5
    AXIS_STOPPED = 1 << 6
    TARGET_POS_REACHED = 1 << 7
    OVERDRIVE_MODE = 1 << 8
    FORCECNTL_MODE = 1 << 9
    FAST_STOP = 1 << 12
    TEMP_WARNING = 1 << 13
    TEMP_FAULT = 1 << 14
    POWER_FAULT = 1 << 15
    CURR_FAULT = 1 << 16
    FINGER_FAULT = 1 << 17
    CMD_FAILURE = 1 << 18
    SCRIPT_RUNNING = 1 << 19
    SCRIPT_FAILURE = 1 << 20


#: System flags that mean the gripper is faulted and needs a person.
FAULT_FLAGS = (
    SystemFlag.FAST_STOP
    | SystemFlag.TEMP_FAULT
    | SystemFlag.POWER_FAULT
    | SystemFlag.CURR_FAULT
    | SystemFlag.FINGER_FAULT
    | SystemFlag.SCRIPT_FAILURE
)


def flag_names(flags: int) -> str:
    """The set flags of a system state word, e.g. ``"REFERENCED|FAST_STOP"``, or ``"none"``."""
    names = [f.name for f in SystemFlag if flags & f and f.name]
    return "|".join(names) if names else "none"


class GraspingState(enum.IntEnum):
    """The grasping state machine (command 0x41, section 1.6.3)."""

    IDLE = 0
    GRASPING = 1
    NO_PART_FOUND = 2
    PART_LOST = 3
    HOLDING = 4
    RELEASING = 5
    POSITIONING = 6
    ERROR = 7


#: The grasping states RELEASE PART (0x26) is accepted in; in others it is E_ACCESS_DENIED.
RELEASE_STATES = frozenset(
    {GraspingState.HOLDING, GraspingState.NO_PART_FOUND, GraspingState.PART_LOST}
)


@dataclass(frozen=True)
class Packet:
    """One packet: a command ID and its payload (without preamble, length or CRC).

    Attributes:
        command: the command ID (a response echoes its request's).
        payload: the payload bytes; for a response the status code comes first.
    """

    command: int
    payload: bytes = b""

    @property
    def status(self) -> int:
        """The status code of a response."""
        if len(self.payload) < 2:
            raise PacketError(
                f"a response needs a 2-byte status, got {len(self.payload)} payload byte(s)"
            )
        return struct.unpack_from("<H", self.payload)[0]

    @property
    def data(self) -> bytes:
        """A response's data after its status code."""
        return self.payload[2:]

    def encode(self) -> bytes:
        """The packet's bytes on the wire."""
        return encode_packet(self.command, self.payload)


class PacketError(ValueError):
    """Bytes that are not one well-formed packet."""


def encode_packet(command: int, payload: bytes = b"") -> bytes:
    """Frame ``payload`` as a packet with ID ``command``: preamble, header, payload, CRC."""
    if not 0 <= int(command) <= 0xFF:
        raise PacketError(f"command ID must be 0..255, got {command}")
    if len(payload) > MAX_PAYLOAD:
        raise PacketError(f"payload must be at most {MAX_PAYLOAD} bytes, got {len(payload)}")
    body = PREAMBLE + struct.pack("<BH", int(command), len(payload)) + bytes(payload)
    return body + struct.pack("<H", crc16(body))


def encode_response(command: int, status: int, data: bytes = b"") -> bytes:
    """A response packet: ``status`` (u16) followed by ``data``."""
    return encode_packet(command, struct.pack("<H", int(status)) + bytes(data))


def decode_packet(raw: bytes) -> Packet:
    """Exactly one packet from ``raw``; raise :class:`PacketError` naming what is wrong."""
    if len(raw) < HEADER_SIZE + CRC_SIZE:
        raise PacketError(f"a packet has at least 8 bytes, got {len(raw)}")
    if raw[:3] != PREAMBLE:
        raise PacketError(f"expected preamble AA AA AA, got {raw[:3].hex(' ').upper()}")
    command, length = struct.unpack_from("<BH", raw, 3)
    if len(raw) != HEADER_SIZE + length + CRC_SIZE:
        raise PacketError(
            f"header says {length} payload bytes ({HEADER_SIZE + length + CRC_SIZE} in all),"
            f" got {len(raw)} bytes"
        )
    if crc16(raw) != 0:
        expected = crc16(raw[:-CRC_SIZE])
        got = struct.unpack_from("<H", raw, len(raw) - CRC_SIZE)[0]
        raise PacketError(f"bad checksum: expected 0x{expected:04X}, got 0x{got:04X}")
    return Packet(command, bytes(raw[HEADER_SIZE:-CRC_SIZE]))


@dataclass(frozen=True)
class Discarded:
    """Bytes the parser threw away, and why.

    Attributes:
        reason: ``"no preamble"``, ``"bad checksum"``, ``"implausible length"`` or
            ``"flushed"`` (the first reason when several runs were merged).
        data: the bytes dropped.
    """

    reason: str
    data: bytes


class PacketParser:
    """Cuts a byte stream into packets, surviving split packets, garbage and corruption.

    It looks for the preamble, waits for the full length, and accepts a frame whose CRC
    checks. A bad CRC, or an implausible length, drops *one* byte and searches again, so a
    false preamble (garbage, or ``AA AA AA`` inside a payload when out of step) costs only
    the bytes before the next true packet. Every byte fed ends up in exactly one of: an
    accepted packet, :attr:`discarded`, or the pending buffer.

    Args:
        max_payload: longest payload believed; a header claiming more is treated as
            garbage at once rather than waited for.
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self.discarded: list[Discarded] = []
        self.dropped_bytes = 0
        self._buf = bytearray()
        self._dropped = bytearray()  # the run of garbage being dropped, and why
        self._drop_reason: str | None = None

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a packet."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Packet]:
        """Add ``data``; return the packets now complete, in stream order."""
        self._buf += data
        packets: list[Packet] = []
        for _ in range(len(self._buf) + 1):  # every pass consumes a byte or stops
            step = self._step()
            if step is False:
                break
            if isinstance(step, Packet):
                packets.append(step)
        self._close_drop()
        return packets

    def _step(self) -> Packet | bool:
        """Take one packet, or garbage, off the buffer's front.

        Returns the packet; True when garbage was dropped (go on); False to wait for bytes.
        """
        start = self._buf.find(PREAMBLE)
        if start < 0:
            self._drop_but_partial_preamble()
            return False
        if start > 0:
            self._drop(start, "no preamble")
        if len(self._buf) < HEADER_SIZE:
            return False
        length = struct.unpack_from("<H", self._buf, 4)[0]
        if length > self.max_payload:
            self._drop(1, "implausible length")
            return True
        size = HEADER_SIZE + length + CRC_SIZE
        if len(self._buf) < size:
            return False
        if crc16(memoryview(self._buf)[:size]) != 0:
            self._drop(1, "bad checksum")
            return True
        self._close_drop()
        packet = Packet(self._buf[3], bytes(self._buf[HEADER_SIZE : size - CRC_SIZE]))
        del self._buf[:size]
        return packet

    def _drop_but_partial_preamble(self) -> None:
        """No preamble in the buffer: drop it all but a trailing AA or AA AA (one may start)."""
        keep = 0
        while keep < 2 and keep < len(self._buf) and self._buf[-1 - keep] == 0xAA:
            keep += 1
        if len(self._buf) > keep:
            self._drop(len(self._buf) - keep, "no preamble")

    def _drop(self, count: int, reason: str) -> None:
        """Move the first ``count`` bytes to the run being dropped (its first reason kept)."""
        self._drop_reason = self._drop_reason or reason
        self._dropped.extend(self._buf[:count])
        del self._buf[:count]

    def _close_drop(self) -> None:
        """Record the run of dropped bytes, if any, as one :class:`Discarded`."""
        if self._dropped:
            self.discarded.append(Discarded(self._drop_reason or "", bytes(self._dropped)))
            self.dropped_bytes += len(self._dropped)
            self._dropped.clear()
        self._drop_reason = None

    def flush(self) -> None:
        """Give up on any partial packet held back (e.g. after reconnecting)."""
        if self._buf:
            self.discarded.append(Discarded("flushed", bytes(self._buf)))
            self.dropped_bytes += len(self._buf)
            self._buf.clear()

    def take_discarded(self) -> list[Discarded]:
        """The discarded runs since the last call, and forget them."""
        out, self.discarded = self.discarded, []
        return out


# --- request payloads (wire units) ------------------------------------------------------

MOVE_RELATIVE = 0x01
MOVE_STOP_ON_BLOCK = 0x02


def move_payload(
    width_mm: float, speed_mm_s: float, relative: bool = False, stop_on_block: bool = True
) -> bytes:
    """PRE-POSITION FINGERS (0x21): flags (bit0 relative, bit1 stop on block), width, speed."""
    flags = (MOVE_RELATIVE if relative else 0) | (MOVE_STOP_ON_BLOCK if stop_on_block else 0)
    return struct.pack("<Bff", flags, width_mm, speed_mm_s)


def grasp_payload(width_mm: float, speed_mm_s: float) -> bytes:
    """GRASP PART (0x25): nominal part width and speed."""
    return struct.pack("<ff", width_mm, speed_mm_s)


def release_payload(width_mm: float, speed_mm_s: float) -> bytes:
    """RELEASE PART (0x26): absolute open width and speed."""
    return struct.pack("<ff", width_mm, speed_mm_s)


def float_payload(value: float) -> bytes:
    """One little-endian float (set acceleration 0x30, set force limit 0x32)."""
    return struct.pack("<f", value)


def query_payload(auto_update: bool = False, on_change: bool = False, period_ms: int = 0) -> bytes:
    """The 3-byte payload of the state queries 0x40, 0x41, 0x43-0x45; all zero = read once."""
    flags = (0x01 if auto_update else 0) | (0x02 if on_change else 0)
    return struct.pack("<BH", flags, period_ms)


def homing_payload(direction: int = 0) -> bytes:
    """HOMING (0x20): 0 = default direction, 1 = positive, 2 = negative."""
    if direction not in (0, 1, 2):
        raise PacketError(f"homing direction must be 0, 1 or 2, got {direction}")
    return bytes([direction])


def unpack_floats(data: bytes, count: int, what: str) -> tuple[float, ...]:
    """``count`` little-endian floats from ``data``; :class:`PacketError` if it is too short."""
    if len(data) < 4 * count:
        raise PacketError(f"{what}: expected {4 * count} data bytes, got {len(data)}")
    return struct.unpack_from(f"<{count}f", data)


@dataclass(frozen=True)
class SystemLimits:
    """The gripper's own limits (command 0x53), wire units.

    Attributes:
        stroke: full opening, mm.
        min_speed: mm/s.
        max_speed: mm/s.
        min_acceleration: mm/s^2.
        max_acceleration: mm/s^2.
        min_force: N.
        nominal_force: N.
        overdrive_force: N.
    """

    stroke: float = 110.0
    min_speed: float = 5.0
    max_speed: float = 420.0
    min_acceleration: float = 100.0
    max_acceleration: float = 5000.0
    min_force: float = 5.0
    nominal_force: float = 80.0
    overdrive_force: float = 80.0

    def encode(self) -> bytes:
        """The 32 data bytes of a GET SYSTEM LIMITS reply."""
        return struct.pack("<8f", *(getattr(self, f) for f in self.__dataclass_fields__))

    @classmethod
    def decode(cls, data: bytes) -> SystemLimits:
        """Parse the data of a GET SYSTEM LIMITS reply."""
        return cls(*unpack_floats(data, 8, "GET_SYSTEM_LIMITS"))


# --- status errors ----------------------------------------------------------------------


class WsgStatusError(DeviceFault):
    """The gripper answered a command with a status other than E_SUCCESS.

    Attributes:
        status: the status code (see :class:`Status`).
        command: the command ID that was refused.
    """

    status: int = -1

    def __init__(
        self,
        device: str,
        cause: str,
        history: Iterable[str] = (),
        status: int | None = None,
        command: int | None = None,
    ) -> None:
        super().__init__(device, cause, history)
        if status is not None:
            self.status = status
        self.command = command


def _error_type(status: Status) -> type[WsgStatusError]:
    """The exception type of a failure code: E_AXIS_BLOCKED gives ``WsgAxisBlocked``."""
    name = "Wsg" + "".join(word.capitalize() for word in status.name[2:].split("_"))
    doc = f"{status.name} ({int(status)}): {status.meaning}."
    return type(name, (WsgStatusError,), {"status": status, "__doc__": doc, "__module__": __name__})


#: One exception type per failure code (E_SUCCESS has none), made from :class:`Status` and
#: importable by its name: ``WsgNotAvailable`` ... ``WsgFileExists``.
STATUS_ERRORS: dict[Status, type[WsgStatusError]] = {
    status: _error_type(status) for status in Status if status is not Status.E_SUCCESS
}
globals().update({cls.__name__: cls for cls in STATUS_ERRORS.values()})


def status_error(
    status: int, device: str, command: int, detail: str = "", history: Iterable[str] = ()
) -> WsgStatusError:
    """The typed exception for ``status`` in reply to ``command``, with a readable message."""
    cls = STATUS_ERRORS.get(status, WsgStatusError)  # type: ignore[call-overload]
    cause = f"{command_name(command)} answered {status_name(status)}"
    if cls is not WsgStatusError:
        cause += f": {Status(status).meaning}"
    if detail:
        cause += f"; {detail}"
    return cls(device, cause, history, status=status, command=command)
