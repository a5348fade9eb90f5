"""The lockstep schedule: which model acts on attempt i is a function of the config alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.learning import load_config, resolve_run_dir, run_learning
from agents.learning.callbacks import Attempt, Callback, Session
from agents.learning.rounds import RoundSchedule
from grasp_env.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]

schedules = st.builds(
    RoundSchedule,
    first=st.integers(2, 500),
    every=st.integers(1, 100),
    lag=st.integers(0, 200),
    offset=st.integers(0, 1),
)


@given(schedule=schedules, attempt=st.integers(0, 20_000))
def test_the_acting_model_was_trained_on_attempts_at_least_lag_before(
    schedule: RoundSchedule, attempt: int
) -> None:
    version = schedule.acting_version(attempt)
    round_ = schedule.round_of_version(version)
    if round_ > 0:
        assert schedule.attempts_of(round_) + schedule.lag <= attempt
    assert schedule.attempts_of(round_ + 1) + schedule.lag > attempt  # and it is the newest


@given(schedule=schedules, attempt=st.integers(0, 20_000))
def test_acting_versions_never_go_back(schedule: RoundSchedule, attempt: int) -> None:
    assert schedule.acting_version(attempt) <= schedule.acting_version(attempt + 1)


def test_a_first_model_due_after_the_random_attempts_is_refused(tmp_path: Path, write_config):
    path = write_config(tmp_path, random_attempts=20)
    with pytest.raises(ConfigError, match=r"random_attempts >= 25, got 20"):
        load_config(path)


def test_a_resume_with_a_changed_schedule_key_names_the_key(tmp_path: Path, write_config):
    config = load_config(write_config(tmp_path))
    resolve_run_dir(tmp_path / "runs", config)
    changed = load_config(write_config(tmp_path, schedule="timed"))
    with pytest.raises(ConfigError, match=r"differing in schedule\)"):
        resolve_run_dir(tmp_path / "runs", changed)


def test_a_run_in_its_own_process_gives_the_digests_of_one_in_this_process(
    tmp_path: Path, write_config
) -> None:
    path = write_config(tmp_path, evaluation={"at": [], "n": 2, "m": 4, "runs": 1, "final_runs": 1})
    command = [sys.executable, "-m", "grasp_toolkit.scripts.cli", "learn", "--config", str(path),
               "--runs", str(tmp_path / "other"), "--quiet"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, timeout=300, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    other = json.loads((tmp_path / "other" / "tiny" / "report.json").read_text())
    config = load_config(path)
    here = run_learning(config, resolve_run_dir(tmp_path / "here", config), progress=False)
    assert here["schedule"] == "lockstep"
    assert (here["dataset_digest"], here["model_digest"]) == (
        other["dataset_digest"],
        other["model_digest"],
    )
    assert f"dataset digest: {here['dataset_digest']}" in done.stdout


class _Watch(Callback):
    """Records what it is shown and ends the session after ``stop_at`` attempts."""

    def __init__(self, stop_at: int) -> None:
        self.stop_at, self.indices, self.started, self.ended = stop_at, [], None, None

    def on_start(self, session: Session) -> None:
        self.started = session.start_count

    def on_attempt(self, attempt: Attempt) -> bool:
        self.indices.append(attempt.index)
        return attempt.count < self.stop_at

    def on_end(self, finished: bool) -> None:
        self.ended = finished


def test_a_callback_sees_every_attempt_and_can_end_the_session(tmp_path: Path, write_config):
    config = load_config(write_config(tmp_path))
    run_dir = resolve_run_dir(tmp_path / "runs", config)
    watch = _Watch(stop_at=12)
    assert run_learning(config, run_dir, progress=False, callbacks=[watch]) == {
        "finished": False,
        "attempts": 12,
    }
    assert (watch.started, watch.indices, watch.ended) == (0, list(range(12)), False)
