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

from agents.policies.heuristic import HeuristicAgent
from grasp_env.hardware.iiwa_protocol import abc_from_rotation
from grasp_env.real_env import RealBinGraspEnv
from sim.emulators.harness import EmulatedDevices

sim_cell = pytest.importorskip("sim.cell")

# Gymnasium recommends actions in [-1, 1]; ours are metric (SI), so that one is allowed; any
# other warning fails the test.
pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.filterwarnings("ignore:.*symmetric and normalized"),
]


@pytest.fixture(scope="module")
def twin_env():
    twin = sim_cell.TwinCell()
    tool = twin.robot.tool  # the twin's TCP in its flange frame
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


def test_twin_behind_emulators_passes_check_env(twin_env):
    check_env(twin_env, skip_render_check=True)


def test_twin_behind_emulators_files_an_object(twin_env):
    """The heuristic agent, through the wire protocols, files a part within a few grasps."""
    agent = HeuristicAgent(twin_env.config.image, np.random.default_rng(0))
    obs, _ = twin_env.reset(seed=0)
    filed = []
    for _ in range(8):
        obs, reward, _, _, info = twin_env.step(agent.act(obs))
        agent.observe(reward)
        if reward:
            filed.append(info["grasped_object"])
            break
    assert filed, "no object filed in 8 heuristic grasps through the emulators"
    assert filed[0] is not None
