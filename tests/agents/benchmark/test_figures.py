"""A cell's figures and the paired difference of two agents' cells."""

from __future__ import annotations

import pytest

from agents.benchmark.figures import cell_figures, paired_difference, same_scenes
from agents.evaluation import BinResult


def test_cleared_is_the_share_of_the_n_objects_picked():
    bins = [BinResult(0, 3, 2, 30.0), BinResult(1, 5, 1, 50.0)]
    assert cell_figures(bins, n=2, m=4).cleared == pytest.approx((1.0 + 0.5) / 2)


def test_the_decision_time_is_the_median_over_all_grasps_in_ms():
    bins = [BinResult(0, 2, 1, 9.0, (0.001, 0.003)), BinResult(1, 1, 1, 9.0, (0.010,))]
    assert cell_figures(bins, n=1, m=1).decision_ms == pytest.approx(3.0)


def test_the_paired_difference_uses_only_the_shared_bins():
    agent = [BinResult(0, 1, 1, 9.0), BinResult(1, 2, 1, 9.0), BinResult(2, 1, 1, 9.0)]
    reference = [BinResult(0, 2, 1, 9.0), BinResult(1, 2, 1, 9.0)]
    diff = paired_difference(agent, reference)
    assert diff.bins == 2
    assert diff.mean == pytest.approx((0.5 + 0.0) / 2)
    assert diff.stderr == pytest.approx(0.25)


def test_same_scenes_compares_each_bin_across_cells():
    a = [BinResult(0, 1, 1, 9.0, scene="s0"), BinResult(1, 1, 1, 9.0, scene="s1")]
    b = [BinResult(0, 2, 1, 9.0, scene="s0"), BinResult(1, 1, 1, 9.0, scene="s1")]
    c = [BinResult(0, 2, 1, 9.0, scene="other")]
    assert same_scenes([a, b]) is True
    assert same_scenes([a, c]) is False
    assert same_scenes([a]) is None
