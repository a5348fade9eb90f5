"""Bin-clearing evaluation (paper Table I): grasp n objects without replacement from m.

A run fills the grasp bin with m objects (a seeded reset), then lets the agent grasp until n
objects are out or the attempt budget is spent. The run's grasp rate is successes over
attempts. Over K runs we report the mean rate, its standard error, and picks per hour from
the cell's clock (simulated cycle times in the twin, wall time on the real cell).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np

from agents.base import Agent
from grasp_env.config import EnvConfig


def evaluation_config(base: EnvConfig | None = None) -> EnvConfig:
    """``base`` as evaluations run it: application force, and no bin swaps during a run."""
    return dataclasses.replace(
        base if base is not None else EnvConfig(), mode="apply", swap_after_failures=None
    )


@dataclass(frozen=True)
class EvaluationResult:
    """The figures of an n-out-of-m evaluation.

    Attributes:
        n: objects to grasp per run.
        m: objects in the bin at the start of a run.
        runs: number of runs.
        attempts: grasp attempts over all runs.
        successes: successful grasps over all runs.
        grasp_rate: mean over runs of successes / attempts.
        stderr: standard error of that mean over runs (0 for a single run).
        pph: picks per hour, successes over the summed cycle time of all attempts.
        rates: the grasp rate of each run.
    """

    n: int
    m: int
    runs: int
    attempts: int
    successes: int
    grasp_rate: float
    stderr: float
    pph: float
    rates: tuple[float, ...]

    def as_dict(self) -> dict:
        """Plain data for JSON."""
        out = asdict(self)
        out["rates"] = list(self.rates)
        return out


def evaluate(
    env: gym.Env,
    agent: Agent,
    n: int,
    m: int,
    runs: int,
    seed: int,
    max_attempts: int | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> EvaluationResult:
    """Run ``runs`` bin-clearing runs of ``n`` picks on ``env``, whose bin holds m objects.

    Args:
        env: an environment with the metric action contract, built with m objects.
        agent: the agent under test.
        n: objects to grasp per run.
        m: objects the environment puts in the bin (recorded with the result).
        runs: number of runs; run k is reset with seed ``seed + k``.
        seed: the first run's seed.
        max_attempts: attempt budget per run (default 3 n + 5); a run that spends it counts
            its failures.
        progress: called after each run with (run index, that run's grasp rate).
    """
    if n < 1 or runs < 1:
        raise ValueError(f"n and runs must be >= 1, got n={n}, runs={runs}")
    budget = max_attempts if max_attempts is not None else 3 * n + 5
    rates, attempts, successes, seconds = [], 0, 0, 0.0
    for run in range(runs):
        obs, _ = env.reset(seed=seed + run)
        run_attempts = run_successes = 0
        while run_successes < n and run_attempts < budget:
            obs, reward, _, _, info = env.step(agent.act(obs))
            agent.observe(reward)
            run_attempts += 1
            run_successes += int(reward > 0)
            seconds += info["cycle_time"]
        rates.append(run_successes / run_attempts)
        attempts += run_attempts
        successes += run_successes
        if progress is not None:
            progress(run, rates[-1])
    stderr = float(np.std(rates, ddof=1) / math.sqrt(runs)) if runs > 1 else 0.0
    return EvaluationResult(
        n=n,
        m=m,
        runs=runs,
        attempts=attempts,
        successes=successes,
        grasp_rate=float(np.mean(rates)),
        stderr=stderr,
        pph=successes / seconds * 3600.0 if seconds > 0 else 0.0,
        rates=tuple(rates),
    )
