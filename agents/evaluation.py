"""Bin-clearing evaluation (paper Table I): grasp n objects without replacement from m.

A run (a *bin*) fills the grasp bin with m objects (a seeded reset), then lets the agent grasp
until n objects are out or the attempt budget is spent. The run's grasp rate is successes over
attempts. Over K runs we report the mean rate, its standard error, and picks per hour from
the cell's clock (simulated cycle times in the twin, wall time on the real cell).

Bin k's outcome is a function of the agent, the environment and ``seed + k`` alone, never of
the bins run before it in the same process: the environment is reset with seed ``seed + k``
and the agent is reset with :func:`bin_rng` ``(seed, k)`` through its optional
``reset(rng)`` (:class:`agents.base.Agent`): a fresh generator, and every per-bin state
(e.g. the application rule's "after a failure") forgotten. So bins can run in any order and
in any process, and :func:`evaluate_bins` fans them out over worker processes with results
identical to one process.

* :func:`evaluate`: in this process, on an environment and agent you built.
* :func:`evaluate_bins`: from picklable specs (:class:`EnvSpec`, :class:`AgentSpec`), over
  ``workers`` spawned processes, or Ray actors across a cluster (``ray_address``,
  :mod:`agents.evaluation_ray`); each builds its environment and agent once and runs many
  bins, with one torch thread.
* :func:`make_eval_env`: the one builder of the evaluation environment from an
  :class:`EnvSpec` (application force, no bin swaps).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import inspect
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import Agent
from grasp_env import ENV_IDS
from grasp_env.config import EnvConfig
from grasp_env.errors import ConfigError

#: Mixed into every bin's generator seed, so that it differs from other streams of ``seed``.
BIN_STREAM = 0x45564131  # "EVA1"


def evaluation_config(base: EnvConfig | None = None) -> EnvConfig:
    """``base`` as evaluations run it: application force, and no bin swaps during a run."""
    return dataclasses.replace(
        base if base is not None else EnvConfig(), mode="apply", swap_after_failures=None
    )


@dataclass(frozen=True)
class EnvSpec:
    """Everything needed to build the evaluation environment, in any process (picklable).

    Attributes:
        env_id: a registered id, e.g. "SimBinGrasp-v0" or "RealBinGrasp-v0".
        config: the environment's config; stored as :func:`evaluation_config` of what is
            given (application force, no bin swaps), so it is what the evaluation runs.
        m: objects a twin drops into its grasp bin on each seeded reset.
        object_set: the twin's object set (None or "": the env id's own).
        cell_config: the real cell's YAML (path or packaged name); None for its default.
    """

    env_id: str = "SimBinGrasp-v0"
    config: EnvConfig = field(default_factory=EnvConfig)
    m: int = 20
    object_set: str | None = None
    cell_config: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", evaluation_config(self.config))
        object.__setattr__(self, "object_set", self.object_set or None)
        if self.m < 1:
            raise ConfigError(f"expected m >= 1 objects in the bin, got {self.m}")

    @property
    def is_twin(self) -> bool:
        """Whether the environment is a simulated twin (many may run at once)."""
        return self.env_id in ENV_IDS


def make_eval_env(spec: EnvSpec) -> gym.Env:
    """The evaluation environment of ``spec``: m objects, application force, no bin swaps.

    A twin gets ``spec.m`` objects of ``spec.object_set``; a real cell gets
    ``spec.cell_config`` and must hold m objects in its grasp bin.
    """
    from grasp_env import factory

    return factory.make_env(spec.env_id, spec.config, spec.m, spec.object_set, spec.cell_config)


@dataclass(frozen=True)
class AgentSpec:
    """An agent by name and options, built in any process (picklable).

    Attributes:
        name: a name in :mod:`agents.registry` or an import path ``"module:function"``.
        options: keyword options of the factory, e.g. ``{"checkpoint": "model.onnx",
            "selection": "application"}``.
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", dict(self.options))

    def factory(self) -> Callable[..., Agent]:
        """The factory of :attr:`name` (refuses an unknown name; see :func:`registry.get`)."""
        from agents import registry

        return registry.get(self.name)

    def build(self, grid: Any, rng: np.random.Generator) -> Agent:
        """The agent for ``grid`` with generator ``rng``."""
        from agents import registry

        return registry.make(self.name, grid, rng, **self.options)


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


