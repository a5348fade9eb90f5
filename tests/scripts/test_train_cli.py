"""``grasp train`` on a small dataset file: a new run directory with checkpoint and events."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from agents.data import GraspDatasetWriter, GraspRecord
from agents.data.synthetic import bar_scenes
from agents.fcn.checkpoint import load_checkpoint
from grasp_env.config import EnvConfig
from grasp_env.grasp_grid import GraspGrid
from grasp_toolkit.scripts import train as train_cmd


def parse(argv):
    parser = argparse.ArgumentParser(prog="grasp")
    train_cmd.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def write_dataset(path, grid, env_config):
    samples = bar_scenes(90, grid, np.random.default_rng(0))
    with GraspDatasetWriter.open(path, config=env_config, fsync=False) as writer:
        for n in range(len(samples)):
            k = int(samples.widths[n])
            writer.append(
                GraspRecord(
                    height=samples.heights[n],
                    valid=samples.valid[n],
                    action=samples.actions[n],
                    reward=float(samples.rewards[n]),
                    method="random",
                    timestamp=1.7e9 + n,
                    index=None if n % 2 else np.array([0, 0, 0, k]),
                )
            )
    return path


@pytest.fixture(scope="module")
def dataset_file(tmp_path_factory, grid):
    return write_dataset(tmp_path_factory.mktemp("data") / "grasps.h5", grid, EnvConfig())


def test_train_writes_a_new_run_directory(dataset_file, tmp_path, grid):
    small = ["--epochs", "1", "--batch-size", "16", "--quiet", "--runs", str(tmp_path)]
    args = parse(["train", str(dataset_file), *small, "--sizes", "50,90"])
    assert args.func(args) == 0
    second = parse(["train", str(dataset_file), *small, "--no-retrain"])
    assert second.func(second) == 0
    runs = sorted(tmp_path.glob("train-*"))
    assert len(runs) == 2  # never the same directory twice
    run = runs[0]
    assert {"config.json", "model.pt", "first_model.pt", "result.json"} <= {
        p.name for p in run.iterdir()
    }
    assert list(run.glob("events.out.tfevents.*"))
    result = json.loads((run / "result.json").read_text())
    assert [f["dataset_size"] for f in result["figures"]] == [50, 90]
    _, card = load_checkpoint(run / "model.pt", grid)
    assert card["training"]["train_attempts"] + card["training"]["test_attempts"] == 90
    assert json.loads((run / "config.json").read_text())["grid"]["rotations"] == 20


def test_missing_dataset_fails_with_a_message(tmp_path, capsys):
    args = parse(["train", str(tmp_path / "none.h5"), "--runs", str(tmp_path), "--quiet"])
    assert args.func(args) == 1
    assert "grasp train:" in capsys.readouterr().err


def test_several_datasets_train_as_one(dataset_file, tmp_path, grid):
    args = parse(["train", str(dataset_file), str(dataset_file), "--epochs", "1", "--quiet",
                  "--no-retrain", "--runs", str(tmp_path)])  # fmt: skip
    assert args.func(args) == 0
    (run,) = tmp_path.glob("train-*")
    resolved = json.loads((run / "config.json").read_text())
    assert resolved["records"] == 180
    assert resolved["train_records"] + resolved["test_records"] == 180


def test_datasets_of_different_grids_are_refused(dataset_file, tmp_path, grid, capsys):
    other_config = EnvConfig(grid=GraspGrid(rotations=10))
    other = write_dataset(tmp_path / "other.h5", grid, other_config)
    args = parse(["train", str(dataset_file), str(other), "--quiet", "--runs", str(tmp_path)])
    assert args.func(args) == 1
    assert "expected the grid of" in capsys.readouterr().err
