"""RealBinGraspEnv end to end against the emulators, with kinematic fakes behind them."""

from __future__ import annotations

import socket
import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from grasp_env.cell import Cell
from grasp_env.errors import ConfigError
from grasp_env.factory import load_cell_config
from grasp_env.geometry import Pose
from grasp_env.hardware import iiwa_protocol as kst
from grasp_env.hardware import wsg50_protocol as wp
from grasp_env.hardware.faults import DeviceDisconnected, DeviceTimeout, FaultLatched
from grasp_env.real_env import RealBinGraspEnv, RealCell, RealCellConfig, with_addresses
from sim.emulators.harness import EmulatedDevices, tool_pose
from sim.emulators.synthetic_scene import Box, FloorAndBoxes

TOOL = tool_pose((0.0, 0.0, 0.2, 0.0, 0.0, 0.0))
HAND_EYE = Pose(np.array([0.06, 0.0, 0.05]), np.eye(3))


@pytest.fixture
def devices(fakes):
    scene = FloorAndBoxes([Box((0.55, 0.17), 0.03, 0.05), Box((0.52, 0.20), 0.02, 0.03)])
    arm = fakes.Arm(Pose.tool_down(0.55, 0.0, 0.4, 0.0), contact_z=None)
    gripper = fakes.Gripper(part_width=0.03)
    with EmulatedDevices.start(gripper, arm, scene, TOOL, HAND_EYE, shape=(200, 260)) as dev:
        dev.arm, dev.gripper = arm, gripper
        yield dev


def fast(config: RealCellConfig) -> RealCellConfig:
    """Short deadlines for tests."""
    import dataclasses

    robot = dataclasses.replace(config.robot, request_timeout=0.3, motion_margin=0.3)
    gripper = dataclasses.replace(
        config.gripper, request_timeout=0.3, motion_margin=0.3, speed=0.4, grasp_speed=0.4
    )
    return dataclasses.replace(config, robot=robot, gripper=gripper)


@pytest.fixture
def env(devices):
    environment = RealBinGraspEnv(fast(devices.config()), nxlib=devices.nxlib)
    yield environment
    environment.close()


def test_configs_load_and_reject_unknown_keys(tmp_path):
    real = load_cell_config()
    assert real.gripper.port == 1000
    assert real.robot.port == 30001
    assert real.camera.hand_eye is None
    emulated = load_cell_config("cell_emulated.yaml")
    assert emulated.robot.host == "127.0.0.1"
    bad = tmp_path / "bad.yaml"
    bad.write_text("robot:\n  hots: 1.2.3.4\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['hots'\]"):
        load_cell_config(bad)
    with pytest.raises(ConfigError, match="no cell config"):
        load_cell_config(tmp_path / "missing.yaml")
    moved = with_addresses(real, robot=("10.0.0.2", 1), gripper=("10.0.0.3", 2))
    assert (moved.robot.host, moved.gripper.port) == ("10.0.0.2", 2)


def test_one_grasp_files_an_object(env, devices):
    assert isinstance(env.cell, Cell)
    obs, info = env.reset(seed=1)
    assert obs["height"].shape == (110, 110)
    assert obs["valid"].mean() > 0.4
    assert obs["height"].max() == pytest.approx(0.05, abs=1e-3)
    action = np.array([0.0, 0.0, 0.0, 0.05], dtype=np.float32)  # over the box in bin 0
    obs, reward, terminated, truncated, info = env.step(action)
    assert reward == 1.0
    assert terminated
    assert not truncated
    assert info["gripper_width"] == pytest.approx(0.03, abs=1e-6)
    assert info["grasped_object"] is None
    lines = devices.kst.received
    assert any(line.startswith("doPTP!inCS_1_") for line in lines)
    requests = [p.command for p in devices.wsg.received]
    assert wp.Command.GRASP in requests
    assert wp.Command.RELEASE in requests


class SteppingClock:
    """A clock that advances one second per reading, so cycle times repeat exactly."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.mark.filterwarnings("ignore:.*symmetric and normalized")
def test_passes_gymnasium_check_env(devices):
    env = RealBinGraspEnv(fast(devices.config()), nxlib=devices.nxlib, clock=SteppingClock())
    try:
        check_env(env, skip_render_check=True)
    finally:
        env.close()


def test_registered_and_made_by_id(devices):
    env = gym.make("RealBinGrasp-v0", cell_config=fast(devices.config()), nxlib=devices.nxlib)
    try:
        env.reset(seed=0)
        _, reward, *_ = env.step(np.array([0.0, 0.0, 0.3, 0.06], dtype=np.float32))
        assert reward == 1.0
    finally:
        env.close()


def test_device_fault_halts_the_cell_until_a_person_recovers_it(env, devices, wait_until):
    env.reset(seed=0)
    devices.wsg.silence(wp.Command.GRASP, phase="final")
    with pytest.raises(DeviceTimeout) as info:
        env.step(np.array([0.0, 0.0, 0.0, 0.05], dtype=np.float32))
    assert info.value.device.startswith("WSG 50 at 127.0.0.1:")
    assert "GRASP" in info.value.cause
    wait_until(  # the driver's best-effort FAST STOP
        lambda: devices.wsg.received[-1].command == wp.Command.FAST_STOP,
        1.0,
        "the FAST STOP after the timeout",
    )
    kst_before = len(devices.kst.received)
    wsg_before = len(devices.wsg.received)
    with pytest.raises(FaultLatched, match="WSG 50") as halted:
        env.reset()
    assert "recover()" in halted.value.cause
    with pytest.raises(FaultLatched):
        env.step(np.array([0.0, 0.0, 0.0, 0.05], dtype=np.float32))
    # the arm's own pose query, answered, proves that no earlier line is still in flight
    env.cell.iiwa.flange_pose()
    assert devices.kst.received[kst_before:] == [kst.EEF_POS]  # the arm got no command at all
    # the gripper's connection closed at the timeout, so nothing can be in flight there
    assert len(devices.wsg.received) == wsg_before
    # a person checks the cell, then recovers it: reconnect + acknowledge, nothing moves
    env.cell.recover()
    assert devices.wsg.received[-1].command == wp.Command.GET_SYSTEM_STATE
    assert devices.kst.received[kst_before:] == [kst.EEF_POS]  # the arm had no fault of its own
    env.reset()
    _, reward, *_ = env.step(np.array([0.0, 0.0, 0.0, 0.05], dtype=np.float32))
    assert reward == 1.0


def test_a_robot_collision_halts_the_cell(env, devices):
    env.reset(seed=0)
    devices.kst.collide_next_motion()
    with pytest.raises(Exception, match="nak") as info:
        env.step(np.array([0.0, 0.0, 0.0, 0.05], dtype=np.float32))
    assert "KUKA iiwa" in info.value.device
    with pytest.raises(FaultLatched, match="KUKA iiwa"):
        env.reset()


def test_a_dead_device_fails_fast_and_closes_the_others(devices, wait_until):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = with_addresses(fast(devices.config()), gripper=("127.0.0.1", port))
    t0 = time.monotonic()
    with pytest.raises(DeviceDisconnected, match=f"WSG 50 at 127.0.0.1:{port}"):
        RealCell(config, nxlib=devices.nxlib)
    assert time.monotonic() - t0 < 1.0
    wait_until(  # the arm's connection was closed again
        lambda: devices.kst.received[-1] == kst.END, 1.0, f"the arm's {kst.END!r} line"
    )
