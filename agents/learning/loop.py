"""The self-supervised learning loop: actors collect grasps, a trainer process retrains.

:func:`run_learning` opens (creates or resumes) the run's grasp dataset, whose committed
count *is* the attempt counter: a loop killed at any moment and started again goes on from
the next attempt, never losing or repeating a recorded one. It starts the trainer
(:mod:`agents.learning.trainer`) in a spawned process (with ``ray_address``, as a Ray actor:
:mod:`agents.learning.ray_trainer`) and collects: with ``actors: 1`` an
:class:`~agents.learning.actor.Actor` in this process owns every lane's env
(:mod:`agents.learning.lanes`), with more an :class:`~agents.learning.actors.ActorPool` runs
them in their own processes, and with ``ray_address`` a
:class:`~agents.learning.ray_actors.RayActorPool` runs them as Ray actors across a cluster.
Either way each actor first restores its lanes' scenes, and the one writer here
(:class:`~agents.learning.commit.Committer`) commits the attempts in attempt order and tells
the callbacks (:mod:`agents.learning.callbacks`: the progress line, the TensorBoard charts
and any of the caller's). Under lockstep the records are the same
for any number of actors.

At the target it waits for the schedule's last model, stops the trainer, evaluates the
learning curve from the checkpoints kept for it (:func:`agents.learning.curve.evaluate_curve`:
after collection, so evaluations never change what the actors do) and writes
``report.json`` and ``report.md`` (:mod:`agents.learning.report`) with the digests of the
dataset and the final model, and the sessions: which ``actors`` collected which attempts.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.learning.acting import DirectResults, run_actor
from agents.learning.actor import Actor, ModelSource, Stopwatch, lane_env
from agents.learning.actors import ActorPool
from agents.learning.callbacks import (
    ActorCharts,
    Callback,
    ProgressBar,
    RecentAttempts,
    Session,
    StopAfter,
)
from agents.learning.commit import Committer, last_timestamp
from agents.learning.config import LearnConfig, config_to_dict, records_config
from agents.learning.curve import evaluate_curve
from agents.learning.lanes import LaneHistory
from agents.learning.report import write_report
from agents.learning.rounds import RoundSchedule
from agents.learning.rundir import (
    CHECKPOINTS,
    DATASET_FILE,
    REPORT_JSON,
    TB_DIR,
    TRAINER_PID,
    Latest,
    ModelRef,
    checkpoint_name,
    read_latest,
    read_progress,
    record_curve_checkpoints,
    write_atomic,
    write_latest,
    write_progress,
)
from grasp_env.config import to_dict


def run_learning(
    config: LearnConfig,
    run_dir: Path,
    *,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    max_attempts_this_session: int | None = None,
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Collect, retrain and evaluate until the dataset holds ``target_attempts``.

    Args:
        config: the resolved config.
        run_dir: the run directory (from :func:`~agents.learning.rundir.resolve_run_dir`).
        progress: show the live progress line.
        callbacks: the caller's hooks (:class:`~agents.learning.callbacks.Callback`).
        max_attempts_this_session: end the session (without the final report) after this
            many attempts; None runs to the target.
        ray_address: collect with Ray actors on this cluster (``"auto"`` or ``host:port``,
            :func:`agents.raycluster.connect`); None: in this machine's processes.

    Returns:
        The report (also in ``report.json``), or ``{"finished": False, ...}`` when the
        session ended early.
    """
    report_path = run_dir / REPORT_JSON
    if report_path.exists():
        return json.loads(report_path.read_text())
    hooks = list(callbacks)
    if max_attempts_this_session is not None:
        hooks.append(StopAfter(max_attempts_this_session))
    with _Run(config, run_dir, ray_address) as run:
        if not run.collect(progress, hooks):
            return {"finished": False, "attempts": run.count}
        run.finish_training()
    clock = Stopwatch(dict(run.clock.seconds))
    start, collected = time.perf_counter(), run.wall_seconds
    evaluate_curve(run_dir, config)
    wall = collected + time.perf_counter() - start
    clock.add("evaluations (after collection)", start)
    write_progress(run_dir, {**run.progress(), "wall_seconds": wall, "seconds": clock.seconds})
    return write_report(run_dir, config, wall_seconds=wall, seconds=clock.seconds,
                        sessions=run.sessions)  # fmt: skip


