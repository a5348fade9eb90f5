"""``heuristic_share``: some of the random attempts are the geometric heuristic's, on the grid."""

from __future__ import annotations

import numpy as np
import pytest

from agents.data import GraspDataset
from agents.learning import LearnConfig, load_config, resolve_run_dir
from agents.learning.loop import run_collection
from agents.learning.schedule import attempt_rng, choose_selection
from grasp_env.errors import ConfigError

#: 24 attempts before any model (the first round would train on 30) in one lane.
COLLECT_ONLY = {"target_attempts": 24, "random_attempts": 40, "rebuild_every": 24,
                "trainer": {"min_attempts": 30, "lag": 0}}  # fmt: skip


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory, write_config) -> dict[str, np.ndarray]:
    folder = tmp_path_factory.mktemp("heuristic")
    config = load_config(write_config(folder, **COLLECT_ONLY, heuristic_share=0.5))
    run_dir = resolve_run_dir(folder / "runs", config)
    run_collection(config, run_dir)
    with GraspDataset(run_dir / "grasps.h5") as ds:
        arrays = ds.read()
        return {"methods": np.array([m.decode() if isinstance(m, bytes) else m
                                     for m in arrays.methods]),
                "actions": arrays.actions, "indices": arrays.indices,
                "rewards": arrays.rewards, "grid": config.env.grid}  # fmt: skip


def test_a_share_of_the_random_attempts_is_the_heuristics(records) -> None:
    assert set(records["methods"]) == {"heuristic", "random"}
    assert 6 <= (records["methods"] == "heuristic").sum() <= 18


def test_every_heuristic_grasp_is_the_grid_grasp_it_records(records) -> None:
    grid = records["grid"]
    for action, index in zip(records["actions"], records["indices"], strict=True):
        np.testing.assert_allclose(action, grid.index_to_action(index), atol=1e-6)


def test_heuristic_grasps_find_parts_more_often_than_random_ones(records) -> None:
    heuristic = records["methods"] == "heuristic"
    rewards = records["rewards"]
    assert rewards[heuristic].mean() >= 0.5 > rewards[~heuristic].mean()


def test_without_a_share_the_random_attempts_draw_nothing_more() -> None:
    rng, fresh = attempt_rng(0, 3), attempt_rng(0, 3)
    assert choose_selection(LearnConfig(), 3, rng).name == "random"
    assert rng.random() == fresh.random()  # so the random grasps of earlier runs stay


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share: float) -> None:
    with pytest.raises(
        ConfigError, match=rf"heuristic_share: expected a share in \[0, 1\], got {share}"
    ):
        LearnConfig(heuristic_share=share)
