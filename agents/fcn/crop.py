"""The training input: the window of the encoded image around one grasp (paper III-C).

A grasp (x, y, a) sees the ``window_px`` x ``window_px`` window centred on task point (x, y)
and turned by a, sampled with :meth:`ImageGeometry.window_affine` and ``cv2.warpAffine``
(inverse map, bilinear, border 0). The whole-image inference in :mod:`agents.fcn.inference`
samples the turned image with the same matrix at (0, 0), so the network's output cell of grid
index (r, i, j, k) is computed from exactly the window this module crops for
``grid.index_to_action((r, i, j, k))``.
"""

from __future__ import annotations

import cv2
import numpy as np

from agents.fcn.observation import encode
from grasp_env.errors import InvalidAction
from grasp_env.geometry import ImageGeometry

INTERPOLATION = cv2.INTER_LINEAR
INTERPOLATION_NAME = "linear"


def warp(encoded: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Sample ``encoded`` (H, W, C) through the window-to-image ``matrix``: (size, size, C).

    The one ``cv2.warpAffine`` sampling that both crops and inference use. Each channel is
    warped on its own: OpenCV 5 samples one-channel float images at full float precision but
    two-channel ones through 1/32-pixel fixed point, which would make a crop differ from the
    same window of the turned image by up to 1/32 of a height step.
    """
    out = np.empty((size, size, encoded.shape[2]), np.float32)
    for c in range(encoded.shape[2]):
        out[..., c] = cv2.warpAffine(
            np.ascontiguousarray(encoded[..., c]),
            matrix,
            (size, size),
            flags=cv2.WARP_INVERSE_MAP | INTERPOLATION,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
    return out


def crop_window(
    encoded: np.ndarray, geometry: ImageGeometry, x: float, y: float, a: float, window_px: int
) -> np.ndarray:
    """The window of grasp (x, y, a), float32 (C, window_px, window_px).

    Args:
        encoded: the encoded image, float32 (H, W, C), from :func:`agents.fcn.observation.encode`.
        geometry: the image's geometry.
        x: grasp position in the task frame, metres.
        y: grasp position in the task frame, metres.
        a: gripper angle, radians.
        window_px: window edge, pixels.
    """
    matrix = geometry.window_affine(float(x), float(y), float(a), window_px)
    return np.ascontiguousarray(warp(encoded, matrix, window_px).transpose(2, 0, 1))


def crop_batch(
    encoded: np.ndarray, actions: np.ndarray, geometry: ImageGeometry, window_px: int
) -> np.ndarray:
    """The windows of many grasps, one per image: float32 (N, C, window_px, window_px).

    Args:
        encoded: encoded images, float32 (N, H, W, C).
        actions: metric actions (N, 4) as (x, y, a, d); d is not used for the window.
        geometry: the images' geometry.
        window_px: window edge, pixels.
    """
    actions = np.asarray(actions)
    if actions.ndim != 2 or actions.shape[1] != 4 or actions.shape[0] != encoded.shape[0]:
        raise InvalidAction(
            f"expected actions of shape ({encoded.shape[0]}, 4), got {actions.shape}"
        )
    if not np.isfinite(actions).all():
        raise InvalidAction("expected finite actions, got NaN or inf")
    out = np.empty((encoded.shape[0], encoded.shape[3], window_px, window_px), np.float32)
    for n in range(encoded.shape[0]):
        x, y, a = actions[n, :3]
        out[n] = crop_window(encoded[n], geometry, x, y, a, window_px)
    return out


def crop_attempts(
    heights: np.ndarray,
    valid: np.ndarray,
    actions: np.ndarray,
    geometry: ImageGeometry,
    window_px: int,
    channels: int = 2,
) -> np.ndarray:
    """Encode each raw image and crop its grasp's window: float32 (N, C, window_px, window_px).

    Args:
        heights: (N, H, W) metres above the bin floor.
        valid: (N, H, W), nonzero where measured.
        actions: (N, 4) metric actions (x, y, a, d).
        geometry: the images' geometry.
        window_px: window edge, pixels.
        channels: the model's input channels (see :func:`agents.fcn.observation.encode`).
    """
    actions = np.asarray(actions)
    n = len(heights)
    if actions.shape != (n, 4):
        raise InvalidAction(f"expected actions of shape ({n}, 4), got {actions.shape}")
    if not np.isfinite(actions).all():
        raise InvalidAction("expected finite actions, got NaN or inf")
    out = np.empty((n, channels, window_px, window_px), np.float32)
    for k in range(n):
        encoded = encode(heights[k], valid[k], geometry, channels)
        x, y, a = actions[k, :3]
        out[k] = crop_window(encoded, geometry, x, y, a, window_px)
    return out


__all__ = [
    "INTERPOLATION",
    "INTERPOLATION_NAME",
    "crop_attempts",
    "crop_batch",
    "crop_window",
    "warp",
]
