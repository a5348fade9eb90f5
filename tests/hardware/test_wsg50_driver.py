"""The WSG 50 driver against the loopback emulator: normal use, exact bytes, every fault."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from grasp_env.cell import Gripper
from grasp_env.hardware import wsg50_protocol as wp
from grasp_env.hardware.driver_state import DriverState
from grasp_env.hardware.faults import (
    DeviceDisconnected,
    DeviceProtocolError,
    DeviceTimeout,
    FaultLatched,
)
from grasp_env.hardware.wsg50 import WSG50, WSG50Config
from sim.emulators.wsg50_server import WSG50Emulator

Cmd = wp.Command


def config_for(emulator: WSG50Emulator, **kw) -> WSG50Config:
    host, port = emulator.address
    base = dict(
        host=host,
        port=port,
        connect_timeout=0.5,
        request_timeout=0.2,
        motion_margin=0.3,
        speed=0.4,
        grasp_speed=0.4,
    )
    base.update(kw)
    return WSG50Config(**base)


@pytest.fixture
def emulator(gripper_backend):
    with WSG50Emulator(gripper_backend) as emu:
        yield emu


@pytest.fixture
def gripper(emulator):
    driver = WSG50(config_for(emulator))
    driver.connect()
    yield driver
    driver.close()


def requests(emulator: WSG50Emulator, start: int = 0) -> list[tuple[int, bytes]]:
    return [(p.command, p.payload) for p in emulator.received[start:]]


def test_implements_gripper(gripper):
    assert isinstance(gripper, Gripper)
    assert gripper.state_name is DriverState.IDLE


def test_connect_reads_limits_and_state(emulator, gripper):
    assert requests(emulator) == [(Cmd.GET_SYSTEM_LIMITS, b""), (Cmd.GET_SYSTEM_STATE, b"\0\0\0")]
    assert gripper.limits == wp.SystemLimits()


def test_grasp_sequence_in_si_units_and_exact_requests(emulator, gripper, gripper_backend):
    start = len(emulator.received)
    gripper.move(0.05)
    assert gripper_backend.width == pytest.approx(0.05)
    state = gripper.grasp(10.0)
    assert state.holding
    assert state.width == pytest.approx(0.03, abs=1e-6)
    assert gripper_backend.calls[-1] == ("grasp", 10.0)
    held = gripper.state()
    assert held.holding
    gripper.release(0.1)
    assert gripper_backend.width == pytest.approx(0.1)
    assert not gripper.state().holding
    q = wp.query_payload()
    assert requests(emulator, start) == [
        (Cmd.MOVE, wp.move_payload(50.0, 400.0)),
        (Cmd.SET_FORCE_LIMIT, wp.float_payload(10.0)),
        (Cmd.GRASP, wp.grasp_payload(0.0, 400.0)),
        (Cmd.GET_GRASPING_STATE, q),
        (Cmd.GET_WIDTH, q),
        (Cmd.GET_GRASPING_STATE, q),
        (Cmd.GET_WIDTH, q),
        (Cmd.GET_GRASPING_STATE, q),
        (Cmd.RELEASE, wp.release_payload(100.0, 400.0)),
        (Cmd.GET_GRASPING_STATE, q),
        (Cmd.GET_WIDTH, q),
    ]


def test_grasp_without_part_is_an_outcome_not_a_fault(emulator, gripper, gripper_backend):
    gripper_backend.part_width = None
    state = gripper.grasp(20.0)
    assert not state.holding
    assert state.width == pytest.approx(0.0)
    assert gripper.grasping_state() == wp.GraspingState.NO_PART_FOUND
    assert gripper.fault is None
    gripper.release(0.08)  # RELEASE is allowed after NO PART FOUND
    assert gripper_backend.width == pytest.approx(0.08)


def test_values_are_clamped_to_the_gripper_limits(emulator, gripper, gripper_backend):
    gripper.move(0.5)
    assert gripper_backend.width == pytest.approx(0.11)
    gripper.set_force_limit(500.0)
    assert gripper.force_limit() == pytest.approx(80.0)
    gripper.set_force_limit(1.0)
    assert gripper.force_limit() == pytest.approx(5.0)
    gripper.set_acceleration(0.15)
    assert gripper.acceleration() == pytest.approx(0.15)
    assert requests(emulator)[-2] == (Cmd.SET_ACCELERATION, wp.float_payload(150.0))


def test_queries(gripper, gripper_backend):
    gripper_backend.width = 0.042
    assert gripper.width() == pytest.approx(0.042, abs=1e-6)
    assert gripper.speed() == 0.0
    assert gripper.force() == 0.0
    assert gripper.system_state() & wp.SystemFlag.REFERENCED
    assert gripper.grasping_state() == wp.GraspingState.IDLE


def test_two_phase_reply_with_motion_time(gripper_backend):
    with WSG50Emulator(gripper_backend, motion_delay=0.1) as emu:
        with WSG50(config_for(emu)) as driver:
            t0 = time.monotonic()
            driver.move(0.02)
            assert time.monotonic() - t0 >= 0.1
            assert driver.updates == {}
    assert gripper_backend.width == pytest.approx(0.02)


def test_homing(emulator, gripper, gripper_backend):
    gripper_backend.width = 0.01
    gripper.home()
    assert gripper_backend.width == pytest.approx(0.11)
    assert requests(emulator)[-1] == (Cmd.HOMING, b"\x00")


def pushed_width_mm(gripper: WSG50) -> float | None:
    """The opening in the newest automatic GET_WIDTH update the driver kept, mm (None: none)."""
    update = gripper.updates.get(Cmd.GET_WIDTH)
    return None if update is None else wp.unpack_floats(update.data, 1, "width")[0]


def test_automatic_updates_are_kept_apart_from_the_replies(emulator, gripper, wait_until):
    gripper.start_updates(Cmd.GET_WIDTH, 0.01)
    gripper.move(0.06)
    # every query below reads the pushed packets that came before its reply
    wait_until(
        lambda: (
            gripper.grasping_state() == wp.GraspingState.IDLE
            and pushed_width_mm(gripper) == pytest.approx(60.0, abs=1e-3)
        ),
        2.0,
        "an automatic GET_WIDTH update showing the 60 mm the fingers moved to",
    )
    gripper.stop_updates(Cmd.GET_WIDTH)
    assert gripper.updates[Cmd.GET_WIDTH].status == wp.Status.E_SUCCESS
    assert gripper.width() == pytest.approx(0.06)


def test_stop_aborts_a_running_motion(gripper_backend, wait_until):
    with WSG50Emulator(gripper_backend, motion_delay=1.0) as emu:
        driver = WSG50(config_for(emu, speed=0.005, motion_margin=1.0))
        driver.connect()
        errors: list[BaseException] = []

        def move() -> None:
            try:
                driver.move(0.02)
            except BaseException as exc:
                errors.append(exc)

        mover = threading.Thread(target=move)
        mover.start()
        wait_until(lambda: Cmd.MOVE in [p.command for p in emu.received], 1.0, "the MOVE")
        driver.stop()
        mover.join(2.0)
        assert isinstance(errors[0], wp.WsgCmdAborted)
        assert "E_CMD_ABORTED" in errors[0].cause
        assert "AXIS_STOPPED" in errors[0].cause
        assert gripper_backend.width == pytest.approx(0.11)  # never moved
        assert Cmd.STOP in [p.command for p in emu.received]
        driver.close()


# --- faults -------------------------------------------------------------------------------


def test_connection_refused_fails_fast_naming_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    driver = WSG50(WSG50Config(host="127.0.0.1", port=port, connect_timeout=0.5))
    t0 = time.monotonic()
    with pytest.raises(DeviceDisconnected, match=f"127.0.0.1:{port}") as info:
        driver.connect()
    assert time.monotonic() - t0 < 0.5
    assert info.value.device == f"WSG 50 at 127.0.0.1:{port}"


def test_no_reply_times_out_fast_stops_and_latches(emulator, gripper, wait_until):
    emulator.silence(Cmd.GET_WIDTH)
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout) as info:
        gripper.width()
    elapsed = time.monotonic() - t0
    assert 0.2 <= elapsed < 0.4
    assert info.value.device == gripper.device
    assert "GET_WIDTH (0x43)" in info.value.cause
    assert "FAST STOP" in info.value.cause
    assert info.value.history  # the flight record rides along
    wait_until(
        lambda: emulator.flags & wp.SystemFlag.FAST_STOP, 1.0, "the driver's FAST STOP to land"
    )
    assert emulator.received[-1].command == Cmd.FAST_STOP
    assert gripper.state_name is DriverState.FAULTED
    with pytest.raises(FaultLatched, match="acknowledge_fault"):
        gripper.move(0.05)
    # a person reconnects and acknowledges; reconnecting alone does not clear the fault
    gripper.reconnect()
    with pytest.raises(FaultLatched):
        gripper.move(0.05)
    gripper.acknowledge_fault()
    gripper.move(0.05)
    assert emulator.received[-1].command == Cmd.MOVE


def test_stuck_motion_times_out_within_its_deadline(emulator, gripper, wait_until):
    emulator.silence(Cmd.MOVE, phase="final")
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout, match="MOVE"):
        gripper.move(0.02)
    deadline = 110.0 / 400.0 + 0.3
    assert deadline <= time.monotonic() - t0 < deadline + 0.2
    wait_until(
        lambda: emulator.flags & wp.SystemFlag.FAST_STOP, 1.0, "the driver's FAST STOP to land"
    )


def test_dropped_connection(emulator, gripper):
    emulator.drop_connection(Cmd.GRASP)
    with pytest.raises(DeviceDisconnected) as info:
        gripper.grasp(10.0)
    assert info.value.device == gripper.device
    assert "connection" in info.value.cause
    with pytest.raises(FaultLatched):
        gripper.move(0.05)


def test_fast_stop_from_outside_refuses_motion_until_acknowledged(emulator, gripper):
    emulator.press_fast_stop()
    with pytest.raises(wp.WsgAccessDenied) as info:
        gripper.move(0.05)
    assert "FAST_STOP" in info.value.cause
    assert info.value.device == gripper.device
    with pytest.raises(FaultLatched):
        gripper.move(0.05)
    assert emulator.received[-1].command != Cmd.ACK_FAULT  # never acknowledged by itself
    gripper.acknowledge_fault()
    assert requests(emulator)[-2] == (Cmd.ACK_FAULT, b"ack")
    gripper.move(0.05)


def test_fault_present_at_connect_is_latched(emulator):
    emulator.press_fast_stop()
    with WSG50(config_for(emulator)) as driver:
        assert driver.fault is not None
        assert "FAST_STOP" in driver.fault
        with pytest.raises(FaultLatched):
            driver.move(0.05)


def test_driver_fast_stop(emulator, gripper):
    gripper.fast_stop()
    assert emulator.flags & wp.SystemFlag.FAST_STOP
    with pytest.raises(FaultLatched):
        gripper.grasp(10.0)


def test_part_lost_while_holding(emulator, gripper, gripper_backend):
    assert gripper.grasp(10.0).holding
    emulator.lose_part()
    state = gripper.state()
    assert not state.holding
    assert gripper.grasping_state() == wp.GraspingState.PART_LOST


def test_part_slipping_in_the_backend_is_seen(emulator, gripper, gripper_backend):
    assert gripper.grasp(10.0).holding
    gripper_backend.lose_part()
    assert not gripper.state().holding
    assert gripper.grasping_state() == wp.GraspingState.PART_LOST


def test_reply_with_bad_checksum(emulator, gripper):
    emulator.corrupt_reply(Cmd.GET_WIDTH)
    t0 = time.monotonic()
    with pytest.raises(DeviceProtocolError) as info:
        gripper.width()
    assert time.monotonic() - t0 < 0.4
    assert "bad checksum" in info.value.cause
    assert "GET_WIDTH" in info.value.cause
    assert gripper.state_name is DriverState.FAULTED


def test_corrupt_pending_reply_is_skipped(emulator, gripper, gripper_backend):
    emulator.corrupt_reply(Cmd.MOVE)  # the E_CMD_PENDING one; the final reply is good
    gripper.move(0.07)
    assert gripper_backend.width == pytest.approx(0.07)
    assert gripper.fault is None


def test_axis_blocked(emulator, gripper):
    emulator.block_next_motion()
    with pytest.raises(wp.WsgAxisBlocked, match="E_AXIS_BLOCKED"):
        gripper.move(0.09)
    assert gripper.state_name is DriverState.FAULTED


def test_request_with_bad_crc_gets_checksum_error(emulator, gripper):
    raw = bytearray(wp.encode_packet(Cmd.GET_WIDTH, wp.query_payload()))
    raw[-1] ^= 0xFF
    with socket.create_connection(emulator.address, timeout=0.5) as raw_client:
        gripper.close()  # the emulator serves one client at a time
        raw_client.sendall(bytes(raw))
        reply = wp.PacketParser().feed(raw_client.recv(64))[0]
    assert reply.command == Cmd.GET_WIDTH
    assert reply.status == wp.Status.E_CHECKSUM_ERROR


def test_close_announces_the_disconnect_and_a_second_close_is_harmless(
    gripper, emulator, wait_until
):
    gripper.close()
    gripper.close()
    assert gripper.state_name is DriverState.CLOSED
    wait_until(
        lambda: emulator.received[-1].command == Cmd.DISCONNECT, 1.0, "the DISCONNECT (0x07)"
    )
