"""The self-supervised learning loop: the actor collects grasps, a trainer process retrains.

:func:`run_learning` opens (creates or resumes) the run's grasp dataset, whose committed
count *is* the attempt counter: a loop killed at any moment and started again goes on from
the next attempt, never losing or repeating a recorded one. It starts the trainer
(:mod:`agents.learning.trainer`) in a spawned process, restores the scene
(:meth:`~agents.learning.actor.Actor.restore`) and then, per attempt, lets the
:class:`~agents.learning.actor.Actor` decide and execute it, commits the record and tells
the callbacks (:mod:`agents.learning.callbacks`: the progress line, the TensorBoard charts
and any of the caller's).

At the target it waits for the schedule's last model, stops the trainer, evaluates the
learning curve from the checkpoints kept for it (:func:`agents.learning.curve.evaluate_curve`:
after collection, so evaluations never change what the actor does) and writes
``report.json`` and ``report.md`` (:mod:`agents.learning.report`) with the digests of the
dataset and the final model.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.learning.actor import Actor, ModelSource, Stopwatch
from agents.learning.callbacks import (
    ActorCharts,
    Attempt,
    Callback,
    ProgressBar,
    RecentAttempts,
    Session,
    StopAfter,
)
from agents.learning.config import LearnConfig, config_to_dict
from agents.learning.curve import evaluate_curve
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
from grasp_env.factory import make_env


def run_learning(
    config: LearnConfig,
    run_dir: Path,
    *,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    max_attempts_this_session: int | None = None,
) -> dict[str, Any]:
    """Collect, retrain and evaluate until the dataset holds ``target_attempts``.

    Args:
        config: the resolved config.
        run_dir: the run directory (from :func:`~agents.learning.rundir.resolve_run_dir`).
        progress: show the live progress line.
        callbacks: the caller's hooks (:class:`~agents.learning.callbacks.Callback`).
        max_attempts_this_session: end the session (without the final report) after this
            many attempts; None runs to the target.

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
    with _Run(config, run_dir) as run:
        if not run.collect(progress, hooks):
            return {"finished": False, "attempts": run.count}
        run.finish_training()
    clock = Stopwatch(dict(run.clock.seconds))
    start, collected = time.perf_counter(), run.wall_seconds
    evaluate_curve(run_dir, config)
    wall = collected + time.perf_counter() - start
    clock.add("evaluations (after collection)", start)
    write_progress(run_dir, {"wall_seconds": wall, "attempts": run.count,
                             "seconds": clock.seconds})  # fmt: skip
    return write_report(run_dir, config, wall_seconds=wall, seconds=clock.seconds)


class _Run:
    """One session of a run: the dataset writer, the env, the trainer process, the actor."""

    def __init__(self, config: LearnConfig, run_dir: Path) -> None:
        self.config, self.run_dir = config, run_dir
        self.previous = read_progress(run_dir)
        self.clock = Stopwatch(dict(self.previous.get("seconds", {})))
        self.started = time.monotonic()
        self.resources: list[Any] = []

    def __enter__(self) -> _Run:
        from torch.utils.tensorboard import SummaryWriter

        from agents.data import GraspDatasetWriter
        from agents.training.logger import TrainingLogger

        config, grid = self.config, self.config.env.grid
        stored = {**config_to_dict(config), "grid": to_dict(grid)}
        meta = {"env_id": config.env_id, "objects": config.objects, "object_set": config.object_set}
        self.writer = GraspDatasetWriter.open(
            self.run_dir / DATASET_FILE, image=grid.image, config=stored, meta=meta
        )
        self.resources.append(self.writer)
        self.logger = TrainingLogger(
            SummaryWriter(str(self.run_dir / TB_DIR), filename_suffix=".actor")
        )
        self.resources.append(self.logger)
        self.env = make_env(config.env_id, config.env, config.objects,
                            config.object_set or None, config.cell_config)  # fmt: skip
        self.resources.append(self.env)
        if config.init_model and read_latest(self.run_dir).version == 0:
            _start_from(self.run_dir, config)
        self.process, self.stop = _start_trainer(self.run_dir, config)
        models = ModelSource(self.run_dir, config, self.process.is_alive, self.clock)
        self.actor = Actor(config, self.env, models, self.clock)
        return self

    def __exit__(self, *exc: object) -> None:
        _stop_trainer(self.process, self.stop, timeout=10.0)
        write_progress(self.run_dir, self._progress())
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

    def _progress(self) -> dict[str, Any]:
        return {"wall_seconds": self.wall_seconds, "attempts": self.count,
                "seconds": self.clock.seconds}  # fmt: skip

    def collect(self, progress: bool, callbacks: list[Callback]) -> bool:
        """Attempts until the target; False when a callback ended the session first."""
        from agents.data import GraspDataset

        if self.count >= self.config.target_attempts:
            return True  # collected before: only the training and the evaluations are left
        with GraspDataset(self.run_dir / DATASET_FILE) as dataset:
            recent = RecentAttempts(_history(dataset, self.count))
            differ = self.actor.restore(self.count, dataset)
        if differ:
            print(f"warning: {differ} replayed attempts of the resumed segment differ from"
                  " the record; this run will not reproduce an uninterrupted one")  # fmt: skip
        hooks: list[Callback] = [recent, ActorCharts(recent, self.logger)]
        hooks += [ProgressBar(recent)] if progress else []
        hooks += callbacks
        session = Session(self.config, self.run_dir, self.count)
        for hook in hooks:
            hook.on_start(session)
        go_on = True
        while go_on and self.count < self.config.target_attempts:
            go_on = self._one(hooks)
        finished = self.count >= self.config.target_attempts
        for hook in hooks:
            hook.on_end(finished)
        return finished

    def _one(self, hooks: list[Callback]) -> bool:
        index = self.count
        step = self.actor.attempt(index)
        start = time.perf_counter()
        self.writer.append(step.record)
        self.clock.add("dataset append", start)
        attempt = Attempt(index, step.reward, step.method, step.model_version, step.info)
        if self.count % self.config.log_every == 0:
            write_progress(self.run_dir, self._progress())
        return all([hook.on_attempt(attempt) for hook in hooks])

    def finish_training(self) -> None:
        """Wait for the schedule's last model (lockstep), stop the trainer, keep the curve's."""
        config = self.config
        if config.schedule == "lockstep":
            final = RoundSchedule.of(config).final_version(config.target_attempts)
            self.actor.models.load(final, wait_seconds=float("inf"))
        _stop_trainer(self.process, self.stop)
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
    from agents.pretrained import pretrained_path

    source = pretrained_path() if config.init_model == "pretrained" else Path(config.init_model)
    model, card = load_checkpoint(source, config.env.grid)
    name = checkpoint_name(1)
    (run_dir / CHECKPOINTS).mkdir(exist_ok=True)
    facts = {"init_model": str(source), "source_card": card.get("training", {})}
    save_checkpoint(run_dir / CHECKPOINTS / name, model, config.env.grid, facts)
    write_latest(run_dir, Latest(1, name, 0, {}))


def _start_trainer(run_dir: Path, config: LearnConfig) -> tuple[Any, Any]:
    from agents.learning.trainer import trainer_main

    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    process = ctx.Process(
        target=trainer_main,
        args=(str(run_dir), config_to_dict(config), os.getpid(), stop),
        name="grasp-trainer",
        daemon=True,
    )
    process.start()
    write_atomic(run_dir / TRAINER_PID, str(process.pid))
    return process, stop


def _stop_trainer(process: Any, stop: Any, timeout: float = 60.0) -> None:
    stop.set()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join(5.0)


__all__ = ["run_learning"]
