"""The failure memory: a failed grasp's neighbours are skipped until the bin around it changes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.fcn.failure_memory import FailureMemory, FailureMemoryConfig
from agents.fcn.selection import MaximumSelection
from agents.policies.fcn import FCNAgent
from grasp_env.errors import ConfigError
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid
from tests.agents.conftest import clutter_scene

GRID = GraspGrid()
INDEX = (7, 13, 29, 2)


def _image(seed: int = 0) -> HeightImage:
    scene = clutter_scene(seed)
    return HeightImage(scene["height"], scene["valid"])


def _values() -> np.ndarray:
    return np.full(GRID.shape, 0.5, np.float32)


def _failed_at(index: tuple[int, ...], image: HeightImage) -> FailureMemory:
    memory = FailureMemory(GRID)
    memory.note(image, GRID.index_to_action(index), 0.0)
    return memory


def test_a_failed_grasp_and_its_neighbours_get_the_value_zero_at_every_width():
    image = _image()
    suppressed = _failed_at(INDEX, image).suppress(_values(), image)
    r, i, j, _ = INDEX
    assert np.all(suppressed[r, i, j, :] == 0.0)
    assert np.all(suppressed[r, i + 1, j, :] == 0.0)  # 4 mm away
    assert np.all(suppressed[r, i + 4, j, :] == 0.5)  # 16 mm away
    assert np.all(suppressed[(r + 3) % GRID.rotations, i, j, :] == 0.5)  # 27 deg turned


def test_suppress_leaves_the_values_given_unchanged():
    image, values = _image(), _values()
    _failed_at(INDEX, image).suppress(values, image)
    assert np.all(values == 0.5)


def test_a_success_is_not_remembered():
    memory = FailureMemory(GRID)
    memory.note(_image(), GRID.index_to_action(INDEX), 1.0)
    assert len(memory) == 0


def test_a_failure_is_forgotten_once_a_part_moves_in_its_window():
    image = _image()
    memory = _failed_at(INDEX, image)
    row, col = GRID.image.task_to_pixel(*GRID.index_to_action(INDEX)[:2])
    moved = image.height.copy()
    r, c = round(float(row)), round(float(col))
    moved[r - 4 : r + 4, c - 4 : c + 4] += 0.02  # a part lands on the spot
    assert np.all(memory.suppress(_values(), HeightImage(moved, image.valid)) == 0.5)
    assert len(memory) == 0


def test_a_change_elsewhere_in_the_bin_keeps_the_failure():
    image = _image()
    memory = _failed_at((7, 13, 29, 2), image)
    far = image.height.copy()
    far[:10, :10] += 0.02  # the far corner of the image
    assert memory.suppress(_values(), HeightImage(far, image.valid)).min() == 0.0
    assert len(memory) == 1


def test_the_same_scene_with_new_sensor_noise_counts_as_unchanged():
    image = _image()
    memory = _failed_at(INDEX, image)
    noise = np.random.default_rng(1).normal(0.0, 0.0003, image.height.shape).astype(np.float32)
    noisy = HeightImage(image.height + noise, image.valid)
    assert memory.suppress(_values(), noisy).min() == 0.0
    assert len(memory) == 1


def test_forget_empties_the_memory():
    memory = _failed_at(INDEX, _image())
    memory.forget()
    assert len(memory) == 0


@settings(max_examples=30, deadline=None)
@given(
    r=st.integers(0, GRID.shape[0] - 1),
    i=st.integers(0, GRID.shape[1] - 1),
    j=st.integers(0, GRID.shape[2] - 1),
    k=st.integers(0, GRID.shape[3] - 1),
)
def test_any_failed_grid_grasp_is_itself_suppressed(r: int, i: int, j: int, k: int):
    image = _image()
    assert _failed_at((r, i, j, k), image).suppress(_values(), image)[r, i, j, k] == 0.0


@pytest.mark.parametrize(
    "changes", [{"radius": -0.01}, {"angle": -1.0}, {"moved": 0.0}, {"moved_fraction": 1.0}]
)
def test_a_bad_config_is_refused(changes: dict):
    with pytest.raises(ConfigError, match="failure memory: expected"):
        FailureMemoryConfig(**changes)


SECOND = (INDEX[0] + 5, *INDEX[1:])


class _Scores:
    """Stands in for the network: the best grasp is always INDEX, the next best SECOND."""

    def score(self, observation):
        values = np.full(GRID.shape, 0.1, np.float32)
        values[INDEX], values[SECOND] = 0.9, 0.8
        return values


def _agent(small_model, memory: FailureMemory | None) -> FCNAgent:
    agent = FCNAgent(small_model, MaximumSelection(1), GRID, np.random.default_rng(0),
                     memory=memory)  # fmt: skip
    agent.scorer = _Scores()
    return agent


def test_an_agent_with_memory_does_not_repeat_a_failed_grasp_on_an_unchanged_bin(small_model):
    scene = clutter_scene(0)
    agent = _agent(small_model, FailureMemory(GRID))
    assert agent.decide(scene).index == INDEX
    agent.observe(0.0)
    assert agent.decide(scene).index == SECOND
    agent.reset()
    assert agent.decide(scene).index == INDEX


def test_an_agent_without_memory_repeats_it(small_model):
    scene = clutter_scene(0)
    agent = _agent(small_model, None)
    agent.decide(scene)
    agent.observe(0.0)
    assert agent.decide(scene).index == INDEX
