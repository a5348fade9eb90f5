"""Everything the toolkit writes to TensorBoard, and under which tags: one logger for all.

Against the dataset size (the number of attempts a training saw, train + test), once per
training call, so retraining as data grows draws the paper's Fig. 6:

* ``losses/train``: the last epoch's mean weighted training loss;
* ``test/loss``, ``test/accuracy``, ``test/precision``, ``test/recall``, ``test/f1``;
* ``images/heatmap``: the grasp values over a fixed probe scene (:mod:`agents.fcn.heatmap`).

Against the epoch, counted across all training calls of one logger:

* ``epochs/train_loss``, ``epochs/test_loss``, ``charts/learning_rate``.

The self-supervised loop (:mod:`agents.learning`), against the attempts in the dataset:

* ``charts/grasp_rate_last100``, ``charts/model_version``, ``charts/selection_<kind>`` for
  ``kind`` in :data:`SELECTION_KINDS` (their shares of the last 100 attempts): the actor;
* ``charts/trainer_round_seconds``, ``charts/weighted_retraining``: each trainer round;
* ``eval/grasp_rate``, ``eval/grasp_rate_stderr``, ``eval/pph``: each learning-curve point.
"""

from __future__ import annotations

import numpy as np
from torch.utils.tensorboard import SummaryWriter

TEST_TAGS = ("loss", "accuracy", "precision", "recall", "f1")
SELECTION_KINDS = ("random", "heuristic", "probabilistic", "uncertain", "maximum")


class TrainingLogger:
    """Writes training figures to a ``SummaryWriter``; keeps the epoch count across calls.

    Args:
        writer: where to write; None makes every method a no-op.
    """

    def __init__(self, writer: SummaryWriter | None) -> None:
        self.writer = writer
        self.epochs = 0

    def epoch(self, train_loss: float, test_loss: float | None, learning_rate: float) -> None:
        """One epoch's figures, at the next epoch step."""
        if self.writer is not None:
            self.writer.add_scalar("epochs/train_loss", train_loss, self.epochs)
            if test_loss is not None:
                self.writer.add_scalar("epochs/test_loss", test_loss, self.epochs)
            self.writer.add_scalar("charts/learning_rate", learning_rate, self.epochs)
        self.epochs += 1

    def summary(self, dataset_size: int, train_loss: float, test: dict[str, float] | None) -> None:
        """A training call's result, at step ``dataset_size``."""
        if self.writer is None:
            return
        self.writer.add_scalar("losses/train", train_loss, dataset_size)
        if test:
            for tag in TEST_TAGS:
                self.writer.add_scalar(f"test/{tag}", test[tag], dataset_size)

    def heatmap(self, image: np.ndarray, dataset_size: int) -> None:
        """The probe scene's heatmap (uint8 HWC RGB) at step ``dataset_size``."""
        if self.writer is not None:
            self.writer.add_image("images/heatmap", image, dataset_size, dataformats="HWC")

    def actor(self, attempts: int, rate: float, version: int, shares: dict[str, float]) -> None:
        """The actor's recent grasp rate, model version and selection mix."""
        if self.writer is None:
            return
        self.writer.add_scalar("charts/grasp_rate_last100", rate, attempts)
        self.writer.add_scalar("charts/model_version", version, attempts)
        for kind in SELECTION_KINDS:
            self.writer.add_scalar(f"charts/selection_{kind}", shares.get(kind, 0.0), attempts)

    def trainer_round(self, attempts: int, seconds: float, weighted: bool) -> None:
        """One trainer round: its wall time and whether it was weighted retraining."""
        if self.writer is None:
            return
        self.writer.add_scalar("charts/trainer_round_seconds", seconds, attempts)
        self.writer.add_scalar("charts/weighted_retraining", float(weighted), attempts)
        self.writer.flush()

    def evaluation(self, attempts: int, grasp_rate: float, stderr: float, pph: float) -> None:
        """A learning-curve point."""
        if self.writer is None:
            return
        self.writer.add_scalar("eval/grasp_rate", grasp_rate, attempts)
        self.writer.add_scalar("eval/grasp_rate_stderr", stderr, attempts)
        self.writer.add_scalar("eval/pph", pph, attempts)
        self.writer.flush()

    def close(self) -> None:
        """Flush and close the writer."""
        if self.writer is not None:
            self.writer.close()

    def flush(self) -> None:
        """Write pending events to disk."""
        if self.writer is not None:
            self.writer.flush()


__all__ = ["SELECTION_KINDS", "TEST_TAGS", "TrainingLogger"]
