"""WSG 50 wire format: CRC vectors, the manual's packets, requests, codes and the parser.

Every request the driver sends is checked as literal bytes; the stream parser is driven with
random splits, garbage and corruption.
"""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grasp_env.hardware import wsg50_protocol as wp
from grasp_env.hardware.faults import DeviceFault


def spec_crc(data: bytes) -> int:
    """The CRC written again from the reference's five steps, independent of the module."""
    table = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else c << 1
            c &= 0xFFFF
        table.append(c)
    crc = 0xFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- CRC ------------------------------------------------------------------------------


def test_crc_reference_vectors():
    assert wp.crc16(h("AA AA AA")) == 0x50F5
    assert wp.crc16(b"123456789") == 0x6EB4
    assert spec_crc(b"123456789") == 0x6EB4


def test_crc_table_entries():
    assert wp.CRC_TABLE[1] == 0x1021
    assert wp.CRC_TABLE[2] == 0x2042
    assert wp.CRC_TABLE[255] == 0x1EF0


def test_crc_is_not_ccitt_false():
    # CRC-16/CCITT-FALSE of "123456789" is 0x29B1; the WSG's hybrid differs
    assert wp.crc16(b"123456789") != 0x29B1


# --- the manual's example packets ---------------------------------------------------------

MANUAL = [
    ("M1", 0x01, b"", "AA AA AA 01 00 00 E8 10"),
    ("M2", 0x01, h("12 34"), "AA AA AA 01 02 00 12 34 6D 66"),
    ("M3", 0x20, h("00 00"), "AA AA AA 20 02 00 00 00 B3 FD"),
    ("M4", 0x90, h("0E 00"), "AA AA AA 90 02 00 0E 00 FD 02"),
    ("M5", 0x30, h("00 00 00 00 16 43"), "AA AA AA 30 06 00 00 00 00 00 16 43 DC CB"),
    ("M6", 0x21, h("1A 00"), "AA AA AA 21 02 00 1A 00 67 CB"),
    ("M7", 0x21, h("00 00"), "AA AA AA 21 02 00 00 00 28 04"),
]


@pytest.mark.parametrize(("name", "command", "payload", "wire"), MANUAL)
def test_manual_examples_encode_decode(name, command, payload, wire):
    assert wp.encode_packet(command, payload) == h(wire), name
    assert wp.crc16(h(wire)) == 0
    assert spec_crc(h(wire)) == 0
    assert wp.decode_packet(h(wire)) == wp.Packet(command, payload)


def test_manual_replies_carry_their_status():
    assert wp.decode_packet(h(MANUAL[3][3])).status == wp.Status.E_CMD_UNKNOWN
    assert wp.decode_packet(h(MANUAL[5][3])).status == wp.Status.E_CMD_PENDING
    m5 = wp.decode_packet(h(MANUAL[4][3]))
    assert m5.status == wp.Status.E_SUCCESS
    assert wp.unpack_floats(m5.data, 1, "accel") == (150.0,)
    assert wp.encode_response(0x30, 0, struct.pack("<f", 150.0)) == h(MANUAL[4][3])


# --- every request the driver sends, as literal bytes ------------------------------------------

