"""Long runs of the twin: its random grasp rate, and a soak that looks for unstable physics."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import grasp_env  # noqa: F401  (registers the environments)
from grasp_env.config import EnvConfig
from grasp_env.wrappers import DiscreteGraspWrapper

pytestmark = pytest.mark.slow

NO_SWAP = EnvConfig(swap_after_failures=None)


def test_uniformly_random_grasps_succeed_one_to_ten_percent_of_the_time():
    env = gym.make("SimBinGrasp-v0", objects=20, config=NO_SWAP).unwrapped
    grid = DiscreteGraspWrapper(env)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    successes = 0
    for k in range(400):
        _, reward, *_ = grid.step(rng.integers(0, np.array(grid.grid.shape)))
        if reward > 0:
            successes += 1
            env.reset(seed=k + 1)
    env.close()
    assert 0.01 <= successes / 400 <= 0.10


def test_a_soak_keeps_poses_finite_and_every_object_accounted_for():
    env = gym.make("SimBinGrasp-v0", objects=20).unwrapped
    obs, _ = env.reset(seed=1)
    env.action_space.seed(1)
    lost = 0
    for _ in range(300):
        obs, _, _, _, info = env.step(env.action_space.sample())
        lost += info["objects_lost"] + info["objects_diverged"]
        assert np.isfinite(obs["height"]).all()
    cell = env.cell
    positions = np.array([cell.world.position(n) for n in cell.objects])
    env.close()
    assert np.isfinite(positions).all()
    assert len(positions) + lost == 20
    assert lost <= 3
