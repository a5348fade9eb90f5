"""make_env hands each environment only the arguments it takes."""

import gymnasium as gym
import pytest

from grasp_env import factory
from grasp_env.config import EnvConfig


@pytest.fixture
def made(monkeypatch):
    calls = []
    monkeypatch.setattr(gym, "make", lambda env_id, **kwargs: calls.append((env_id, kwargs)))
    return calls


def test_a_twin_gets_its_objects_and_object_set_but_no_cell_config(made):
    config = EnvConfig(mode="apply")
    factory.make_env("SimBinGrasp-v0", config, 7, "cubes", "cell.yaml")
    assert made == [("SimBinGrasp-v0", {"config": config, "objects": 7, "object_set": "cubes"})]


def test_the_real_cell_gets_its_cell_config_but_no_objects(made):
    factory.make_env("RealBinGrasp-v0", None, 20, "cylinders", "configs/cell_real.yaml")
    assert made == [("RealBinGrasp-v0", {"cell_config": "configs/cell_real.yaml"})]


def test_learning_config_reaches_the_real_cell_through_the_factory(made):
    from agents.evaluation import make_eval_env
    from agents.learning.config import LearnConfig
    from agents.learning.curve import eval_env_spec

    make_eval_env(eval_env_spec(LearnConfig(env_id="RealBinGrasp-v0", cell_config="mine.yaml")))
    env_id, kwargs = made[0]
    assert env_id == "RealBinGrasp-v0"
    assert kwargs["cell_config"] == "mine.yaml"
    assert kwargs["config"].mode == "apply"
    assert "objects" not in kwargs
