"""Checking an observation and encoding it as the network's input channels.

The encoding is the single definition of what the network sees, shared by the training crops
(:mod:`agents.fcn.crop`) and the whole-image inference (:mod:`agents.fcn.inference`):

* channel 0: the height above the bin floor, clipped to [0, max_height] and divided by
  ``max_height`` (so 0 is the floor, 1 the top of the range); 0 where depth is missing;
* channel 1 (when the model takes two channels): the valid mask, 1 where measured, else 0.

Pixels that a rotation or a crop pulls in from outside the image read 0 in both channels, the
same as missing depth. The encoded image is float32 (H, W, C), the layout ``cv2.warpAffine``
works on.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from grasp_env.errors import InvalidObservation
from grasp_env.geometry import HeightImage, ImageGeometry

NORMALISATION = "height: clip(h, 0, max_height) / max_height, 0 where missing; valid: 0 or 1"
CHANNEL_NAMES = ("height", "valid")


def check_observation(
    observation: Mapping[str, np.ndarray] | HeightImage, geometry: ImageGeometry
) -> HeightImage:
    """The observation as a :class:`HeightImage`, refusing one that breaks the contract.

    Args:
        observation: a dict with "height" float32 (rows, cols) metres and "valid" uint8
            (rows, cols), or a :class:`HeightImage` of the same arrays.
        geometry: the image geometry the observation must have.

    Raises:
        InvalidObservation: a key is missing, or an array's shape or dtype is not the expected
            one, or a height is not finite; the message names what was expected and what came.
    """
    if isinstance(observation, HeightImage):
        height, valid = observation.height, observation.valid
    else:
        if not isinstance(observation, Mapping):
            raise InvalidObservation(
                "expected an observation dict with keys 'height' and 'valid',"
                f" got {type(observation).__name__}"
            )
        missing = [k for k in ("height", "valid") if k not in observation]
        if missing:
            raise InvalidObservation(
                f"expected observation keys ['height', 'valid'], got {sorted(observation)}"
            )
        height, valid = observation["height"], observation["valid"]
    shape = geometry.shape
    for name, array, dtype in (("height", height, np.float32), ("valid", valid, np.uint8)):
        if not isinstance(array, np.ndarray):
            raise InvalidObservation(
                f"expected {name} as a numpy array {dtype.__name__} {shape},"
                f" got {type(array).__name__}"
            )
        if array.shape != shape or array.dtype != dtype:
            raise InvalidObservation(
                f"expected {name} of shape {shape} and dtype {np.dtype(dtype).name},"
                f" got shape {array.shape} and dtype {array.dtype.name}"
            )
    if not np.isfinite(height).all():
        raise InvalidObservation("expected finite heights, got NaN or inf in 'height'")
    return HeightImage(height, valid)


def encode(
    height: np.ndarray, valid: np.ndarray, geometry: ImageGeometry, channels: int = 2
) -> np.ndarray:
    """The network's input channels for one image, float32 (H, W, channels).

    Args:
        height: (H, W) metres above the bin floor.
        valid: (H, W), nonzero where depth was measured.
        geometry: gives ``max_height``, the normalisation's scale.
        channels: 2 for (height, valid), 1 for height only.
    """
    if channels not in (1, 2):
        raise InvalidObservation(f"expected 1 or 2 input channels, got {channels}")
    measured = np.asarray(valid) > 0
    h = np.clip(np.asarray(height, dtype=np.float32), 0.0, geometry.max_height)
    out = np.empty((*h.shape, channels), dtype=np.float32)
    out[..., 0] = np.where(measured, h / np.float32(geometry.max_height), 0.0)
    if channels == 2:
        out[..., 1] = measured
    return out


__all__ = ["CHANNEL_NAMES", "NORMALISATION", "check_observation", "encode"]
