"""The wrappers for RL libraries: one uint8 image, actions in [-1, 1], no SB3 warnings."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import grasp_env  # noqa: F401  (registers the environments)
from grasp_env.env import metric_action_space
from grasp_env.errors import ConfigError, InvalidAction
from grasp_env.grasp_grid import GraspGrid
from grasp_env.rl_wrappers import (
    IMAGE_LEVELS,
    ImageObservation,
    NormalizedAction,
    encode_image,
    to_metric,
    to_normalized,
)
from grasp_env.wrappers import DiscreteGraspWrapper

MAX_HEIGHT = 0.15
BOX = metric_action_space(GraspGrid())

WRAPPINGS = {
    "image + normalised action": lambda env: NormalizedAction(ImageObservation(env)),
    "image + grid": lambda env: DiscreteGraspWrapper(ImageObservation(env)),
    "grid + image": lambda env: ImageObservation(DiscreteGraspWrapper(env)),
}


@pytest.fixture(scope="module")
def twin():
    environment = gym.make("SimBinGrasp-v0", objects=6)
    yield environment
    environment.close()


@pytest.mark.parametrize("wrapping", list(WRAPPINGS))
def test_sb3_check_env_raises_no_warning_through_the_wrappers(twin, wrapping):
    env_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    env = WRAPPINGS[wrapping](twin)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env_checker.check_env(env, warn=True)
    assert [str(w.message) for w in caught] == []


def test_without_the_wrappers_sb3_check_env_warns_of_both_images_and_the_box(twin):
    env_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env_checker.check_env(twin.unwrapped, warn=True)
    messages = " ".join(str(w.message) for w in caught)
    assert "observation height has an unconventional shape" in messages
    assert "observation valid has an unconventional shape" in messages
    assert "normalized Box action space" in messages


def test_the_image_is_channel_first_uint8_and_sb3_takes_it_for_an_image(twin):
    preprocessing = pytest.importorskip("stable_baselines3.common.preprocessing")
    space = ImageObservation(twin).observation_space
    assert space.shape == (2, 110, 110)
    assert space.dtype == np.uint8
    assert preprocessing.is_image_space(space, check_channels=False)
    assert preprocessing.is_image_space_channels_first(space)


def test_a_twin_observation_lies_in_the_image_space_with_the_mask_exact(twin):
    wrapped = ImageObservation(twin)
    image, _ = wrapped.reset(seed=0)
    raw = twin.unwrapped._observation()
    assert wrapped.observation_space.contains(image)
    np.testing.assert_array_equal(image[1], np.where(raw["valid"] > 0, IMAGE_LEVELS, 0))
    assert image[0].max() > 0  # objects stand above the floor


@given(
    height=arrays(np.float32, (6, 7), elements=st.floats(-0.125, 0.375, width=32)),
    valid=arrays(np.uint8, (6, 7), elements=st.integers(0, 1)),
)
def test_the_height_channel_is_the_clipped_height_over_max_height(height, valid):
    image = encode_image(height, valid, MAX_HEIGHT)
    measured = valid > 0
    decoded = image[0].astype(np.float64) / IMAGE_LEVELS * MAX_HEIGHT
    expected = np.clip(height.astype(np.float64), 0.0, MAX_HEIGHT)
    assert image.dtype == np.uint8
    assert image.shape == (2, 6, 7)
    assert np.all(np.abs(decoded - expected)[measured] <= MAX_HEIGHT / IMAGE_LEVELS / 2 + 1e-9)
    assert np.all(image[0][~measured] == 0)
    np.testing.assert_array_equal(image[1], np.where(measured, IMAGE_LEVELS, 0))


def test_max_height_comes_from_the_env_height_space(twin):
    assert ImageObservation(twin).max_height == pytest.approx(
        twin.unwrapped.config.image.max_height
    )


def test_image_observation_refuses_an_env_without_height_and_valid_images():
    env = gym.make("CartPole-v1")
    with pytest.raises(ConfigError, match="keys \\['height', 'valid'\\]"):
        ImageObservation(env)


@given(
    st.tuples(
        *(
            st.floats(float(lo), float(hi), width=32)
            for lo, hi in zip(BOX.low, BOX.high, strict=True)
        )
    )
)
def test_a_metric_action_survives_the_round_trip_through_the_normalised_box(action):
    metric = np.array(action, dtype=np.float32)
    normalized = to_normalized(metric, BOX)
    assert np.all(np.abs(normalized) <= 1.0 + 1e-6)
    np.testing.assert_allclose(to_metric(normalized, BOX), metric, atol=1e-6)


@given(arrays(np.float64, (4,), elements=st.floats(-1e6, 1e6)))
def test_any_finite_normalised_action_lands_within_the_metric_bounds(normalized):
    metric = to_metric(normalized, BOX)
    assert metric.dtype == np.float32
    assert BOX.contains(metric)


def test_the_corners_of_the_normalised_box_map_to_the_metric_bounds():
    np.testing.assert_array_equal(to_metric(-np.ones(4), BOX), BOX.low)
    np.testing.assert_array_equal(to_metric(np.ones(4), BOX), BOX.high)


def test_normalized_action_steps_the_env_within_its_bounds(twin):
    env = NormalizedAction(twin)
    assert env.action_space == spaces.Box(-1.0, 1.0, (4,), np.float32)
    env.reset(seed=1)
    _, _, terminated, _, info = env.step(np.array([2.0, 0.0, 0.0, 0.5], dtype=np.float32))
    assert terminated
    assert info["pose"]["x"] == pytest.approx(float(BOX.high[0]))
    assert info["pose"]["y"] == pytest.approx(0.0, abs=1e-6)


def test_a_nan_normalised_action_is_refused_by_the_env(twin):
    env = NormalizedAction(twin)
    env.reset(seed=1)
    with pytest.raises(InvalidAction, match="finite"):
        env.step(np.array([np.nan, 0.0, 0.0, 0.0], dtype=np.float32))
