"""The kinematic carry: cheaper than the physical one, with the same rewards."""

from __future__ import annotations

import numpy as np
import pytest

from agents.policies.heuristic import HeuristicAgent
from grasp_env.config import EnvConfig
from sim.config import TwinConfig
from sim.robot import RobotSpec
from sim.sim_env import SimBinGraspEnv


def _first_grasps(carry: str, scenes: range) -> tuple[list[float], list[int]]:
    env = SimBinGraspEnv("cylinders", 20, config=EnvConfig(swap_after_failures=None),
                         twin=TwinConfig(robot=RobotSpec(carry=carry)))  # fmt: skip
    rewards, steps = [], []
    try:
        for seed in scenes:
            obs, _ = env.reset(seed=seed)
            agent = HeuristicAgent(env.config.image, np.random.default_rng(seed))
            before = env.cell.world.steps
            _, reward, _, _, _ = env.step(agent.act(obs))
            rewards.append(float(reward))
            steps.append(env.cell.world.steps - before)
    finally:
        env.close()
    return rewards, steps


def test_both_carries_give_the_same_rewards_and_the_kinematic_one_fewer_physics_steps():
    kinematic, cheap = _first_grasps("kinematic", range(4))
    physical, full = _first_grasps("physical", range(4))
    assert kinematic == physical
    assert sum(kinematic) >= 2  # the check covers successful grasps, not only misses
    held = [i for i, r in enumerate(kinematic) if r > 0]
    assert all(cheap[i] < full[i] for i in held)


def test_an_unknown_carry_mode_is_refused():
    with pytest.raises(ValueError, match=r"carry: expected one of \('kinematic', 'physical'\)"):
        RobotSpec(carry="teleport")
