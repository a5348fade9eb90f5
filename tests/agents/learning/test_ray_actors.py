"""Ray actors in ``grasp learn``: the records of one actor without Ray, a killed one replaced.

A local Ray of two CPUs on loopback (``local_ray``, tests/conftest.py) serves the
module; without Ray installed the tests skip. The runs are the tiny config
of tests/agents/conftest.py with two lanes, as in test_actors.py; a Ray actor is killed
(``ray.kill``) mid-run by a callback, and the digests still match.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agents.data import GraspDataset
from agents.data.digest import dataset_digest
from agents.learning import load_config, resolve_run_dir
from agents.learning.callbacks import Attempt, Callback, Session, StopAfter
from agents.learning.loop import run_collection
from agents.learning.ray_actors import RAY_ACTORS
from agents.learning.ray_trainer import RAY_TRAINER
from agents.learning.rundir import read_progress
from grasp_env.errors import ConfigError

EVAL = {"at": [], "n": 2, "m": 4, "runs": 1, "final_runs": 1, "workers": 1}
TWO_LANES = {"lanes": 2, "rebuild_every": 20, "evaluation": EVAL}


def _collect(folder: Path, write_config, callbacks=(), ray_address=None, **changes) -> tuple:
    """(count, digest) of collecting the tiny two-lane config in ``folder``."""
    folder.mkdir()
    config = load_config(write_config(folder, **TWO_LANES, **changes))
    run_dir = resolve_run_dir(folder / "runs", config)
    run_collection(config, run_dir, callbacks=callbacks, ray_address=ray_address)
    with GraspDataset(run_dir / "grasps.h5") as ds:
        return len(ds), dataset_digest(ds)


@pytest.fixture(scope="module")
def without_ray(tmp_path_factory: pytest.TempPathFactory, write_config) -> tuple:
    """Count and digest of the two-lane run with one actor in this process, no Ray."""
    return _collect(tmp_path_factory.mktemp("no_ray") / "run", write_config)


def test_two_ray_actors_collect_the_records_of_one_actor_without_ray(
    local_ray, without_ray, tmp_path: Path, write_config
) -> None:
    assert without_ray[0] == 70
    assert _collect(tmp_path / "ray", write_config, ray_address="auto", actors=2) == without_ray


class _KillRayActor(Callback):
    """``ray.kill`` s the first live Ray actor (from ray_actors.txt) at the given counts."""

    def __init__(self, ray, at: tuple[int, ...]) -> None:
        self.ray, self.at, self.killed, self.run_dir = ray, at, [], Path()

    def on_start(self, session: Session) -> None:
        self.run_dir = session.run_dir

    def on_attempt(self, attempt: Attempt) -> bool:
        if attempt.count in self.at:
            name = (self.run_dir / RAY_ACTORS).read_text().split()[len(self.killed) % 2]
            self.ray.kill(self.ray.get_actor(name))
            self.killed.append(name)
        return True


def test_a_killed_ray_actor_is_replaced_and_the_run_records_the_same_attempts(
    local_ray, without_ray, tmp_path: Path, write_config
) -> None:
    killer = _KillRayActor(local_ray, at=(12, 41))
    got = _collect(tmp_path / "ray", write_config, [killer], ray_address="auto", actors=2)
    assert len(set(killer.killed)) == 2
    assert got == without_ray
    sessions = read_progress(tmp_path / "ray" / "runs" / "tiny")["sessions"]
    want = {"actors": 2, "start": 0, "end": 70, "restarts": 2, "ray": 1, "trainer": "cpu"}
    assert sessions == [{**want, "trainer_restarts": 0}]


def test_more_actors_than_the_clusters_cpus_are_refused(local_ray, tmp_path: Path, write_config):
    config = load_config(write_config(tmp_path, lanes=3, actors=3))
    run_dir = resolve_run_dir(tmp_path / "runs", config)
    with pytest.raises(ConfigError, match=r"expected at most the Ray cluster's 2 CPUs, got 3"):
        run_collection(config, run_dir, ray_address="auto")


def test_a_run_begun_without_ray_resumes_on_ray_with_the_same_records(
    local_ray, without_ray, tmp_path: Path, write_config
) -> None:
    # the Ray trainer starts from the versions the local trainer left in the run directory
    config = load_config(write_config(tmp_path, **TWO_LANES))
    run_dir = resolve_run_dir(tmp_path / "runs", config)
    run_collection(config, run_dir, callbacks=[StopAfter(40)])
    run_collection(replace(config, actors=2), run_dir, ray_address="auto")
    with GraspDataset(run_dir / "grasps.h5") as ds:
        assert (len(ds), dataset_digest(ds)) == without_ray


class _KillTrainer(Callback):
    """``ray.kill`` s the Ray trainer (named in ray_trainer.txt) at attempt ``at``."""

    def __init__(self, ray, at: int) -> None:
        self.ray, self.at, self.run_dir = ray, at, Path()

    def on_start(self, session: Session) -> None:
        self.run_dir = session.run_dir

    def on_attempt(self, attempt: Attempt) -> bool:
        if attempt.count == self.at:
            self.ray.kill(self.ray.get_actor((self.run_dir / RAY_TRAINER).read_text()))
        return True


def test_a_killed_ray_trainer_is_replaced_and_the_run_records_the_same_attempts(
    local_ray, without_ray, tmp_path: Path, write_config
) -> None:
    config = load_config(write_config(tmp_path, **TWO_LANES))
    run_dir = resolve_run_dir(tmp_path / "runs", config)
    run_collection(config, run_dir, callbacks=[_KillTrainer(local_ray, 30)], ray_address="auto")
    with GraspDataset(run_dir / "grasps.h5") as ds:
        assert (len(ds), dataset_digest(ds)) == without_ray
    assert read_progress(run_dir)["sessions"][0]["trainer_restarts"] == 1
