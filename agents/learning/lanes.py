"""The learning bins a run's attempts take turns in, and where a lane's actor picks up.

Attempt i is grasped in lane ``i % lanes``, as the lane's attempt number ``i // lanes``.
Each lane is its own bin (its own twin env) with its own scene sequence: the lane's scene is
rebuilt at its attempts whose lane number is a multiple of ``rebuild_every``, from
:func:`~agents.learning.schedule.scene_seed` of that attempt's index, and between rebuilds
the bin empties attempt by attempt as it would on the cell. So attempt i's scene depends on
the earlier attempts of its own lane alone, and lanes can be grasped by different actors at
once without changing any record. With one lane this is the single bin of earlier runs:
rebuilt at every multiple of ``rebuild_every``.

An actor that starts (a fresh run, a resumed one, a replaced actor) rebuilds each of its
lanes' current segment and replays that segment's committed actions in it
(:class:`LaneStart`); the twin's deterministic physics turns them into the very state the
bin had. The writer keeps those actions as it commits (:class:`LaneHistory`), so it can
hand a replacement actor its starts without reading the file back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def lane_of(index: int, lanes: int) -> int:
    """The lane of attempt ``index``."""
    return index % lanes


def starts_segment(index: int, lanes: int, every: int) -> bool:
    """Whether attempt ``index`` rebuilds its lane's scene."""
    return (index // lanes) % every == 0


def segment_start(index: int, lanes: int, every: int) -> int:
    """The attempt of ``index``'s lane that rebuilt the scene ``index`` is grasped in."""
    return index - ((index // lanes) % every) * lanes


def first_at_or_after(lane: int, count: int, lanes: int) -> int:
    """The first attempt of ``lane`` with an index of at least ``count``."""
    return count + (lane - count) % lanes


def lanes_of_actor(actor: int, actors: int, lanes: int) -> tuple[int, ...]:
    """The lanes actor ``actor`` of ``actors`` owns: those ``l`` with ``l % actors == actor``."""
    return tuple(range(actor, lanes, actors))


@dataclass(frozen=True)
class LaneStart:
    """Where an actor picks up a lane: the scene to rebuild and the actions to replay in it.

    Attributes:
        lane: the lane.
        first: the lane's first attempt still to run.
        scene_index: the attempt whose scene seed rebuilds the lane's current segment.
        actions: the committed actions of that segment before ``first``, in order, (n, 4).
        rewards: their recorded rewards, (n,): a replay that differs is reported.
    """

    lane: int
    first: int
    scene_index: int
    actions: np.ndarray = field(repr=False)
    rewards: np.ndarray = field(repr=False)


class LaneHistory:
    """The committed actions and rewards of every lane's current segment (the writer's side).

    Args:
        lanes: the run's lanes.
        every: the run's ``rebuild_every``.
    """

    def __init__(self, lanes: int, every: int) -> None:
        self.lanes, self.every = lanes, every
        self.segments: dict[int, list[tuple[int, np.ndarray, float]]] = {
            lane: [] for lane in range(lanes)
        }

    @classmethod
    def from_dataset(cls, dataset: Any, count: int, lanes: int, every: int) -> LaneHistory:
        """The history of the first ``count`` records of ``dataset``."""
        history = cls(lanes, every)
        # the lane of attempt ``count`` starts at or before it, so lo <= count
        lo = min(segment_start(first_at_or_after(lane, count, lanes), lanes, every)
                 for lane in range(lanes))  # fmt: skip
        actions = dataset.column("action", slice(lo, count))
        rewards = dataset.column("reward", slice(lo, count))
        for offset, (action, reward) in enumerate(zip(actions, rewards, strict=True)):
            history.add(lo + offset, action, float(reward))
        return history

    def add(self, index: int, action: np.ndarray, reward: float) -> None:
        """Note committed attempt ``index``."""
        segment = self.segments[lane_of(index, self.lanes)]
        if starts_segment(index, self.lanes, self.every):
            segment.clear()
        segment.append((index, np.asarray(action, np.float32), float(reward)))

    def start(self, lane: int, count: int) -> LaneStart:
        """Where ``lane`` picks up when ``count`` attempts are committed."""
        first = first_at_or_after(lane, count, self.lanes)
        base = segment_start(first, self.lanes, self.every)
        done = [(a, r) for i, a, r in self.segments[lane] if base <= i < first]
        actions = np.array([a for a, _ in done], np.float32).reshape(-1, 4)
        rewards = np.array([r for _, r in done], np.float64)
        return LaneStart(lane, first, base, actions, rewards)


__all__ = [
    "LaneHistory",
    "LaneStart",
    "first_at_or_after",
    "lane_of",
    "lanes_of_actor",
    "segment_start",
    "starts_segment",
]
