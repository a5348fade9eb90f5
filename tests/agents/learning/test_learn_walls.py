"""``walls`` in a learn config: the model's selections and its evaluations keep off the walls."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agents.learning import load_config
from agents.learning.actor import Actor, Stopwatch
from agents.learning.curve import eval_agent_spec
from grasp_env.clearance import WallClearance, inside_walls
from tests.agents.conftest import clutter_scene


def test_walls_in_a_config_reads_as_the_standard_clearance(write_config, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, walls={}))
    assert config.walls == WallClearance()


def test_without_walls_the_config_has_none(write_config, tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path)).walls is None


def test_the_actors_model_driven_agent_masks_the_walls(write_config, tmp_path, small_model):
    config = load_config(write_config(tmp_path, walls={"margin": 0.004}))
    agent = Actor(config, {}, models=None, clock=Stopwatch())._fcn(small_model, 1)
    expected = inside_walls(config.env.grid, WallClearance(margin=0.004))
    np.testing.assert_array_equal(agent.walls, expected)


def test_the_actors_random_grasps_keep_off_the_walls(write_config, tmp_path, small_model):
    config = load_config(write_config(tmp_path, walls={}))
    actor = Actor(config, {}, models=None, clock=Stopwatch())
    walls = inside_walls(config.env.grid, WallClearance())
    chosen = [actor.random_agent.decide(clutter_scene(k)).index for k in range(50)]
    assert all(walls[index] for index in chosen)


def test_the_evaluations_agent_carries_the_runs_walls(write_config, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, walls={}))
    options = eval_agent_spec(config, tmp_path / "model.pt").options
    assert options["walls"]["margin"] == WallClearance().margin


def test_without_walls_the_evaluations_agent_has_no_mask(write_config, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    assert "walls" not in eval_agent_spec(config, tmp_path / "model.pt").options
