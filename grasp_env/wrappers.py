"""Wrappers over the metric grasp environment.

`DiscreteGraspWrapper` exposes the FCN agent's grid (paper III-C): an action is the index
(r, i, j, k) into rotations x rows x cols x widths, mapped to the metric (x, y, a, d) by
:meth:`grasp_env.grasp_grid.GraspGrid.index_to_action`, the same mapping the agent uses.

For RL libraries (Stable-Baselines3, CleanRL, RLlib), :mod:`grasp_env.rl_wrappers` gives the
observation as one image and the metric action normalised to [-1, 1].
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from grasp_env.env import BinGraspEnv
from grasp_env.grasp_grid import GraspGrid


class DiscreteGraspWrapper(gym.ActionWrapper):
    """Take grid indices ``MultiDiscrete(grid.shape)`` instead of metric actions.

    The executed index is added to ``info`` as ``grid_index``. The default grid is the
    environment's own (``env.unwrapped.config.grid``): 20 x 40 x 40 x 3 positions, about
    4 mm and < 9 degrees apart, three openings.
    """

    def __init__(self, env: gym.Env, grid: GraspGrid | None = None) -> None:
        super().__init__(env)
        self.grid = grid if grid is not None else _grid_of(env)
        self.action_space = spaces.MultiDiscrete(np.array(self.grid.shape, dtype=np.int64))

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step with a grid index; ``info["grid_index"]`` records it."""
        obs, reward, terminated, truncated, info = self.env.step(self.action(action))
        info["grid_index"] = tuple(int(v) for v in np.asarray(action))
        return obs, float(reward), terminated, truncated, info

    def action(self, action: Any) -> np.ndarray:
        """The metric action of a grid index; InvalidAction for an index off the grid."""
        return self.grid.index_to_action(action)


def _grid_of(env: gym.Env) -> GraspGrid:
    """The grasp grid of the :class:`BinGraspEnv` under ``env``'s wrappers."""
    base = env.unwrapped
    if not isinstance(base, BinGraspEnv):
        raise TypeError(
            f"expected a BinGraspEnv under the wrappers (or pass grid=), got {type(base).__name__}"
        )
    return base.config.grid
