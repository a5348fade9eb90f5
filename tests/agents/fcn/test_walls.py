"""The FCN agent's wall mask: no grasp whose fingers would land on a wall is ever chosen."""

from __future__ import annotations

import numpy as np
import pytest

from agents import registry
from agents.fcn.checkpoint import save_checkpoint
from agents.fcn.selection import MaximumSelection, ProbabilisticSelection
from agents.policies.fcn import FCNAgent
from grasp_env.clearance import WallClearance, inside_walls
from grasp_env.errors import ConfigError
from grasp_env.grasp_grid import GraspGrid
from tests.agents.conftest import clutter_scene

GRID = GraspGrid()
WALLS = inside_walls(GRID, WallClearance())
INTO_WALL = tuple(int(v) for v in np.argwhere(~WALLS)[0])


class _Scores:
    """Stands in for the network: the best grasp of all is one into a wall."""

    def score(self, observation):
        values = np.full(GRID.shape, 0.1, np.float32)
        values[INTO_WALL] = 0.99
        return values


def _agent(small_model, selection, walls: np.ndarray | None) -> FCNAgent:
    agent = FCNAgent(small_model, selection, GRID, np.random.default_rng(0), walls=walls)
    agent.scorer = _Scores()
    return agent


def test_without_the_mask_the_agent_takes_the_grasp_into_the_wall(small_model):
    assert _agent(small_model, MaximumSelection(1), None).decide(clutter_scene(0)).index == (
        INTO_WALL
    )


@pytest.mark.parametrize("selection", [MaximumSelection(1), ProbabilisticSelection()])
def test_with_the_mask_no_selection_chooses_a_grasp_into_a_wall(small_model, selection):
    agent = _agent(small_model, selection, WALLS)
    chosen = [agent.decide(clutter_scene(k)).index for k in range(20)]
    assert all(WALLS[index] for index in chosen)


def test_the_registry_builds_the_mask_from_the_walls_option(small_model, tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, small_model, GRID, {})
    rng = np.random.default_rng(0)
    plain = registry.make("fcn", GRID, rng, checkpoint=str(path))
    standard = registry.make("fcn", GRID, rng, checkpoint=str(path), walls=True)
    bigger = registry.make("fcn", GRID, rng, checkpoint=str(path), walls={"bin_inner": [0.3, 0.3]})
    assert plain.walls is None
    np.testing.assert_array_equal(standard.walls, WALLS)
    assert bigger.walls.sum() > WALLS.sum()


@pytest.mark.parametrize("walls", ["yes", {"bin_size": [0.2, 0.2]}])
def test_a_bad_walls_option_is_refused_naming_what_came(small_model, tmp_path, walls):
    path = tmp_path / "model.pt"
    save_checkpoint(path, small_model, GRID, {})
    with pytest.raises(ConfigError, match="walls"):
        registry.make("fcn", GRID, np.random.default_rng(0), checkpoint=str(path), walls=walls)
