"""A run trains on earlier datasets together with its own records (paper Fig. 7).

The runs are the tiny config of tests/agents/conftest.py: one gives the earlier dataset, a
second trains on it and on its own records; bad files are refused before anything runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import pytest

from agents.fcn.checkpoint import load_checkpoint
from agents.learning import load_config, resolve_run_dir, run_learning
from agents.learning.prior import check_datasets
from grasp_env.errors import ConfigError
from grasp_env.grasp_grid import GraspGrid
from grasp_toolkit.scripts.cli import main as grasp

EVAL = {"at": [], "n": 2, "m": 4, "runs": 1, "final_runs": 1, "workers": 1}


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory, write_config) -> Path:
    """The dataset of a finished tiny run (70 records)."""
    folder = tmp_path_factory.mktemp("earlier")
    config = load_config(write_config(folder, evaluation=EVAL))
    run_dir = resolve_run_dir(folder / "runs", config)
    run_learning(config, run_dir, progress=False)
    return run_dir / "grasps.h5"


def test_each_round_trains_on_the_earlier_records_and_the_runs_own(
    earlier: Path, tmp_path: Path, write_config
) -> None:
    config = load_config(write_config(tmp_path, datasets=[str(earlier)], evaluation=EVAL))
    run_dir = resolve_run_dir(tmp_path / "runs", config)
    report = run_learning(config, run_dir, progress=False)
    _, card = load_checkpoint(run_dir / "final_model.pt", GraspGrid())
    facts = card["training"]
    assert facts["train_attempts"] + facts["test_attempts"] == 70 + facts["attempts"]
    assert report["datasets"][0]["path"] == str(earlier)
    assert report["datasets"][0]["records"] == 70
    assert len(report["datasets"][0]["digest"]) == 64


def test_with_a_share_each_round_trains_on_a_draw_of_the_earlier_records(
    earlier: Path, tmp_path: Path, write_config
) -> None:
    config = load_config(
        write_config(tmp_path, datasets=[str(earlier)], datasets_share=1 / 3, evaluation=EVAL)
    )
    run_learning(config, resolve_run_dir(tmp_path / "runs", config), progress=False)
    _, card = load_checkpoint(tmp_path / "runs" / "tiny" / "final_model.pt", GraspGrid())
    facts = card["training"]  # a third of the records are earlier ones: half the run's own
    assert abs(facts["train_attempts"] + facts["test_attempts"] - 1.5 * facts["attempts"]) <= 1


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_a_datasets_share_outside_zero_to_one_is_refused(share: float) -> None:
    from agents.learning import LearnConfig

    with pytest.raises(ConfigError, match=r"datasets_share: expected a share in \(0, 1\)"):
        LearnConfig(datasets_share=share)


def test_a_missing_dataset_is_refused_before_the_run_directory_exists(
    tmp_path: Path, write_config, capsys: pytest.CaptureFixture
) -> None:
    path = write_config(tmp_path, datasets=["nowhere/grasps.h5"])
    runs = tmp_path / "runs"
    assert grasp(["learn", "--config", str(path), "--runs", str(runs)]) == 1
    err = capsys.readouterr().err
    assert "datasets[0]: nowhere/grasps.h5: expected a dataset file, found none there" in err
    assert not runs.exists()


def _with_grid(source: Path, target: Path, **grid: object) -> Path:
    """A copy of dataset ``source`` whose stored config names another grid."""
    shutil.copyfile(source, target)
    with h5py.File(target, "r+") as f:
        config = json.loads(f.attrs["config"])
        config["grid"].update(grid)
        f.attrs["config"] = json.dumps(config)
    return target


def test_a_dataset_of_another_grid_is_refused_naming_the_field(
    earlier: Path, tmp_path: Path, write_config
) -> None:
    other = _with_grid(earlier, tmp_path / "other.h5", rotations=16)
    config = load_config(write_config(tmp_path, datasets=[str(other)]))
    with pytest.raises(ConfigError, match=r"datasets\[0\]: .*other.h5: grid.rotations is 16 in"
                       r" the file, 20 in the config"):  # fmt: skip
        check_datasets(config)


def test_a_file_that_is_not_a_dataset_is_refused_naming_it(tmp_path: Path, write_config):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    config = load_config(write_config(tmp_path, datasets=[str(junk)]))
    with pytest.raises(ConfigError, match=r"datasets\[0\]: .*junk.h5: "):
        check_datasets(config)
