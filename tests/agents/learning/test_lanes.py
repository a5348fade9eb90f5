"""Lanes: which attempts share a scene, and where an actor picks a lane up."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from agents.learning.acting import lane_attempts
from agents.learning.lanes import (
    LaneHistory,
    first_at_or_after,
    lane_of,
    lanes_of_actor,
    segment_start,
    starts_segment,
)

indices = st.integers(0, 5000)
lane_counts = st.integers(1, 8)
everies = st.integers(1, 60)


@given(index=indices, every=everies)
def test_with_one_lane_the_scene_is_rebuilt_every_rebuild_every_attempts(index, every):
    assert starts_segment(index, 1, every) == (index % every == 0)
    assert segment_start(index, 1, every) == index - index % every


@given(index=indices, lanes=lane_counts, every=everies)
def test_an_attempt_is_grasped_in_the_scene_its_lane_last_rebuilt(index, lanes, every):
    base = segment_start(index, lanes, every)
    assert lane_of(base, lanes) == lane_of(index, lanes)
    assert base <= index
    assert starts_segment(base, lanes, every)
    between = range(base + lanes, index + 1, lanes)
    assert not any(starts_segment(i, lanes, every) for i in between)


@given(lane=st.integers(0, 7), count=indices, lanes=lane_counts)
def test_a_lane_picks_up_at_its_first_attempt_not_yet_committed(lane, count, lanes):
    lane %= lanes
    first = first_at_or_after(lane, count, lanes)
    assert lane_of(first, lanes) == lane
    assert count <= first < count + lanes


@given(lanes=lane_counts, data=st.data())
def test_the_actors_share_the_lanes_out_whole(lanes, data):
    actors = data.draw(st.integers(1, lanes))
    owned = [lanes_of_actor(k, actors, lanes) for k in range(actors)]
    assert sorted(lane for own in owned for lane in own) == list(range(lanes))
    assert all(own for own in owned)


def _dataset(actions: np.ndarray, rewards: np.ndarray):
    class Columns:
        def column(self, name, where):
            return {"action": actions, "reward": rewards}[name][where]

    return Columns()


@given(count=st.integers(0, 120), lanes=st.integers(1, 4), every=st.integers(1, 12))
def test_a_lane_start_replays_the_committed_attempts_of_the_lanes_segment(count, lanes, every):
    actions = np.arange(4 * 120, dtype=np.float32).reshape(120, 4)
    rewards = (np.arange(120) % 3 == 0).astype(np.float64)
    history = LaneHistory.from_dataset(_dataset(actions, rewards), count, lanes, every)
    for lane in range(lanes):
        start = history.start(lane, count)
        replay = list(range(start.scene_index, start.first, lanes))
        assert start.scene_index == segment_start(start.first, lanes, every)
        np.testing.assert_array_equal(start.actions, actions[replay].reshape(-1, 4))
        np.testing.assert_array_equal(start.rewards, rewards[replay])


@given(count=st.integers(0, 80), lanes=st.integers(1, 4), every=st.integers(1, 12))
def test_commits_keep_the_history_a_resumed_run_would_read(count, lanes, every):
    actions = np.arange(4 * 100, dtype=np.float32).reshape(100, 4)
    rewards = np.ones(100)
    kept = LaneHistory(lanes, every)
    for index in range(count):
        kept.add(index, actions[index], rewards[index])
    read = LaneHistory.from_dataset(_dataset(actions, rewards), count, lanes, every)
    for lane in range(lanes):
        a, b = kept.start(lane, count), read.start(lane, count)
        assert (a.first, a.scene_index) == (b.first, b.scene_index)
        np.testing.assert_array_equal(a.actions, b.actions)


@given(count=st.integers(0, 60), lanes=st.integers(1, 5), data=st.data())
def test_an_actor_runs_its_lanes_attempts_in_increasing_order(count, lanes, data):
    actors = data.draw(st.integers(1, lanes))
    k = data.draw(st.integers(0, actors - 1))
    history = LaneHistory(lanes, 10)
    starts = [history.start(lane, count) for lane in lanes_of_actor(k, actors, lanes)]
    order = list(lane_attempts(starts, lanes, 80))
    expected = [i for i in range(count, 80) if lane_of(i, lanes) % actors == k]
    assert order == expected
