"""Wrappers over the metric grasp environment.

`DiscreteGraspWrapper` exposes the FCN agent's grid (paper III-C): an action is the index
(r, i, j, k) into rotations x rows x cols x widths, mapped to the metric (x, y, a, d) by
:meth:`grasp_env.grasp_grid.GraspGrid.index_to_action`, the same mapping the agent uses.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from grasp_env.errors import InvalidAction
from grasp_env.grasp_grid import GraspGrid


class DiscreteGraspWrapper(gym.ActionWrapper):
    """Take grid indices ``MultiDiscrete(grid.shape)`` instead of metric actions.

    The executed index is added to ``info`` as ``grid_index``. The default grid is the
    environment's own (``env.unwrapped.config.grid``): 20 x 40 x 40 x 3 positions, about
    4 mm and < 9 degrees apart, three openings.
    """

    def __init__(self, env: gym.Env, grid: GraspGrid | None = None) -> None:
        super().__init__(env)
        self.grid = grid if grid is not None else env.unwrapped.config.grid
        self.action_space = spaces.MultiDiscrete(np.array(self.grid.shape, dtype=np.int64))

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step with a grid index; ``info["grid_index"]`` records it."""
        index = self.validate_index(action)
        obs, reward, terminated, truncated, info = self.env.step(self.action(index))
        info["grid_index"] = index
        return obs, reward, terminated, truncated, info

    def action(self, action: Any) -> np.ndarray:
        """The metric action of a grid index."""
        return self.grid.index_to_action(self.validate_index(action))

    def validate_index(self, action: Any) -> tuple[int, int, int, int]:
        """Check a grid index (4 integers within the grid); return it as Python ints."""
        arr = np.asarray(action)
        if arr.shape != (4,) or arr.dtype.kind not in "iu":
            raise InvalidAction(
                f"expected 4 integers (rotation, row, col, width) for a grid of shape"
                f" {self.grid.shape}, got shape {arr.shape} and dtype {arr.dtype}"
            )
        index = tuple(int(v) for v in arr)
        for name, value, n in zip(
            ("rotation", "row", "col", "width"), index, self.grid.shape, strict=True
        ):
            if not 0 <= value < n:
                raise InvalidAction(f"{name} index must be in [0, {n - 1}], got {value}")
        return index
