"""K actor processes: the same records for every K; a killed actor or writer loses nothing.

The runs here are the tiny config of tests/agents/conftest.py with two lanes (two learning
bins), each bin rebuilt every 20 of its attempts, so a replaced actor replays part of a
segment. The runs with a trained model take half a minute each and are marked slow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agents.data import DatasetError, GraspDataset
from agents.data.digest import dataset_digest
from agents.learning import load_config, resolve_run_dir, run_learning
from agents.learning.callbacks import Attempt, Callback, Session
from agents.learning.loop import run_collection
from grasp_env.errors import ConfigError
from grasp_toolkit.scripts.cli import main as grasp

ROOT = Path(__file__).resolve().parents[3]
EVAL = {"at": [], "n": 2, "m": 4, "runs": 1, "final_runs": 1, "workers": 1}
#: 16 random attempts in two lanes, each rebuilt every 3 of its attempts; no training round
#: falls due (the first would train on 20), so the run is quick.
RANDOM_ONLY = {"target_attempts": 16, "random_attempts": 20, "lanes": 2, "rebuild_every": 3,
               "trainer": {"min_attempts": 20, "lag": 0}}  # fmt: skip
TWO_LANES = {"lanes": 2, "rebuild_every": 20, "evaluation": EVAL}


def _collected_digest(folder: Path, write_config, **changes: object) -> str:
    folder.mkdir()
    config = load_config(write_config(folder, **changes))
    run_dir = resolve_run_dir(folder / "runs", config)
    assert run_collection(config, run_dir)["attempts"] == config.target_attempts
    with GraspDataset(run_dir / "grasps.h5") as ds:
        return dataset_digest(ds)


def test_two_actor_processes_collect_the_records_of_one_actor(tmp_path: Path, write_config):
    one = _collected_digest(tmp_path / "one", write_config, **RANDOM_ONLY)
    two = _collected_digest(tmp_path / "two", write_config, **RANDOM_ONLY, actors=2)
    assert two == one


@pytest.mark.parametrize("actors", [0, 3])
def test_actors_outside_one_to_the_lanes_are_refused(
    tmp_path: Path, write_config, capsys: pytest.CaptureFixture, actors: int
) -> None:
    path = write_config(tmp_path, lanes=2)
    runs = tmp_path / "runs"
    code = grasp(["learn", "--config", str(path), "--runs", str(runs), "--actors", str(actors)])
    assert code == 1
    assert f"actors: expected 1 <= K <= lanes (2), got {actors}" in capsys.readouterr().err
    assert not runs.exists()


def test_zero_lanes_are_refused(tmp_path: Path, write_config) -> None:
    with pytest.raises(ConfigError, match=r"lanes: expected >= 1 learning bins, got 0"):
        load_config(write_config(tmp_path, lanes=0))


def test_a_run_resumes_with_other_actors_but_not_with_other_lanes(tmp_path: Path, write_config):
    config = load_config(write_config(tmp_path, lanes=2))
    runs = tmp_path / "runs"
    first = resolve_run_dir(runs, config)
    assert resolve_run_dir(runs, replace(config, actors=2)) == first
    with pytest.raises(ConfigError, match=r"differing in lanes\)"):
        resolve_run_dir(runs, replace(config, lanes=3))


def _learn(folder: Path, write_config, callbacks=(), **changes: object) -> tuple[dict, Path]:
    folder.mkdir(exist_ok=True)
    config = load_config(write_config(folder, **changes))
    run_dir = resolve_run_dir(folder / "runs", config)
    return run_learning(config, run_dir, progress=False, callbacks=callbacks), run_dir


def _digests(report: dict) -> tuple[str, str]:
    return report["dataset_digest"], report["model_digest"]


@pytest.mark.slow
def test_one_lane_and_one_actor_give_the_digests_of_the_loop_before_lanes(
    tmp_path: Path, write_config
) -> None:
    # The honest output of the loop before lanes and actors existed (one actor in the main
    # process, commit a2c0cc6 with the working tree's schema-2 dataset), run on this config.
    # A change to the dataset's schema or to the twin changes them: record them anew then,
    # from the single-actor code of that time, never from this code.
    report, _ = _learn(tmp_path, write_config, rebuild_every=20, evaluation=EVAL)
    assert _digests(report) == (
        "bd4ce51f6f3d96e74909f9c8637164eea8e5f12078d7bfe280f9ae875048b622",
        "e8f47b15a0618b21345b69f05211b44a134d543466bdcf28a18822a234b79941",
    )


@pytest.fixture(scope="module")
def one_actor(tmp_path_factory: pytest.TempPathFactory, write_config) -> dict:
    """The report of the two-lane run with one actor."""
    report, _ = _learn(tmp_path_factory.mktemp("one_actor"), write_config, **TWO_LANES)
    return report


@pytest.mark.slow
def test_two_actor_processes_give_the_digests_of_one_actor(one_actor, tmp_path, write_config):
    two, _ = _learn(tmp_path, write_config, actors=2, **TWO_LANES)
    assert _digests(two) == _digests(one_actor)
    assert two["sessions"] == [{"actors": 2, "start": 0, "end": 70, "restarts": 0}]
    assert one_actor["sessions"] == [{"actors": 1, "start": 0, "end": 70, "restarts": 0}]


class _KillActors(Callback):
    """SIGKILLs actor ``n % 2`` (its pid from actors.pid) at the n-th of the given counts."""

    def __init__(self, at: tuple[int, ...]) -> None:
        self.at, self.killed, self.run_dir = at, [], Path()

    def on_start(self, session: Session) -> None:
        self.run_dir = session.run_dir

    def on_attempt(self, attempt: Attempt) -> bool:
        if attempt.count in self.at:
            pids = (self.run_dir / "actors.pid").read_text().split()
            pid = int(pids[len(self.killed) % len(pids)])
            os.kill(pid, signal.SIGKILL)
            self.killed.append(pid)
        return True


@pytest.mark.slow
def test_a_killed_actor_is_replaced_and_the_run_records_the_same_attempts(
    one_actor, tmp_path: Path, write_config, alive
) -> None:
    killer = _KillActors(at=(12, 41))
    report, run_dir = _learn(tmp_path, write_config, [killer], actors=2, **TWO_LANES)
    assert len(killer.killed) == 2
    assert not any(alive(pid) for pid in killer.killed)
    with GraspDataset(run_dir / "grasps.h5") as ds:
        assert len(ds) == 70
        assert np.all(np.diff(ds.column("timestamp")) > 0)
    assert _digests(report) == _digests(one_actor)
    assert report["sessions"] == [{"actors": 2, "start": 0, "end": 70, "restarts": 2}]


@pytest.mark.slow
def test_the_failure_memory_of_a_replaced_actor_is_rebuilt_by_the_replay(
    tmp_path: Path, write_config
) -> None:
    # each lane's memory lives in its actor; the replacement replays the segment to rebuild it
    remembering = {**TWO_LANES, "failure_memory": {}}
    one, _ = _learn(tmp_path / "one", write_config, **remembering)
    killer = _KillActors(at=(33, 51))
    two, _ = _learn(tmp_path / "two", write_config, [killer], actors=2, **remembering)
    assert len(killer.killed) == 2
    assert _digests(two) == _digests(one)


def _command(config: Path, runs: Path, actors: int) -> list[str]:
    return [sys.executable, "-m", "grasp_toolkit.scripts.cli", "learn", "--config", str(config),
            "--runs", str(runs), "--quiet", "--actors", str(actors)]  # fmt: skip


def _count(path: Path) -> int:
    try:
        with GraspDataset(path) as ds:
            return len(ds)
    except (DatasetError, FileNotFoundError, OSError):
        return 0


def _kill_when(process: subprocess.Popen, run_dir: Path, count: int) -> list[int]:
    """SIGKILL ``process`` once ``count`` attempts are committed; its actors' pids."""
    for _ in range(1200):  # at most about 2 minutes
        if _count(run_dir / "grasps.h5") >= count and (run_dir / "actors.pid").exists():
            break
        assert process.poll() is None, "the loop ended before it was killed"
        time.sleep(0.1)
    pids = [int(p) for p in (run_dir / "actors.pid").read_text().split()]
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    return pids


@pytest.mark.slow
def test_a_killed_writer_takes_its_actors_along_and_one_actor_resumes_the_run(
    one_actor, tmp_path: Path, write_config, alive
) -> None:
    config = write_config(tmp_path, **TWO_LANES)
    runs = tmp_path / "runs"
    first = subprocess.Popen(_command(config, runs, 2), cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        actors = _kill_when(first, runs / "tiny", 30)
    finally:
        if first.poll() is None:
            first.kill()
    for _ in range(100):
        if not any(alive(pid) for pid in actors):
            break
        time.sleep(0.1)
    assert not any(alive(pid) for pid in actors), "an actor outlived the killed writer"
    killed_at = _count(runs / "tiny" / "grasps.h5")
    assert 30 <= killed_at < 70
    done = subprocess.run(_command(config, runs, 1), cwd=ROOT, timeout=300, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    resumed = json.loads((runs / "tiny" / "report.json").read_text())
    assert _digests(resumed) == _digests(one_actor)
    sessions = [(s["actors"], s["start"], s["end"]) for s in resumed["sessions"]]
    assert sessions == [(2, 0, killed_at), (1, killed_at, 70)]
