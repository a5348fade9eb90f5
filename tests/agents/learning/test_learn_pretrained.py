"""The shipped model grasps far better than random in the twin (random is about 4 %)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import grasp_env  # noqa: F401  (registers the environments)
from agents.evaluation import evaluate
from agents.fcn.selection import ApplicationRule
from agents.policies.fcn import FCNAgent
from agents.pretrained import pretrained_path, resolve_model
from grasp_env.config import EnvConfig


def test_pretrained_model_beats_random_by_far() -> None:
    env = gym.make(
        "SimBinGrasp-v0",
        objects=10,
        object_set="cylinders",
        config=EnvConfig(mode="apply", swap_after_failures=None),
    )
    grid = env.unwrapped.config.grid
    agent = FCNAgent.from_checkpoint(
        pretrained_path(), grid, np.random.default_rng(0), ApplicationRule()
    )
    result = evaluate(env, agent, n=5, m=10, runs=3, seed=7)
    env.close()
    assert result.grasp_rate > 0.30, result


@pytest.mark.parametrize(
    ("name", "config"),
    [("pretrained", "configs/learn.yaml"), ("general", "configs/learn_general.yaml")],
)
def test_a_shipped_card_names_its_run_and_its_weights_match_the_digest(name, config) -> None:
    from agents.fcn.checkpoint import load_checkpoint, model_digest
    from grasp_env.grasp_grid import GraspGrid

    model, card = load_checkpoint(resolve_model(name), GraspGrid())
    run = card["training"]["run"]
    assert (run["config"], run["seed"], run["schedule"]) == (config, 0, "lockstep")
    assert len(run["dataset_digest"]) == 64
    assert model_digest(model) == run["model_digest"]


def test_a_path_that_names_no_shipped_model_is_taken_as_it_is() -> None:
    assert resolve_model("runs/learn/final_model.pt") == "runs/learn/final_model.pt"
