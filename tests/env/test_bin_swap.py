"""The bins swap roles by one rule on twin and real cell: grasp bin empty, or a run of misses."""

import gymnasium as gym
import numpy as np
import yaml

from agents.policies.heuristic import HeuristicAgent
from grasp_env.config import EnvConfig, from_dict

CORNER = np.array([0.09, 0.09, 0.0, 0.03], dtype=np.float32)  # nothing lies in the corner


def test_emptying_the_grasp_bin_swaps_the_bins():
    env = gym.make("SimBinGrasp-v0", objects=1, artefacts=False).unwrapped
    obs, info = env.reset(seed=1)
    assert info["grasp_bin"] == 0
    agent = HeuristicAgent(env.config.image, np.random.default_rng(0))
    for _ in range(6):
        obs, reward, _, _, info = env.step(agent.act(obs))
        agent.observe(reward)
        if reward:
            break
    env.close()
    assert reward == 1.0
    assert info["bins_swapped"] is True
    assert env.grasp_bin == 1
    assert info["grasp_bin"] == 0


def test_a_run_of_failures_swaps_the_bins_and_the_count_restarts():
    env = gym.make("SimBinGrasp-v0", objects=5, config=EnvConfig(swap_after_failures=3)).unwrapped
    env.reset(seed=2)
    swaps = []
    for _ in range(3):
        _, reward, _, _, info = env.step(CORNER)
        swaps.append(info["bins_swapped"])
    env.close()
    assert reward == 0.0
    assert swaps == [False, False, True]
    assert info["failures_in_a_row"] == 0
    assert env.grasp_bin == 1


def test_a_full_grasp_bin_does_not_swap_after_a_failure():
    env = gym.make("SimBinGrasp-v0", objects=5).unwrapped
    env.reset(seed=3)
    _, _, _, _, info = env.step(CORNER)
    env.close()
    assert info["bins_swapped"] is False
    assert info["failures_in_a_row"] == 1
    assert env.grasp_bin == 0


def test_without_a_failure_limit_a_run_of_misses_never_swaps_the_bins():
    config = EnvConfig(swap_after_failures=None)
    misses = EnvConfig().swap_after_failures + 1  # one more than the default limit allows
    env = gym.make("SimBinGrasp-v0", objects=5, config=config).unwrapped
    env.reset(seed=2)
    swaps = []
    for _ in range(misses):
        _, reward, _, _, info = env.step(CORNER)
        swaps.append(info["bins_swapped"])
    env.close()
    assert reward == 0.0
    assert swaps == [False] * misses
    assert info["failures_in_a_row"] == misses
    assert env.grasp_bin == 0


def test_no_failure_limit_is_null_in_a_config_file():
    config = from_dict(EnvConfig, yaml.safe_load("swap_after_failures: null"))
    assert config.swap_after_failures is None
