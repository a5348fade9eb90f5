"""Make any registered bin-grasping environment from the same arguments.

Twins take the number and kind of objects to drop in; the real cell takes its cell config
instead, and its bins are filled by hand. Callers (``grasp evaluate``, ``grasp learn``) pass
everything they know and this one function hands each environment what it takes.

This module is also the library's edge for configuration files: :func:`load_cell_config`
reads a cell's YAML into the typed :class:`grasp_env.real_env.RealCellConfig` (the
environment itself takes only that), :func:`make_real_env` is the entry point of
``RealBinGrasp-v0`` that does so, and :func:`find_config` resolves the configs shipped in
the package (the repository's ``configs/`` folder, installed as ``grasp_toolkit.configs``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml

from grasp_env import ENV_IDS
from grasp_env.config import EnvConfig, from_dict
from grasp_env.errors import ConfigError
from grasp_env.real_env import RealBinGraspEnv, RealCellConfig

#: The package of the shipped YAML configs: the repository's configs/ folder.
PACKAGED_CONFIGS = "grasp_toolkit.configs"

#: The packaged cell config used when none is given.
DEFAULT_CELL_CONFIG = "cell_real.yaml"


def find_config(source: str | Path) -> Path | None:
    """``source`` if it exists, else the packaged config it names, else None.

    A packaged config is named by its file name (``"cell_emulated.yaml"``) or as in the
    repository (``"configs/learn.yaml"``), so that name resolves from any folder once the
    package is installed.
    """
    path = Path(source)
    if path.exists():
        return path
    if path.parent not in (Path(), Path("configs")):
        return None
    try:
        packaged = resources.files(PACKAGED_CONFIGS) / path.name
    except ModuleNotFoundError:  # grasp-toolkit is not installed: nothing is packaged
        return None
    return Path(str(packaged)) if packaged.is_file() else None


def load_cell_config(
    source: str | Path | dict[str, Any] | None = None,
) -> RealCellConfig:
    """Read a cell config: a YAML path, a packaged name (``"cell_emulated.yaml"``), a dict.

    None reads the packaged ``configs/cell_real.yaml``. Unknown keys are errors.

    Raises:
        ConfigError: no such file, unreadable YAML, or a key or value that does not fit.
    """
    if isinstance(source, dict):
        return from_dict(RealCellConfig, source, "cell config")
    name = DEFAULT_CELL_CONFIG if source is None else source
    path = find_config(name)
    if path is None:
        raise ConfigError(f"no cell config at {name} and none packaged as configs/{name}")
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the cell config {path}: {exc}") from exc
    return from_dict(RealCellConfig, data, str(path))


def make_real_env(
    cell_config: RealCellConfig | str | Path | dict[str, Any] | None = None, **kwargs: Any
) -> RealBinGraspEnv:
    """The entry point of ``RealBinGrasp-v0``: the cell config read here, then the env.

    Args:
        cell_config: a :class:`RealCellConfig`, or what :func:`load_cell_config` reads
            (a YAML path, a packaged name, a dict; None for ``configs/cell_real.yaml``).
        **kwargs: the other arguments of :class:`grasp_env.real_env.RealBinGraspEnv`.
    """
    if not isinstance(cell_config, RealCellConfig):
        cell_config = load_cell_config(cell_config)
    return RealBinGraspEnv(cell_config, **kwargs)


def make_env(
    env_id: str,
    config: EnvConfig | None = None,
    objects: int | None = None,
    object_set: str | None = None,
    cell_config: RealCellConfig | str | Path | None = None,
    **kwargs: Any,
) -> gym.Env:
    """``gymnasium.make(env_id, ...)`` with the arguments that environment accepts.

    Args:
        env_id: a registered id, e.g. "SimBinGrasp-v0" or "RealBinGrasp-v0".
        config: the environment's :class:`EnvConfig` (grid, primitive, mode, swap rule).
        objects: objects a twin drops into its grasp bin on a seeded reset.
        object_set: the twin's object set: a name, or a YAML file listing URDF files
            (:mod:`grasp_env.object_sets`).
        cell_config: the real cell's config (see :func:`make_real_env`); None for its default.
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
