"""Bin-clearing evaluation: a bin stands on its own, specs travel, bad worker counts are refused.

That ``--workers 2`` gives the figures of ``--workers 1`` is tested end to end in
tests/scripts/test_cli_smoke.py.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import time

import numpy as np
import pytest

from agents import evaluation, registry
from agents.evaluation import (
    AgentSpec,
    BinResult,
    EnvSpec,
    bin_rng,
    evaluate,
    evaluate_bins,
    make_eval_env,
    reset_agent,
    run_bin,
    summarise,
)
from agents.policies.random import RandomAgent
from grasp_env.config import EnvConfig
from grasp_env.errors import ConfigError

SPEC = EnvSpec(m=3)


@pytest.mark.parametrize("name", ["random", "heuristic"])
def test_a_bin_does_not_depend_on_the_bins_before_it(grid, name):
    env = make_eval_env(SPEC)
    agent = AgentSpec(name).build(grid, np.random.default_rng(0))
    in_a_row = [run_bin(env, agent, 2, 4, 5, k) for k in range(3)]
    env.close()
    fresh_env = make_eval_env(SPEC)
    other = AgentSpec(name).build(grid, np.random.default_rng(99))  # another start: reset wins
    alone = run_bin(fresh_env, other, 2, 4, 5, 2)
    fresh_env.close()
    assert alone == in_a_row[2]
    assert alone.attempts >= 2


def test_evaluate_keeps_its_figures(grid):
    env = make_eval_env(SPEC)
    agent = RandomAgent(grid, np.random.default_rng(0))
    seen = []
    result = evaluate(
        env, agent, n=1, m=3, runs=2, seed=3, max_attempts=3, progress=lambda k, r: seen.append(k)
    )
    env.close()
    assert result.runs == 2
    assert result.m == 3
    assert 2 <= result.attempts <= 6
    assert len(result.rates) == 2
    assert result.grasp_rate == pytest.approx(np.mean(result.rates))
    assert seen == [0, 1]


def test_the_figures_are_taken_in_bin_order():
    bins = [BinResult(1, 4, 1, 20.0), BinResult(0, 2, 2, 10.0)]
    result = summarise(2, 3, bins)
    assert result.rates == (1.0, 0.25)
    assert result.attempts == 6
    assert result.successes == 3
    assert result.pph == pytest.approx(3 / 30.0 * 3600.0)
    assert summarise(2, 3, bins[::-1]) == result


def test_each_bin_has_its_own_generator():
    a, b = bin_rng(0, 1).random(3), bin_rng(0, 2).random(3)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, bin_rng(0, 1).random(3))


def test_specs_are_picklable_and_hold_the_evaluation_config():
    spec = EnvSpec("SimBinGrasp-v0", EnvConfig(mode="train", swap_after_failures=3), m=4)
    assert spec.config.mode == "apply"
    assert spec.config.swap_after_failures is None
    assert EnvSpec(object_set="").object_set is None
    agent = AgentSpec("fcn", {"checkpoint": "model.onnx", "selection": "application"})
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert pickle.loads(pickle.dumps(agent)) == agent
    with pytest.raises(ConfigError, match="expected m >= 1"):
        EnvSpec(m=0)


def test_reset_takes_a_generator_or_none():
    class NoArgs:
        calls = 0

        def reset(self):
            self.calls += 1

    agent = NoArgs()
    assert reset_agent(agent, np.random.default_rng(0)) is False
    assert agent.calls == 1
    assert reset_agent(object(), np.random.default_rng(0)) is False


def test_an_agent_without_reset_is_built_for_every_bin(grid):
    built = []

    def factory(grid, rng):
        built.append(rng)
        agent = RandomAgent(grid, rng)
        agent.reset = None  # no reset(rng): the evaluation must rebuild it per bin
        return agent

    registry.register("test-no-reset", factory)
    try:
        result = evaluate_bins(
            SPEC, AgentSpec("test-no-reset"), n=1, runs=2, seed=0, max_attempts=2
        )
    finally:
        registry.unregister("test-no-reset")
    assert result.runs == 2
    assert len(built) == 3  # once to start, then once for each bin


@pytest.mark.parametrize(("workers", "message"), [(0, "got 0"), (-2, "got -2"), ("2", "'2'")])
def test_bad_worker_counts_are_refused_before_anything_runs(monkeypatch, workers, message):
    def no_env(spec):
        raise AssertionError("an environment was built")

    monkeypatch.setattr(evaluation, "make_eval_env", no_env)
    with pytest.raises(ConfigError, match=f"expected workers.*{message}"):
        evaluate_bins(SPEC, AgentSpec("random"), n=1, runs=2, seed=0, workers=workers)


def test_the_real_cell_runs_in_one_process(monkeypatch):
    monkeypatch.setattr(evaluation, "make_eval_env", lambda spec: pytest.fail("env built"))
    real = EnvSpec("RealBinGrasp-v0", m=3)
    with pytest.raises(ConfigError, match=r"expected workers=1 for RealBinGrasp-v0.*got 2"):
        evaluate_bins(real, AgentSpec("random"), n=1, runs=2, seed=0, workers=2)
    assert evaluation.default_workers(real) == 1


def test_an_agent_that_cannot_travel_is_refused_for_workers(monkeypatch):
    monkeypatch.setattr(evaluation, "make_eval_env", lambda spec: pytest.fail("env built"))
    registry.register("test-lambda", lambda grid, rng: RandomAgent(grid, rng))
    try:
        with pytest.raises(ConfigError, match="a worker process can import"):
            evaluate_bins(SPEC, AgentSpec("test-lambda"), n=1, runs=2, seed=0, workers=2)
    finally:
        registry.unregister("test-lambda")
    with pytest.raises(ConfigError, match="expected an agent name"):
        evaluate_bins(SPEC, AgentSpec("nobody"), n=1, runs=2, seed=0, workers=2)


def test_a_worker_that_cannot_build_its_env_reports_why():
    bad = EnvSpec(m=3, object_set="nonexistent")
    with pytest.raises(ConfigError, match="object_set must be one of"):
        evaluate_bins(bad, AgentSpec("random"), n=1, runs=2, seed=0, workers=2)


def test_more_picks_than_objects_are_refused_before_anything_runs():
    with pytest.raises(ConfigError, match="n <= m"):
        evaluate_bins(EnvSpec(m=2), AgentSpec("random"), n=3, runs=1, seed=0)


@pytest.mark.skipif(sys.platform != "linux", reason="the workers ask Linux to end them")
def test_the_workers_of_a_killed_evaluation_end_with_it(alive, spawned_children):
    command = [sys.executable, "-m", "grasp_toolkit.scripts.cli", "evaluate", "--agent", "random",
               "--n", "10", "--m", "20", "--runs", "40", "--workers", "2"]  # fmt: skip
    parent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(workers := spawned_children(parent.pid)) < 2:
            assert parent.poll() is None
            assert time.monotonic() < deadline, "no workers started"
            time.sleep(0.2)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)
