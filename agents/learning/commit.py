"""The one writer: commits the actors' attempts in attempt order and tells the callbacks.

Actors finish attempts out of order across lanes (:mod:`.actors`); the :class:`Committer`
keeps those that come early and commits strictly in attempt order, so the dataset's
committed count stays the run's clock and its resume point. It stamps each record as it
commits it, on the recording clock: under lockstep the cell's clock, the previous committed
record's timestamp plus the attempt's cycle time (so the timestamp-hash split, and with it
the training, is a function of the config, in whatever order the actors finished), under
the timed schedule the wall clock. After each commit it notes the attempt's action in the
lanes' history (:class:`~agents.learning.lanes.LaneHistory`, where a replaced actor picks
up) and runs the callbacks in order; a callback that returns False ends the commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from agents.learning.actor import Outcome, Stopwatch
from agents.learning.callbacks import Attempt, Callback
from agents.learning.config import LearnConfig
from agents.learning.lanes import LaneHistory, LaneStart, lane_of
from grasp_env.object_sets import object_set_label


class Committer:
    """Stamps, commits in attempt order, and runs the callbacks on each commit.

    Args:
        config: the run's config.
        writer: the run's :class:`~agents.data.GraspDatasetWriter`.
        timestamp: the last committed record's timestamp (0.0 on a fresh run).
        history: the lanes' committed actions so far.
        hooks: the callbacks, run in order on every commit.
        clock: where the time of appending is summed.
        on_commit: called with the committed count after each append (progress.json).
    """

    def __init__(
        self,
        config: LearnConfig,
        writer: Any,
        *,
        timestamp: float,
        history: LaneHistory,
        hooks: Sequence[Callback],
        clock: Stopwatch,
        on_commit: Callable[[int], None],
    ) -> None:
        self.config, self.writer, self.timestamp, self.history = config, writer, timestamp, history
        self.hooks, self.clock, self.on_commit = list(hooks), clock, on_commit
        self.pending: dict[int, Outcome] = {}
        self.going = True

    @property
    def count(self) -> int:
        """Committed attempts."""
        return int(self.writer.count)

    @property
    def done(self) -> bool:
        """The session is over: the target is reached, or a callback ended it."""
        return not self.going or self.count >= self.config.target_attempts

    def offer(self, outcome: Outcome) -> bool:
        """Take a finished attempt and commit all that are now in order; False once done."""
        if outcome.index >= self.count and not self.done:
            self.pending[outcome.index] = outcome
        while not self.done and self.count in self.pending:
            self._commit(self.pending.pop(self.count))
        return not self.done

    def drop(self, lanes: Iterable[int]) -> None:
        """Forget the uncommitted attempts of ``lanes`` (their actor died before them)."""
        gone = set(lanes)
        for index in [i for i in self.pending if lane_of(i, self.config.lanes) in gone]:
            del self.pending[index]

    def start(self, lane: int) -> LaneStart:
        """Where an actor picks ``lane`` up now: its first uncommitted attempt."""
        return self.history.start(lane, self.count)

    @staticmethod
    def restored(lane: int, differ: int) -> None:
        """An actor restored ``lane``; warn when replayed rewards differ from the record."""
        if differ:
            print(f"warning: {differ} replayed attempts of lane {lane}'s resumed segment differ"
                  " from the record; this run will not reproduce an uninterrupted one")  # fmt: skip

    def record(self, outcome: Outcome, timestamp: float) -> Any:
        """The dataset record of ``outcome``, stamped ``timestamp``."""
        from agents.data import GraspRecord

        config = self.config
        return GraspRecord.from_step(
            outcome.observation, outcome.action, outcome.reward, outcome.info,
            method=outcome.method, timestamp=timestamp, value=outcome.value,
            index=outcome.grid_index, object_set=object_set_label(config.object_set),
            env_id=config.env_id, seed=outcome.scene, force=config.env.force,
        )  # fmt: skip

    def _commit(self, outcome: Outcome) -> None:
        stamp = self._stamp(outcome.info)
        record = self.record(outcome, stamp)
        start = time.perf_counter()
        self.writer.append(record)
        self.clock.add("dataset append", start)
        self.timestamp = stamp
        self.history.add(outcome.index, record.action, record.reward)
        self.on_commit(self.count)
        attempt = Attempt(
            outcome.index, outcome.reward, outcome.method, outcome.model_version, outcome.info
        )
        self.going = all([hook.on_attempt(attempt) for hook in self.hooks])

    def _stamp(self, info: dict[str, Any]) -> float:
        """The next record's timestamp, strictly after the last committed one."""
        after = float(np.nextafter(self.timestamp, np.inf))
        if self.config.schedule == "lockstep":
            return max(self.timestamp + float(info["cycle_time"]), after)
        return max(time.time(), after)


def last_timestamp(dataset: Any, count: int) -> float:
    """The timestamp of the last of ``count`` committed records (0.0 for none)."""
    if not count:
        return 0.0
    return float(dataset.column("timestamp", slice(count - 1, count))[0])


__all__ = ["Committer", "last_timestamp"]
