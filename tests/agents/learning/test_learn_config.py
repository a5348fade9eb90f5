"""The learning loop's config, run directory and schedule: fast, no environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agents.learning.config import LearnConfig, TrainerConfig, load_config
from agents.learning.rundir import resolve_run_dir
from agents.learning.schedule import attempt_rng, choose_selection, scene_seed
from grasp_env.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("learn*.yaml")))
def test_shipped_configs_load(name: str) -> None:
    config = load_config(CONFIGS / name)
    assert config.name == Path(name).stem
    assert config.env.mode == "train"


def test_unknown_top_level_key_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"target_attempts": 10, "target_attempt": 5}))
    with pytest.raises(ConfigError, match="target_attempt"):
        load_config(path)


def test_unknown_nested_key_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"trainer": {"train": {"epoch": 3}}}))
    with pytest.raises(ConfigError, match="epoch"):
        load_config(path)


def test_base_file_is_laid_under_mapping_by_mapping(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(
        yaml.safe_dump(
            {
                "target_attempts": 300,
                "trainer": {"min_attempts": 50, "train": {"epochs": 2}},
                "phases": [{"until": 100, "random": 1.0}, {"until": None, "maximum": 1.0}],
            }
        )
    )
    (tmp_path / "variant.yaml").write_text(
        yaml.safe_dump(
            {
                "base": "main.yaml",
                "trainer": {"train": {"epochs": 4}},
                "phases": [{"until": None, "random": 1.0}],
            }
        )
    )
    config = load_config(tmp_path / "variant.yaml")
    assert config.name == "variant"
    assert config.target_attempts == 300
    assert (config.trainer.min_attempts, config.trainer.train.epochs) == (50, 4)
    assert [p.until for p in config.phases] == [None]  # a list replaces the base's whole


def test_base_chain_that_loops_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(ConfigError, match="leads back to itself"):
        load_config(tmp_path / "a.yaml")


def test_missing_base_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("base: nowhere.yaml\n")
    with pytest.raises(ConfigError, match=r"nowhere\.yaml"):
        load_config(tmp_path / "a.yaml")


def test_apply_mode_is_refused_for_learning(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"env": {"mode": "apply"}}))
    with pytest.raises(ConfigError, match="train"):
        load_config(path)


def test_same_config_resumes_other_config_is_refused_fresh_goes_beside(tmp_path: Path) -> None:
    config = LearnConfig(name="run", target_attempts=10)
    first = resolve_run_dir(tmp_path, config)
    assert resolve_run_dir(tmp_path, config) == first
    with pytest.raises(ConfigError, match="--fresh"):
        resolve_run_dir(tmp_path, LearnConfig(name="run", target_attempts=11))
    assert resolve_run_dir(tmp_path, config, fresh=True) == tmp_path / "run_1"
    assert resolve_run_dir(tmp_path, config, fresh=True) == tmp_path / "run_2"


def test_a_run_of_an_earlier_version_without_a_new_key_resumes(tmp_path: Path) -> None:
    config = LearnConfig(name="run", target_attempts=10)
    first = resolve_run_dir(tmp_path, config)
    stored = yaml.safe_load((first / "config.yaml").read_text())
    del stored["lanes"]  # the key came later, with a default that keeps the records
    (first / "config.yaml").write_text(yaml.safe_dump(stored))
    assert resolve_run_dir(tmp_path, config) == first


def test_schedule_is_a_pure_function_of_seed_and_attempt() -> None:
    config = LearnConfig(random_attempts=5, schedule="timed")
    names = [choose_selection(config, i, attempt_rng(0, i)).name for i in range(300)]
    again = [choose_selection(config, i, attempt_rng(0, i)).name for i in range(300)]
    assert names == again
    assert set(names[:5]) == {"random"}
    assert {"probabilistic", "uncertain", "maximum(5)", "random"} <= set(names[5:])
    assert scene_seed(0, 250) == scene_seed(0, 250) != scene_seed(0, 500)


def test_seed_on_the_command_line_overrides_the_config_and_names_the_run() -> None:
    import argparse

    from grasp_toolkit.scripts import learn as learn_cmd

    parser = argparse.ArgumentParser(prog="grasp")
    learn_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["learn", "--config", str(CONFIGS / "learn.yaml"), "--seed", "3"])
    config = learn_cmd.config_from_args(args)
    assert (config.seed, config.name) == (3, "learn_seed3")
    assert config.target_attempts == load_config(CONFIGS / "learn.yaml").target_attempts


@pytest.mark.parametrize("decay", [-0.5, 1.0])
def test_an_average_decay_outside_zero_to_one_is_refused(decay: float) -> None:
    with pytest.raises(ConfigError, match=rf"average_decay: expected 0 <= decay < 1, got {decay}"):
        TrainerConfig(average_decay=decay)
