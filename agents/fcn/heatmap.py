"""A picture of the grasp space over the scene: for TensorBoard and for people.

:func:`heatmap_image` draws the height image beside the same image overlaid with, at every
pixel, the best value over rotations and widths of the grasps centred there, and marks the
best grasp as a line between where the fingers will close (its width, at its angle).
"""

from __future__ import annotations

import cv2
import numpy as np

from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid


def cell_pixels(grid: GraspGrid) -> tuple[np.ndarray, np.ndarray]:
    """Image (row, col) of the centre of every (r, i, j) cell, each float (R, rows, cols)."""
    _, rows, cols, _ = grid.shape
    ii, jj = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    qx, qy = grid.cell_offset(ii, jj)
    a = grid.angles.reshape(-1, 1, 1)
    x = np.cos(a) * qx - np.sin(a) * qy
    y = np.sin(a) * qx + np.cos(a) * qy
    return grid.image.task_to_pixel(x, y)


def best_value_map(values: np.ndarray, grid: GraspGrid) -> np.ndarray:
    """The image-sized map of the best value of the grasps centred in each pixel, float32.

    Pixels no grasp centre falls in take the value of their nearest neighbour that has one.
    """
    g = grid.image
    row, col = cell_pixels(grid)
    r = np.clip(np.floor(row + 0.5).astype(int), 0, g.rows - 1).ravel()
    c = np.clip(np.floor(col + 0.5).astype(int), 0, g.cols - 1).ravel()
    best = values.max(axis=3).ravel().astype(np.float32)
    out = np.full(g.shape, -1.0, np.float32)
    np.maximum.at(out, (r, c), best)
    hit = out >= 0
    if hit.any() and not hit.all():
        _, labels = cv2.distanceTransformWithLabels(
            (~hit).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
        )
        source = np.zeros(labels.max() + 1, np.float32)
        source[labels[hit]] = out[hit]
        out = source[labels]
    return np.clip(out, 0.0, 1.0)


def heatmap_image(values: np.ndarray, image: HeightImage, grid: GraspGrid) -> np.ndarray:
    """Height image | value overlay with the best grasp marked: uint8 (H, 2 W + 4, 3), RGB.

    Args:
        values: grasp values (rotations, rows, cols, widths) in [0, 1].
        image: the scene the values were computed for.
        grid: the grasp space of ``values``.
    """
    g = grid.image
    gray = np.clip(image.height / g.max_height, 0.0, 1.0)
    gray = (gray * 255).astype(np.uint8)
    gray_rgb = np.repeat(gray[..., None], 3, axis=2)
    heat = (best_value_map(values, grid) * 255).astype(np.uint8)
    coloured = cv2.cvtColor(cv2.applyColorMap(heat, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    overlay = cv2.addWeighted(gray_rgb, 0.4, coloured, 0.6, 0.0)
    r, i, j, k = np.unravel_index(int(np.argmax(values)), values.shape)
    x, y, a, d = grid.index_to_action((r, i, j, k))
    ends = []
    for s in (-0.5, 0.5):
        row, col = g.task_to_pixel(x + s * d * np.cos(a), y + s * d * np.sin(a))
        ends.append((round(float(col)), round(float(row))))
    cv2.line(overlay, ends[0], ends[1], (255, 255, 255), 1, cv2.LINE_AA)
    gap = np.zeros((g.rows, 4, 3), np.uint8)
    return np.concatenate([gray_rgb, gap, overlay], axis=1)


__all__ = ["best_value_map", "cell_pixels", "heatmap_image"]
