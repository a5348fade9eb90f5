"""Stereo artefacts of an Ensenso-like depth camera, applied to a rendered point map.

A rendered depth image is perfect; a stereo camera is not. These pure numpy functions take
the point map of the reference (left) camera, ``(H, W, 3)`` in the camera's optical frame
(x right, y down, z forward, metres, NaN where nothing was seen), and return masks of the
pixels a stereo camera would miss, or noisy copies of the points:

* :func:`occlusion_mask`: the second view, one baseline to the right, cannot see the point.
* :func:`steep_mask`: the surface is too oblique to the view ray to match.
* :func:`add_depth_noise`: depth noise that grows with the square of the distance, as
  the disparity noise of a stereo pair does.
"""

from __future__ import annotations

import numpy as np


def occlusion_mask(
    columns: np.ndarray, depth: np.ndarray, fx: float, baseline: float, tolerance: float
) -> np.ndarray:
    """Pixels that the second camera, ``baseline`` metres to the right, does not see.

    Rows are epipolar lines of the rectified pair. A point at column u with disparity
    d = fx * baseline / z appears at u - d in the second view; it is hidden there when some
    pixel to its right in the same row lands left of it (a closer surface in front).

    Args:
        columns: (H, W) column coordinates of the pixels, in the same pixel units as ``fx``.
        depth: (H, W) z of each pixel, metres; NaN where nothing was measured.
        fx: focal length in pixels along the rows.
        baseline: distance between the two cameras, metres.
        tolerance: slack in pixels before a point counts as hidden.
    """
    seen = columns - fx * baseline / depth
    seen = np.where(np.isfinite(seen), seen, np.inf)
    right_min = np.minimum.accumulate(seen[:, ::-1], axis=1)[:, ::-1]
    beyond = np.full_like(seen, np.inf)
    beyond[:, :-1] = right_min[:, 1:]
    return beyond < seen - tolerance


def steep_mask(points: np.ndarray, max_angle: float) -> np.ndarray:
    """Pixels whose surface normal is more than ``max_angle`` radians from the view ray.

    Normals come from central differences of the point map, so the pixels along a depth
    edge count as steep too (stereo matching fails there as well); the one-pixel image
    border has no normal and is marked.

    Args:
        points: (H, W, 3) point map in the camera frame, NaN where nothing was measured.
        max_angle: largest accepted angle between normal and view ray, radians.
    """
    mask = np.ones(points.shape[:2], dtype=bool)
    if points.shape[0] < 3 or points.shape[1] < 3:
        return mask
    dx = points[1:-1, 2:] - points[1:-1, :-2]
    dy = points[2:, 1:-1] - points[:-2, 1:-1]
    normal = np.cross(dx, dy)
    ray = points[1:-1, 1:-1]
    dot = np.abs(np.einsum("ijk,ijk->ij", normal, ray))
    norms = np.linalg.norm(normal, axis=2) * np.linalg.norm(ray, axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = dot / norms
    mask[1:-1, 1:-1] = ~(cosine >= np.cos(max_angle))
    return mask


def add_depth_noise(points: np.ndarray, sigma_at_1m: float, rng: np.random.Generator) -> np.ndarray:
    """Move each point along its view ray by Gaussian noise of std ``sigma_at_1m * z**2``.

    Args:
        points: (N, 3) finite points in the camera frame.
        sigma_at_1m: depth noise std at 1 m, metres (``disparity_noise / (fx * baseline)``).
        rng: the generator all noise comes from.
    """
    z = points[:, 2]
    noisy = z + rng.normal(size=z.shape) * sigma_at_1m * z * z
    return points * (noisy / z)[:, None]
