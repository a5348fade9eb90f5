"""A geometric heuristic agent: grasp the highest thing across its narrow side.

A sanity baseline with no learning: take the highest measured point inside the bin, fit the
principal axes of the surface patch around it, and close the gripper across the minor axis
with an opening a little wider than the patch. After a failure it tries another of the
highest points, chosen by the generator it was given, so it does not repeat a miss forever.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grasp_env.geometry import ImageGeometry


@dataclass(frozen=True)
class HeuristicConfig:
    """Tuning of the heuristic.

    Attributes:
        patch_radius: radius of the surface patch around the chosen point, metres.
        patch_depth: patch pixels lie at most this far below the chosen point, metres.
        margin: opening beyond the patch's minor extent, metres.
        retry_fraction: after a failure, pick among this top fraction of the highest pixels.
        wall_margin: ignore pixels this close to the image border, metres (the bin walls).
    """

    patch_radius: float = 0.02
    patch_depth: float = 0.01
    margin: float = 0.025
    retry_fraction: float = 0.03
    wall_margin: float = 0.02


class HeuristicAgent:
    """Highest point, gripper across the minor axis of the patch around it."""

    def __init__(
        self,
        geometry: ImageGeometry,
        rng: np.random.Generator,
        config: HeuristicConfig | None = None,
        max_opening: float = 0.11,
    ) -> None:
        self.geometry = geometry
        self.rng = rng
        self.config = config if config is not None else HeuristicConfig()
        self.max_opening = max_opening
        self._failed = False

    def act(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        """The metric action (x, y, a, d) for one observation."""
        height = np.where(observation["valid"] > 0, observation["height"], 0.0)
        g, c = self.geometry, self.config
        border = int(np.ceil(c.wall_margin / g.pixel_size))
        inner = np.zeros(g.shape, dtype=bool)
        inner[border:-border, border:-border] = True
        scores = np.where(inner, height, -np.inf).ravel()
        if self._failed:
            top = max(1, int(c.retry_fraction * np.isfinite(scores).sum()))
            candidates = np.argpartition(-scores, top - 1)[:top]
            flat = int(self.rng.choice(candidates))
        else:
            flat = int(np.argmax(scores))
        row, col = np.unravel_index(flat, g.shape)
        x, y = (float(v) for v in g.pixel_to_task(row, col))
        a, minor = self._minor_axis(height, row, col)
        d = float(np.clip(minor + c.margin, 0.02, self.max_opening))
        return np.array([x, y, a, d], dtype=np.float32)

    def observe(self, reward: float) -> None:
        """Remember whether the last grasp failed."""
        self._failed = reward <= 0.0

    def _minor_axis(self, height: np.ndarray, row: int, col: int) -> tuple[float, float]:
        """The closing angle across the patch's minor axis and the patch's minor extent."""
        g, c = self.geometry, self.config
        radius = int(np.ceil(c.patch_radius / g.pixel_size))
        r0, r1 = max(row - radius, 0), min(row + radius + 1, g.rows)
        c0, c1 = max(col - radius, 0), min(col + radius + 1, g.cols)
        patch = height[r0:r1, c0:c1] >= height[row, col] - c.patch_depth
        rows, cols = np.nonzero(patch)
        xs, ys = g.pixel_to_task(rows + r0, cols + c0)
        if xs.size < 3:
            return 0.0, 0.0
        cov = np.cov(np.stack([xs, ys]))
        eigvals, eigvecs = np.linalg.eigh(cov)
        minor = eigvecs[:, 0]
        a = float(np.arctan2(minor[1], minor[0]))
        a = (a + np.pi / 2) % np.pi - np.pi / 2
        return a, float(4.0 * np.sqrt(max(eigvals[0], 0.0)))
