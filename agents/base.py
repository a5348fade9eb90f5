"""The agent interface: ``act(observation) -> action`` and ``observe(reward)``.

Any object with these two methods can be evaluated and benchmarked (see
:mod:`agents.evaluation` and :mod:`agents.registry`). An agent of this toolkit also keeps the
:class:`Decision` behind its last action in ``last_decision`` and returns it from
``decide(observation)``: the grid index, the selection method and the predicted value, which
the self-supervised loop records with each attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Decision:
    """One chosen grasp and why.

    Attributes:
        action: the metric action (x, y, a, d), float32 (4,).
        index: the grid index (r, i, j, k), or None for an agent off the grid.
        method: what chose it, e.g. "maximum(1)", "probabilistic", "random".
        value: the predicted success probability of the grasp, or None if there is none.
        seconds: wall time spent deciding, including the scoring of the grasp space.
    """

    action: np.ndarray
    index: tuple[int, int, int, int] | None
    method: str
    value: float | None
    seconds: float = 0.0


@runtime_checkable
class Agent(Protocol):
    """What an environment loop needs of an agent."""

    def act(self, observation: Mapping[str, np.ndarray]) -> np.ndarray:
        """The metric action (x, y, a, d), float32 (4,), for one observation."""

    def observe(self, reward: float) -> None:
        """Be told the reward of the last action."""


__all__ = ["Agent", "Decision"]
