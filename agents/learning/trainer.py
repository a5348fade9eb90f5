"""The trainer process: retrains the value model on the growing dataset while the actor acts.

:func:`trainer_main` runs in its own process (multiprocessing, spawn context), on one torch
thread. Each round it refreshes the dataset, reads the new committed records, trains a few
epochs continuing from its last weights (:func:`agents.training.fit.train`), writes the next
versioned checkpoint atomically and then points ``checkpoints/latest.json`` at it. The actor
stats that pointer before every grasp and loads a newer version.

Weighted retraining (paper III-E, :func:`agents.training.fit.weighted_retraining`, continuing
from the current weights) replaces plain rounds from ``weighted_from`` attempts on, or once
the plateau rule fires: the test loss has not improved on its best by ``plateau_min_delta``
for ``plateau_rounds`` rounds in a row. The switch is kept in the pointer's state, so a
resumed trainer carries on with it.

The trainer dies with the actor: it asks Linux for SIGKILL when its parent dies
(``prctl(PR_SET_PDEATHSIG)``), and also polls ``os.getppid()`` between rounds and while
waiting, for platforms without prctl.
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np

PR_SET_PDEATHSIG = 1

log = logging.getLogger(__name__)


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies; exit if it already has."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass  # not Linux: the getppid polling below still ends the trainer
    if os.getppid() != parent_pid:
        os._exit(0)


class _Data:
    """The committed records read so far, extended incrementally."""

    def __init__(self, path: Path, widths: tuple[float, ...]) -> None:
        from agents.data import GraspDataset

        self.dataset = GraspDataset(path)
        self.widths = widths
        self.parts: list[Any] = []
        self.count = 0
        self.samples = None
        self.timestamps = np.zeros(0)

    def update(self) -> int:
        from agents.data.samples import GraspSamples, samples_from_arrays

        n = self.dataset.refresh()
        if n > self.count:
            arrays = self.dataset.read(slice(self.count, n))
            new = samples_from_arrays(arrays, self.widths)
            old = self.samples
            self.samples = new if old is None else GraspSamples.concatenate([old, new])
            self.timestamps = np.concatenate([self.timestamps, arrays.timestamps])
            self.count = n
        return self.count


def trainer_main(run_dir: str, config_data: dict, parent_pid: int, stop: Any) -> None:
    """The trainer process's body; see the module docstring.

    Args:
        run_dir: the run directory.
        config_data: the resolved LearnConfig as plain data (picklable under spawn).
        parent_pid: the actor's pid; the trainer exits when it is gone.
        stop: a multiprocessing Event; set it to end the trainer after its current round.
    """
    die_with_parent(parent_pid)
    import torch

    torch.set_num_threads(1)
    try:
        _loop(Path(run_dir), config_data, parent_pid, stop)
    except KeyboardInterrupt:
        pass


def _loop(run_dir: Path, config_data: dict, parent_pid: int, stop: Any) -> None:
    from torch.utils.tensorboard import SummaryWriter

    from agents.data.split import in_test_set
    from agents.fcn.checkpoint import load_checkpoint, save_checkpoint
    from agents.learning.config import config_from_mapping
    from agents.learning.rundir import (
        CHECKPOINTS,
        DATASET_FILE,
        TB_DIR,
        Latest,
        checkpoint_name,
        read_latest,
        write_latest,
    )
    from agents.learning.schedule import STREAM_TRAINER, attempt_rng
    from agents.training.fit import train, weighted_retraining
    from agents.training.logger import TrainingLogger

    config = config_from_mapping(config_data)
    tc = config.trainer
    train_config = dataclasses.replace(tc.train, num_threads=1, retrain_from_scratch=False)
    grid = config.env.grid
    latest = read_latest(run_dir)
    model = None
    if latest.version:
        model, _ = load_checkpoint(run_dir / CHECKPOINTS / latest.path, grid)
    state = dict(latest.state or {})
    state.setdefault("weighted", False)
    state.setdefault("best_test_loss", None)
    state.setdefault("rounds_since_best", 0)
    version = latest.version
    last_count = latest.attempts if latest.version else 0
    dataset_path = run_dir / DATASET_FILE
    for _ in range(int(10 / tc.poll_seconds) + 600):  # the actor creates the file first
        if dataset_path.exists() or stop.is_set():
            break
        time.sleep(tc.poll_seconds)
    if stop.is_set() or not dataset_path.exists():
        return
    data = _Data(dataset_path, grid.widths)
    writer = SummaryWriter(str(run_dir / TB_DIR), filename_suffix=".trainer")
    logger = TrainingLogger(writer)
    try:
        for _ in range(tc.max_rounds):
            if stop.is_set() or os.getppid() != parent_pid:
                return
            n = data.update()
            need = tc.min_attempts if version == 0 else last_count + tc.min_new_attempts
            if n < need:
                time.sleep(tc.poll_seconds)
                continue
            rng = attempt_rng(config.seed, version + 1, STREAM_TRAINER)
            test_mask = in_test_set(data.timestamps)
            samples = data.samples
            train_set = samples.subset(np.flatnonzero(~test_mask))
            test_set = samples.subset(np.flatnonzero(test_mask))
            if not state["weighted"] and tc.weighted_from and n >= tc.weighted_from:
                state["weighted"] = True
                log.info("weighted retraining from %d attempts (weighted_from)", n)
            start = time.perf_counter()
            if state["weighted"]:
                result = weighted_retraining(
                    train_set, test_set, grid, train_config, rng, logger, None, n, False, model
                ).second
            else:
                result = train(train_set, test_set, grid, train_config, rng, model, logger, None, n)
            if not result.trained:
                last_count = n
                continue
            model = result.model
            version += 1
            loss = result.test.get("loss")
            _plateau(state, loss, tc)
            facts = {**result.facts, "attempts": n, "version": version, **state}
            name = checkpoint_name(version)
            save_checkpoint(run_dir / CHECKPOINTS / name, model, grid, facts)
            write_latest(run_dir, Latest(version, name, n, state))
            writer.add_scalar("charts/trainer_round_seconds", time.perf_counter() - start, n)
            writer.add_scalar("charts/weighted_retraining", float(state["weighted"]), n)
            writer.flush()
            _prune(run_dir / CHECKPOINTS, version, tc.keep_checkpoints)
            last_count = n
    finally:
        writer.close()
        data.dataset.close()


def _plateau(state: dict, loss: float | None, tc: Any) -> None:
    """Update the plateau counters with this round's test loss; switch weighting on."""
    if loss is None or tc.plateau_rounds <= 0 or state["weighted"]:
        return
    best = state["best_test_loss"]
    if best is None or loss < best - tc.plateau_min_delta:
        state["best_test_loss"] = float(loss)
        state["rounds_since_best"] = 0
        return
    state["rounds_since_best"] += 1
    if state["rounds_since_best"] >= tc.plateau_rounds:
        state["weighted"] = True
        log.info("test loss saturated at %.4f: weighted retraining from now on", best)


def _prune(folder: Path, version: int, keep: int) -> None:
    from agents.learning.rundir import checkpoint_name

    for old in range(max(1, version - keep - 20), version - keep + 1):
        (folder / checkpoint_name(old)).unlink(missing_ok=True)


__all__ = ["die_with_parent", "trainer_main"]
