"""The learners registry: names, refusals, and an SB3 learner that returns a buildable agent."""

import subprocess
import sys

import numpy as np
import pytest

from agents.baselines import learners
from agents.baselines.learners import Learned, learn
from agents.evaluation import AgentSpec
from grasp_env.errors import ConfigError


def test_the_sb3_learners_are_registered():
    assert {"sb3_ppo_grid", "sb3_ppo_box"} <= set(learners.available())


def test_an_unknown_learner_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="sb3_ppo_grid"):
        learn("nope", attempts=10, seed=0, object_set="cylinders", out_dir=tmp_path)


@pytest.mark.parametrize(("attempts", "seed"), [(0, 0), (10, -1)])
def test_a_budget_below_one_or_a_negative_seed_is_refused(tmp_path, attempts, seed):
    with pytest.raises(ConfigError, match="attempts >= 1 and seed >= 0"):
        learn(
            "sb3_ppo_grid", attempts=attempts, seed=seed, object_set="cylinders", out_dir=tmp_path
        )


def test_a_taken_name_is_refused_unless_overwritten():
    def fake(**kwargs):
        return Learned(AgentSpec("random"), kwargs["attempts"], 0.0)

    learners.register("test_fake", fake)
    try:
        with pytest.raises(ConfigError, match="already registered"):
            learners.register("test_fake", fake)
        learners.register("test_fake", fake, overwrite=True)
    finally:
        learners._LEARNERS.unregister("test_fake")


def test_learn_passes_its_arguments_to_the_learner(tmp_path):
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        return Learned(AgentSpec("random"), kwargs["attempts"], 0.5)

    learners.register("test_fake", fake)
    try:
        learned = learn("test_fake", attempts=7, seed=2, object_set="cubes", out_dir=tmp_path)
    finally:
        learners._LEARNERS.unregister("test_fake")
    assert seen == {"attempts": 7, "seed": 2, "object_set": "cubes", "out_dir": tmp_path}
    assert learned.attempts == 7


def test_an_sb3_learner_returns_an_agent_that_builds(tmp_path, grid):
    pytest.importorskip("stable_baselines3")
    learned = learn("sb3_ppo_box", attempts=2, seed=0, object_set="cylinders", out_dir=tmp_path)
    assert learned.agent.name == "agents.baselines.sb3:make_sb3_agent"
    assert learned.agent.options["algo"] == "ppo_box"
    assert (learned.attempts, learned.seconds > 0) == (2, True)
    agent = learned.agent.build(grid, np.random.default_rng(0))
    observation = {
        "height": np.zeros((110, 110), np.float32),
        "valid": np.ones((110, 110), np.uint8),
    }
    assert agent.act(observation).shape == (4,)


def test_the_registry_imports_without_stable_baselines3():
    code = (
        "import sys; sys.modules['stable_baselines3'] = None\n"
        "from agents.baselines import learn, available\n"
        "print(available())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "sb3_ppo_grid" in result.stdout
