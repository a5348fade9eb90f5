"""The random baseline: a uniformly random grasp of the discrete grid (paper III-D a)."""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

from agents.base import DecidingAgent, Decision
from agents.fcn.observation import check_observation
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid


class RandomAgent(DecidingAgent):
    """Uniformly random over the grid's (r, i, j, k); ignores the scene and the rewards.

    Args:
        grid: the discrete grasp space.
        rng: the generator of every choice.
        walls: the grasps allowed, a boolean array of ``grid.shape``
            (:func:`grasp_env.clearance.inside_walls`); None: all of them.

    Attributes:
        last_decision: the :class:`Decision` of the last :meth:`act`, or None.
    """

    def __init__(
        self, grid: GraspGrid, rng: np.random.Generator, walls: np.ndarray | None = None
    ) -> None:
        self.grid = grid
        self.rng = rng
        self.allowed = None if walls is None else np.flatnonzero(walls)
        self.last_decision: Decision | None = None

    def decide(self, observation: Mapping[str, np.ndarray] | HeightImage) -> Decision:
        """A random grasp; the observation is only checked against the contract."""
        start = time.perf_counter()
        check_observation(observation, self.grid.image)
        if self.allowed is None:
            index = tuple(int(self.rng.integers(n)) for n in self.grid.shape)
        else:
            flat = self.allowed[int(self.rng.integers(len(self.allowed)))]
            index = tuple(int(v) for v in np.unravel_index(flat, self.grid.shape))
        action = self.grid.index_to_action(index)
        decision = Decision(action, index, "random", None, time.perf_counter() - start)
        self.last_decision = decision
        return decision


__all__ = ["RandomAgent"]
