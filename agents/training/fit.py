"""Training the value model from recorded grasp attempts, and weighted retraining.

:func:`train` learns from :class:`~agents.data.samples.GraspSamples`: every attempt's window is
cropped once (:func:`agents.fcn.crop.crop_attempts`, the same sampling inference uses), the
network's output at the gripper width that was actually used is trained with binary cross
entropy against the reward (paper III-C), and each attempt's loss is weighted by its class
weight (mean reward balanced to 0.5, failures counted ``false_positive_factor`` times, paper
III-F) times its own weight (1, or the weighted retraining's w_i). Windows are randomly turned
by 180 degrees, which for a parallel gripper is the same grasp (the crop at a + pi is exactly
the crop at a flipped in both axes). L2 regularisation is weight decay on the convolution
kernels.

:func:`weighted_retraining` is paper III-E: train with w_i = 1, predict psi_i for every
training attempt, set w_i = N (1 - |r_i - psi_i|) / sum_j (1 - |r_j - psi_j|), train again.

No data or one class only does not crash: with fewer than two training attempts nothing is
trained and :attr:`TrainResult.trained` is False with a message; with one class the class
weights are all 1 and the metrics whose denominators vanish are 0, never NaN. Randomness (the
initial weights, dropout, shuffling, augmentation) comes from the numpy generator given,
through a ``torch.Generator`` seeded from it; ``TrainConfig.deterministic`` also switches
torch to deterministic algorithms for the call.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from agents.data.samples import GraspSamples
from agents.fcn.crop import crop_attempts
from agents.fcn.heatmap import heatmap_image
from agents.fcn.inference import GraspScorer, InferenceConfig, check_model_fits_grid
from agents.fcn.model import ValueModel, build_model
from agents.training.config import TrainConfig
from agents.training.logger import TrainingLogger
from agents.training.metrics import classification_metrics
from agents.training.weights import class_weights, retraining_weights
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """What a training call gives back.

    Attributes:
        model: the trained model, in eval mode (the untouched start model if nothing trained).
        trained: False when there was too little data to train on.
        message: a human-readable summary, or why nothing was trained.
        train_loss: the last epoch's mean weighted training loss (0 if not trained).
        test: test-set figures (loss, accuracy, precision, recall, f1, count); empty without
            test attempts.
        history: per epoch {"epoch", "train_loss", "learning_rate"} and "test_loss" when
            there are test attempts.
        facts: plain data for the model card: sizes, mean reward, epochs, and windows per
            second of the training (optimiser steps and batch-norm recalibration).
    """

    model: ValueModel
    trained: bool
    message: str
    train_loss: float = 0.0
    test: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    facts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RetrainResult:
    """Weighted retraining's two trainings and the weights between them."""

    first: TrainResult
    second: TrainResult
    weights: np.ndarray


@contextmanager
def deterministic_mode(enabled: bool, num_threads: int | None = None) -> Iterator[None]:
    """Within the block: deterministic torch algorithms if ``enabled``, and the thread count.

    Both settings are process-wide; they are restored when the block ends.
    """
    previous_det = torch.are_deterministic_algorithms_enabled()
    previous_bench = torch.backends.cudnn.benchmark
    previous_threads = torch.get_num_threads()
    try:
        if enabled:
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.benchmark = False
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        yield
    finally:
        torch.use_deterministic_algorithms(previous_det)
        torch.backends.cudnn.benchmark = previous_bench
        torch.set_num_threads(previous_threads)


def torch_generator(
    rng: np.random.Generator, device: str | torch.device = "cpu"
) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded from the numpy generator ``rng``."""
    generator = torch.Generator(device=torch.device(device))
    generator.manual_seed(int(rng.integers(0, 2**62)))
    return generator


def window_crops(samples: GraspSamples, grid: GraspGrid, channels: int) -> np.ndarray:
    """Every attempt's encoded window, float32 (N, channels, window_px, window_px)."""
    return crop_attempts(
        samples.heights, samples.valid, samples.actions, grid.image, grid.window_px, channels
    )


def predict_crops(
    model: ValueModel, crops: np.ndarray, widths: np.ndarray, device: str, batch: int = 512
) -> np.ndarray:
    """The model's success probability (eval mode) at each crop's width index: float (N,)."""
    out = np.zeros(len(crops), np.float64)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for s in range(0, len(crops), batch):
            x = torch.from_numpy(crops[s : s + batch]).to(device)
            logits = model(x)[:, :, 0, 0].double().cpu().numpy()
            k = widths[s : s + batch].astype(np.int64)
            out[s : s + batch] = 1.0 / (1.0 + np.exp(-logits[np.arange(len(k)), k]))
    model.train(was_training)
    return out


