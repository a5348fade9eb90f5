"""The KUKA iiwa over KST: exact lines, A-B-C frames, the guard, the approach, and faults."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grasp_env.cell import Robot
from grasp_env.errors import UnreachablePose
from grasp_env.geometry import Pose
from grasp_env.hardware import iiwa_protocol as kst
from grasp_env.hardware.driver_state import DriverState
from grasp_env.hardware.faults import (
    DeviceDisconnected,
    DeviceFault,
    DeviceProtocolError,
    DeviceTimeout,
    FaultLatched,
    SpeedLimitExceeded,
)
from grasp_env.hardware.iiwa import Iiwa, IiwaConfig
from grasp_env.hardware.workspace import MotionLimits, WorkspaceBox
from sim.emulators.kst_server import KSTEmulator

TOOL = (0.0, 0.0, 0.2, 0.0, 0.0, 0.0)

# --- the line protocol -------------------------------------------------------------------


def test_reference_example_lines():
    frame = (500.0, 0.0, 300.0, 3.14159, 0.0, 3.14159)
    assert kst.cartesian_line(frame) == "cArtixanPosition_500.0_0.0_300.0_3.14159_0.0_3.14159_"
    windows = [kst.TorqueWindow(1, -5.0, 5.0), kst.TorqueWindow(3, -5.0, 5.0)]
    assert kst.guarded_line(windows) == "doPTP!inCS_1_-5.0_5.0_3_-5.0_5.0"
    assert (kst.DO_LIN + "\n").encode("ascii") == bytes.fromhex("64 6F 50 54 50 69 6E 43 53 0A")
    assert (kst.EEF_POS + "\n").encode("ascii") == bytes.fromhex("45 65 66 5F 70 6F 73 0A")
    # the reference writes jRelVel_100_; the server's Double.parseDouble reads both the same
    assert kst.velocity_line(100) == "jRelVel_100.0_"
    assert kst.parse_values(kst.velocity_line(100)[len("jRelVel_") :]) == (100.0,)


def test_other_lines():
    assert kst.tool_line((0, 0, 200, 0, 0, 0)) == "TFtrans_0.0_0.0_200.0_0.0_0.0_0.0"
    assert kst.joints_line((0, 0.5, 0, -1, 0, 1.2, 0)) == "jp_0.0_0.5_0.0_-1.0_0.0_1.2_0.0_"
    assert kst.cartesian_line((0, 0, 4, 0, 0, 0)) == "cArtixanPosition_0.0_0.0_4.0_0.0_0.0_0.0_"
    assert kst.number(-0.0) == "0.0"
    with pytest.raises(ValueError, match="finite"):
        kst.number(float("nan"))


def test_parse_replies():
    values = kst.parse_values("500.0_0.0_300.0_3.14159_0.0_3.14159_", 6)
    assert values == (500.0, 0.0, 300.0, 3.14159, 0.0, 3.14159)
    with pytest.raises(ValueError, match="expected 7"):
        kst.parse_values("1_2_3_", 7)
    windows = kst.parse_guarded("doPTP!inCS_1_-5.0_5.0_3_-5.0_5.0")
    assert windows == [kst.TorqueWindow(1, -5.0, 5.0), kst.TorqueWindow(3, -5.0, 5.0)]


def test_tool_down_is_a_about_z_and_c_pi():
    a, b, c = kst.abc_from_rotation(Pose.tool_down(0.5, 0.0, 0.3, 0.4).rotation)
    assert a == pytest.approx(0.4)
    assert b == pytest.approx(0.0)
    assert abs(c) == pytest.approx(np.pi)


angles = st.floats(-3.1, 3.1)


@settings(max_examples=100, deadline=None)
@given(a=angles, b=st.floats(-1.5, 1.5), c=angles)
def test_abc_round_trip(a, b, c):
    r = kst.rotation_from_abc(a, b, c)
    assert np.allclose(kst.rotation_from_abc(*kst.abc_from_rotation(r)), r, atol=1e-9)


def test_frame_round_trip_in_mm():
    pose = Pose.tool_down(0.5, -0.1, 0.25, 1.0)
    frame = kst.pose_to_frame(pose)
    assert frame[:3] == pytest.approx((500.0, -100.0, 250.0))
    back = kst.frame_to_pose(frame)
    assert np.allclose(back.matrix, pose.matrix)


# --- the driver against the emulator ----------------------------------------------------------


@pytest.fixture
def emulator(arm_backend):
    with KSTEmulator(arm_backend, tool=Pose(np.array([0.0, 0.0, 0.2]), np.eye(3))) as emu:
        yield emu


def config_for(emulator: KSTEmulator, **kw) -> IiwaConfig:
    host, port = emulator.address
    base = dict(
        host=host,
        port=port,
        connect_timeout=0.5,
        request_timeout=0.2,
        motion_margin=0.2,
        tool=TOOL,
    )
    base.update(kw)
    return IiwaConfig(**base)


@pytest.fixture
def robot(emulator):
    driver = Iiwa(config_for(emulator))
    driver.connect()
    yield driver
    driver.close()


def sent_since(emulator: KSTEmulator, start: int) -> list[str]:
    return emulator.received[start:]


def arrived_since(robot: Iiwa, emulator: KSTEmulator, start: int) -> list[str]:
    """Every line the emulator got since ``start``, none still in flight.

    The reply to one more pose query, sent last on the same connection, proves that every
    earlier line has arrived.
    """
    robot.pose()
    lines = sent_since(emulator, start)
    assert lines[-1] == kst.EEF_POS
    return lines[:-1]


def test_implements_robot(robot, emulator):
    assert isinstance(robot, Robot)
    assert emulator.received == [kst.EEF_POS]
    assert robot.state_name is DriverState.IDLE


def test_pose_reads_back_the_tcp(robot, arm_backend):
    assert np.allclose(robot.pose().matrix, arm_backend.pose().matrix)
    flange = robot.flange_pose()
    assert flange.position[2] == pytest.approx(arm_backend.pose().position[2] + 0.2)


def test_move_linear_sends_the_flange_frame_in_mm(robot, emulator, arm_backend):
    start = len(emulator.received)
    target = Pose.tool_down(0.55, 0.1, 0.3, 0.5)
    robot.move_linear(target)
    flange = target @ Pose(np.array([0.0, 0.0, 0.2]), np.eye(3)).inverse()
    assert sent_since(emulator, start) == [
        kst.EEF_POS,
        "jRelVel_100.0_",
        kst.cartesian_line(kst.pose_to_frame(flange)),
        kst.DO_LIN,
    ]
    assert flange.position[2] == pytest.approx(0.5)  # tool points down: flange 0.2 m above
    assert arm_backend.calls[-1][0] == "lin"
    assert np.allclose(arm_backend.pose().matrix, target.matrix)
    assert np.allclose(robot.pose().matrix, target.matrix)


def test_move_ptp_uses_the_ptp_speed(robot, emulator):
    robot.move_ptp(Pose.tool_down(0.5, 0.0, 0.35, 0.0))
    assert "jRelVel_200.0_" in emulator.received


def test_approach_stops_on_contact(robot, emulator, arm_backend):
    start = len(emulator.received)
    result = robot.approach(Pose.tool_down(0.5, 0.0, 0.02, 0.0), contact_force=8.0)
    assert result.contact
    assert result.pose.position[2] == pytest.approx(0.05)
    lines = sent_since(emulator, start)
    assert lines[:3] == [kst.TORQUES_EXTERNAL, kst.EEF_POS, "jRelVel_30.0_"]
    # windows of +-F*lever around the biases (2.0, -1.5, 0.3) on A2, A4, A6, at least 1 Nm
    assert lines[4] == "doPTP!inCS_1_-2.0_6.0_3_-3.9_0.9_5_-0.7_1.3"
    assert emulator.contact_forces == [pytest.approx(8.0)]


def test_approach_without_contact_reaches_the_target(robot, arm_backend):
    arm_backend.contact_z = None
    target = Pose.tool_down(0.5, 0.0, 0.1, 0.0)
    result = robot.approach(target, contact_force=8.0)
    assert not result.contact
    assert np.allclose(result.pose.matrix, target.matrix)


def test_relative_retract(robot, emulator, arm_backend):
    robot.approach(Pose.tool_down(0.5, 0.0, 0.02, 0.0), contact_force=8.0)
    start = len(emulator.received)
    robot.move_relative((0.0, 0.0, 0.004))
    assert sent_since(emulator, start)[-2:] == [
        "cArtixanPosition_0.0_0.0_4.0_0.0_0.0_0.0_",
        kst.DO_LIN_REL_BASE,
    ]
    assert arm_backend.pose().position[2] == pytest.approx(0.054)


# --- the guard: nothing is sent -------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "match"),
    [
        (
            Pose.tool_down(1.2, 0.0, 0.3, 0.0),
            r"\(1.2000, 0.0000, 0.3000\) m is outside the workspace box x \[0.250, 0.850\]",
        ),
        (Pose.tool_down(0.5, 0.0, -0.5, 0.0), "outside the workspace box"),
        (Pose.from_xyz_yaw(0.5, 0.0, 0.3), "away from straight down"),
        (Pose(np.array([0.5, np.nan, 0.3]), np.eye(3)), "not a finite pose"),
    ],
)
def test_guard_refuses_before_sending(robot, emulator, target, match):
    before = len(emulator.received)
    for move in (robot.move_linear, robot.move_ptp, lambda t: robot.approach(t, 8.0)):
        with pytest.raises(UnreachablePose, match=match):
            move(target)
    assert arrived_since(robot, emulator, before) == []


def test_speed_and_force_limits_refused_before_sending(robot, emulator):
    before = len(emulator.received)
    ok = Pose.tool_down(0.5, 0.0, 0.3, 0.0)
    with pytest.raises(SpeedLimitExceeded, match=r"0\.5 m/s"):
        robot.move_linear(ok, speed=0.5)
    with pytest.raises(SpeedLimitExceeded, match="contact force"):
        robot.approach(ok, contact_force=500.0)
    with pytest.raises(UnreachablePose, match="joint A2"):
        robot.move_joints((0.0, 2.1, 0.0, 0.0, 0.0, 0.0, 0.0))
    with pytest.raises(SpeedLimitExceeded, match="joint velocity"):
        robot.move_joints((0.0,) * 7, velocity=0.9)
    assert arrived_since(robot, emulator, before) == []


def test_guard_refuses_a_relative_target_outside_the_box(robot, emulator):
    before = len(emulator.received)
    with pytest.raises(UnreachablePose, match="relative target"):
        robot.move_relative((0.0, 0.0, 1.0))
    assert emulator.received[before:] == [kst.EEF_POS]  # read the pose, sent no motion


def test_config_rejects_speeds_over_the_limit():
    with pytest.raises(ValueError, match=r"TCP speed"):
        IiwaConfig(lin_speed=1.0)
    with pytest.raises(ValueError, match="lower < upper"):
        WorkspaceBox((0.0, 0.0, 0.0), (0.0, 1.0, 1.0))
    assert IiwaConfig(limits=MotionLimits(max_cartesian_speed=1.0), lin_speed=1.0)


# --- faults ----------------------------------------------------------------------------------


def test_connection_refused_fails_fast_naming_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(DeviceDisconnected, match=f"127.0.0.1:{port}"):
        Iiwa(IiwaConfig(host="127.0.0.1", port=port, connect_timeout=0.5)).connect()
    assert time.monotonic() - t0 < 0.5


def test_getter_timeout_latches_and_closes(robot, emulator):
    emulator.silence(kst.EEF_POS)
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout) as info:
        robot.pose()
    assert 0.2 <= time.monotonic() - t0 < 0.4
    assert info.value.device == robot.device
    assert "'Eef_pos'" in info.value.cause
    assert "no abort" in info.value.cause
    assert robot.state_name is DriverState.FAULTED
    with pytest.raises(FaultLatched, match="acknowledge_fault"):
        robot.move_linear(Pose.tool_down(0.5, 0.0, 0.3, 0.0))
    robot.reconnect()
    with pytest.raises(FaultLatched):
        robot.move_linear(Pose.tool_down(0.5, 0.0, 0.3, 0.0))
    robot.acknowledge_fault()
    robot.move_linear(Pose.tool_down(0.5, 0.0, 0.3, 0.0))


def test_motion_that_never_ends_times_out_within_its_deadline(robot, emulator):
    emulator.silence(kst.DO_LIN, phase="final")
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout, match="doPTPinCS"):
        robot.move_linear(Pose.tool_down(0.5, 0.0, 0.39, 0.0))  # 0.01 m at 0.1 m/s
    assert 0.3 <= time.monotonic() - t0 < 0.5


def test_dropped_connection(robot, emulator):
    emulator.drop_connection(kst.DO_LIN)
    with pytest.raises(DeviceDisconnected) as info:
        robot.move_linear(Pose.tool_down(0.5, 0.0, 0.3, 0.0))
    assert info.value.device == robot.device
    assert robot.fault is not None


def test_collision_during_a_motion(robot, emulator, arm_backend):
    emulator.collide_next_motion()
    with pytest.raises(DeviceFault, match="'nak'") as info:
        robot.move_linear(Pose.tool_down(0.5, 0.05, 0.3, 0.0))
    assert "collision" in info.value.cause
    assert info.value.device == robot.device
    assert arm_backend.pose().position[1] == pytest.approx(0.0)
    with pytest.raises(FaultLatched):
        robot.move_linear(Pose.tool_down(0.5, 0.0, 0.3, 0.0))


def test_backend_failure_is_nak(robot, arm_backend):
    arm_backend.collide_next = True
    with pytest.raises(DeviceFault, match="nak"):
        robot.move_ptp(Pose.tool_down(0.5, 0.0, 0.3, 0.0))


def test_garbled_reply(robot, emulator):
    emulator.garble_reply(kst.EEF_POS)
    with pytest.raises(DeviceProtocolError, match="garbled"):
        robot.pose()
    assert robot.state_name is DriverState.FAULTED


def test_close_sends_end_and_a_second_close_is_harmless(robot, emulator, wait_until):
    robot.close()
    robot.close()
    wait_until(lambda: emulator.received[-1] == kst.END, 1.0, f"the {kst.END!r} line")
