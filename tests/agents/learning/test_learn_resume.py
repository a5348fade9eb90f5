"""SIGKILL the learning loop mid-run, run the same command again: it continues exactly.

Exactly means record for record and weight for weight: under the lockstep schedule the
resumed run's dataset and model digests equal those of a run that was never killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from agents.data import DatasetError, GraspDataset
from agents.learning import load_config, resolve_run_dir, run_learning
from tests.agents.conftest import TINY

ROOT = Path(__file__).resolve().parents[3]


def _command(config: Path, runs: Path) -> list[str]:
    return [sys.executable, "-m", "grasp_toolkit.scripts.cli", "learn", "--config", str(config),
            "--runs", str(runs), "--quiet"]  # fmt: skip


def _count(path: Path) -> int:
    try:
        with GraspDataset(path) as ds:
            return len(ds)
    except (DatasetError, FileNotFoundError, OSError):
        return 0


#: The tiny config whose models are the moving average of its rounds' weights.
AVERAGED = {"trainer": {**TINY["trainer"], "average_decay": 0.8}}


@pytest.mark.parametrize(
    "changes", [{}, pytest.param(AVERAGED, marks=pytest.mark.slow, id="averaged")],
    ids=lambda c: "plain" if not c else "averaged",
)  # fmt: skip
def test_kill_and_resume_continues_without_loss_or_duplicates(
    tmp_path: Path, write_config, alive, changes: dict
) -> None:
    config = write_config(tmp_path, target_attempts=60, evaluation={"at": [], "n": 2, "m": 4,
                          "runs": 1, "final_runs": 1}, **changes)  # fmt: skip
    runs = tmp_path / "runs"
    dataset = runs / "tiny" / "grasps.h5"
    first = subprocess.Popen(_command(config, runs), cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        for _ in range(1200):  # at most about 2 minutes
            if _count(dataset) >= 30 and (runs / "tiny" / "checkpoints" / "latest.json").exists():
                break
            assert first.poll() is None, "the loop ended before it was killed"
            time.sleep(0.1)
        trainer = int((runs / "tiny" / "trainer.pid").read_text())
        assert alive(trainer)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    for _ in range(100):
        if not alive(trainer):
            break
        time.sleep(0.1)
    assert not alive(trainer), "the trainer outlived the killed loop"
    killed_at = _count(dataset)
    assert 30 <= killed_at < 60
    done = subprocess.run(_command(config, runs), cwd=ROOT, timeout=300, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    with GraspDataset(dataset) as ds:
        assert len(ds) == 60
        stamps = ds.column("timestamp")
        methods = ds.column("method")
    assert len(np.unique(stamps)) == 60
    assert np.all(np.diff(stamps) > 0)
    assert set(methods[:25]) == {"random"}
    assert (runs / "tiny" / "report.json").is_file()
    assert not alive(int((runs / "tiny" / "trainer.pid").read_text()))
    resumed = json.loads((runs / "tiny" / "report.json").read_text())
    loaded = load_config(config)
    whole = run_learning(loaded, resolve_run_dir(tmp_path / "whole", loaded), progress=False)
    assert resumed["dataset_digest"] == whole["dataset_digest"]
    assert resumed["model_digest"] == whole["model_digest"]
