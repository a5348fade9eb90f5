"""The settings of one training run, torch-free so that configs load without torch."""

from __future__ import annotations

from dataclasses import dataclass

from agents.fcn.model_config import ModelConfig
from grasp_env.errors import ConfigError


@dataclass(frozen=True)
class TrainConfig:
    """One training run's settings.

    Attributes:
        model: the network's shape (used when no model is given to continue from).
        epochs: passes over the training attempts.
        batch_size: attempts per optimiser step.
        learning_rate: Adam's initial step size.
        lr_decay: the learning rate is multiplied by this after every epoch.
        weight_decay: L2 regularisation of the convolution kernels (Adam's weight decay).
        false_positive_factor: failed attempts weigh this much more than successes (>= 1
            counts false positives more, paper III-F).
        balance_classes: weight attempts so that the mean reward looks like 0.5.
        augment_rotate180: turn each window by 180 degrees with probability 1/2.
        augment_mirror: mirror each window across its closing axis with probability 1/2 (the
            mirrored scene with the mirrored grasp; exact for a symmetric gripper).
        retrain_from_scratch: weighted retraining starts from fresh weights (else it goes on
            from the first training's weights).
        device: torch device string.
        deterministic: use torch's deterministic algorithms during the call.
        num_threads: if set, ``torch.set_num_threads`` for the call (restored afterwards).
        eval_batch_size: windows per forward pass when predicting.
        recalibrate_batch_norm: "epoch" (after every epoch), "end" (once, after training) or
            "off": recompute the batch norms' running statistics on the training windows with
            dropout switched off. Dropout before a batch norm shifts the variance that norm
            sees between training and evaluation; without this the test loss of the eval-mode
            model jumps about from epoch to epoch.
    """

    model: ModelConfig = ModelConfig()
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    lr_decay: float = 0.95
    weight_decay: float = 1e-4
    false_positive_factor: float = 1.5
    balance_classes: bool = True
    augment_rotate180: bool = True
    augment_mirror: bool = False
    retrain_from_scratch: bool = True
    device: str = "cpu"
    deterministic: bool = False
    num_threads: int | None = None
    eval_batch_size: int = 512
    recalibrate_batch_norm: str = "epoch"

    def __post_init__(self) -> None:
        if self.recalibrate_batch_norm not in ("epoch", "end", "off"):
            raise ConfigError(
                "expected recalibrate_batch_norm 'epoch', 'end' or 'off', got"
                f" {self.recalibrate_batch_norm!r}"
            )
        if self.epochs < 0 or self.batch_size < 2 or self.eval_batch_size < 1:
            raise ConfigError(
                "expected epochs >= 0, batch_size >= 2 and eval_batch_size >= 1, got"
                f" {self.epochs}, {self.batch_size} and {self.eval_batch_size}"
            )
        if not self.learning_rate > 0 or not 0 < self.lr_decay <= 1:
            raise ConfigError(
                f"expected learning_rate > 0 and lr_decay in (0, 1], got {self.learning_rate}"
                f" and {self.lr_decay}"
            )
        if self.weight_decay < 0 or not self.false_positive_factor > 0:
            raise ConfigError(
                "expected weight_decay >= 0 and false_positive_factor > 0, got"
                f" {self.weight_decay} and {self.false_positive_factor}"
            )


__all__ = ["TrainConfig"]