REQUESTS = [
    ("homing", 0x20, wp.homing_payload(0), "AA AA AA 20 01 00 00 8F 83"),
    (
        "move 50 mm at 100 mm/s, stop on block",
        0x21,
        wp.move_payload(50.0, 100.0),
        "AA AA AA 21 09 00 02 00 00 48 42 00 00 C8 42 CD 8F",
    ),
    (
        "move 110 mm at 420 mm/s, clamp on block",
        0x21,
        wp.move_payload(110.0, 420.0, stop_on_block=False),
        "AA AA AA 21 09 00 00 00 00 DC 42 00 00 D2 43 C3 DD",
    ),
    ("stop", 0x22, b"", "AA AA AA 22 00 00 0E 76"),
    ("fast stop", 0x23, b"", "AA AA AA 23 00 00 AC 1C"),
    ("acknowledge", 0x24, wp.ACK_PAYLOAD, "AA AA AA 24 03 00 61 63 6B DC B9"),
    (
        "grasp 0 mm at 50 mm/s",
        0x25,
        wp.grasp_payload(0.0, 50.0),
        "AA AA AA 25 08 00 00 00 00 00 00 00 48 42 17 14",
    ),
    (
        "release to 100 mm at 100 mm/s",
        0x26,
        wp.release_payload(100.0, 100.0),
        "AA AA AA 26 08 00 00 00 C8 42 00 00 C8 42 BD 56",
    ),
    ("set acceleration 150", 0x30, wp.float_payload(150.0), "AA AA AA 30 04 00 00 00 16 43 DE CD"),
    ("get acceleration", 0x31, b"", "AA AA AA 31 00 00 68 A5"),
    ("set force 10 N", 0x32, wp.float_payload(10.0), "AA AA AA 32 04 00 00 00 20 41 E4 32"),
    ("get force limit", 0x33, b"", "AA AA AA 33 00 00 2C 70"),
    ("system state", 0x40, wp.query_payload(), "AA AA AA 40 03 00 00 00 00 F5 70"),
    ("grasping state", 0x41, wp.query_payload(), "AA AA AA 41 03 00 00 00 00 DE 42"),
    ("width", 0x43, wp.query_payload(), "AA AA AA 43 03 00 00 00 00 B8 10"),
    ("speed", 0x44, wp.query_payload(), "AA AA AA 44 03 00 00 00 00 3C D1"),
    ("force", 0x45, wp.query_payload(), "AA AA AA 45 03 00 00 00 00 17 E3"),
    (
        "width, auto update every 100 ms",
        0x43,
        wp.query_payload(auto_update=True, period_ms=100),
        "AA AA AA 43 03 00 01 64 00 16 7E",
    ),
    ("system info", 0x50, b"", "AA AA AA 50 00 00 DB 87"),
    ("system limits", 0x53, b"", "AA AA AA 53 00 00 3D 38"),
    ("announce disconnect", 0x07, b"", "AA AA AA 07 00 00 35 4C"),
]


@pytest.mark.parametrize(("name", "command", "payload", "wire"), REQUESTS)
def test_request_bytes(name, command, payload, wire):
    raw = wp.encode_packet(command, payload)
    assert raw == h(wire), name
    assert spec_crc(raw) == 0


def test_move_flags():
    assert wp.move_payload(1.0, 1.0, relative=True, stop_on_block=False)[0] == 0x01
    assert wp.move_payload(1.0, 1.0, relative=True, stop_on_block=True)[0] == 0x03


def test_homing_direction_checked():
    with pytest.raises(wp.PacketError, match="direction"):
        wp.homing_payload(3)


def test_decode_names_what_is_wrong():
    with pytest.raises(wp.PacketError, match="bad checksum"):
        wp.decode_packet(h("AA AA AA 01 00 00 E8 11"))
    with pytest.raises(wp.PacketError, match="preamble"):
        wp.decode_packet(h("AB AA AA 01 00 00 E8 10"))
    with pytest.raises(wp.PacketError, match="header says 2"):
        wp.decode_packet(h("AA AA AA 01 02 00 12 6D 66"))


def test_system_limits_round_trip():
    limits = wp.SystemLimits()
    assert wp.SystemLimits.decode(limits.encode()) == limits


# --- status codes and their exceptions -------------------------------------------------------


def test_every_failure_status_has_its_own_exception():
    codes = [s for s in wp.Status if s != wp.Status.E_SUCCESS]
    assert len(codes) == 30
    assert set(wp.STATUS_ERRORS) == set(codes)
    assert len(set(wp.STATUS_ERRORS.values())) == 30
    for code, cls in wp.STATUS_ERRORS.items():
        exc = wp.status_error(code, "WSG 50 at 10.0.0.1:1000", wp.Command.MOVE)
        assert type(exc) is cls
        assert issubclass(cls, DeviceFault)
        assert exc.status == code
        assert exc.device == "WSG 50 at 10.0.0.1:1000"
        assert code.name in exc.cause
        assert "MOVE (0x21)" in exc.cause


def test_a_status_error_says_what_its_code_means():
    exc = wp.status_error(wp.Status.E_AXIS_BLOCKED, "dev", wp.Command.MOVE, "system flags: none")
    assert exc.cause == (
        "MOVE (0x21) answered E_AXIS_BLOCKED (29): the fingers were blocked during a move;"
        " system flags: none"
    )


def test_each_status_exception_is_importable_by_the_name_of_its_code():
    for cls in wp.STATUS_ERRORS.values():
        assert getattr(wp, cls.__name__) is cls
    assert wp.STATUS_ERRORS[wp.Status.E_IO_ERROR] is wp.WsgIoError
    assert wp.STATUS_ERRORS[wp.Status.E_NOT_ENOUGH_PARAMS] is wp.WsgNotEnoughParams


def test_unknown_status_gets_the_base_exception():
    exc = wp.status_error(99, "dev", 0x21)
    assert type(exc) is wp.WsgStatusError
    assert "unknown status 99" in str(exc)