def recalibrate_batch_norm(
    model: ValueModel, crops: np.ndarray, device: str, batch: int = 512
) -> None:
    """Recompute every batch norm's running mean and variance on ``crops``, dropout off.

    The statistics become the average over batches of ``batch`` windows of the batch
    statistics, with each layer seeing its inputs as in evaluation (no dropout). Leaves the
    model in eval mode. Does nothing without batch norms or with fewer than two windows.
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not norms or len(crops) < 2:
        model.eval()
        return
    momenta = [m.momentum for m in norms]
    model.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
        m.train()
    try:
        with torch.no_grad():
            for s in range(0, len(crops), batch):
                part = crops[s : s + batch]
                if len(part) < 2:
                    continue
                model(torch.from_numpy(part).to(device))
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        model.eval()


def predict_values(
    model: ValueModel, samples: GraspSamples, grid: GraspGrid, device: str = "cpu"
) -> np.ndarray:
    """psi_i: the model's success probability for each attempt at its own width, float (N,)."""
    if len(samples) == 0:
        return np.zeros(0)
    check_model_fits_grid(model, grid)
    samples.check_geometry(grid.image, len(grid.widths))
    crops = window_crops(samples, grid, model.config.in_channels)
    return predict_crops(model, crops, samples.widths, device)


def train(
    train_set: GraspSamples,
    test_set: GraspSamples | None = None,
    *,
    grid: GraspGrid,
    config: TrainConfig,
    rng: np.random.Generator,
    model: ValueModel | None = None,
    logger: TrainingLogger | None = None,
    probe: HeightImage | None = None,
    dataset_size: int | None = None,
    progress: bool = False,
    log_summary: bool = True,
) -> TrainResult:
    """Train a value model on ``train_set``; report figures on ``test_set``.

    Args:
        train_set: the training attempts; their ``weights`` (if any) multiply the class
            weights.
        test_set: held-out attempts (the dataset's timestamp-hash split), or None.
        grid: the grasp space; its geometry, window and widths must fit the model.
        config: the run's settings.
        rng: every random choice derives from it.
        model: a model to continue training; None builds a fresh one from ``config.model``.
        logger: TensorBoard output (see :mod:`agents.training.logger`), or None.
        probe: the scene drawn as ``images/heatmap``; default the first test (else training)
            image.
        dataset_size: the x value of the summary figures; default train + test size.
        progress: show a tqdm bar over the epochs.
        log_summary: write the summary figures and heatmap (weighted retraining writes only
            its second training's).

    Returns:
        The :class:`TrainResult`; ``trained`` is False (with a message) when there were
        fewer than two training attempts.
    """
    test_set = test_set if test_set is not None else GraspSamples.empty(grid.image)
    logger = logger if logger is not None else TrainingLogger(None)
    n_train, n_test = len(train_set), len(test_set)
    size = dataset_size if dataset_size is not None else n_train + n_test
    with deterministic_mode(config.deterministic, config.num_threads):
        generator = torch_generator(rng, config.device)
        if model is None:
            model = build_model(config.model, generator)
        model = model.to(config.device)
        model.set_generator(generator)
        check_model_fits_grid(model, grid)
        if n_train < 2:
            message = (
                f"not trained: expected at least 2 training attempts, got {n_train}"
                " (an empty or nearly empty dataset)"
            )
            log.warning(message)
            return TrainResult(model.eval(), False, message, facts=_facts(train_set, test_set))
        train_set.check_geometry(grid.image, len(grid.widths))
        test_set.check_geometry(grid.image, len(grid.widths))
        channels = model.config.in_channels
        crops = window_crops(train_set, grid, channels)
        test_crops = window_crops(test_set, grid, channels) if n_test else None
        rewards = train_set.rewards.astype(np.float32)
        notes = _class_note(rewards)
        if notes:
            log.warning(notes)
        history, train_loss, seconds = _fit(
            model, crops, train_set.widths, rewards, _attempt_weights(train_set, config),
            test_crops, test_set, config, rng, logger, progress,
        )  # fmt: skip
        model.eval()
        test = (
            classification_metrics(
                predict_crops(model, test_crops, test_set.widths, config.device),
                test_set.rewards,
            )
            if n_test
            else {}
        )
        if log_summary:
            scene = probe if probe is not None else _first_image(test_set if n_test else train_set)
            _log_summary(logger, model, grid, config, scene, size, train_loss, test)
        facts = _facts(train_set, test_set)
        facts.update(
            epochs=config.epochs,
            train_loss=train_loss,
            test=test,
            train_seconds=seconds,
            windows_per_s=(n_train * config.epochs / seconds) if seconds > 0 else 0.0,
            weighted=train_set.weights is not None,
        )
        summary = _summary_line(n_train, config.epochs, train_loss, test, notes)
        return TrainResult(model, True, summary, train_loss, test, history, facts)


