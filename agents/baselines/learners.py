"""Learning agents by name, for the benchmark: train on a budget, get back a trained agent.

A *learner* is a callable ``learner(*, attempts, seed, object_set, out_dir) -> Learned``: it
learns in the twin from nothing for exactly ``attempts`` grasp attempts, writes what it
trained into ``out_dir``, and returns the trained agent as an
:class:`agents.evaluation.AgentSpec` (buildable in any process, e.g. by
:func:`agents.evaluation.evaluate_bins`) with the attempts and the wall time it took. The
benchmark calls :func:`learn` once per (learner, budget, seed).

Built in:

* ``sb3_ppo_grid``: PPO on the FCN's grasp grid (:mod:`agents.baselines.sb3`);
* ``sb3_ppo_box``: PPO on the normalised metric action.

Register another with :func:`register`. Stable-Baselines3 is imported only when an SB3
learner runs, so this module imports without the ``baselines`` extra.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from agents.evaluation import AgentSpec
from agents.names import Registry
from grasp_env.errors import ConfigError


@dataclass(frozen=True)
class Learned:
    """A trained agent and what its training took.

    Attributes:
        agent: the trained agent, by factory and options.
        attempts: the grasp attempts it was trained on.
        seconds: wall time of the training.
    """

    agent: AgentSpec
    attempts: int
    seconds: float


Learner = Callable[..., Learned]

_LEARNERS: Registry[Learner] = Registry("learner")
register = _LEARNERS.register
available = _LEARNERS.available


def learn(name: str, *, attempts: int, seed: int, object_set: str, out_dir: Path) -> Learned:
    """Train the learner ``name`` on ``attempts`` attempts of ``object_set`` in the twin.

    Raises:
        ConfigError: an unknown ``name``, ``attempts`` < 1 or a negative ``seed``.
    """
    learner = _LEARNERS.get(name)
    if attempts < 1 or seed < 0:
        raise ConfigError(f"expected attempts >= 1 and seed >= 0, got {attempts} and {seed}")
    return learner(attempts=attempts, seed=seed, object_set=object_set, out_dir=Path(out_dir))


def _learn_sb3(algo: str, *, attempts: int, seed: int, object_set: str, out_dir: Path) -> Learned:
    """Train ``algo`` with :func:`agents.baselines.sb3.train_sb3`; its agent spec."""
    from agents.baselines.sb3 import SB3_AGENT, TrainEnvSpec, train_sb3

    start = time.perf_counter()
    path = train_sb3(
        algo,
        attempts=attempts,
        seed=seed,
        out_dir=out_dir,
        env_spec=TrainEnvSpec(object_set=object_set),
    )
    seconds = time.perf_counter() - start
    return Learned(AgentSpec(SB3_AGENT, {"model": str(path), "algo": algo}), attempts, seconds)


register("sb3_ppo_grid", partial(_learn_sb3, "ppo_grid"))
register("sb3_ppo_box", partial(_learn_sb3, "ppo_box"))

__all__ = ["Learned", "Learner", "available", "learn", "register"]
