"""A geometric heuristic agent: the highest part whose grasp leaves room for the fingers.

A sanity baseline with no learning, in the spirit of analytic grasp planners. Candidate grasp
centres are the highest measured pixels inside the bin. For each, the closing direction runs
across the minor principal axis of the surface patch around it. A candidate is kept when, for
one of the openings tried, both finger footprints in the height image lie low enough: below the
fingertips, or so little above them that the fingers, stopped there by the approach's contact
check, still reach ``min_overlap`` down the part's side (this also keeps fingers off the bin
walls). The highest kept candidate wins. After a failure the agent picks at random among the
best few, with the generator it was given, so it does not repeat a miss.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from grasp_env.config import PrimitiveConfig
from grasp_env.geometry import ImageGeometry


@dataclass(frozen=True)
class HeuristicConfig:
    """Tuning of the heuristic.

    Attributes:
        candidates: how many of the highest pixels are tried as grasp centres.
        min_spacing: candidates closer than this to a higher one are skipped, metres.
        patch_radius: radius of the surface patch that gives the closing direction, metres.
        patch_depth: patch pixels lie at most this far below the candidate, metres.
        widths: openings tried, smallest first, metres.
        finger_thickness: finger size along the closing direction, metres.
        finger_width: finger size across the closing direction, metres.
        min_overlap: a finger stopped early by what lies under its footprint still reaches
            this far down the part's side, metres (the approach stops on contact).
        retry_top: after a failure, choose at random among this many best candidates.
        wall_margin: grasp centres keep this far from the image border, metres.
    """

    candidates: int = 150
    min_spacing: float = 0.006
    patch_radius: float = 0.015
    patch_depth: float = 0.006
    widths: tuple[float, ...] = (0.03, 0.05, 0.07)
    finger_thickness: float = 0.010
    finger_width: float = 0.020
    min_overlap: float = 0.008
    retry_top: int = 5
    wall_margin: float = 0.02


class HeuristicAgent:
    """Highest part with room for the fingers, gripper across the part's minor axis."""

    def __init__(
        self,
        geometry: ImageGeometry,
        rng: np.random.Generator,
        config: HeuristicConfig | None = None,
        primitive: PrimitiveConfig | None = None,
    ) -> None:
        self.geometry = geometry
        self.rng = rng
        self.config = config if config is not None else HeuristicConfig()
        self.primitive = primitive if primitive is not None else PrimitiveConfig()
        self._failed = False

    def act(self, observation: Mapping[str, np.ndarray]) -> np.ndarray:
        """The metric action (x, y, a, d) for one observation."""
        grasps = self.grasps(observation, self.config.retry_top if self._failed else 1)
        pick = int(self.rng.integers(0, len(grasps))) if self._failed else 0
        return grasps[pick]

    def grasps(self, observation: Mapping[str, np.ndarray], count: int) -> list[np.ndarray]:
        """The ``count`` best grasps (x, y, a, d), best first.

        With no collision-free grasp, the one grasp at the highest pixel with the widest
        opening.
        """
        height = np.where(observation["valid"] > 0, observation["height"], 0.0).astype(np.float64)
        found = (self._grasp_at(height, rc) for rc in self._candidates(height))
        grasps = [np.array(g, np.float32) for g in itertools.islice(filter(None, found), count)]
        if grasps:
            return grasps
        row, col = np.unravel_index(int(np.argmax(height)), height.shape)
        x, y = (float(v) for v in self.geometry.pixel_to_task(row, col))
        return [np.array([x, y, 0.0, self.config.widths[-1]], dtype=np.float32)]

    def observe(self, reward: float) -> None:
        """Remember whether the last grasp failed."""
        self._failed = reward <= 0.0

    def reset(self, rng: np.random.Generator) -> None:
        """Start a new bin: forget the last failure and draw from ``rng`` from now on."""
        self.rng = rng
        self._failed = False

    def _candidates(self, height: np.ndarray) -> list[tuple[int, int]]:
        """The highest pixels inside the bin, thinned to ``min_spacing``, highest first."""
        g, c = self.geometry, self.config
        border = int(np.ceil(c.wall_margin / g.pixel_size))
        inner = np.full(g.shape, -np.inf)
        inner[border:-border, border:-border] = height[border:-border, border:-border]
        order = np.argsort(-inner, axis=None, kind="stable")[: 20 * c.candidates]
        order = order[np.isfinite(inner.ravel()[order])]
        rc = np.column_stack(np.unravel_index(order, g.shape))
        spacing = c.min_spacing / g.pixel_size
        alive = np.ones(len(rc), dtype=bool)
        chosen: list[tuple[int, int]] = []
        for k in range(len(rc)):
            if not alive[k]:
                continue
            chosen.append((int(rc[k, 0]), int(rc[k, 1])))
            if len(chosen) == c.candidates:
                break
            alive &= np.hypot(*(rc - rc[k]).T) >= spacing
        return chosen

    def _grasp_at(self, height: np.ndarray, rc: tuple[int, int]) -> tuple | None:
        """The collision-free grasp (x, y, a, d) centred on pixel ``rc``, or None."""
        g, c, p = self.geometry, self.config, self.primitive
        x, y = (float(v) for v in g.pixel_to_task(*rc))
        a = self._closing_angle(height, rc)
        top = float(height[rc])
        limit = max(top - p.grasp_depth, p.floor_clearance, top - c.min_overlap)
        along = np.array([np.cos(a), np.sin(a)])
        across = np.array([-along[1], along[0]])
        s = np.linspace(-0.5, 0.5, 5)
        offsets = (
            s[:, None, None] * c.finger_thickness * along
            + s[None, :, None] * c.finger_width * across
        ).reshape(-1, 2)
        for d in c.widths:
            centre = (d + c.finger_thickness) / 2.0
            points = np.concatenate([offsets + centre * along, offsets - centre * along])
            rows, cols = g.task_to_pixel(x + points[:, 0], y + points[:, 1])
            r = np.floor(rows + 0.5).astype(int)
            q = np.floor(cols + 0.5).astype(int)
            if (r < 0).any() or (r >= g.rows).any() or (q < 0).any() or (q >= g.cols).any():
                continue
            if height[r, q].max() <= limit:
                return (x, y, a, d)
        return None

    def _closing_angle(self, height: np.ndarray, rc: tuple[int, int]) -> float:
        """The angle across the minor principal axis of the patch around ``rc``."""
        g, c = self.geometry, self.config
        radius = int(np.ceil(c.patch_radius / g.pixel_size))
        r0, r1 = max(rc[0] - radius, 0), min(rc[0] + radius + 1, g.rows)
        c0, c1 = max(rc[1] - radius, 0), min(rc[1] + radius + 1, g.cols)
        rows, cols = np.nonzero(height[r0:r1, c0:c1] >= height[rc] - c.patch_depth)
        if rows.size < 3:
            return 0.0
        xs, ys = g.pixel_to_task(rows + r0, cols + c0)
        _, vectors = np.linalg.eigh(np.cov(np.stack([xs, ys])))
        minor = vectors[:, 0]
        return float((np.arctan2(minor[1], minor[0]) + np.pi / 2) % np.pi - np.pi / 2)