@dataclass(frozen=True)
class BinResult:
    """What one bin gave.

    Attributes:
        index: the bin's number k (its reset seed is ``seed + k``).
        attempts: grasp attempts in the bin.
        successes: successful grasps in the bin.
        seconds: the summed cycle time of its attempts (the cell's clock).
        decisions: the wall time of each of the agent's ``act`` calls, in seconds: a
            measurement of this machine, so results compare equal without it.
        wall: the bin's wall time in seconds, resets included (also a measurement).
        scene: a digest of the bin's first observation, the same for every agent that meets
            the bin ("" when not recorded).
    """

    index: int
    attempts: int
    successes: int
    seconds: float
    decisions: tuple[float, ...] = field(default=(), compare=False)
    wall: float = field(default=0.0, compare=False)
    scene: str = ""

    @property
    def rate(self) -> float:
        """Successes over attempts."""
        return self.successes / self.attempts


def bin_rng(seed: int, index: int) -> np.random.Generator:
    """The agent's generator for bin ``index`` of an evaluation with ``seed``."""
    return np.random.default_rng([int(seed), int(index), BIN_STREAM])


def reset_agent(agent: Agent, rng: np.random.Generator) -> bool:
    """Reset ``agent`` for a new bin with ``rng``; False if it has no ``reset``.

    An agent's ``reset(rng)`` takes the generator of the bin's random choices and forgets
    every per-bin state. A ``reset()`` without arguments is called without the generator
    (then the agent's choices may still depend on earlier bins).
    """
    reset = getattr(agent, "reset", None)
    if not callable(reset):
        return False
    try:
        inspect.signature(reset).bind(rng)
    except TypeError:
        reset()
        return False
    except ValueError:  # no signature (a builtin): try the documented call
        pass
    reset(rng)
    return True


def run_bin(env: gym.Env, agent: Agent, n: int, budget: int, seed: int, index: int) -> BinResult:
    """Bin ``index``: reset env (seed ``seed + index``) and agent, grasp until n or budget."""
    began = time.perf_counter()
    reset_agent(agent, bin_rng(seed, index))
    obs, _ = env.reset(seed=seed + index)
    scene = observation_digest(obs)
    attempts = successes = 0
    seconds = 0.0
    decisions = []
    while successes < n and attempts < budget:
        start = time.perf_counter()
        action = agent.act(obs)
        decisions.append(time.perf_counter() - start)
        obs, reward, _, _, info = env.step(action)
        agent.observe(reward)
        attempts += 1
        successes += int(reward > 0)
        seconds += info["cycle_time"]
    wall = time.perf_counter() - began
    return BinResult(index, attempts, successes, seconds, tuple(decisions), wall, scene)


def observation_digest(observation: Mapping[str, np.ndarray]) -> str:
    """A short SHA-256 of an observation's arrays, key by key: equal scenes, equal digests."""
    h = hashlib.sha256()
    for key in sorted(observation):
        h.update(key.encode())
        h.update(np.ascontiguousarray(observation[key]).tobytes())
    return h.hexdigest()[:16]


def summarise(n: int, m: int, bins: list[BinResult]) -> EvaluationResult:
    """The figures of ``bins``, taken in bin order (so any execution order gives the same)."""
    bins = sorted(bins, key=lambda b: b.index)
    rates = [b.rate for b in bins]
    runs = len(bins)
    seconds = 0.0
    for b in bins:
        seconds += b.seconds
    successes = sum(b.successes for b in bins)
    stderr = float(np.std(rates, ddof=1) / math.sqrt(runs)) if runs > 1 else 0.0
    return EvaluationResult(
        n=n,
        m=m,
        runs=runs,
        attempts=sum(b.attempts for b in bins),
        successes=successes,
        grasp_rate=float(np.mean(rates)),
        stderr=stderr,
        pph=successes / seconds * 3600.0 if seconds > 0 else 0.0,
        rates=tuple(rates),
    )


