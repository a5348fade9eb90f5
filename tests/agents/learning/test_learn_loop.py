"""A short learning loop end to end: actor, trainer process, curve, report, TensorBoard."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from agents.data import GraspDataset
from agents.learning import load_config, resolve_run_dir, run_learning
from agents.learning.rundir import read_latest
from agents.learning.versions import pinned_versions
from grasp_toolkit.scripts.cli import main as grasp


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory, write_config) -> Path:
    folder = tmp_path_factory.mktemp("learn")
    config = load_config(write_config(folder))
    run_dir = resolve_run_dir(folder / "runs", config)
    report = run_learning(config, run_dir, progress=False)
    assert report["finished"]
    return run_dir


def test_dataset_grows_to_the_target(finished_run: Path) -> None:
    with GraspDataset(finished_run / "grasps.h5") as ds:
        assert len(ds) == 70
        methods = ds.column("method")
        assert set(methods[:25]) == {"random"}
        assert json.loads(json.dumps(ds.config))["target_attempts"] == 70


def test_model_version_increases(finished_run: Path) -> None:
    assert read_latest(finished_run).version >= 2
    assert (finished_run / "final_model.pt").is_file()


def test_trainer_is_gone_after_the_run(finished_run: Path, alive) -> None:
    pid = int((finished_run / "trainer.pid").read_text())
    assert not alive(pid)


def test_tensorboard_tags_appear(finished_run: Path) -> None:
    tags = set()
    for events in (finished_run / "tb").glob("events.*"):
        acc = EventAccumulator(str(events))
        acc.Reload()
        tags |= set(acc.Tags()["scalars"])
    expected = {
        "charts/grasp_rate_last100",
        "charts/model_version",
        "charts/selection_random",
        "charts/selection_probabilistic",
        "losses/train",
        "test/loss",
        "eval/grasp_rate",
    }
    assert expected <= tags


def test_curve_and_report(finished_run: Path) -> None:
    report = json.loads((finished_run / "report.json").read_text())
    assert [p["attempts"] for p in report["curve"]] == [35, 70]
    assert report["final_evaluation"]["attempts"] >= 2
    assert "Learning curve" in (finished_run / "report.md").read_text()


def test_report_lists_the_installed_versions_of_the_pinned_libraries(finished_run: Path):
    report = json.loads((finished_run / "report.json").read_text())
    assert set(report["libraries"]) == set(pinned_versions())
    assert report["libraries"]["numpy"] == np.__version__


def test_plot_writes_png_and_table(finished_run: Path, capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("matplotlib")
    out = finished_run / "curve.png"
    assert grasp(["learn", "--plot", str(finished_run), "--out", str(out)]) == 0
    assert out.stat().st_size > 1000
    assert "| attempts |" in capsys.readouterr().out


def test_plot_draws_several_runs_in_one_png(
    finished_run: Path, capsys: pytest.CaptureFixture
) -> None:
    pytest.importorskip("matplotlib")
    out = finished_run / "curves.png"
    runs = [str(finished_run), str(finished_run)]
    assert grasp(["learn", "--plot", *runs, "--out", str(out)]) == 0
    assert out.stat().st_size > 1000
    assert capsys.readouterr().out.count("| attempts |") == 2


def test_run_starts_from_the_init_model(finished_run: Path, tmp_path: Path, write_config) -> None:
    from agents.fcn.checkpoint import load_checkpoint

    start = finished_run / "final_model.pt"
    config = load_config(
        write_config(
            tmp_path, name="warm", init_model=str(start), random_attempts=0, target_attempts=12,
            phases=[{"until": None, "maximum": 1.0}],
            evaluation={"at": [], "n": 2, "m": 4, "runs": 1, "final_runs": 0},
        )
    )  # fmt: skip
    run_dir = resolve_run_dir(tmp_path / "runs", config)
    assert run_learning(config, run_dir, progress=False)["finished"]
    first, card = load_checkpoint(run_dir / "checkpoints" / "model_00001.pt", config.env.grid)
    given, _ = load_checkpoint(start, config.env.grid)
    assert card["training"]["init_model"] == str(start)
    for name, tensor in given.state_dict().items():
        assert (first.state_dict()[name] == tensor).all(), name
    with GraspDataset(run_dir / "grasps.h5") as ds:
        assert set(ds.column("method")) == {"maximum(5)"}  # acted on the model from the first
