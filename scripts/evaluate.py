"""``grasp evaluate``: the n-out-of-m bin-clearing evaluation of paper Table I for any agent.

The environment runs in application mode (the higher clamping force) and never swaps the
bins during a run. Agents are looked up by name in :mod:`agents.registry` (``random``,
``heuristic``, ``fcn`` or a ``module:function`` factory of your own).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import gymnasium as gym
import numpy as np

from agents import registry
from agents.evaluation import EvaluationResult, evaluate, evaluation_config
from grasp_env import factory


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp evaluate``."""
    p = subparsers.add_parser("evaluate", help="n-out-of-m bin-clearing grasp rate of an agent")
    p.add_argument("--agent", default="heuristic", help=f"one of {registry.available()}")
    p.add_argument("--model", help="checkpoint path for --agent fcn, or 'pretrained'")
    p.add_argument("--selection", help="selection function for --agent fcn")
    p.add_argument("--n", type=int, default=10, help="objects to grasp per run")
    p.add_argument("--m", type=int, default=20, help="objects in the bin at the start")
    p.add_argument("--runs", type=int, default=20, help="number of runs")
    p.add_argument("--seed", type=int, default=0, help="run k is reset with seed + k")
    p.add_argument("--env", default="SimBinGrasp-v0", help="environment id")
    p.add_argument("--object-set", help="object set of a twin environment")
    p.add_argument("--cell-config", help="cell YAML of RealBinGrasp-v0 (default: the packaged one)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def agent_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options the agent factory receives from the command line."""
    options: dict[str, Any] = {}
    if args.model is not None:
        options["checkpoint"] = resolve_model(args.model)
    if args.selection is not None:
        options["selection"] = args.selection
    return options


def resolve_model(model: str) -> str:
    """A checkpoint path; ``pretrained`` names the model shipped with the package."""
    if model == "pretrained":
        from agents.pretrained import pretrained_path

        return str(pretrained_path())
    return model


def make_env(
    env_id: str, m: int, object_set: str | None = None, cell_config: str | None = None
) -> gym.Env:
    """The environment for evaluation: application force, no bin swaps during a run.

    A twin gets ``m`` objects of ``object_set``; a real cell gets ``cell_config`` and must
    hold m objects in its grasp bin.
    """
    return factory.make_env(env_id, evaluation_config(), m, object_set, cell_config)


def format_result(agent: str, env_id: str, result: EvaluationResult) -> str:
    """The human-readable report."""
    return (
        f"{agent} on {env_id}: {result.n} out of {result.m}, {result.runs} runs,"
        f" {result.attempts} attempts\n"
        f"grasp rate {100 * result.grasp_rate:.1f} % +- {100 * result.stderr:.1f} % (stderr),"
        f" {result.pph:.0f} picks per hour (cell clock)"
    )


def run(args: argparse.Namespace) -> int:
    """Evaluate and print."""
    env = make_env(args.env, args.m, args.object_set, args.cell_config)
    grid = env.unwrapped.config.grid
    agent = registry.make(args.agent, grid, np.random.default_rng(args.seed), **agent_options(args))

    def progress(run_index: int, rate: float) -> None:
        if not args.json:
            print(f"run {run_index + 1}/{args.runs}: grasp rate {100 * rate:.1f} %", flush=True)

    result = evaluate(env, agent, args.n, args.m, args.runs, args.seed, progress=progress)
    env.close()
    if args.json:
        print(json.dumps({"agent": args.agent, "env": args.env, **result.as_dict()}))
    else:
        print(format_result(args.agent, args.env, result))
    return 0
