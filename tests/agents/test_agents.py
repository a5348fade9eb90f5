"""The agent interface: FCN and random agents, observation checks, and the registry."""

from __future__ import annotations

import numpy as np
import pytest

from agents import registry
from agents.base import Agent, Decision
from agents.fcn.checkpoint import save_checkpoint
from agents.fcn.inference import GraspScorer
from agents.fcn.selection import ApplicationRule, ProbabilisticSelection
from agents.policies.fcn import FCNAgent
from agents.policies.random import RandomAgent
from grasp_env.errors import ConfigError, InvalidObservation
from grasp_env.grasp_grid import GraspGrid

from .conftest import clutter_scene


def test_fcn_agent_acts_on_its_chosen_cell(small_model, grid):
    agent = FCNAgent(small_model, ApplicationRule(), grid, np.random.default_rng(0))
    obs = clutter_scene(1)
    action = agent.act(obs)
    decision = agent.last_decision
    assert isinstance(decision, Decision)
    assert action.dtype == np.float32
    assert action.shape == (4,)
    np.testing.assert_array_equal(action, grid.index_to_action(decision.index))
    values = GraspScorer(small_model, grid).score(obs)
    assert decision.value == pytest.approx(float(values.max()))
    assert decision.index == np.unravel_index(int(values.argmax()), values.shape)
    assert decision.method == "maximum(1)"
    agent.observe(0.0)
    assert agent.decide(obs).method == "maximum(5)"
    agent.observe(1.0)
    assert agent.decide(obs).method == "maximum(1)"
    assert isinstance(agent, Agent)


def test_fcn_agent_with_any_selection(small_model, grid):
    agent = FCNAgent(small_model, ProbabilisticSelection(), grid, np.random.default_rng(0))
    decision = agent.decide(clutter_scene(2))
    assert decision.method == "probabilistic"
    assert agent.last_values.shape == (20, 40, 40, 3)
    assert (
        FCNAgent(small_model, "uncertain", grid, np.random.default_rng(0))
        .decide(clutter_scene(2))
        .method
        == "uncertain"
    )


@pytest.mark.parametrize("make", ["fcn", "random"])
def test_wrong_observations_are_refused_naming_both(small_model, grid, make):
    rng = np.random.default_rng(0)
    agent = (
        FCNAgent(small_model, "application", grid, rng) if make == "fcn" else RandomAgent(grid, rng)
    )
    obs = clutter_scene(0)
    with pytest.raises(InvalidObservation, match=r"shape \(110, 110\).*got shape \(100, 110\)"):
        agent.act({"height": obs["height"][:100], "valid": obs["valid"]})
    with pytest.raises(InvalidObservation, match=r"dtype float32, got shape .* dtype float64"):
        agent.act({"height": obs["height"].astype(np.float64), "valid": obs["valid"]})
    with pytest.raises(InvalidObservation, match=r"dtype uint8, got .* dtype bool"):
        agent.act({"height": obs["height"], "valid": obs["valid"].astype(bool)})
    with pytest.raises(InvalidObservation, match=r"keys \['height', 'valid'\], got \['depth'\]"):
        agent.act({"depth": obs["height"]})
    bad = obs["height"].copy()
    bad[3, 3] = np.nan
    with pytest.raises(InvalidObservation, match="finite"):
        agent.act({"height": bad, "valid": obs["valid"]})


def test_random_agent_covers_the_grid(grid):
    agent = RandomAgent(grid, np.random.default_rng(0))
    obs = clutter_scene(0)
    seen = {agent.decide(obs).index for _ in range(200)}
    assert len(seen) == 200
    decision = agent.last_decision
    np.testing.assert_array_equal(agent.act(obs).shape, (4,))
    assert decision.method == "random"
    assert decision.value is None


def test_registry_builds_agents_by_name(small_model, grid, tmp_path):
    rng = np.random.default_rng(0)
    assert {"random", "fcn", "heuristic"} <= set(registry.available())
    assert isinstance(registry.make("random", grid, rng), RandomAgent)
    path = save_checkpoint(tmp_path / "m.pt", small_model, grid)
    agent = registry.make("fcn", grid, rng, checkpoint=str(path), selection="maximum(3)")
    assert agent.decide(clutter_scene(0)).method == "maximum(3)"
    with pytest.raises(ConfigError, match="needs checkpoint=PATH"):
        registry.make("fcn", grid, rng)
    heuristic = registry.make("heuristic", grid, rng)
    assert heuristic.act(clutter_scene(0)).shape == (4,)


def test_users_register_their_own_agent(grid):
    class Always:
        def __init__(self, grid, rng, width=0.05):
            self.action = np.array([0.0, 0.0, 0.0, width], np.float32)

        def act(self, observation):
            return self.action

        def observe(self, reward):
            pass

    registry.register("always-centre", Always)
    try:
        agent = registry.make("always-centre", grid, np.random.default_rng(0), width=0.07)
        assert agent.act(clutter_scene(0))[3] == pytest.approx(0.07)
        with pytest.raises(ConfigError, match="already registered"):
            registry.register("always-centre", Always)
    finally:
        registry.unregister("always-centre")
    with pytest.raises(ConfigError, match="got 'nobody'"):
        registry.make("nobody", grid, np.random.default_rng(0))
    by_path = registry.make("agents.policies.random:RandomAgent", grid, np.random.default_rng(0))
    assert isinstance(by_path, RandomAgent)
    registry.register("mute", lambda grid, rng: object())
    try:
        with pytest.raises(ConfigError, match=r"must have act.*missing \['act', 'observe'\]"):
            registry.make("mute", grid, np.random.default_rng(0))
    finally:
        registry.unregister("mute")


def test_shipped_agents_reset_for_a_new_bin(small_model, grid):
    obs = clutter_scene(4)
    fcn = FCNAgent(small_model, "application", grid, np.random.default_rng(0))
    fcn.decide(obs)
    fcn.observe(0.0)
    assert fcn.decide(obs).method == "maximum(5)"
    rng = np.random.default_rng(7)
    fcn.reset(rng)
    assert fcn.rng is rng
    assert fcn.decide(obs).method == "maximum(1)"
    first = RandomAgent(grid, np.random.default_rng(0))
    second = RandomAgent(grid, np.random.default_rng(1))
    first.decide(obs)
    first.reset(np.random.default_rng(3))
    second.reset(np.random.default_rng(3))
    assert first.decide(obs).index == second.decide(obs).index
    heuristic = registry.make("heuristic", grid, np.random.default_rng(0))
    heuristic.observe(0.0)
    heuristic.reset(np.random.default_rng(3))
    assert not heuristic._failed


def test_a_random_agent_with_walls_draws_only_allowed_grasps_and_all_of_them():
    grid = GraspGrid()
    walls = np.zeros(grid.shape, bool)
    walls[3, 5, 7, 1] = walls[0, 0, 0, 0] = True
    agent = RandomAgent(grid, np.random.default_rng(0), walls)
    chosen = {agent.decide(clutter_scene(0)).index for _ in range(40)}
    assert chosen == {(3, 5, 7, 1), (0, 0, 0, 0)}