def _attempt_weights(train_set: GraspSamples, config: TrainConfig) -> np.ndarray:
    """Each attempt's loss weight: its class weight times its own weight (if any)."""
    rewards = train_set.rewards.astype(np.float32)
    weights = (
        class_weights(rewards, config.false_positive_factor)
        if config.balance_classes
        else np.ones(len(train_set), np.float32)
    )
    if train_set.weights is not None:
        weights = weights * train_set.weights.astype(np.float32)
    return weights


def _log_summary(
    logger: TrainingLogger,
    model: ValueModel,
    grid: GraspGrid,
    config: TrainConfig,
    scene: HeightImage,
    size: int,
    train_loss: float,
    test: dict,
) -> None:
    """The summary figures and the probe scene's heatmap, at step ``size``."""
    logger.summary(size, train_loss, test)
    values = GraspScorer(model, grid, InferenceConfig(device=config.device)).score(scene)
    logger.heatmap(heatmap_image(values, scene, grid), size)
    logger.flush()


def _summary_line(n_train: int, epochs: int, train_loss: float, test: dict, notes: str) -> str:
    summary = f"trained on {n_train} attempts for {epochs} epochs, train loss {train_loss:.4f}"
    if test:
        summary += f", test loss {test['loss']:.4f}, accuracy {test['accuracy']:.3f}"
    return summary + (f" ({notes})" if notes else "")


def weighted_retraining(
    train_set: GraspSamples,
    test_set: GraspSamples | None = None,
    *,
    grid: GraspGrid,
    config: TrainConfig,
    rng: np.random.Generator,
    model: ValueModel | None = None,
    logger: TrainingLogger | None = None,
    probe: HeightImage | None = None,
    dataset_size: int | None = None,
    progress: bool = False,
) -> RetrainResult:
    """Paper III-E: train with w_i = 1, then retrain with w_i from the first model's psi_i.

    The first training ignores ``train_set.weights`` and starts from ``model`` (trained in
    place) or fresh weights. The second starts from fresh weights unless
    ``config.retrain_from_scratch`` is False, when it goes on from the first model. Only the
    second training writes the summary figures. Returns both results and the weights.
    """
    unweighted = train_set.with_weights(None)
    common = dict(
        grid=grid, config=config, rng=rng, logger=logger, probe=probe,
        dataset_size=dataset_size, progress=progress,
    )  # fmt: skip
    first = train(unweighted, test_set, model=model, log_summary=False, **common)
    if not first.trained:
        return RetrainResult(first, first, np.ones(len(train_set), np.float32))
    psi = predict_values(first.model, unweighted, grid, config.device)
    weights = retraining_weights(unweighted.rewards, psi)
    start = None
    if not config.retrain_from_scratch:
        start = ValueModel(first.model.config).to(config.device)
        start.load_state_dict(first.model.state_dict())
    second = train(unweighted.with_weights(weights), test_set, model=start, **common)
    return RetrainResult(first, second, weights)