def _check_runs(n: int, runs: int, seed: int, max_attempts: int | None) -> int:
    """:func:`_check_protocol` for ``runs`` bins, which must be at least 1."""
    if runs < 1:
        raise ConfigError(f"expected runs >= 1, got {runs}")
    return _check_protocol(n, seed, max_attempts)


def _check_protocol(n: int, seed: int, max_attempts: int | None) -> int:
    """The attempt budget per bin; refuses n below 1 and a negative seed."""
    if n < 1:
        raise ConfigError(f"expected n >= 1, got n={n}")
    if seed < 0:
        raise ConfigError(f"expected a seed >= 0, got {seed}")
    if max_attempts is not None and max_attempts < 1:
        raise ConfigError(f"expected max_attempts >= 1 or None, got {max_attempts}")
    return max_attempts if max_attempts is not None else 3 * n + 5


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

    Bin k resets the environment with seed ``seed + k`` and the agent, if it has
    ``reset(rng)``, with :func:`bin_rng` ``(seed, k)``; then bin k's outcome does not depend
    on the bins before it (an agent without ``reset`` carries its state over).

    Args:
        env: an environment with the metric action contract, built with m objects.
        agent: the agent under test.
        n: objects to grasp per run.
        m: objects the environment puts in the bin (recorded with the result).
        runs: number of runs; run k is reset with seed ``seed + k``.
        seed: the first run's seed (>= 0).
        max_attempts: attempt budget per run (default 3 n + 5); a run that spends it counts
            its failures.
        progress: called after each run with (run index, that run's grasp rate).

    Raises:
        ConfigError: n, runs or max_attempts below 1, or a negative seed.
    """
    budget = _check_runs(n, runs, seed, max_attempts)
    bins = []
    for k in range(runs):
        bins.append(run_bin(env, agent, n, budget, seed, k))
        if progress is not None:
            progress(k, bins[-1].rate)
    return summarise(n, m, bins)


# --- many processes ------------------------------------------------------------------------


def check_workers(workers: Any) -> int:
    """``workers`` as a count >= 1.

    Raises:
        ConfigError: not an integer, or below 1; naming what was expected and what came.
    """
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer):
        raise ConfigError(f"expected workers as an integer >= 1, got {workers!r}")
    if workers < 1:
        raise ConfigError(f"expected workers >= 1, got {workers}")
    return int(workers)


def default_workers(env_spec: EnvSpec) -> int:
    """The cores for a twin; 1 for a real cell (one robot)."""
    return (os.cpu_count() or 1) if env_spec.is_twin else 1


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """One torch and one scorer thread while inside (restored after), as in each worker."""
    from agents.fcn import scoring

    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    previous = scoring.set_default_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        scoring.set_default_threads(previous)
        if torch is not None and threads is not None:
            torch.set_num_threads(threads)


class _BinRunner:
    """An environment and an agent built once, running bins.

    An agent without ``reset`` is built anew for every bin (from the bin's generator), so
    that each bin stands on its own.
    """

    def __init__(
        self,
        env_spec: EnvSpec,
        agent_spec: AgentSpec,
        factory: Callable[..., Agent],
        n: int,
        budget: int,
        seed: int,
    ) -> None:
        from agents import registry

        self.grid = env_spec.config.grid
        self.n, self.budget, self.seed = n, budget, seed
        self._make = lambda rng: registry.make_with(
            factory, agent_spec.name, self.grid, rng, **agent_spec.options
        )
        # the agent first: a model that does not fit the grid is refused before the env starts
        self.agent = self._make(np.random.default_rng(seed))
        self._rebuild = not callable(getattr(self.agent, "reset", None))
        self.env = make_eval_env(env_spec)

    def run(self, index: int) -> BinResult:
        if self._rebuild:
            self.agent = self._make(bin_rng(self.seed, index))
        return run_bin(self.env, self.agent, self.n, self.budget, self.seed, index)

    def close(self) -> None:
        self.env.close()


_WORKER: _BinRunner | None = None
_WORKER_ERROR: BaseException | None = None


def _init_pool_worker(parent_pid: int, *args: Any) -> None:
    """A pool worker: dies with the evaluation that spawned it, then builds its env and agent.

    So a killed evaluation leaves no worker using the cores. Ray's actors, whose parent is
    Ray's, build theirs with :func:`_init_worker` alone.
    """
    from agents.child_process import die_with_parent

    die_with_parent(parent_pid)
    _init_worker(*args)


def _init_worker(*args: Any) -> None:
    """Build the worker's env and agent, with one thread (torch is not imported for it)."""
    global _WORKER, _WORKER_ERROR
    os.environ["OMP_NUM_THREADS"] = "1"
    # The parent prints progress and results; what simulators print at start-up (PyBullet's
    # banner) would only interleave with them, so a worker's stdout goes nowhere.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    from agents.fcn import scoring

    scoring.set_default_threads(1)
    try:
        _WORKER = _BinRunner(*args)
    except Exception as exc:  # raised again by each bin, so the parent sees the real error
        _WORKER_ERROR = exc
        return
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _worker_bin(index: int) -> BinResult:
    if _WORKER_ERROR is not None:
        raise _WORKER_ERROR
    if _WORKER is None:
        raise RuntimeError("the evaluation worker was not initialised")
    return _WORKER.run(index)


def evaluate_bins(
    env_spec: EnvSpec,
    agent_spec: AgentSpec,
    *,
    n: int,
    runs: int,
    seed: int,
    max_attempts: int | None = None,
    workers: int = 1,
    progress: Callable[[int, float], None] | None = None,
    ray_address: str | None = None,
) -> EvaluationResult:
    """Bins 0 .. runs - 1 of ``agent_spec`` on ``env_spec``, over ``workers`` processes.

    Bin k is reset with seed ``seed + k`` and its agent with :func:`bin_rng` ``(seed, k)``,
    so the result is identical for every ``workers`` (see :func:`run_bins`).

    Args:
        env_spec: the evaluation environment.
        agent_spec: the agent (a registry name or ``module:function``, and options); the
            factory must be importable in a fresh process when ``workers > 1``.
        n: objects to grasp per bin.
        runs: number of bins.
        seed: the first bin's seed (>= 0).
        max_attempts: attempt budget per bin (default 3 n + 5).
        workers: processes (>= 1); a real cell takes 1.
        progress: called in this process after each bin, in the order bins finish, with
            (bin index, that bin's grasp rate).
        ray_address: run the bins on ``workers`` Ray actors of this cluster (see
            :func:`run_bins`).

    Raises:
        ConfigError: as :func:`run_bins`, and for runs below 1.
    """
    _check_runs(n, runs, seed, max_attempts)

    def report(result: BinResult) -> None:
        if progress is not None:
            progress(result.index, result.rate)

    bins = run_bins(
        env_spec, agent_spec, n=n, indices=range(runs), seed=seed,
        max_attempts=max_attempts, workers=workers, on_bin=report, ray_address=ray_address,
    )  # fmt: skip
    return summarise(n, env_spec.m, bins)


def run_bins(
    env_spec: EnvSpec,
    agent_spec: AgentSpec,
    *,
    n: int,
    indices: Sequence[int],
    seed: int,
    max_attempts: int | None = None,
    workers: int = 1,
    on_bin: Callable[[BinResult], None] | None = None,
    ray_address: str | None = None,
) -> list[BinResult]:
    """The bins ``indices`` of an evaluation with ``seed``, over ``workers`` processes.

    Bin k is a function of the specs, ``seed`` and k alone, so any subset of bins, in any
    order and any process, gives the bins a full run gives (a benchmark's cache runs only
    the bins it lacks). With ``workers=1`` the bins run in this process; otherwise in
    ``min(workers, len(indices))`` spawned processes, each building the environment and the
    agent once and running its share of bins with one torch thread (the in-process run uses
    one thread too, for the same float results).

    Args:
        env_spec: the evaluation environment.
        agent_spec: the agent, as for :func:`evaluate_bins`.
        n: objects to grasp per bin.
        indices: the bins to run (k >= 0; bin k is reset with seed ``seed + k``).
        seed: the evaluation's seed (>= 0).
        max_attempts: attempt budget per bin (default 3 n + 5).
        workers: processes (>= 1); a real cell takes 1.
        on_bin: called in this process with each bin's result as soon as it is done, in the
            order bins finish (e.g. to store it, so that a killed run loses only the bins in
            flight).
        ray_address: run the bins on ``min(workers, len(indices))`` Ray actors of the cluster
            at this address (``"auto"`` or ``host:port``, :func:`agents.raycluster.connect`)
            instead of processes here; the bins are the same.

    Raises:
        ConfigError: before anything runs: workers or n below 1, a negative seed or bin
            index, an unknown agent, more than one worker on a real cell, or an agent factory
            that cannot be sent to another process.
    """
    indices = [int(k) for k in indices]
    budget = _check_protocol(n, seed, max_attempts)
    if n > env_spec.m:
        raise ConfigError(
            f"expected n <= m: at most the {env_spec.m} objects in the bin, got n={n}"
        )
    workers = check_workers(workers)
    if any(k < 0 for k in indices):
        raise ConfigError(f"expected bin indices >= 0, got {min(indices)}")
    if (workers > 1 or ray_address is not None) and not env_spec.is_twin:
        raise ConfigError(
            f"expected workers=1 for {env_spec.env_id} (one real cell, no Ray), got"
            f" {workers} workers and ray_address={ray_address!r}"
        )
    factory = agent_spec.factory()
    if not indices:
        return []
    args = (env_spec, agent_spec, factory, n, budget, seed)
    workers = min(workers, len(indices))
    if workers == 1 and ray_address is None:
        return _bins_here(args, indices, on_bin)
    _check_sendable(args, agent_spec, env_spec, factory, seed)
    if ray_address is not None:
        from agents.evaluation_ray import bins_on_ray

        return bins_on_ray(args, indices, workers, on_bin, ray_address)
    return _bins_in_workers(args, indices, workers, on_bin)


def _bins_here(args: tuple, indices: list[int], on_bin: Callable | None) -> list[BinResult]:
    """The bins in this process, on one thread."""
    with _one_thread():
        runner = _BinRunner(*args)
        try:
            bins = []
            for k in indices:
                bins.append(runner.run(k))
                if on_bin is not None:
                    on_bin(bins[-1])
        finally:
            runner.close()
    return bins


def _check_sendable(
    args: tuple, agent_spec: AgentSpec, env_spec: EnvSpec, factory: Any, seed: int
) -> None:
    """Refuse, before any process starts, what a worker could not receive or build."""
    import pickle

    try:
        pickle.dumps(args)
    except Exception as exc:
        raise ConfigError(
            f"expected an agent factory and options that a worker process can import, got"
            f" {agent_spec.name!r} ({exc}); name it as 'module:function' or use workers=1"
        ) from exc
    # Build the agent once here, so that a bad option or model file is refused before any
    # process starts (a worker's own error would only surface as a broken pool).
    from agents import registry

    registry.make_with(
        factory,
        agent_spec.name,
        env_spec.config.grid,
        np.random.default_rng(seed),
        **agent_spec.options,
    )


def _bins_in_workers(
    args: tuple, indices: list[int], workers: int, on_bin: Callable | None
) -> list[BinResult]:
    """The bins over ``workers`` spawned processes, in the order they finish."""
    context = multiprocessing.get_context("spawn")
    bins = []
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_pool_worker,
        initargs=(os.getpid(), *args),
    ) as pool:
        futures = [pool.submit(_worker_bin, k) for k in indices]
        try:
            for future in concurrent.futures.as_completed(futures):
                result = future.result()
                bins.append(result)
                if on_bin is not None:
                    on_bin(result)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return bins


__all__ = [
    "AgentSpec",
    "BinResult",
    "EnvSpec",
    "EvaluationResult",
    "bin_rng",
    "check_workers",
    "default_workers",
    "evaluate",
    "evaluate_bins",
    "evaluation_config",
    "make_eval_env",
    "observation_digest",
    "reset_agent",
    "run_bin",
    "run_bins",
    "summarise",
]
