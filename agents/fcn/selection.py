"""Selection functions: from the values of the grasp space to one grasp (paper III-D).

Each selection is a small frozen object called as ``selection(values, rng)`` with the value
array of the grasp space (any shape, by default (rotations, rows, cols, widths)) and a numpy
``Generator``; it returns a :class:`Selection`, the chosen index as a tuple and its value.
Every random choice draws from the generator given, never from a global RNG.

* :class:`RandomSelection`: uniform over the grasp space; the only one that spans all of it.
* :class:`MaximumSelection`: one of the N highest values at random (N = 1 is greedy).
* :class:`ProbabilisticSelection`: sampled in proportion to the values (clipped to >= 0).
* :class:`UncertainSelection`: the value nearest 0.5 (ties broken at random).
* :class:`ApplicationRule`: the paper's rule in application: maximum(1), and maximum(5) for
  the attempt after a failed grasp; it is told rewards through :meth:`ApplicationRule.observe`.
* :class:`MixedSelection`: one of several selections, picked at random with given weights
  (an exploration schedule, e.g. mostly probabilistic with some random and uncertain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from grasp_env.errors import ConfigError, InvalidObservation


@dataclass(frozen=True)
class Selection:
    """A chosen grasp.

    Attributes:
        index: the grid index, e.g. (r, i, j, k).
        value: the value array's entry at ``index``.
        method: the name of the selection function that chose it, e.g. "maximum(5)".
    """

    index: tuple[int, ...]
    value: float
    method: str


@runtime_checkable
class SelectionFunction(Protocol):
    """What an agent needs of a selection function."""

    name: str

    def __call__(self, values: np.ndarray, rng: np.random.Generator) -> Selection:
        """Choose one grasp from ``values``."""


def _check_values(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.size == 0:
        raise InvalidObservation(f"expected a non-empty value array, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise InvalidObservation("expected finite values, got NaN or inf in the value array")
    return values


def _pick(values: np.ndarray, flat: int, method: str) -> Selection:
    index = tuple(int(v) for v in np.unravel_index(int(flat), values.shape))
    return Selection(index, float(values.flat[int(flat)]), method)


@dataclass(frozen=True)
class RandomSelection:
    """Uniformly random over the grasp space (paper III-D a)."""

    name: str = field(default="random", init=False)

    def __call__(self, values: np.ndarray, rng: np.random.Generator) -> Selection:
        """A uniformly random index of ``values`` and its value."""
        values = _check_values(values)
        return _pick(values, int(rng.integers(values.size)), self.name)


@dataclass(frozen=True)
class MaximumSelection:
    """One of the ``n`` highest-valued grasps, uniformly at random (paper III-D b).

    Attributes:
        n: how many of the best grasps to choose among; 1 is the greedy arg max.
    """

    n: int = 1

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ConfigError(f"maximum(N) needs N >= 1, got {self.n}")

    @property
    def name(self) -> str:
        """E.g. "maximum(5)"."""
        return f"maximum({self.n})"

    def __call__(self, values: np.ndarray, rng: np.random.Generator) -> Selection:
        """One of the ``n`` best indices of ``values`` (all of them if there are fewer)."""
        values = _check_values(values)
        flat = values.ravel()
        n = min(self.n, flat.size)
        if n == 1:
            best = np.flatnonzero(flat == flat.max())
            return _pick(values, int(best[0]), self.name)
        top = np.argpartition(-flat, n - 1)[:n]
        return _pick(values, int(top[rng.integers(n)]), self.name)


@dataclass(frozen=True)
class ProbabilisticSelection:
    """A grasp sampled with probability proportional to its value (paper III-D c).

    Negative values count as 0; if every value is 0 the choice is uniform.
    """

    name: str = field(default="probabilistic", init=False)

    def __call__(self, values: np.ndarray, rng: np.random.Generator) -> Selection:
        """A random index of ``values``, drawn with p = values / values.sum()."""
        values = _check_values(values)
        weights = np.clip(values.ravel().astype(np.float64), 0.0, None)
        total = weights.sum()
        if total <= 0.0:
            return _pick(values, int(rng.integers(values.size)), self.name)
        cumulative = np.cumsum(weights)
        flat = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        flat = min(flat, values.size - 1)
        while weights[flat] == 0.0:  # guards the float edge at the very top of the sum
            flat -= 1
        return _pick(values, flat, self.name)


@dataclass(frozen=True)
class UncertainSelection:
    """The grasp whose value is nearest 0.5 (paper III-D d); ties broken at random."""

    name: str = field(default="uncertain", init=False)

    def __call__(self, values: np.ndarray, rng: np.random.Generator) -> Selection:
        """The index of ``values`` minimising |0.5 - value|."""
        values = _check_values(values)
        distance = np.abs(values.ravel().astype(np.float64) - 0.5)
        ties = np.flatnonzero(distance == distance.min())
        return _pick(values, int(ties[rng.integers(ties.size)]), self.name)


class ApplicationRule:
    """The paper's rule in application: maximum(1); after a failed grasp, maximum(5).

    Args:
        n_first: N for an attempt after a success (or the first attempt).
        n_retry: N for the attempt right after a failure.
    """

    def __init__(self, n_first: int = 1, n_retry: int = 5) -> None:
        self._first = MaximumSelection(n_first)
        self._retry = MaximumSelection(n_retry)
        self._failed = False

    @property
    def name(self) -> str:
        """The name of the selection the next call will use."""
        return (self._retry if self._failed else self._first).name

    def __call__(self, values: np.ndarray, rng: np.random.Generator) -> Selection:
        """Maximum(n_retry) if the last grasp failed, else maximum(n_first)."""
        return (self._retry if self._failed else self._first)(values, rng)

    def observe(self, reward: float) -> None:
        """Be told the reward of the last grasp."""
        self._failed = not reward > 0

    def reset(self) -> None:
        """Forget the last reward (a new bin)."""
        self._failed = False


class MixedSelection:
    """One of several selection functions, picked per call with fixed probabilities.

    Args:
        choices: (weight, selection) pairs; weights are normalised to sum to 1.
    """

    def __init__(self, choices: list[tuple[float, SelectionFunction]]) -> None:
        if not choices or any(w < 0 for w, _ in choices) or sum(w for w, _ in choices) <= 0:
            raise ConfigError(
                f"expected (weight >= 0, selection) pairs with a positive sum, got {choices}"
            )
        total = float(sum(w for w, _ in choices))
        self.probabilities = np.array([w / total for w, _ in choices])
        self.selections = [s for _, s in choices]

    @property
    def name(self) -> str:
        """E.g. "mixed(0.7 probabilistic, 0.3 random)"."""
        pairs = zip(self.probabilities, self.selections, strict=True)
        parts = [f"{p:.2g} {s.name}" for p, s in pairs]
        return f"mixed({', '.join(parts)})"

    def __call__(self, values: np.ndarray, rng: np.random.Generator) -> Selection:
        """The selection of a randomly picked member; its method names that member."""
        k = int(rng.choice(len(self.selections), p=self.probabilities))
        return self.selections[k](values, rng)

    def observe(self, reward: float) -> None:
        """Pass the reward on to members that listen for it."""
        for s in self.selections:
            observe = getattr(s, "observe", None)
            if observe is not None:
                observe(reward)


SELECTIONS = {
    "random": RandomSelection,
    "maximum": MaximumSelection,
    "probabilistic": ProbabilisticSelection,
    "uncertain": UncertainSelection,
    "application": ApplicationRule,
}


def make_selection(name: str) -> SelectionFunction:
    """A selection function by name.

    Args:
        name: "random", "maximum", "maximum(N)", "probabilistic", "uncertain" or
            "application".

    Raises:
        ConfigError: the name is none of those.
    """
    text = name.strip().lower()
    if text.startswith("maximum(") and text.endswith(")"):
        try:
            return MaximumSelection(int(text[len("maximum(") : -1]))
        except ValueError:
            pass
    elif text in SELECTIONS:
        return SELECTIONS[text]()
    raise ConfigError(
        f"expected a selection name in {sorted(SELECTIONS)} or 'maximum(N)', got {name!r}"
    )


__all__ = [
    "SELECTIONS",
    "ApplicationRule",
    "MaximumSelection",
    "MixedSelection",
    "ProbabilisticSelection",
    "RandomSelection",
    "Selection",
    "SelectionFunction",
    "UncertainSelection",
    "make_selection",
]
