"""The learning loop's scene schedule for RL libraries that only call ``reset()``.

An RL library resets after every one-step episode without a seed, which keeps the bins as
they are (the bins swap when one is empty, so collection goes on). The self-supervised loop
(:mod:`agents.learning.actor`) also rebuilds the scene every ``rebuild_every`` attempts from
:func:`agents.learning.schedule.scene_seed` ``(seed, attempt)``, so that a run is a function of
its seed and does not drift on what the twin lost. :class:`SceneSchedule` does the same under
any library, so a baseline sees the scenes the loop would have seen with the same seed.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from agents.learning.schedule import scene_seed
from grasp_env.errors import ConfigError


class SceneSchedule(gym.Wrapper):
    """Rebuild the scene from ``scene_seed(seed, i)`` before attempts i = 0, k, 2k, ...

    ``reset(seed=s)`` restarts the schedule with seed ``s`` at attempt 0 (SB3 passes its
    ``seed`` to the first reset); ``reset()`` rebuilds only when the attempt count is due.

    Args:
        env: the environment; its ``reset(seed=...)`` rebuilds the scene.
        seed: the schedule's seed until a seeded reset replaces it.
        rebuild_every: k, attempts between rebuilds (>= 1).

    Attributes:
        attempts: the steps taken since the schedule (re)started.
    """

    def __init__(self, env: gym.Env, seed: int, rebuild_every: int) -> None:
        if rebuild_every < 1:
            raise ConfigError(f"expected rebuild_every >= 1 attempts, got {rebuild_every}")
        super().__init__(env)
        self.schedule_seed = int(seed)
        self.rebuild_every = rebuild_every
        self.attempts = 0
        self._built_at: int | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset; rebuild the scene when a rebuild is due (class docstring)."""
        if seed is not None:
            self.schedule_seed, self.attempts, self._built_at = int(seed), 0, None
        if self.attempts % self.rebuild_every == 0 and self._built_at != self.attempts:
            self._built_at = self.attempts
            return self.env.reset(
                seed=scene_seed(self.schedule_seed, self.attempts), options=options
            )
        return self.env.reset(options=options)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step, counting the attempt."""
        result = self.env.step(action)
        self.attempts += 1
        return result


__all__ = ["SceneSchedule"]
