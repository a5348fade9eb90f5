"""The scene schedule: rebuilds from the loop's scene seeds, every k attempts, restartable."""

import gymnasium as gym
import pytest
from gymnasium import spaces

from agents.baselines.scenes import SceneSchedule
from agents.learning.schedule import scene_seed
from grasp_env.errors import ConfigError


class SeedRecorder(gym.Env):
    """Records the seed of every reset; one-step episodes."""

    observation_space = spaces.Discrete(1)
    action_space = spaces.Discrete(1)

    def __init__(self):
        self.seeds = []

    def reset(self, *, seed=None, options=None):
        self.seeds.append(seed)
        return 0, {}

    def step(self, action):
        return 0, 0.0, True, False, {}


def run(env, attempts):
    env.reset()
    for _ in range(attempts):
        env.step(0)
        env.reset()


def test_the_scene_is_rebuilt_from_the_loop_seed_every_k_attempts():
    recorder = SeedRecorder()
    run(SceneSchedule(recorder, seed=5, rebuild_every=3), attempts=7)
    due = {0: scene_seed(5, 0), 3: scene_seed(5, 3), 6: scene_seed(5, 6)}
    assert recorder.seeds == [due.get(i) for i in range(8)]


def test_a_seeded_reset_restarts_the_schedule_with_that_seed():
    recorder = SeedRecorder()
    env = SceneSchedule(recorder, seed=5, rebuild_every=2)
    run(env, attempts=3)
    env.reset(seed=9)
    env.step(0)
    env.reset()
    env.step(0)
    env.reset()
    assert recorder.seeds[-3:] == [scene_seed(9, 0), None, scene_seed(9, 2)]
    assert env.attempts == 2


def test_two_resets_in_a_row_rebuild_once():
    recorder = SeedRecorder()
    env = SceneSchedule(recorder, seed=1, rebuild_every=4)
    env.reset()
    env.reset()
    assert recorder.seeds == [scene_seed(1, 0), None]


def test_rebuild_every_below_one_is_refused():
    with pytest.raises(ConfigError, match="rebuild_every >= 1"):
        SceneSchedule(SeedRecorder(), seed=0, rebuild_every=0)
