"""Agents by name, so that users can benchmark their own: ``grasp evaluate --agent NAME``.

A factory is any callable ``factory(grid, rng, **options) -> agent`` where ``grid`` is the
:class:`~grasp_env.grasp_grid.GraspGrid` of the environment, ``rng`` a numpy ``Generator`` for
every random choice, and ``options`` keyword strings or values from the caller (for example a
checkpoint path). The agent needs ``act(observation) -> action`` and ``observe(reward)``
(:class:`agents.base.Agent`).

Register your own, once, before evaluating::

    from agents import registry

    def make_my_agent(grid, rng, **options):
        return MyAgent(grid, rng, **options)

    registry.register("mine", make_my_agent)
    agent = registry.make("mine", grid, rng)

Or, without registering, name the factory by its import path, ``"package.module:function"``;
:func:`make` imports it. Built in:

* ``random``: :class:`agents.policies.random.RandomAgent`;
* ``fcn``: :class:`agents.policies.fcn.FCNAgent` from ``checkpoint=PATH`` (a torch
  checkpoint, or an ONNX file from ``grasp export --onnx``, which runs without torch; or
  ``onnx=PATH``), with ``selection=NAME`` (default "application"; see
  :func:`agents.fcn.selection.make_selection`), ``device``, ``precision``, ``backend``
  ("auto", "torch" or "onnx"), ``num_threads`` and ``memory`` (true: a
  :class:`agents.fcn.failure_memory.FailureMemory` of the bin's failed grasps) options;
* ``heuristic``: :class:`agents.policies.heuristic.HeuristicAgent`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from agents.base import Agent
from agents.names import Registry
from grasp_env.errors import ConfigError
from grasp_env.grasp_grid import GraspGrid

AgentFactory = Callable[..., Agent]

_AGENTS: Registry[AgentFactory] = Registry("agent", imports=True)
register = _AGENTS.register
unregister = _AGENTS.unregister
available = _AGENTS.available
get = _AGENTS.get


def make(name: str, grid: GraspGrid, rng: np.random.Generator, **options: Any) -> Agent:
    """Build the agent ``name`` for ``grid`` with generator ``rng`` and ``options``.

    Raises:
        ConfigError: unknown name, or the agent lacks ``act`` or ``observe``.
    """
    return make_with(get(name), name, grid, rng, **options)


def make_with(
    factory: AgentFactory, name: str, grid: GraspGrid, rng: np.random.Generator, **options: Any
) -> Agent:
    """Build an agent with ``factory`` (the one :func:`get` gave for ``name``), checked.

    For callers that resolved the factory once, e.g. in another process.

    Raises:
        ConfigError: the agent lacks ``act`` or ``observe``.
    """
    agent = factory(grid, rng, **options)
    missing = [m for m in ("act", "observe") if not callable(getattr(agent, m, None))]
    if missing:
        raise ConfigError(
            f"agent {name!r} must have act(observation) and observe(reward), missing {missing}"
        )
    return agent


def _random(grid: GraspGrid, rng: np.random.Generator) -> Agent:
    from agents.policies.random import RandomAgent

    return RandomAgent(grid, rng)


def _fcn(
    grid: GraspGrid,
    rng: np.random.Generator,
    checkpoint: str | None = None,
    selection: str = "application",
    device: str = "cpu",
    precision: str = "float32",
    backend: str = "auto",
    num_threads: int | None = None,
    onnx: str | None = None,
    memory: bool = False,
    walls: bool | Mapping[str, Any] = False,
) -> Agent:
    from agents.fcn.failure_memory import FailureMemory
    from agents.fcn.scoring import InferenceConfig
    from agents.policies.fcn import FCNAgent

    if checkpoint is not None and onnx is not None:
        raise ConfigError(
            f"agent 'fcn' takes one model, expected checkpoint=PATH or onnx=PATH, got both"
            f" ({checkpoint!r} and {onnx!r})"
        )
    path = onnx if onnx is not None else checkpoint
    if path is None:
        raise ConfigError("agent 'fcn' needs checkpoint=PATH of a trained model, got none")
    if onnx is not None and not str(onnx).lower().endswith(".onnx"):
        raise ConfigError(f"expected onnx=PATH of a .onnx file, got {onnx!r}")
    threads = int(num_threads) if num_threads is not None else None
    inference = InferenceConfig(
        device=device, precision=precision, backend=backend, num_threads=threads
    )
    agent = FCNAgent.from_checkpoint(path, grid, rng, selection, inference)
    if memory is True:
        agent.memory = FailureMemory(grid)
    elif memory is not False:
        raise ConfigError(f"agent 'fcn': expected memory true or false, got {memory!r}")
    agent.walls = _walls(grid, walls)
    return agent


def _walls(grid: GraspGrid, walls: bool | Mapping[str, Any]) -> np.ndarray | None:
    """The fcn agent's ``walls`` option as its mask (None for False).

    True: the twin's bin; a mapping: the fields of a :class:`grasp_env.clearance.WallClearance`.
    """
    from grasp_env.clearance import WallClearance, inside_walls
    from grasp_env.config import from_dict

    if walls is False:
        return None
    if walls is True:
        return inside_walls(grid, WallClearance())
    if not isinstance(walls, Mapping):
        raise ConfigError(
            f"agent 'fcn': expected walls true, false or a mapping of WallClearance fields,"
            f" got {walls!r}"
        )
    return inside_walls(grid, from_dict(WallClearance, dict(walls), "agent 'fcn' walls"))


def _heuristic(grid: GraspGrid, rng: np.random.Generator, **options: Any) -> Agent:
    from agents.policies.heuristic import HeuristicAgent

    return HeuristicAgent(grid.image, rng, **options)


register("random", _random)
register("fcn", _fcn)
register("heuristic", _heuristic)

__all__ = ["AgentFactory", "available", "get", "make", "make_with", "register", "unregister"]
