"""A synthetic grasp dataset whose labels a value model can learn: bars across the gripper.

Each scene is a flat, fully measured bin floor with one bar (a box of fixed length and
height) at a random place and orientation, and one grasp centred on the bar at a random grid
angle and width. The grasp succeeds when the fingers close across the bar (the bar's long axis
within ``max_misalignment`` of perpendicular to the closing direction) and the bar is
narrower than the opening. Everything the label depends on lies in the grasp's window, so the
rule is learnable from the crops. For tests, smoke runs and the training-speed benchmark; it
makes no claim about real grasping.
"""

from __future__ import annotations

import numpy as np

from agents.data.samples import GraspSamples
from grasp_env.grasp_grid import GraspGrid

BAR_WIDTHS = (0.02, 0.04, 0.06)
BAR_LENGTH = 0.09
BAR_HEIGHT = 0.03


def bar_scenes(
    n: int,
    grid: GraspGrid,
    rng: np.random.Generator,
    max_misalignment: float = np.deg2rad(30.0),
    label_noise: float = 0.0,
) -> GraspSamples:
    """``n`` bar scenes with one labelled grasp each.

    Args:
        n: number of attempts.
        grid: the grasp space (its image geometry, angles and widths are used).
        rng: the generator of every random choice.
        max_misalignment: largest angle between the bar's long axis and the perpendicular of
            the closing direction that still succeeds, radians.
        label_noise: probability of flipping each label.
    """
    g = grid.image
    rows, cols = np.meshgrid(np.arange(g.rows), np.arange(g.cols), indexing="ij")
    px, py = g.pixel_to_task(rows, cols)
    heights = np.zeros((n, *g.shape), np.float32)
    valid = np.ones((n, *g.shape), np.uint8)
    actions = np.zeros((n, 4), np.float32)
    widths = rng.integers(0, len(grid.widths), n)
    rewards = np.zeros(n, np.float32)
    hx, hy = g.half_extent
    for s in range(n):
        cx = rng.uniform(-0.6 * hx, 0.6 * hx)
        cy = rng.uniform(-0.6 * hy, 0.6 * hy)
        phi = rng.uniform(-np.pi, np.pi)
        bar_width = BAR_WIDTHS[rng.integers(len(BAR_WIDTHS))]
        along = (px - cx) * np.cos(phi) + (py - cy) * np.sin(phi)
        across = -(px - cx) * np.sin(phi) + (py - cy) * np.cos(phi)
        bar = (np.abs(along) <= BAR_LENGTH / 2) & (np.abs(across) <= bar_width / 2)
        heights[s][bar] = BAR_HEIGHT
        a = float(grid.angles[rng.integers(grid.rotations)])
        d = grid.widths[widths[s]]
        actions[s] = (cx, cy, a, d)
        # the closing direction (cos a, sin a) should be perpendicular to the bar's long axis
        misalignment = np.arcsin(min(1.0, abs(np.cos(phi - a))))
        success = misalignment <= max_misalignment and bar_width < d
        if rng.random() < label_noise:
            success = not success
        rewards[s] = float(success)
    return GraspSamples(heights, valid, actions, widths.astype(np.int64), rewards)


__all__ = ["BAR_HEIGHT", "BAR_LENGTH", "BAR_WIDTHS", "bar_scenes"]
