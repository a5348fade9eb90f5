"""Start the three device emulators of a cell around backend objects, and config for them.

This is how ``RealBinGraspEnv`` runs without hardware::

    with EmulatedDevices.start(gripper, robot, renderer, tool, hand_eye) as devices:
        env = RealBinGraspEnv(devices.config("cell_emulated.yaml"), nxlib=devices.nxlib)
        ...

With the twin behind the emulators, also pass ``scene=twin_cell, clock=twin_cell.clock`` so
that seeded resets rebuild the bins and the report names the filed part
(``tests/hardware/test_real_env_twin.py`` shows the whole wiring).

``gripper`` is any :class:`grasp_env.cell.Gripper` and ``robot`` any
:class:`grasp_env.cell.Robot` (the twin's, or kinematic fakes); ``renderer(camera_pose,
(rows, cols))`` returns base-frame points for the fake camera (see
:mod:`sim.emulators.fake_nxlib`). ``tool`` is the robot backend's TCP in the flange frame and
must match the config's ``robot.tool``; ``hand_eye`` is the camera in the flange frame.
Share ``backend_lock`` when the backends are one simulation (PyBullet is not thread-safe):
the servers' threads call the backends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import numpy as np

from grasp_env.cell import Gripper, Robot
from grasp_env.factory import load_cell_config
from grasp_env.geometry import Pose
from grasp_env.hardware.iiwa_protocol import rotation_from_abc
from grasp_env.real_env import RealCellConfig, with_addresses
from sim.emulators.fake_nxlib import FakeNxLib, Renderer
from sim.emulators.kst_server import KSTEmulator
from sim.emulators.wsg50_server import WSG50Emulator


def tool_pose(frame: tuple[float, ...]) -> Pose:
    """A config's (x, y, z, A, B, C) tool or hand-eye frame as a pose."""
    x, y, z, a, b, c = frame
    return Pose(np.array([x, y, z], dtype=float), rotation_from_abc(a, b, c))


@dataclass
class EmulatedDevices:
    """The running emulators of one cell.

    Attributes:
        wsg: the WSG 50 server.
        kst: the KST server.
        nxlib: the fake ``nxlib`` (pass it to ``RealBinGraspEnv(nxlib=...)``).
    """

    wsg: WSG50Emulator
    kst: KSTEmulator
    nxlib: FakeNxLib

    @classmethod
    def start(
        cls,
        gripper: Gripper,
        robot: Robot,
        renderer: Renderer,
        tool: Pose,
        hand_eye: Pose,
        serial: str = "N10-EMULATED",
        shape: tuple[int, int] = (96, 128),
        backend_lock: threading.Lock | None = None,
    ) -> EmulatedDevices:
        """Start both servers on free loopback ports and make the fake camera."""
        lock = backend_lock or threading.Lock()
        tool_inv = tool.inverse()

        def flange() -> Pose:
            with lock:
                return robot.pose() @ tool_inv

        wsg = WSG50Emulator(gripper, backend_lock=lock).start()
        try:
            kst = KSTEmulator(robot, tool=tool, backend_lock=lock).start()
        except BaseException:
            wsg.stop()
            raise
        nxlib = FakeNxLib(renderer, flange, hand_eye, serial=serial, shape=shape)
        return cls(wsg, kst, nxlib)

    def config(self, base: RealCellConfig | str = "cell_emulated.yaml") -> RealCellConfig:
        """``base`` with the emulators' addresses (and the fake camera's serial) put in."""
        config = base if isinstance(base, RealCellConfig) else load_cell_config(base)
        config = with_addresses(config, robot=self.kst.address, gripper=self.wsg.address)
        if config.camera.serial != self.nxlib.serial:
            config = replace(config, camera=replace(config.camera, serial=self.nxlib.serial))
        return config

    def stop(self) -> None:
        """Stop both servers."""
        self.kst.stop()
        self.wsg.stop()

    def __enter__(self) -> EmulatedDevices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["EmulatedDevices", "tool_pose"]
