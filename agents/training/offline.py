"""Training from dataset files: several datasets as one, and a model per dataset size.

:func:`load_datasets` reads the files in the order given (paper Fig. 7: a small dataset of a
new object type combined with the previous one); their grids must agree, and each record
keeps its own dataset's timestamp-hash split into training and test attempts (paper III-F).
:func:`train_sizes` trains on growing prefixes of that data (paper Fig. 6), plainly or with
weighted retraining (paper III-E), and returns every size's figures and the last models.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.data import GraspDataset
from agents.data.samples import GraspSamples, samples_from_arrays
from agents.training.config import TrainConfig
from agents.training.fit import TrainResult, train, weighted_retraining
from grasp_env.config import from_dict
from grasp_env.errors import ConfigError
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid


def grid_for_dataset(dataset: GraspDataset) -> GraspGrid:
    """The grid stored in the dataset's config, else the default grid on its image geometry.

    Raises:
        ConfigError: the stored grid's image geometry differs from the records'.
    """
    stored = dataset.config.get("grid") if isinstance(dataset.config, dict) else None
    grid = from_dict(GraspGrid, stored, "dataset config.grid") if stored else None
    if grid is None:
        grid = GraspGrid(image=dataset.image)
    if grid.image != dataset.image:
        raise ConfigError(
            f"{dataset.path}: the stored grid's image {grid.image} differs from the records'"
            f" {dataset.image}"
        )
    return grid


@dataclass(frozen=True)
class TrainingData:
    """The records of one or more datasets as one, with each record's own split.

    Attributes:
        samples: every record, in file order and then record order.
        train_index: indices of the training records into ``samples``.
        test_index: indices of the test records.
        grid: the grid all the files share.
        sources: the files.
    """

    samples: GraspSamples
    train_index: np.ndarray
    test_index: np.ndarray
    grid: GraspGrid
    sources: tuple[str, ...]

    def prefix(self, size: int) -> tuple[GraspSamples, GraspSamples]:
        """(training, test) samples among the first ``size`` records."""
        train_part = self.samples.subset(self.train_index[self.train_index < size])
        return train_part, self.samples.subset(self.test_index[self.test_index < size])

    def probe(self) -> HeightImage | None:
        """The scene drawn as the heatmap: the first test record's, else the first one's."""
        index = np.concatenate([self.test_index, self.train_index])
        if not len(index):
            return None
        return HeightImage(self.samples.heights[index[0]], self.samples.valid[index[0]])


def load_datasets(paths: Sequence[str | os.PathLike[str]]) -> TrainingData:
    """The records of ``paths`` as one :class:`TrainingData`.

    Raises:
        ConfigError: no path, or a file whose grid differs from the first file's.
        DatasetError: a file is missing, foreign or damaged.
    """
    if not paths:
        raise ConfigError("expected at least one dataset file, got none")
    parts, train_parts, test_parts, grid = [], [], [], None
    for path in paths:
        with GraspDataset(path) as dataset:
            own = grid_for_dataset(dataset)
            if grid is not None and own != grid:
                raise ConfigError(f"{path}: expected the grid of {paths[0]} ({grid}), got {own}")
            grid = own
            offset = sum(len(p) for p in parts)
            parts.append(samples_from_arrays(dataset.read(), grid.widths))
            train_part, test_part = dataset.split()
            train_parts.append(train_part + offset)
            test_parts.append(test_part + offset)
    assert grid is not None
    return TrainingData(
        GraspSamples.concatenate(parts),
        np.concatenate(train_parts),
        np.concatenate(test_parts),
        grid,
        tuple(str(p) for p in paths),
    )


@dataclass(frozen=True)
class SizesResult:
    """What :func:`train_sizes` gives.

    Attributes:
        result: the last size's (final) training.
        first: with weighted retraining, the last size's first (unweighted) training.
        figures: per size: dataset_size, train_loss and the test figures.
    """

    result: TrainResult
    first: TrainResult | None
    figures: list[dict[str, Any]]


def train_sizes(
    data: TrainingData,
    *,
    config: TrainConfig,
    sizes: Sequence[int],
    rng: np.random.Generator,
    retrain: bool = True,
    start: Callable[[], Any] | None = None,
    logger: Any = None,
    progress: bool = False,
    report: Callable[[int, TrainResult], None] | None = None,
) -> SizesResult:
    """Train on the first ``size`` records for each of ``sizes``.

    Args:
        data: the records.
        config: the training settings.
        sizes: dataset sizes, ascending; each trains from ``start()`` (or fresh weights).
        rng: every random choice derives from it.
        retrain: weighted retraining (paper III-E) instead of one plain training.
        start: makes the model each size continues from (None: fresh weights).
        logger: TensorBoard output, or None.
        progress: show a bar over the epochs.
        report: called with (size, result) after each size.
    """
    if not sizes:
        raise ConfigError("expected at least one dataset size to train on, got none")
    common = dict(grid=data.grid, rng=rng, logger=logger, probe=data.probe(), progress=progress)
    figures, result, first = [], None, None
    for size in sizes:
        model = start() if start is not None else None
        train_set, test_set = data.prefix(size)
        if retrain:
            own = dataclasses.replace(config, retrain_from_scratch=model is None)
            both = weighted_retraining(
                train_set, test_set, config=own, model=model, dataset_size=size, **common
            )
            first, result = both.first, both.second
        else:
            result = train(
                train_set, test_set, config=config, model=model, dataset_size=size, **common
            )
        if report is not None:
            report(size, result)
        figures.append({"dataset_size": size, "train_loss": result.train_loss, **result.test})
    assert result is not None
    return SizesResult(result, first, figures)


__all__ = ["SizesResult", "TrainingData", "grid_for_dataset", "load_datasets", "train_sizes"]
