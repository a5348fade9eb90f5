"""The trainer process: retrains the value model on the growing dataset while the actor acts.

:func:`trainer_main` runs in its own process (multiprocessing, spawn context), on one torch
thread with torch's deterministic algorithms. :class:`Trainer` does the rounds the schedule
asks for (:mod:`agents.learning.rounds`): under lockstep round r trains on exactly the first
n_r records, under the timed schedule on all there are. Each round continues from the last
round's weights (:func:`agents.training.fit.train`), writes the next versioned checkpoint
atomically and then points ``checkpoints/latest.json`` at it; the actor loads it from there.

Weighted retraining (paper III-E, :func:`agents.training.fit.weighted_retraining`,
continuing from the current weights) replaces plain rounds from ``weighted_from`` attempts
on, or once the plateau rule fires: the test loss has not improved on its best by
``plateau_min_delta`` for ``plateau_rounds`` rounds in a row. That state
(:class:`TrainerState`) is kept in the pointer, so a resumed trainer carries on with it.

The trainer dies with the actor: it asks Linux for SIGKILL when its parent dies
(:func:`agents.child_process.die_with_parent`), and also polls ``os.getppid()`` between
rounds and while waiting, for platforms without prctl.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.child_process import die_with_parent
from agents.learning.config import LearnConfig, config_from_mapping
from agents.learning.rounds import RoundSchedule
from agents.learning.rundir import (
    CHECKPOINTS,
    DATASET_FILE,
    TB_DIR,
    Latest,
    ModelRef,
    checkpoint_name,
    read_latest,
    record_curve_checkpoints,
    trained_name,
    write_latest,
)
from agents.learning.schedule import STREAM_PRIOR, STREAM_TRAINER, attempt_rng

log = logging.getLogger(__name__)


@dataclass
class TrainerState:
    """What the trainer carries from round to round, beyond the weights.

    Attributes:
        weighted: weighted retraining is on (it stays on).
        best_test_loss: the best test loss so far (the plateau rule's reference).
        rounds_since_best: rounds in a row without an improvement on it.
    """

    weighted: bool = False
    best_test_loss: float | None = None
    rounds_since_best: int = 0

    @classmethod
    def from_pointer(cls, data: dict[str, Any] | None) -> TrainerState:
        """The state stored in ``latest.json`` (defaults for a first round)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in fields})

    def note_test_loss(self, loss: float | None, plateau_rounds: int, min_delta: float) -> None:
        """Update the plateau counters with a round's test loss; switch weighting on."""
        if loss is None or plateau_rounds <= 0 or self.weighted:
            return
        if self.best_test_loss is None or loss < self.best_test_loss - min_delta:
            self.best_test_loss, self.rounds_since_best = float(loss), 0
            return
        self.rounds_since_best += 1
        if self.rounds_since_best >= plateau_rounds:
            self.weighted = True
            log.info("test loss saturated at %.4f: weighted retraining from now on", loss)


def _draw(
    prior: np.ndarray, own: np.ndarray, share: float | None, rng: np.random.Generator | None
) -> np.ndarray:
    """Of the earlier records ``prior``, as many as are ``share`` beside ``own``, drawn by ``rng``.

    All of them without a share; in their order, so a draw reads like the file.
    """
    if share is None or rng is None:
        return prior
    count = min(len(prior), round(share / (1.0 - share) * len(own)))
    return np.sort(rng.choice(prior, size=count, replace=False))