def _fit(
    model: ValueModel,
    crops: np.ndarray,
    widths: np.ndarray,
    rewards: np.ndarray,
    weights: np.ndarray,
    test_crops: np.ndarray | None,
    test_set: GraspSamples,
    config: TrainConfig,
    rng: np.random.Generator,
    logger: TrainingLogger,
    progress: bool,
) -> tuple[list[dict[str, float]], float, float]:
    """``config.epochs`` epochs; the per-epoch history, the last training loss, seconds."""
    optimiser = _optimiser(model, config)
    targets = tuple(
        torch.from_numpy(a) for a in (widths.astype(np.int64), rewards, weights.astype(np.float32))
    )
    history: list[dict[str, float]] = []
    train_loss = seconds = 0.0
    bar = tqdm(range(config.epochs), desc="train", unit="epoch", disable=not progress)
    for epoch in bar:
        lr = config.learning_rate * config.lr_decay**epoch
        for group in optimiser.param_groups:
            group["lr"] = lr
        start = time.perf_counter()
        train_loss = _epoch(model, optimiser, crops, targets, config, rng)
        if config.recalibrate_batch_norm == "epoch" or (
            config.recalibrate_batch_norm == "end" and epoch == config.epochs - 1
        ):
            recalibrate_batch_norm(model, crops, config.device, config.eval_batch_size)
        seconds += time.perf_counter() - start  # optimiser steps and recalibration
        if not math.isfinite(train_loss):
            raise FloatingPointError(
                f"expected a finite training loss, got {train_loss} in epoch {epoch}"
            )
        row = {"epoch": float(epoch), "train_loss": train_loss, "learning_rate": lr}
        if test_crops is not None:
            p = predict_crops(model, test_crops, test_set.widths, config.device)
            row["test_loss"] = classification_metrics(p, test_set.rewards)["loss"]
        history.append(row)
        logger.epoch(train_loss, row.get("test_loss"), lr)
        bar.set_postfix(loss=f"{train_loss:.4f}", test=f"{row.get('test_loss', 0.0):.4f}")
    return history, train_loss, seconds


def _optimiser(model: ValueModel, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam, with weight decay (L2) on the convolution kernels only."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        is_kernel = p.ndim == 4 and name.endswith("weight")
        (decay if is_kernel else no_decay).append(p)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.Adam(groups, lr=config.learning_rate)


def _epoch(
    model: ValueModel,
    optimiser: torch.optim.Optimizer,
    crops: np.ndarray,
    targets: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    config: TrainConfig,
    rng: np.random.Generator,
) -> float:
    """One pass over the attempts in a random order; the mean weighted loss."""
    device = torch.device(config.device)
    model.train()
    order = rng.permutation(len(crops))
    total, count = 0.0, 0
    for s in range(0, len(crops), config.batch_size):
        idx = order[s : s + config.batch_size]
        if len(idx) < 2:  # batch norm needs two values per channel
            continue
        x = torch.from_numpy(np.ascontiguousarray(_augment(crops[idx], config, rng))).to(device)
        k, r, w = (t[torch.from_numpy(idx)].to(device) for t in targets)
        chosen = model(x)[:, :, 0, 0].gather(1, k[:, None])[:, 0]
        per_attempt = F.binary_cross_entropy_with_logits(chosen, r, reduction="none")
        loss = (per_attempt * w).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        total += float(loss.detach()) * len(idx)
        count += len(idx)
    return total / count if count else 0.0


def _augment(batch: np.ndarray, config: TrainConfig, rng: np.random.Generator) -> np.ndarray:
    """Turn windows by 180 degrees and mirror them, each with probability 1/2 (in place)."""
    if config.augment_rotate180:
        turn = rng.random(len(batch)) < 0.5
        batch[turn] = batch[turn][:, :, ::-1, ::-1]
    if config.augment_mirror:
        mirror = rng.random(len(batch)) < 0.5
        batch[mirror] = batch[mirror][:, :, :, ::-1]
    return batch


def _first_image(samples: GraspSamples) -> HeightImage:
    return HeightImage(samples.heights[0], samples.valid[0])


def _class_note(rewards: np.ndarray) -> str:
    success = rewards >= 0.5
    if success.all():
        return "only successes in the training set: nothing to balance"
    if not success.any():
        return "only failures in the training set: nothing to balance"
    return ""


def _facts(train_set: GraspSamples, test_set: GraspSamples) -> dict:
    return {
        "train_attempts": len(train_set),
        "test_attempts": len(test_set),
        "train_mean_reward": float(train_set.rewards.mean()) if len(train_set) else 0.0,
        "test_mean_reward": float(test_set.rewards.mean()) if len(test_set) else 0.0,
    }


__all__ = [
    "RetrainResult",
    "TrainResult",
    "deterministic_mode",
    "predict_crops",
    "predict_values",
    "recalibrate_batch_norm",
    "torch_generator",
    "train",
    "weighted_retraining",
    "window_crops",
]
