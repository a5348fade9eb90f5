"""The agent interface: ``act(observation) -> action`` and ``observe(reward)``.

Any object with these two methods can be evaluated and benchmarked (see
:mod:`agents.evaluation` and :mod:`agents.registry`). An agent of this toolkit also keeps the
:class:`Decision` behind its last action in ``last_decision`` and returns it from
``decide(observation)``: the grid index, the selection method and the predicted value, which
the self-supervised loop records with each attempt.

An agent may also have ``reset(rng)``: start a new bin, drawing every random choice from the
numpy ``Generator`` ``rng`` from now on and forgetting every per-bin state (e.g. the
application rule's "the last grasp failed"). The evaluation calls it before each bin with a
generator made from (seed, bin index), so that a bin's outcome does not depend on the bins
run before it and bins can run in any order and in any process
(:func:`agents.evaluation.evaluate_bins`). It is optional: an agent without it keeps working,
but carries its state from bin to bin (and :func:`~agents.evaluation.evaluate_bins` builds it
anew for every bin). The shipped agents have it.
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


@runtime_checkable
class ResettableAgent(Agent, Protocol):
    """An agent that can start a new bin from a given generator (see the module docstring)."""

    def reset(self, rng: np.random.Generator) -> None:
        """Start a new bin: draw from ``rng`` from now on, forget every per-bin state."""


class DecidingAgent:
    """The protocol's methods for an agent that defines ``decide(observation) -> Decision``.

    ``act`` returns the decision's action, ``observe`` ignores the reward, and ``reset(rng)``
    draws from ``rng`` from now on and forgets the last decision. An agent that listens to
    rewards overrides ``observe`` (and ``reset`` for what it remembers).

    Attributes:
        rng: the generator of every random choice.
        last_decision: the :class:`Decision` of the last ``act``, or None.
    """

    rng: np.random.Generator
    last_decision: Decision | None = None

    def decide(self, observation: Mapping[str, np.ndarray]) -> Decision:
        """The grasp for ``observation`` and why."""
        raise NotImplementedError

    def act(self, observation: Mapping[str, np.ndarray]) -> np.ndarray:
        """The metric action (x, y, a, d), float32 (4,)."""
        return self.decide(observation).action

    def observe(self, reward: float) -> None:
        """Ignored: the agent does not learn while it acts."""

    def reset(self, rng: np.random.Generator) -> None:
        """Start a new bin, drawing from ``rng`` from now on."""
        self.rng = rng
        self.last_decision = None


__all__ = ["Agent", "DecidingAgent", "Decision", "ResettableAgent"]