def test_flag_names():
    assert wp.flag_names(0) == "none"
    flags = wp.SystemFlag.REFERENCED | wp.SystemFlag.FAST_STOP
    assert wp.flag_names(flags) == "REFERENCED|FAST_STOP"


# --- the stream parser ----------------------------------------------------------------------


def test_parser_split_packet_byte_by_byte():
    parser = wp.PacketParser()
    raw = h(MANUAL[4][3])
    out = []
    for i in range(len(raw)):
        out += parser.feed(raw[i : i + 1])
    assert out == [wp.decode_packet(raw)]
    assert parser.dropped_bytes == 0
    assert parser.pending == 0


def test_parser_preamble_inside_payload():
    payload = h("AA AA AA 01 00 00 E8 10")  # a whole packet as payload
    raw = wp.encode_packet(0x06, payload)
    parser = wp.PacketParser()
    assert parser.feed(raw) == [wp.Packet(0x06, payload)]
    # out of step: one stray AA makes a false preamble (length 0x0806, implausible), resync
    parser = wp.PacketParser(max_payload=64)
    got = parser.feed(b"\xaa" + raw)
    assert got == [wp.Packet(0x06, payload)]
    assert parser.dropped_bytes == 1


def test_parser_bad_checksum_drops_and_resyncs():
    good = wp.encode_packet(0x43, h("00 00 00 00 48 42"))
    bad = bytearray(wp.encode_packet(0x41, h("00 00 04")))
    bad[-1] ^= 0x01
    parser = wp.PacketParser()
    assert parser.feed(bytes(bad) + good) == [wp.decode_packet(good)]
    dropped = parser.take_discarded()
    assert [d.reason for d in dropped] == ["bad checksum"]
    assert b"".join(d.data for d in dropped) == bytes(bad)


def test_parser_implausible_length():
    parser = wp.PacketParser(max_payload=16)
    good = wp.encode_packet(0x01)
    assert parser.feed(h("AA AA AA 05 FF FF") + good) == [wp.decode_packet(good)]
    assert parser.take_discarded()[0].reason == "implausible length"


def test_parser_flush():
    parser = wp.PacketParser()
    assert parser.feed(h("AA AA AA 01 05 00 01")) == []
    parser.flush()
    assert parser.pending == 0
    assert parser.dropped_bytes == 7


packets = st.builds(wp.Packet, st.integers(0, 255), st.binary(max_size=40).map(bytes))
# garbage with AA bytes made likely, so false preambles are common
garbage = st.lists(st.sampled_from([0xAA, 0x00, 0x01, 0x55, 0xFF, 0x13]), max_size=12).map(bytes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(st.tuples(garbage, packets), max_size=6),
    tail=garbage,
    cuts=st.lists(st.integers(0, 400), max_size=10),
)
def test_parser_recovers_every_packet(items, tail, cuts):
    """Garbage between packets, random splits: every packet comes out, in order.

    Every byte is accounted for: accepted, dropped or pending.
    """
    stream = b"".join(g + p.encode() for g, p in items) + tail
    bounds = sorted({c for c in cuts if 0 < c < len(stream)} | {0, len(stream)})
    parser = wp.PacketParser(max_payload=64)
    out: list[wp.Packet] = []
    for a, b in itertools.pairwise(bounds):
        out += parser.feed(stream[a:b])
    # a false header may still be waiting for bytes: feed filler that cannot complete it
    out += parser.feed(b"\x00" * (64 + 8))
    assert out == [p for _, p in items]
    accepted = sum(len(p.encode()) for p in out)
    assert accepted + parser.dropped_bytes + parser.pending == len(stream) + 72


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(packets, min_size=1, max_size=5),
    victim=st.integers(0, 4),
    bit=st.integers(0, 7),
    where=st.integers(3, 200),
)
def test_parser_skips_a_corrupted_packet(items, victim, bit, where):
    """A bit flipped anywhere after the preamble loses that packet only."""
    victim %= len(items)
    raws = [bytearray(p.encode()) for p in items]
    pos = 3 + where % (len(raws[victim]) - 3)
    raws[victim][pos] ^= 1 << bit
    parser = wp.PacketParser(max_payload=64)
    out = parser.feed(b"".join(bytes(r) for r in raws) + b"\x00" * 72)
    expected = [p for i, p in enumerate(items) if i != victim]
    assert out == expected


@given(packet=packets)
def test_packets_round_trip(packet):
    raw = packet.encode()
    assert wp.crc16(raw) == 0
    assert wp.decode_packet(raw) == packet