def run_collection(
    config: LearnConfig,
    run_dir: Path,
    *,
    callbacks: Sequence[Callback] = (),
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Only collect, up to the target: no wait for the last model, no evaluations, no report.

    For measurements (``grasp bench actors``); the run directory can be resumed with
    :func:`run_learning` afterwards. ``ray_address`` as for :func:`run_learning`.

    Returns:
        ``attempts`` (committed), ``collection_seconds`` (this call's collection, wall time)
        and ``seconds`` (the loop's per-part times, summed over the run).
    """
    with _Run(config, run_dir, ray_address) as run:
        start = time.perf_counter()
        run.collect(False, list(callbacks))
        seconds = time.perf_counter() - start
    return {"attempts": run.count, "collection_seconds": seconds, "seconds": run.clock.seconds}


class _Run:
    """One session of a run: the dataset writer, the trainer process, the actors."""

    def __init__(self, config: LearnConfig, run_dir: Path, ray_address: str | None) -> None:
        self.config, self.run_dir, self.ray_address = config, run_dir, ray_address
        self.previous = read_progress(run_dir)
        self.clock = Stopwatch(dict(self.previous.get("seconds", {})))
        self.sessions: list[dict[str, int]] = [dict(s) for s in self.previous.get("sessions", [])]
        self.session: dict[str, int] | None = None
        self.started = time.monotonic()
        self.resources: list[Any] = []
        self.pool: ActorPool | None = None

    def __enter__(self) -> _Run:
        from torch.utils.tensorboard import SummaryWriter

        from agents.data import GraspDatasetWriter
        from agents.learning.prior import check_datasets
        from agents.training.logger import TrainingLogger

        config, grid = self.config, self.config.env.grid
        check_datasets(config)
        stored = {**records_config(config), "grid": to_dict(grid)}
        meta = {"env_id": config.env_id, "objects": config.objects, "object_set": config.object_set}
        self.writer = GraspDatasetWriter.open(
            self.run_dir / DATASET_FILE, image=grid.image, config=stored, meta=meta
        )
        self.resources.append(self.writer)
        self.logger = TrainingLogger(
            SummaryWriter(str(self.run_dir / TB_DIR), filename_suffix=".actor")
        )
        self.resources.append(self.logger)
        if config.init_model and read_latest(self.run_dir).version == 0:
            _start_from(self.run_dir, config)
        self.trainer = self._start_trainer()
        self.models = ModelSource(self.run_dir, config, self.trainer.is_alive, self.clock)
        return self

    def _start_trainer(self) -> Any:
        if self.ray_address is None:
            return TrainerProcess(self.run_dir, self.config)
        from agents.learning.ray_trainer import RayTrainer
        from agents.raycluster import connect

        connect(self.ray_address)
        return RayTrainer(self.run_dir, self.config)

    def __exit__(self, *exc: object) -> None:
        self.trainer.stop(timeout=10.0)
        write_progress(self.run_dir, self.progress())
        for resource in reversed(self.resources):
            resource.close()

    @property
    def count(self) -> int:
        """Committed attempts."""
        return self.writer.count

    @property
    def wall_seconds(self) -> float:
        """Wall time of the run so far, every session included."""
        return float(self.previous.get("wall_seconds", 0.0)) + time.monotonic() - self.started

    def progress(self) -> dict[str, Any]:
        """``progress.json``'s content now."""
        if self.session is not None:
            self.session["end"] = self.count
            self.session["restarts"] = self.pool.restarts if self.pool is not None else 0
            if self.ray_address is not None:
                self.session["trainer_restarts"] = self.trainer.restarts
        return {"wall_seconds": self.wall_seconds, "attempts": self.count,
                "seconds": self.clock.seconds, "sessions": self.sessions}  # fmt: skip

    def collect(self, progress: bool, callbacks: list[Callback]) -> bool:
        """Attempts until the target; False when a callback ended the session first."""
        from agents.data import GraspDataset

        config = self.config
        if self.count >= config.target_attempts:
            return True  # collected before: only the training and the evaluations are left
        with GraspDataset(self.run_dir / DATASET_FILE) as dataset:
            recent = RecentAttempts(_history(dataset, self.count))
            history = LaneHistory.from_dataset(dataset, self.count, config.lanes,
                                               config.rebuild_every)  # fmt: skip
            timestamp = last_timestamp(dataset, self.count)
        hooks: list[Callback] = [recent, ActorCharts(recent, self.logger)]
        hooks += [ProgressBar(recent)] if progress else []
        hooks += callbacks
        committer = Committer(config, self.writer, timestamp=timestamp, history=history,
                              hooks=hooks, clock=self.clock, on_commit=self._committed)  # fmt: skip
        self._begin_session()
        session = Session(config, self.run_dir, self.count)
        for hook in hooks:
            hook.on_start(session)
        self._collect_with(committer)
        finished = self.count >= config.target_attempts
        for hook in hooks:
            hook.on_end(finished)
        return finished

    def _begin_session(self) -> None:
        """Note this session in ``progress.json`` before it commits anything."""
        if self.sessions and self.sessions[-1]["end"] < self.count:
            # the last session was killed: its progress.json lags its last commits
            self.sessions[-1]["end"] = self.count
        self.session = {"actors": self.config.actors, "start": self.count, "end": self.count,
                        "restarts": 0}  # fmt: skip
        if self.ray_address is not None:
            self.session |= {"ray": 1, "trainer": self.trainer.device, "trainer_restarts": 0}
        self.sessions.append(self.session)
        write_progress(self.run_dir, self.progress())

    def _collect_with(self, committer: Committer) -> None:
        config = self.config
        if self.ray_address is not None:
            from agents.learning.ray_actors import RayActorPool

            self.pool = RayActorPool(config, self.run_dir, committer, self.trainer.is_alive,
                                     self.clock)  # fmt: skip
            self.pool.collect()
            return
        if config.actors > 1:
            self.pool = ActorPool(config, self.run_dir, committer, self.trainer.is_alive,
                                  self.clock)  # fmt: skip
            self.pool.collect()
            return
        envs = {lane: self._env() for lane in range(config.lanes)}
        starts = [committer.start(lane) for lane in range(config.lanes)]
        actor = Actor(config, envs, self.models, self.clock)
        run_actor(actor, starts, DirectResults(committer), config.target_attempts)

    def _env(self) -> Any:
        env = lane_env(self.config)
        self.resources.append(env)
        return env

    def _committed(self, count: int) -> None:
        if count % self.config.log_every == 0:
            write_progress(self.run_dir, self.progress())

    def finish_training(self) -> None:
        """Wait for the schedule's last model (lockstep), stop the trainer, keep the curve's."""
        config = self.config
        if config.schedule == "lockstep":
            final = RoundSchedule.of(config).final_version(config.target_attempts)
            self.models.load(final, wait_seconds=float("inf"))
        self.trainer.stop()
        latest = read_latest(self.run_dir)
        counts = tuple(c for c in (*config.evaluation.at, config.target_attempts)
                       if c <= config.target_attempts)  # fmt: skip
        ref = ModelRef(latest.version, latest.path, latest.attempts)
        record_curve_checkpoints(self.run_dir, counts, ref, None)


def _history(dataset: Any, count: int) -> list[tuple[float, str]]:
    """The last 100 committed (reward, method) pairs, for the progress line of a resume."""
    lo = max(0, count - 100)
    rewards = dataset.column("reward", slice(lo, count)).tolist()
    methods = dataset.column("method", slice(lo, count)).tolist()
    return list(zip(rewards, methods, strict=True))


def _start_from(run_dir: Path, config: LearnConfig) -> None:
    """Make ``config.init_model`` the run's version 1, so actor and trainer start from it."""
    from agents.fcn.checkpoint import load_checkpoint, save_checkpoint
    from agents.pretrained import resolve_model

    source = Path(resolve_model(str(config.init_model)))
    model, card = load_checkpoint(source, config.env.grid)
    name = checkpoint_name(1)
    (run_dir / CHECKPOINTS).mkdir(exist_ok=True)
    facts = {"init_model": str(source), "source_card": card.get("training", {})}
    save_checkpoint(run_dir / CHECKPOINTS / name, model, config.env.grid, facts)
    write_latest(run_dir, Latest(1, name, 0, {}))


class TrainerProcess:
    """The trainer in a spawned process of this machine (:func:`trainer_main`)."""

    device = "cpu"

    def __init__(self, run_dir: Path, config: LearnConfig) -> None:
        from agents.learning.trainer import trainer_main

        ctx = mp.get_context("spawn")
        self.stopping = ctx.Event()
        self.process = ctx.Process(
            target=trainer_main,
            args=(str(run_dir), config_to_dict(config), os.getpid(), self.stopping),
            name="grasp-trainer",
            daemon=True,
        )
        self.process.start()
        write_atomic(run_dir / TRAINER_PID, str(self.process.pid))

    def is_alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.is_alive()

    def stop(self, timeout: float = 60.0) -> None:
        """End it after its current round (killed after ``timeout`` seconds)."""
        self.stopping.set()
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5.0)


__all__ = ["run_learning"]
