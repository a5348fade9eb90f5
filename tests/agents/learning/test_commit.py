"""The one writer commits attempts in attempt order, however the actors' results arrive."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.learning.actor import Outcome, Stopwatch
from agents.learning.callbacks import Attempt, Callback
from agents.learning.commit import Committer
from agents.learning.config import LearnConfig
from agents.learning.lanes import LaneHistory

CONFIG = LearnConfig(target_attempts=12, lanes=3, rebuild_every=2)


class _Writer:
    """Stands in for the dataset writer: keeps the records it is given."""

    def __init__(self) -> None:
        self.records: list = []

    @property
    def count(self) -> int:
        return len(self.records)

    def append(self, record) -> int:
        self.records.append(record)
        return self.count


class _Seen(Callback):
    def __init__(self, stop_at: int | None = None) -> None:
        self.indices: list[int] = []
        self.stop_at = stop_at

    def on_attempt(self, attempt: Attempt) -> bool:
        self.indices.append(attempt.index)
        return attempt.count != self.stop_at


def _outcome(index: int) -> Outcome:
    observation = {"height": np.zeros((4, 4), np.float32), "valid": np.ones((4, 4), np.uint8)}
    return Outcome(
        index=index, observation=observation, action=np.full(4, index / 100, np.float32),
        reward=float(index % 2), info={"cycle_time": 1.0 + index / 10}, method="random",
        value=math.nan, grid_index=np.zeros(4, np.int16), model_version=0, scene=7,
    )  # fmt: skip


def _committer(writer: _Writer, hook: Callback, config: LearnConfig = CONFIG) -> Committer:
    history = LaneHistory(config.lanes, config.rebuild_every)
    return Committer(config, writer, timestamp=0.0, history=history, hooks=[hook],
                     clock=Stopwatch(), on_commit=lambda count: None)  # fmt: skip


@settings(max_examples=30)
@given(order=st.permutations(range(12)))
def test_attempts_are_committed_in_index_order_whatever_order_they_come_in(order):
    writer, seen = _Writer(), _Seen()
    committer = _committer(writer, seen)
    for index in order:
        committer.offer(_outcome(index))
    assert seen.indices == list(range(12))
    assert [r.action[0] for r in writer.records] == pytest.approx([i / 100 for i in range(12)])


def test_lockstep_timestamps_sum_the_cycle_times_in_attempt_order():
    writer = _Writer()
    committer = _committer(writer, _Seen())
    for index in (2, 0, 1):
        committer.offer(_outcome(index))
    stamps = [r.timestamp for r in writer.records]
    assert stamps == [1.0, 1.0 + 1.1, 1.0 + 1.1 + 1.2]


def test_a_dropped_lanes_attempts_wait_for_their_replacement():
    writer = _Writer()
    committer = _committer(writer, _Seen())
    committer.offer(_outcome(1))  # lane 1, early
    committer.offer(_outcome(2))  # lane 2, early
    committer.drop([1])
    committer.offer(_outcome(0))
    assert writer.count == 1
    assert committer.start(1).first == 1
    committer.offer(_outcome(1))
    assert writer.count == 3


def test_a_callback_that_ends_the_session_stops_the_commits_behind_it():
    writer = _Writer()
    committer = _committer(writer, _Seen(stop_at=3))
    for index in (4, 5, 1, 2, 3):
        assert committer.offer(_outcome(index))
    assert not committer.offer(_outcome(0))
    assert writer.count == 3
    assert committer.done


def test_nothing_is_committed_past_the_target():
    writer = _Writer()
    committer = _committer(writer, _Seen(), replace(CONFIG, target_attempts=2))
    for index in (1, 2, 0):
        committer.offer(_outcome(index))
    assert writer.count == 2


def test_an_attempt_offered_twice_is_committed_once():
    writer = _Writer()
    committer = _committer(writer, _Seen())
    for index in (0, 0, 1, 1):
        committer.offer(_outcome(index))
    assert writer.count == 2
