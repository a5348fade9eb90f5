"""Wrappers that give any RL library (Stable-Baselines3, CleanRL, RLlib) the spaces it expects.

The environment's own spaces are the cell's contract: a Dict of two 2-D images in metres and
a metric action Box. Generic deep-RL code wants one image and actions in [-1, 1]:

* :class:`ImageObservation`: the observation as ONE channel-first image, ``Box(0, 255,
  (2, H, W), uint8)``. Channel 0 is the height, ``round(255 * clip(h, 0, max_height) /
  max_height)`` (0 where depth is missing), with ``max_height`` the top of the env's own
  ``height`` space (:attr:`grasp_env.geometry.ImageGeometry.max_height`, 0.15 m by default,
  so one level is 0.59 mm); channel 1 is the valid mask, 255 where depth was measured, 0
  where it is missing.
* :class:`NormalizedAction`: actions in ``[-1, 1]^4``, mapped affinely onto the env's own
  action bounds (``-1`` to ``low``, ``+1`` to ``high``), see :func:`to_metric`.

Why uint8 0..255 and not float32 in [0, 1]: Stable-Baselines3 takes a 3-D Box for an image
only when it is uint8 with bounds exactly 0 and 255 (``check_env`` warns twice otherwise, and
``CnnPolicy`` would not normalise it); its policies then divide by 255, so the network sees the
height as ``h / max_height`` in [0, 1] and the mask as 0 / 1: the encoding of the FCN
(:mod:`agents.fcn.observation`). That is also why the mask is stored as 255, not 1.

Through ``ImageObservation`` and ``NormalizedAction`` (or ``DiscreteGraspWrapper``), SB3's
``check_env(env, warn=True)`` raises no warning.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from grasp_env.errors import ConfigError

#: The largest value of a uint8 image channel: 1.0 after SB3's image normalisation.
IMAGE_LEVELS = 255

#: The image channels of :class:`ImageObservation`, in order.
IMAGE_CHANNELS = ("height", "valid")


def encode_image(height: np.ndarray, valid: np.ndarray, max_height: float) -> np.ndarray:
    """The (2, H, W) uint8 image of one observation (module docstring).

    Args:
        height: (H, W) metres above the bin floor.
        valid: (H, W), nonzero where depth was measured.
        max_height: the height that maps to 255, metres.
    """
    measured = np.asarray(valid) > 0
    scaled = np.clip(np.asarray(height, dtype=np.float64), 0.0, max_height) / max_height
    image = np.empty((len(IMAGE_CHANNELS), *measured.shape), dtype=np.uint8)
    image[0] = np.where(measured, np.rint(scaled * IMAGE_LEVELS), 0)
    image[1] = np.where(measured, IMAGE_LEVELS, 0)
    return image


def image_space(shape: tuple[int, int]) -> spaces.Box:
    """The observation space of :class:`ImageObservation` for (H, W) images."""
    return spaces.Box(0, IMAGE_LEVELS, (len(IMAGE_CHANNELS), *shape), np.uint8)


class ImageObservation(gym.ObservationWrapper):
    """Give the observation as one channel-first uint8 image (height, valid) (module docstring).

    Attributes:
        max_height: the height that maps to 255, metres: the top of the env's ``height`` space.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        height = _height_space(env.observation_space)
        self.max_height = float(height.high.max())
        self.observation_space = image_space((height.shape[0], height.shape[1]))

    def observation(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        """The (2, H, W) uint8 image of a ``{"height", "valid"}`` observation."""
        return encode_image(observation["height"], observation["valid"], self.max_height)


def _height_space(space: spaces.Space) -> spaces.Box:
    """The ``height`` Box of a grasp observation space, checked to start at 0 and be 2-D."""
    if not isinstance(space, spaces.Dict) or set(space.spaces) != set(IMAGE_CHANNELS):
        raise ConfigError(
            f"ImageObservation expects a Dict observation space with keys {list(IMAGE_CHANNELS)},"
            f" got {space}"
        )
    height = space["height"]
    if not isinstance(height, spaces.Box) or len(height.shape) != 2 or np.any(height.low != 0):
        raise ConfigError(f"ImageObservation expects 'height' as a 2-D Box from 0 m, got {height}")
    if not np.all(np.isfinite(height.high)) or not np.all(height.high > 0):
        raise ConfigError(
            f"ImageObservation expects a finite positive top of 'height', got {height.high.max()}"
        )
    return height


def to_metric(normalized: Any, space: spaces.Box) -> np.ndarray:
    """``[-1, 1]`` to ``space``'s bounds, affinely, float32; values outside [-1, 1] are clipped.

    Clipping keeps every action within the env's bounds (SB3's PPO clips its Gaussian samples
    to the Box itself, other libraries may not); NaN passes through, so the env refuses it
    with :class:`grasp_env.errors.InvalidAction` instead of grasping somewhere made up.
    """
    u = np.clip(np.asarray(normalized, dtype=np.float64), -1.0, 1.0)
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    metric = low + (u + 1.0) / 2.0 * (high - low)
    # float32 rounding may step a hair past a bound; the env's check is exact
    return np.clip(metric.astype(np.float32), space.low, space.high)


def to_normalized(metric: Any, space: spaces.Box) -> np.ndarray:
    """The inverse of :func:`to_metric`: ``space``'s bounds to ``[-1, 1]``, float32."""
    a = np.asarray(metric, dtype=np.float64)
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    return (2.0 * (a - low) / (high - low) - 1.0).astype(np.float32)


class NormalizedAction(gym.ActionWrapper):
    """Take actions in ``[-1, 1]^4``, mapped onto the env's metric bounds by :func:`to_metric`.

    Attributes:
        metric_space: the wrapped env's own action Box.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        space = env.action_space
        if not isinstance(space, spaces.Box) or not np.all(np.isfinite([space.low, space.high])):
            raise ConfigError(f"NormalizedAction expects a bounded Box action space, got {space}")
        self.metric_space = space
        self.action_space = spaces.Box(-1.0, 1.0, space.shape, np.float32)

    def action(self, action: Any) -> np.ndarray:
        """The metric action of a normalised one."""
        return to_metric(action, self.metric_space)


__all__ = [
    "IMAGE_CHANNELS",
    "IMAGE_LEVELS",
    "ImageObservation",
    "NormalizedAction",
    "encode_image",
    "image_space",
    "to_metric",
    "to_normalized",
]