class _Records:
    """The committed records read so far, as training samples, extended incrementally.

    With earlier datasets (``prior``, :mod:`agents.learning.prior`) their records come first
    and every split holds all of them.
    """

    def __init__(self, reader: Any, widths: tuple[float, ...], prior: Any = None) -> None:
        self.dataset = reader  # refresh() -> committed count, read(slice) -> GraspArrays
        self.widths = widths
        self.prior = prior
        self.samples: Any = None if prior is None else prior.samples
        self.offset = 0 if prior is None else len(prior.samples.rewards)
        self.timestamps = np.zeros(0)

    def update(self) -> int:
        """Read the records committed since the last call; the committed count."""
        from agents.data.samples import GraspSamples, samples_from_arrays

        n, have = self.dataset.refresh(), len(self.timestamps)
        if n > have:
            arrays = self.dataset.read(slice(have, n))
            new = samples_from_arrays(arrays, self.widths)
            self.samples = (
                new if self.samples is None else GraspSamples.concatenate([self.samples, new])
            )
            self.timestamps = np.concatenate([self.timestamps, arrays.timestamps])
        return n

    def split(
        self, n: int, share: float | None = None, rng: np.random.Generator | None = None
    ) -> tuple[Any, Any]:
        """The first ``n`` records as (training, test) samples, by the timestamp-hash split.

        With earlier datasets and a ``share``, only a draw of theirs (from ``rng``) joins
        each part, as many as makes that share of it.
        """
        from agents.data.split import in_test_set

        test = in_test_set(self.timestamps[:n])
        train_index = np.flatnonzero(~test) + self.offset
        test_index = np.flatnonzero(test) + self.offset
        if self.prior is not None:
            train_index = np.concatenate([_draw(self.prior.train_index, train_index, share, rng),
                                          train_index])  # fmt: skip
            test_index = np.concatenate([_draw(self.prior.test_index, test_index, share, rng),
                                         test_index])  # fmt: skip
        return self.samples.subset(train_index), self.samples.subset(test_index)

    def close(self) -> None:
        """Close the reader."""
        self.dataset.close()


