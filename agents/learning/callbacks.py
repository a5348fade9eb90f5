"""Hooks into the learning loop, as Stable-Baselines3 has them: add a metric or a stop rule.

A callback subclasses :class:`Callback` and overrides what it needs; pass instances to
:func:`agents.learning.loop.run_learning` (``callbacks=[...]``). The loop calls
:meth:`~Callback.on_start` once per session, :meth:`~Callback.on_attempt` after every
committed attempt (returning False ends the session after that attempt, as a kill would,
so the same command resumes it), and :meth:`~Callback.on_end` when the session ends. The
loop's own progress line, TensorBoard charts and ``progress.json`` are callbacks too.

Callbacks see what happened; they cannot change what the actor does, so a lockstep run
gives the same records whatever callbacks watch it.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.learning.config import LearnConfig
from agents.training.logger import SELECTION_KINDS


@dataclass(frozen=True)
class Session:
    """The session a callback watches.

    Attributes:
        config: the run's config.
        run_dir: the run directory.
        start_count: committed attempts when the session started.
    """

    config: LearnConfig
    run_dir: Path
    start_count: int


@dataclass(frozen=True)
class Attempt:
    """One committed attempt.

    Attributes:
        index: the attempt's index in the dataset (0-based).
        reward: 1 for a grasped object, else 0.
        method: the selection method that chose it, e.g. "random", "maximum(5)".
        model_version: the model version it acted on (0: none).
        info: the environment's ``info`` of the step.
    """

    index: int
    reward: float
    method: str
    model_version: int
    info: dict[str, Any]

    @property
    def count(self) -> int:
        """Committed attempts after this one."""
        return self.index + 1


def selection_kind(method: str) -> str:
    """The family of a selection method: "maximum(5)" -> "maximum"."""
    return "maximum" if method.startswith("maximum") else method


class Callback:
    """A hook into the learning loop; every method does nothing unless overridden."""

    def on_start(self, session: Session) -> None:
        """The session starts (after a resume too)."""

    def on_attempt(self, attempt: Attempt) -> bool:
        """An attempt was committed; return False to end the session after it."""
        return True

    def on_end(self, finished: bool) -> None:
        """The session ends; ``finished`` when the run reached its target."""


class RecentAttempts(Callback):
    """The last 100 attempts' rewards and methods (seeded from the dataset on a resume)."""

    def __init__(self, history: list[tuple[float, str]] | None = None) -> None:
        self.window: deque[tuple[float, str]] = deque(history or [], maxlen=100)
        self.version = 0

    def on_attempt(self, attempt: Attempt) -> bool:
        """Remember the attempt."""
        self.window.append((attempt.reward, attempt.method))
        self.version = attempt.model_version
        return True

    def rate(self) -> float:
        """The grasp rate over the window."""
        return float(np.mean([r for r, _ in self.window])) if self.window else 0.0

    def shares(self) -> dict[str, float]:
        """Each selection family's share of the window."""
        kinds = Counter(selection_kind(m) for _, m in self.window)
        return {k: kinds[k] / max(1, len(self.window)) for k in SELECTION_KINDS}

    def summary(self) -> str:
        """The progress line's postfix: rate, mix and model version."""
        kinds = Counter(selection_kind(m) for _, m in self.window)
        mix = " ".join(f"{k[:4]} {kinds[k]}" for k in SELECTION_KINDS if kinds[k])
        return f"rate100 {100 * self.rate():.0f}% | {mix} | model v{self.version}"


class ProgressBar(Callback):
    """The live progress line (tqdm)."""

    def __init__(self, recent: RecentAttempts) -> None:
        self.recent = recent
        self.bar: Any = None

    def on_start(self, session: Session) -> None:
        """Open the bar at the committed count."""
        from tqdm import tqdm

        total, initial = session.config.target_attempts, session.start_count
        self.bar = tqdm(total=total, initial=initial, unit="grasp", dynamic_ncols=True)

    def on_attempt(self, attempt: Attempt) -> bool:
        """Advance the bar."""
        self.bar.update(1)
        self.bar.set_postfix_str(self.recent.summary(), refresh=False)
        return True

    def on_end(self, finished: bool) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()


class ActorCharts(Callback):
    """The actor's TensorBoard charts every ``log_every`` attempts and at the target."""

    def __init__(self, recent: RecentAttempts, logger: Any) -> None:
        self.recent, self.logger = recent, logger
        self.every = self.target = 0

    def on_start(self, session: Session) -> None:
        """Note the interval and the target."""
        self.every, self.target = session.config.log_every, session.config.target_attempts

    def on_attempt(self, attempt: Attempt) -> bool:
        """Chart when due."""
        if attempt.count % self.every == 0 or attempt.count == self.target:
            self.logger.actor(
                attempt.count, self.recent.rate(), attempt.model_version, self.recent.shares()
            )
        return True


class StopAfter(Callback):
    """End the session after this many attempts (a test's stand-in for a kill)."""

    def __init__(self, attempts: int) -> None:
        self.left = attempts

    def on_attempt(self, attempt: Attempt) -> bool:
        """Count down."""
        self.left -= 1
        return self.left > 0


__all__ = [
    "ActorCharts",
    "Attempt",
    "Callback",
    "ProgressBar",
    "RecentAttempts",
    "Session",
    "StopAfter",
    "selection_kind",
]
