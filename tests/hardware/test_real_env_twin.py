"""RealBinGraspEnv against the emulators with the PyBullet twin behind them.

The drivers speak TCP to the WSG 50 and KST emulators, whose motions the twin's gripper and
arm carry out; the fake nxlib draws the twin camera's point map. The twin's cell is passed
as the scene, so seeded resets rebuild the bins and the report names what was filed.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from grasp_env.hardware.iiwa_protocol import abc_from_rotation
from grasp_env.real_env import RealBinGraspEnv
from sim.emulators.harness import EmulatedDevices

sim_cell = pytest.importorskip("sim.cell")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*symmetric and normalized"),
]


@pytest.fixture(scope="module")
def twin_env():
    twin = sim_cell.TwinCell()
    tool = twin.robot._tcp_in_flange  # the twin's TCP in its flange frame
    camera = twin.camera

    def render(pose, shape):
        points, _ = camera.point_map()  # optical frame, NaN where nothing is seen
        return camera.pose().apply(points.reshape(-1, 3)).reshape(points.shape)

    shape = camera.point_map()[0].shape[:2]
    lock = threading.Lock()
    with EmulatedDevices.start(
        twin.gripper, twin.robot, render, tool, tool @ camera.mount, shape=shape, backend_lock=lock
    ) as devices:
        config = devices.config()
        frame = tuple(float(v) for v in (*tool.position, *abc_from_rotation(tool.rotation)))
        config = dataclasses.replace(config, robot=dataclasses.replace(config.robot, tool=frame))
        env = RealBinGraspEnv(config, nxlib=devices.nxlib, scene=twin, clock=twin.clock)
        yield env
        env.close()
        twin.close()


@pytest.mark.xfail(
    strict=False,
    reason="info['cycle_time'] = clock() - start differs in the last bit between two episodes"
    " at different absolute clock values; SimBinGraspEnv fails check_env the same way",
)
def test_twin_behind_emulators_passes_check_env(twin_env):
    check_env(twin_env, skip_render_check=True)


def test_twin_behind_emulators_files_an_object(twin_env):
    """Random grasps on object pixels file a part within a few scenes (a few % succeed)."""
    geometry = twin_env.config.image
    filed = []
    for seed in range(6):
        obs, _ = twin_env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        for _ in range(12):
            candidates = np.argwhere(obs["height"] > 0.01)
            if len(candidates) == 0:
                break
            row, col = candidates[rng.integers(len(candidates))]
            x, y = geometry.pixel_to_task(row, col)
            action = np.array([x, y, rng.uniform(-1.5, 1.5), 0.06], dtype=np.float32)
            obs, reward, _, _, info = twin_env.step(action)
            if reward:
                filed.append(info["grasped_object"])
                break
        if filed:
            break
    assert filed, "no object filed in 6 scenes of 12 random grasps"
