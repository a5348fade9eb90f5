"""Which selection function chooses attempt i: the exploration schedule (paper III-D, IV-A).

Attempts below ``random_attempts`` are uniformly random, or with ``heuristic_share`` that
share of them is chosen by the geometric heuristic (:class:`HeuristicChoice`). Later ones pick
a selection function at random with the weights of the phase that covers the attempt index.
Every draw comes from the attempt's own generator :func:`attempt_rng`, so a resumed run makes
the same choices for the same attempt index as an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agents.fcn.selection import (
    MaximumSelection,
    ProbabilisticSelection,
    RandomSelection,
    SelectionFunction,
    UncertainSelection,
)
from agents.learning.config import LearnConfig, PhaseConfig

#: Stream labels, so that the generators of one attempt never coincide (2 was the learning
#: curve's, before evaluation bins took their own generators; 3 stays 3 so runs repeat).
STREAM_SELECTION = 0
STREAM_SCENE = 1
STREAM_TRAINER = 3
STREAM_PRIOR = 4


@dataclass(frozen=True)
class HeuristicChoice:
    """The attempt is the geometric heuristic's (``heuristic_share``); it needs no model."""

    name: str = field(default="heuristic", init=False)


def attempt_rng(seed: int, index: int, stream: int = STREAM_SELECTION) -> np.random.Generator:
    """The generator of attempt ``index`` of the run with ``seed`` (one per stream)."""
    return np.random.default_rng([int(seed), int(index), int(stream)])


def scene_seed(seed: int, index: int) -> int:
    """The reset seed of the scene rebuilt before attempt ``index``."""
    return int(attempt_rng(seed, index, STREAM_SCENE).integers(0, 2**31 - 1))


def phase_for(config: LearnConfig, index: int) -> PhaseConfig:
    """The phase that covers attempt ``index`` (the last phase beyond every ``until``)."""
    for phase in config.phases:
        if phase.until is None or index < phase.until:
            return phase
    return config.phases[-1]


def choose_selection(
    config: LearnConfig, index: int, rng: np.random.Generator
) -> SelectionFunction | HeuristicChoice:
    """The selection function of attempt ``index``, drawn from ``rng``."""
    if index < config.random_attempts:
        # no draw without a share, so that the random grasps of such runs stay as they were
        if config.heuristic_share and rng.random() < config.heuristic_share:
            return HeuristicChoice()
        return RandomSelection()
    phase = phase_for(config, index)
    options: list[tuple[float, SelectionFunction]] = [
        (phase.random, RandomSelection()),
        (phase.probabilistic, ProbabilisticSelection()),
        (phase.uncertain, UncertainSelection()),
        (phase.maximum, MaximumSelection(phase.maximum_n)),
    ]
    weights = np.array([w for w, _ in options], np.float64)
    k = int(rng.choice(len(options), p=weights / weights.sum()))
    return options[k][1]


__all__ = [
    "STREAM_PRIOR",
    "STREAM_SCENE",
    "STREAM_SELECTION",
    "STREAM_TRAINER",
    "HeuristicChoice",
    "attempt_rng",
    "choose_selection",
    "phase_for",
    "scene_seed",
]
