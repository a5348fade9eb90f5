"""The Ensenso camera driver against the fake nxlib with a synthetic floor-and-box scene."""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grasp_env.cell import DepthCamera
from grasp_env.errors import DependencyNotInstalled
from grasp_env.geometry import Pose
from grasp_env.hardware.ensenso import (
    EnsensoCamera,
    EnsensoConfig,
    axis_angle,
    pose_from_nx,
    pose_to_nx,
    rotation_from_axis_angle,
)
from grasp_env.hardware.faults import DeviceFault, DeviceTimeout, FaultLatched
from grasp_env.hardware.iiwa_protocol import rotation_from_abc
from sim.emulators.fake_nxlib import FakeNxLib, NxLibException
from sim.emulators.synthetic_scene import Box, FloorAndBoxes

BOX_CENTRE = (0.55, 0.0)
BOX_HALF = 0.03
BOX_TOP = 0.05

floor_and_box = FloorAndBoxes([Box(BOX_CENTRE, BOX_HALF, BOX_TOP)])


HAND_EYE = Pose(np.array([0.05, 0.0, 0.02]), rotation_from_abc(0.0, 0.0, 0.0))


class Flange:
    def __init__(self) -> None:
        self.pose = Pose.tool_down(0.55, 0.0, 0.45, 0.0)

    def __call__(self) -> Pose:
        return self.pose


@pytest.fixture
def flange() -> Flange:
    return Flange()


@pytest.fixture
def nx(flange) -> FakeNxLib:
    return FakeNxLib(floor_and_box, flange, HAND_EYE, serial="N10-1234")


@pytest.fixture
def camera(nx, flange):
    cam = EnsensoCamera(
        EnsensoConfig(serial="N10-1234", capture_timeout=0.1, compute_timeout=0.1),
        flange,
        nxlib=nx,
    )
    cam.open()
    yield cam
    cam.close()


def expected_points(flange: Flange) -> np.ndarray:
    pts = floor_and_box(flange() @ HAND_EYE, (48, 64)).reshape(-1, 3)
    return pts[np.isfinite(pts).all(axis=1)]


def test_capture_gives_base_frame_points_in_metres(camera, nx, flange):
    assert isinstance(camera, DepthCamera)
    points = camera.capture()
    assert points.dtype == np.float64
    assert points.ndim == 2
    assert points.shape[1] == 3
    assert np.isfinite(points).all()
    expected = expected_points(flange)
    assert points.shape == expected.shape
    assert np.allclose(points, expected, atol=1e-6)  # float32 mm on the way: ~1e-8 m
    z = points[:, 2]
    assert np.all(np.isclose(z, 0.0, atol=1e-6) | np.isclose(z, BOX_TOP, atol=1e-6))
    on_box = np.isclose(z, BOX_TOP, atol=1e-6)
    assert on_box.sum() > 20
    assert np.all(np.abs(points[on_box, 0] - BOX_CENTRE[0]) <= BOX_HALF + 1e-6)


def test_the_flange_pose_is_written_before_each_capture(camera, nx, flange):
    camera.capture()
    assert [name for name, _ in nx.executed] == [
        "Open",
        "Capture",
        "ComputeDisparityMap",
        "ComputePointMap",
    ]
    assert nx.executed[1][1] == {"Cameras": "N10-1234", "Timeout": 100}
    link = pose_from_nx(nx._tree["Links"]["RobotFlange"])
    assert np.allclose(link.matrix, flange().matrix)
    assert nx._tree["Cameras"]["N10-1234"]["Link"]["Target"] == "RobotFlange"
    # the arm moves: the next capture still lands in the base frame
    flange.pose = Pose.tool_down(0.5, 0.05, 0.4, 0.7)
    points = camera.capture()
    assert np.allclose(points, expected_points(flange), atol=1e-6)


def test_without_the_flange_link_points_stay_in_the_hand_frame(nx, flange):
    with EnsensoCamera(EnsensoConfig(serial="N10-1234"), None, nxlib=nx) as cam:
        points = cam.capture()
    # the camera's link targets a global link nobody wrote: the points stay in the flange
    # frame, where the floor lies 0.45 m along the flange's z axis, not at base z = 0
    assert np.median(points[:, 2]) == pytest.approx(0.45, abs=0.01)


