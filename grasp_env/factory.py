"""Make any registered bin-grasping environment from the same arguments.

Twins take the number and kind of objects to drop in; the real cell takes its cell config
instead, and its bins are filled by hand. Callers (``grasp evaluate``, ``grasp learn``) pass
everything they know and this one function hands each environment what it takes.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from grasp_env import ENV_IDS
from grasp_env.config import EnvConfig


def make_env(
    env_id: str,
    config: EnvConfig | None = None,
    objects: int | None = None,
    object_set: str | None = None,
    cell_config: str | None = None,
    **kwargs: Any,
) -> gym.Env:
    """``gymnasium.make(env_id, ...)`` with the arguments that environment accepts.

    Args:
        env_id: a registered id, e.g. "SimBinGrasp-v0" or "RealBinGrasp-v0".
        config: the environment's :class:`EnvConfig` (grid, primitive, mode, swap rule).
        objects: objects a twin drops into its grasp bin on a seeded reset.
        object_set: the twin's object set.
        cell_config: the real cell's YAML (path or packaged name); None for its default.
        **kwargs: passed on unchanged (e.g. ``render_mode``).
    """
    if config is not None:
        kwargs["config"] = config
    if env_id in ENV_IDS:
        if objects is not None:
            kwargs["objects"] = objects
        if object_set is not None:
            kwargs["object_set"] = object_set
    elif cell_config is not None:
        kwargs["cell_config"] = cell_config
    return gym.make(env_id, **kwargs)
