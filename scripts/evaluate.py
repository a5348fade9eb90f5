"""``grasp evaluate``: the n-out-of-m bin-clearing evaluation of paper Table I for any agent.

The environment runs in application mode (the higher clamping force) and never swaps the
bins during a run. Agents are looked up by name in :mod:`agents.registry` (``random``,
``heuristic``, ``fcn`` or a ``module:function`` factory of your own).

The bins run in ``--workers`` processes (default: one per core for a twin, one for the real
cell); bin k is reset with seed ``seed + k`` and its agent from (seed, k), so the figures are
the same for any number of workers (:func:`agents.evaluation.evaluate_bins`). With ``--ray
auto|HOST:PORT`` they run on Ray actors across a cluster instead (``--workers`` of them,
default the cluster's CPUs), with the same figures.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import gymnasium as gym

from agents import registry
from agents.evaluation import (
    AgentSpec,
    EnvSpec,
    EvaluationResult,
    check_workers,
    default_workers,
    evaluate_bins,
    make_eval_env,
)
from grasp_env.errors import ConfigError
from grasp_toolkit.scripts.ray_options import add_ray_arguments, connect_if_asked


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp evaluate``."""
    p = subparsers.add_parser("evaluate", help="n-out-of-m bin-clearing grasp rate of an agent")
    p.add_argument(
        "--agent",
        help=f"one of {registry.available()} (default: fcn with --model, else heuristic)",
    )
    p.add_argument(
        "--model",
        help="checkpoint or .onnx file for --agent fcn, or a shipped model: 'pretrained' (the"
        " cylinder model) or 'general' (for parts it has never seen)",
    )
    p.add_argument("--selection", help="selection function for --agent fcn")
    p.add_argument(
        "--remember-failures",
        action="store_true",
        help="--agent fcn skips grasps near a failed one of the bin while the bin there is"
        " unchanged (agents.fcn.failure_memory)",
    )
    p.add_argument(
        "--walls",
        action="store_true",
        help="--agent fcn never chooses a grasp whose open fingers would land on the bin's"
        " walls (grasp_env.clearance)",
    )
    p.add_argument("--n", type=int, default=10, help="objects to grasp per run")
    p.add_argument("--m", type=int, default=20, help="objects in the bin at the start")
    p.add_argument("--runs", type=int, default=20, help="number of runs")
    p.add_argument("--seed", type=int, default=0, help="run k is reset with seed + k")
    p.add_argument("--env", default="SimBinGrasp-v0", help="environment id")
    p.add_argument(
        "--object-set",
        help="object set of a twin environment: cylinders, cubes, train, novel, pybullet, or a"
        " YAML file listing URDF files (README: Your own objects)",
    )
    p.add_argument("--cell-config", help="cell YAML of RealBinGrasp-v0 (default: the packaged one)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes running the bins (default: the cores for a twin, 1 for a real cell);"
        " the figures do not depend on it",
    )
    add_ray_arguments(p, "the bins")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def agent_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options the agent factory receives from the command line."""
    options: dict[str, Any] = {}
    if args.model is not None:
        from agents.pretrained import resolve_model

        options["checkpoint"] = resolve_model(args.model)
    if args.selection is not None:
        options["selection"] = args.selection
    if args.remember_failures:
        options["memory"] = True
    if args.walls:
        options["walls"] = True
    return options


def agent_name(args: argparse.Namespace) -> str:
    """The agent to evaluate: ``--agent``, else fcn when a model is named, else heuristic.

    Raises:
        ConfigError: model options for the built-in heuristic or random agent (an agent
            of your own gets them as options).
    """
    name = args.agent or ("fcn" if args.model is not None else "heuristic")
    fcn_only = {"--model": args.model is not None, "--selection": args.selection is not None,
                "--remember-failures": args.remember_failures, "--walls": args.walls}  # fmt: skip
    given = [flag for flag, on in fcn_only.items() if on]
    if name in ("heuristic", "random") and given:
        raise ConfigError(f"{', '.join(given)} need --agent fcn, got --agent {name}")
    return name


def env_spec(args: argparse.Namespace) -> EnvSpec:
    """The evaluation environment the command line names."""
    return EnvSpec(
        env_id=args.env, m=args.m, object_set=args.object_set, cell_config=args.cell_config
    )


def make_env(
    env_id: str, m: int, object_set: str | None = None, cell_config: str | None = None
) -> gym.Env:
    """The environment for evaluation: application force, no bin swaps during a run.

    A twin gets ``m`` objects of ``object_set``; a real cell gets ``cell_config`` and must
    hold m objects in its grasp bin (see :func:`agents.evaluation.make_eval_env`).
    """
    return make_eval_env(
        EnvSpec(env_id=env_id, m=m, object_set=object_set, cell_config=cell_config)
    )


def format_result(agent: str, env_id: str, result: EvaluationResult) -> str:
    """The human-readable report."""
    return (
        f"{agent} on {env_id}: {result.n} out of {result.m}, {result.runs} runs,"
        f" {result.attempts} attempts\n"
        f"grasp rate {100 * result.grasp_rate:.1f} % +- {100 * result.stderr:.1f} % (stderr),"
        f" {result.pph:.0f} picks per hour (cell clock)"
    )


def bin_workers(args: argparse.Namespace, spec: EnvSpec) -> int:
    """The default workers: the cluster's CPUs under ``--ray``, else :func:`default_workers`."""
    if args.ray is not None and spec.is_twin:
        from agents.raycluster import cluster_cpus, import_ray

        return cluster_cpus(import_ray())
    return default_workers(spec)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print.

    Raises:
        ConfigError: before anything runs: ``--workers`` below 1, an unknown agent, a model
            that does not fit the environment, ...
    """
    spec = env_spec(args)
    connect_if_asked(args)
    workers = check_workers(args.workers if args.workers is not None else bin_workers(args, spec))
    name = agent_name(args)
    agent = AgentSpec(name, agent_options(args))
    done = 0

    def progress(run_index: int, rate: float) -> None:
        nonlocal done
        done += 1
        if not args.json:
            print(
                f"run {run_index + 1}/{args.runs}: grasp rate {100 * rate:.1f} %"
                f"  ({done}/{args.runs} done)",
                flush=True,
            )

    result = evaluate_bins(
        spec, agent, n=args.n, runs=args.runs, seed=args.seed, workers=workers, progress=progress,
        ray_address=args.ray,
    )  # fmt: skip
    if args.json:
        print(json.dumps({"agent": name, "env": args.env, **result.as_dict()}))
    else:
        print(format_result(name, args.env, result))
    return 0