def test_configured_hand_eye_is_written_to_the_camera_link(nx, flange):
    config = EnsensoConfig(serial="N10-1234", hand_eye=(0.05, 0.0, 0.02, 0.0, 0.0, 0.0))
    with EnsensoCamera(config, flange, nxlib=nx) as cam:
        link = nx._tree["Cameras"]["N10-1234"]["Link"]
        assert link["Target"] == "RobotFlange"
        assert np.allclose(pose_from_nx(link).matrix, HAND_EYE.matrix)
        assert np.allclose(cam.capture(), expected_points(flange), atol=1e-6)


def test_missing_nxlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "nxlib", None)
    with pytest.raises(DependencyNotInstalled, match=r"pip install grasp-toolkit\[ensenso\]"):
        EnsensoCamera(EnsensoConfig(serial="N10-1234"))


def test_failing_command_is_a_device_fault(camera, nx):
    nx.fail_next("Capture", "CaptureTimeout", "no trigger")
    with pytest.raises(DeviceFault) as info:
        camera.capture()
    assert info.value.device == "Ensenso N10-1234"
    assert "Capture failed: CaptureTimeout: no trigger" in info.value.cause
    with pytest.raises(FaultLatched):
        camera.capture()
    camera.acknowledge_fault()
    assert len(camera.capture()) > 100


def test_hanging_command_times_out(camera, nx):
    nx.hang_next("ComputeDisparityMap")
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout, match=r"ComputeDisparityMap did not finish within 0\.1 s"):
        camera.capture()
    assert time.monotonic() - t0 < 0.3


def test_too_few_points(nx, flange):
    nx.renderer = lambda pose, shape: np.full((*shape, 3), np.nan)
    with EnsensoCamera(EnsensoConfig(serial="N10-1234"), flange, nxlib=nx) as cam:
        with pytest.raises(DeviceFault, match="only 0 valid points"):
            cam.capture()


def test_wrong_serial_fails_to_open(nx, flange):
    cam = EnsensoCamera(EnsensoConfig(serial="N35-9999"), flange, nxlib=nx)
    with pytest.raises(DeviceFault, match="CameraNotFound"):
        cam.open()


# --- the fake itself validates what it is asked -------------------------------------------------


def test_fake_rejects_unknown_commands_and_parameters(nx):
    nx.api.initialize()
    with pytest.raises(NxLibException, match="InvalidCommand"):
        nx.NxLibCommand("Teleport").execute()
    cmd = nx.NxLibCommand("Open")
    cmd.parameters()["Cameras"] = "N10-1234"
    cmd.parameters()["Speed"] = 3
    with pytest.raises(NxLibException, match="InvalidParameter"):
        cmd.execute()
    cmd = nx.NxLibCommand("ComputePointMap")
    cmd.parameters()["Cameras"] = "N10-1234"
    cmd.execute(wait=False)
    assert not cmd.successful()
    assert cmd.result()["ErrorSymbol"].as_string() == "CameraNotOpen"


def test_fake_items():
    nx = FakeNxLib(floor_and_box, lambda: Pose.identity(), HAND_EYE)
    root = nx.NxLibItem()
    root["A"]["B"] = 3
    root["A"]["S"] = "x"
    root["A"]["L"].set_json(json.dumps([1.5, 2.5]))
    assert root["A"]["B"].as_int() == 3
    assert root["A"]["L"][1].as_double() == 2.5
    assert root["A"].count() == 3
    assert root["A"]["S"].as_string() == "x"
    assert not root["Z"].exists()
    with pytest.raises(NxLibException):
        root["Z"].as_int()
    with pytest.raises(NxLibException):
        root["A"]["S"].as_int()


@settings(max_examples=100, deadline=None)
@given(a=st.floats(-3.1, 3.1), b=st.floats(-1.5, 1.5), c=st.floats(-3.1, 3.1))
def test_axis_angle_round_trip(a, b, c):
    r = rotation_from_abc(a, b, c)
    angle, axis = axis_angle(r)
    assert np.allclose(rotation_from_axis_angle(angle, axis), r, atol=1e-6)
    pose = Pose(np.array([0.1, 0.2, 0.3]), r)
    assert np.allclose(pose_from_nx(pose_to_nx(pose)).matrix, pose.matrix, atol=1e-6)


def test_axis_angle_at_pi():
    r = Pose.tool_down(0, 0, 0, 0.0).rotation  # a half turn about x
    angle, axis = axis_angle(r)
    assert angle == pytest.approx(np.pi)
    assert np.allclose(rotation_from_axis_angle(angle, axis), r)
