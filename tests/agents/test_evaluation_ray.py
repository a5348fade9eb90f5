"""The bins of an evaluation over Ray actors: the figures of one process, the real cell refused.

A local Ray of two CPUs (``local_ray``, tests/conftest.py); without Ray the tests skip.
"""

from __future__ import annotations

import pytest

from agents.evaluation import AgentSpec, EnvSpec, evaluate_bins, run_bins
from grasp_env.errors import ConfigError

SPEC = EnvSpec(m=4)


@pytest.mark.parametrize("name", ["random", "heuristic"])
def test_bins_on_two_ray_actors_give_the_figures_of_one_process(local_ray, name):
    here = evaluate_bins(SPEC, AgentSpec(name), n=2, runs=4, seed=7, workers=1)
    on_ray = evaluate_bins(SPEC, AgentSpec(name), n=2, runs=4, seed=7, workers=2,
                           ray_address="auto")  # fmt: skip
    assert on_ray == here


def test_each_bin_on_ray_reaches_on_bin_once(local_ray):
    seen = []
    bins = run_bins(SPEC, AgentSpec("random"), n=1, indices=[3, 0, 5], seed=0, workers=2,
                    on_bin=seen.append, ray_address="auto")  # fmt: skip
    assert sorted(b.index for b in seen) == [0, 3, 5]
    assert sorted(bins, key=lambda b: b.index) == sorted(seen, key=lambda b: b.index)


def test_a_worker_on_ray_that_cannot_build_its_env_reports_why(local_ray):
    bad = EnvSpec(m=4, object_set="nonexistent")
    with pytest.raises(ConfigError, match="object_set must be one of"):
        evaluate_bins(bad, AgentSpec("random"), n=1, runs=2, seed=0, workers=2, ray_address="auto")


def test_the_real_cell_is_not_sent_to_ray():
    real = EnvSpec(env_id="RealBinGrasp-v0", m=4)
    with pytest.raises(ConfigError, match=r"one real cell, no Ray\), got 1 workers and ray_add"):
        evaluate_bins(real, AgentSpec("random"), n=1, runs=1, seed=0, ray_address="auto")