class Trainer:
    """The rounds of one run directory; resumes from ``latest.json``.

    Args:
        run_dir: the run directory.
        config: the run's config.
        logger: where the round figures go (:class:`agents.training.logger.TrainingLogger`).
        device: the torch device that trains ("cpu", or "cuda" for a Ray trainer on a GPU).
    """

    def __init__(
        self, run_dir: Path, config: LearnConfig, logger: Any, device: str = "cpu"
    ) -> None:
        from agents.fcn.checkpoint import load_checkpoint

        self.run_dir, self.config, self.logger = run_dir, config, logger
        self.rounds = RoundSchedule.of(config)
        tc = config.trainer
        self.train_config = dataclasses.replace(
            tc.train,
            num_threads=1,
            device=device,
            retrain_from_scratch=False,
            deterministic=tc.train.deterministic or config.schedule == "lockstep",
        )
        latest = read_latest(run_dir)
        self.version, self.trained_on = latest.version, latest.attempts
        self.state = TrainerState.from_pointer(latest.state)
        self.model = self.average = None  # the rounds' own weights, the published average
        if latest.version:
            folder = run_dir / CHECKPOINTS
            self.average = load_checkpoint(folder / latest.path, config.env.grid)[0]
            trained = folder / trained_name(latest.version)
            # a copy: training goes on in place, and the average must not move with it
            self.model = (
                load_checkpoint(trained, config.env.grid)[0]
                if trained.exists()
                else copy.deepcopy(self.average)
            )

    def next_due(self, committed: int) -> int | None:
        """The records the next round trains on, or None while it is not due yet."""
        tc = self.config.trainer
        if self.config.schedule == "lockstep":
            due = self.rounds.attempts_of(self.rounds.round_of_version(self.version) + 1)
            if due > self.config.target_attempts:
                return None
            return due if committed >= due else None
        need = tc.min_attempts if self.version == 0 else self.trained_on + tc.min_new_attempts
        return committed if committed >= need else None

    def train_round(self, records: _Records, n: int) -> None:
        """Train on the first ``n`` records and publish the next model version."""
        from agents.training.fit import train, weighted_retraining

        tc, grid = self.config.trainer, self.config.env.grid
        rng = attempt_rng(self.config.seed, self.version + 1, STREAM_TRAINER)
        prior_rng = attempt_rng(self.config.seed, self.version + 1, STREAM_PRIOR)
        train_set, test_set = records.split(n, self.config.datasets_share, prior_rng)
        if not self.state.weighted and tc.weighted_from and n >= tc.weighted_from:
            self.state.weighted = True
            log.info("weighted retraining from %d attempts (weighted_from)", n)
        start = time.perf_counter()
        common = dict(
            grid=grid, config=self.train_config, rng=rng, model=self.model, logger=self.logger,
            dataset_size=n,
        )  # fmt: skip
        if self.state.weighted:
            result = weighted_retraining(train_set, test_set, **common).second
        else:
            result = train(train_set, test_set, **common)
        self.state.note_test_loss(result.test.get("loss"), tc.plateau_rounds, tc.plateau_min_delta)
        self._publish(result, n)
        self.logger.trainer_round(n, time.perf_counter() - start, self.state.weighted)

    def _publish(self, result: Any, n: int) -> None:
        """Save the round's model as the next version and point ``latest.json`` at it.

        With ``average_decay`` the model is the moving average, and the round's own weights,
        which the next round goes on from, are kept beside it (:func:`trained_name`).
        """
        from agents.fcn.checkpoint import save_checkpoint
        from agents.training.averaging import averaged

        before = ModelRef(self.version, checkpoint_name(self.version), self.trained_on)
        self.model, self.version, self.trained_on = result.model, self.version + 1, n
        facts = {**result.facts, "attempts": n, "version": self.version, **vars(self.state)}
        name = checkpoint_name(self.version)
        folder, grid = self.run_dir / CHECKPOINTS, self.config.env.grid
        decay = self.config.trainer.average_decay
        if decay > 0:
            save_checkpoint(folder / trained_name(self.version), self.model, grid, facts)
            self.average = averaged(self.average, self.model, decay)
            facts = {**facts, "average_decay": decay}
        save_checkpoint(folder / name, self.average if decay > 0 else self.model, grid, facts)
        # the curve keeps, for each of its counts, the model trained on the most data up to it
        record_curve_checkpoints(self.run_dir, self.config.evaluation.at, before, n)
        write_latest(self.run_dir, Latest(self.version, name, n, vars(self.state)))
        self._prune(folder)

    def _prune(self, folder: Path) -> None:
        """Delete old versions; never one the actor may still have to act on."""
        keep_from = self.version - self.config.trainer.keep_checkpoints + 1
        if self.config.schedule == "lockstep":
            keep_from = min(keep_from, self.rounds.acting_version(self.trained_on))
        for old in range(max(1, keep_from - 20), keep_from):
            (folder / checkpoint_name(old)).unlink(missing_ok=True)
        if self.config.trainer.average_decay > 0:  # resumes need only the newest own weights
            for old in range(max(1, self.version - 20), self.version):
                (folder / trained_name(old)).unlink(missing_ok=True)

    def serve(self, reader: Any, stop: Any, alive: Callable[[], bool]) -> None:
        """Do the rounds as they fall due until ``stop`` is set or ``alive()`` is False.

        ``reader`` gives the committed records (``refresh()``, ``read(slice)``, ``close()``:
        a :class:`~agents.data.GraspDataset` here, the shipped records of
        :mod:`agents.learning.ray_trainer` on another machine); it is closed at the end.
        """
        from agents.learning.prior import load_prior

        records = _Records(reader, self.config.env.grid.widths, load_prior(self.config))
        poll = self.config.trainer.poll_seconds
        try:
            for _ in range(self.config.trainer.max_rounds):
                while (due := self.next_due(records.update())) is None:
                    if stop.is_set() or not alive():
                        return
                    time.sleep(poll)
                self.train_round(records, due)
        finally:
            records.close()


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
    from torch.utils.tensorboard import SummaryWriter

    from agents.data import GraspDataset
    from agents.training.logger import TrainingLogger

    torch.set_num_threads(1)
    path = Path(run_dir)
    config = config_from_mapping(config_data)

    def alive() -> bool:
        return os.getppid() == parent_pid

    while not (path / DATASET_FILE).exists():  # the actor creates it first
        if stop.is_set() or not alive():
            return
        time.sleep(config.trainer.poll_seconds)
    writer = SummaryWriter(str(path / TB_DIR), filename_suffix=".trainer")
    try:
        trainer = Trainer(path, config, TrainingLogger(writer))
        trainer.serve(GraspDataset(path / DATASET_FILE), stop, alive)
    except KeyboardInterrupt:
        pass
    finally:
        writer.close()


__all__ = ["Trainer", "TrainerState", "trainer_main"]
