"""Training from arrays: it learns a learnable rule, logs to TensorBoard, survives odd data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter

from agents.data.samples import GraspSamples, samples_from_arrays
from agents.data.synthetic import bar_scenes
from agents.fcn.model import ModelConfig, ValueModel, build_model
from agents.training.fit import (
    TrainConfig,
    predict_values,
    recalibrate_batch_norm,
    torch_generator,
    train,
    weighted_retraining,
    window_crops,
)
from agents.training.logger import TEST_TAGS, TrainingLogger
from agents.training.metrics import classification_metrics
from grasp_env.errors import ConfigError, InvalidObservation

FAST = TrainConfig(model=ModelConfig(channels=(16, 24, 32, 64)), epochs=6, batch_size=32)


@pytest.fixture(scope="module")
def bars(grid):
    rng = np.random.default_rng(42)
    return bar_scenes(480, grid, rng), bar_scenes(160, grid, rng)


def test_training_drives_the_test_loss_down_and_logs(bars, grid, tmp_path):
    train_set, test_set = bars
    writer = SummaryWriter(str(tmp_path))
    rng = np.random.default_rng(0)
    untrained = build_model(FAST.model, torch_generator(np.random.default_rng(0)))
    before = classification_metrics(predict_values(untrained, test_set, grid), test_set.rewards)[
        "loss"
    ]
    result = train(
        train_set, test_set, grid=grid, config=FAST, rng=rng, logger=TrainingLogger(writer)
    )
    writer.close()
    assert result.trained
    assert result.test["loss"] < 0.75 * before
    assert result.test["accuracy"] > 0.8
    assert result.history[-1]["test_loss"] < result.history[0]["test_loss"]
    assert all(np.isfinite(v) for v in result.test.values())
    assert result.facts["windows_per_s"] > 0

    events = EventAccumulator(str(tmp_path), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"losses/train", "charts/learning_rate", "epochs/train_loss"} <= scalars
    assert {f"test/{t}" for t in TEST_TAGS} <= scalars
    assert "images/heatmap" in events.Tags()["images"]
    (loss,) = events.Scalars("test/loss")
    assert loss.step == len(train_set) + len(test_set)
    assert loss.value == pytest.approx(result.test["loss"], rel=1e-5)
    assert len(events.Scalars("charts/learning_rate")) == FAST.epochs


def test_empty_dataset_is_not_trained_and_says_so(grid):
    empty = GraspSamples.empty(grid.image)
    result = train(empty, empty, grid=grid, config=FAST, rng=np.random.default_rng(0))
    assert not result.trained
    assert "at least 2 training attempts, got 0" in result.message
    retrained = weighted_retraining(
        empty, None, grid=grid, config=FAST, rng=np.random.default_rng(0)
    )
    assert not retrained.second.trained


def test_single_class_dataset_trains_without_nan(bars, grid):
    train_set, test_set = bars
    failures = train_set.subset(np.flatnonzero(train_set.rewards == 0)[:40])
    config = TrainConfig(model=FAST.model, epochs=2, batch_size=16)
    result = train(failures, test_set, grid=grid, config=config, rng=np.random.default_rng(0))
    assert result.trained
    assert "only failures" in result.message
    assert all(np.isfinite(v) for v in result.test.values())
    assert np.isfinite(result.train_loss)
    successes = train_set.subset(np.flatnonzero(train_set.rewards == 1)[:8])
    result = train(successes, successes, grid=grid, config=config, rng=np.random.default_rng(0))
    assert result.trained
    assert result.test["precision"] == 1.0
    assert np.isfinite(result.test["loss"])


def test_deterministic_switch_repeats_a_run_exactly(bars, grid):
    train_set, _ = bars
    small = train_set.subset(np.arange(64))
    config = TrainConfig(model=FAST.model, epochs=1, batch_size=16, deterministic=True)
    a = train(
        small, None, grid=grid, config=config, rng=np.random.default_rng(5)
    ).model.state_dict()
    b = train(
        small, None, grid=grid, config=config, rng=np.random.default_rng(5)
    ).model.state_dict()
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=0, rtol=0)


def test_weighted_retraining_uses_the_first_models_predictions(bars, grid):
    train_set, _ = bars
    small = train_set.subset(np.arange(96))
    config = TrainConfig(model=FAST.model, epochs=1, batch_size=32)
    result = weighted_retraining(
        small, None, grid=grid, config=config, rng=np.random.default_rng(1)
    )
    assert result.first.trained
    assert result.second.trained
    assert result.weights.sum() == pytest.approx(len(small), rel=1e-5)
    psi = predict_values(result.first.model, small, grid)
    agreement = 1 - np.abs(small.rewards - psi)
    np.testing.assert_allclose(result.weights, len(small) * agreement / agreement.sum(), rtol=1e-4)
    assert result.second.facts["weighted"]


def test_bad_arrays_are_refused(bars, grid):
    train_set, _ = bars
    with pytest.raises(InvalidObservation, match="rows"):
        GraspSamples(
            train_set.heights[:3], train_set.valid[:3], train_set.actions[:2],
            train_set.widths[:3], train_set.rewards[:3],
        )  # fmt: skip
    wide = GraspSamples(
        train_set.heights[:2], train_set.valid[:2], train_set.actions[:2],
        np.array([0, 3]), train_set.rewards[:2],
    )  # fmt: skip
    with pytest.raises(InvalidObservation, match=r"width indices in \[0, 2\]"):
        train(wide, None, grid=grid, config=FAST, rng=np.random.default_rng(0))


def test_concatenated_samples_keep_order_and_refuse_mixed_weights(bars):
    samples = bars[0]
    first, second = samples.subset(np.arange(0, 5)), samples.subset(np.arange(5, 12))
    both = GraspSamples.concatenate([first, second])
    assert len(both) == 12
    assert np.array_equal(both.rewards, samples.rewards[:12])
    assert np.array_equal(both.heights, samples.heights[:12])
    assert both.weights is None
    with pytest.raises(InvalidObservation, match="weights on all parts or none"):
        GraspSamples.concatenate([first.with_weights(np.ones(5)), second])


def test_samples_from_dataset_arrays_place_off_grid_attempts_by_width(grid):
    class Arrays:
        heights = np.zeros((2, 110, 110), np.float32)
        valid = np.ones((2, 110, 110), np.uint8)
        actions = np.array([[0, 0, 0, 0.05], [0, 0, 0, 0.068]], np.float32)
        indices = np.array([[1, 2, 3, 0], [-1, -1, -1, -1]], np.int16)
        rewards = np.array([1, 0], np.float32)

    samples = samples_from_arrays(Arrays, grid.widths)
    np.testing.assert_array_equal(samples.widths, [0, 2])


@pytest.mark.slow
def test_full_model_learns_the_bar_rule(grid):
    rng = np.random.default_rng(3)
    train_set, test_set = bar_scenes(1000, grid, rng), bar_scenes(300, grid, rng)
    result = train(
        train_set, test_set, grid=grid, config=TrainConfig(epochs=8), rng=np.random.default_rng(0)
    )
    assert result.test["accuracy"] > 0.95


def test_batch_norm_recalibration_uses_eval_inputs(bars, grid, small_model):
    train_set, _ = bars
    crops = window_crops(train_set.subset(np.arange(64)), grid, 2)
    model = build_model(FAST.model, torch_generator(np.random.default_rng(0)))
    recalibrate_batch_norm(model, crops, "cpu", batch=64)
    assert not model.training
    conv, norm = model.body[0], model.body[1]
    with torch.no_grad():
        first = conv(torch.from_numpy(crops))
    torch.testing.assert_close(norm.running_mean, first.mean(dim=(0, 2, 3)), atol=1e-5, rtol=1e-4)
    assert norm.momentum == 0.1


def test_dropout_without_a_generator_is_refused():
    model = ValueModel(FAST.model).train()
    with pytest.raises(ConfigError, match=r"torch\.Generator"):
        model(torch.zeros(2, 2, 32, 32))


def test_global_rng_is_left_alone(bars, grid, tmp_path):
    from agents.fcn.checkpoint import load_checkpoint, save_checkpoint
    from agents.policies.fcn import FCNAgent

    train_set, _ = bars
    state = torch.random.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002 (checking it is untouched)
    config = TrainConfig(model=FAST.model, epochs=1, batch_size=16)
    result = train(
        train_set.subset(np.arange(32)),
        None,
        grid=grid,
        config=config,
        rng=np.random.default_rng(0),
    )
    path = save_checkpoint(tmp_path / "m.pt", result.model, grid)
    model, _ = load_checkpoint(path, grid)
    agent = FCNAgent(model, "probabilistic", grid, np.random.default_rng(0))
    agent.act({"height": train_set.heights[0], "valid": train_set.valid[0]})
    assert torch.equal(torch.random.get_rng_state(), state)
    assert np.array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
