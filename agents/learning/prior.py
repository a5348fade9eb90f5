"""Earlier datasets a run trains on together with its own records (paper Fig. 7).

A learn config's ``datasets`` names the dataset files of earlier runs, for example the
cylinder run's when a new object type is learned: every trainer round trains on all their
records together with the run's own first n_r, each record keeping its own dataset's
timestamp-hash split into training and test attempts. The actor acts on those rounds'
models, so the earlier data shapes what is explored from the first model on.

:func:`check_datasets` refuses, before anything runs, a file that is missing, that this
version cannot read, or whose grasp grid differs from the run's (naming the field). The
report lists each file with its record count and digest: the run's result depends on them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grasp_env.errors import ConfigError

if TYPE_CHECKING:
    from agents.learning.config import LearnConfig
    from agents.training.offline import TrainingData


def grid_difference(stored: Any, wanted: Any, prefix: str = "grid") -> str | None:
    """The first field in which two grids (or image geometries) differ, as a phrase, or None.

    E.g. ``"grid.rotations is 16 in the file, 20 in the config"``.
    """
    for field in dataclasses.fields(wanted):
        a, b = getattr(stored, field.name), getattr(wanted, field.name)
        name = f"{prefix}.{field.name}"
        if dataclasses.is_dataclass(b):
            found = grid_difference(a, b, name)
            if found:
                return found
        elif a != b:
            return f"{name} is {a!r} in the file, {b!r} in the config"
    return None


def check_datasets(config: LearnConfig, *, digests: bool = False) -> list[dict[str, Any]]:
    """Each of ``config.datasets``: its path, records and, with ``digests``, its digest.

    Raises:
        ConfigError: a file is missing, is not a dataset this version reads, or has another
            grid than ``config.env.grid``; the message names the file and what differs.
    """
    from agents.data import DatasetError, GraspDataset
    from agents.data.digest import dataset_digest
    from agents.training.offline import grid_for_dataset

    facts = []
    for k, path in enumerate(config.datasets):
        where = f"datasets[{k}]: {path}"
        if not Path(path).is_file():
            raise ConfigError(f"{where}: expected a dataset file, found none there")
        try:
            with GraspDataset(path) as dataset:
                differs = grid_difference(grid_for_dataset(dataset), config.env.grid)
                if differs:
                    raise ConfigError(f"{where}: {differs}")
                fact: dict[str, Any] = {"path": path, "records": len(dataset)}
                if digests:
                    fact["digest"] = dataset_digest(dataset)
                facts.append(fact)
        except DatasetError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
    return facts


def load_prior(config: LearnConfig) -> TrainingData | None:
    """The records of ``config.datasets`` with their splits (None for a run without any)."""
    if not config.datasets:
        return None
    from agents.training.offline import load_datasets

    return load_datasets(config.datasets)


__all__ = ["check_datasets", "grid_difference", "load_prior"]
