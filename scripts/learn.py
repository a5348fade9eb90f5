"""``grasp learn --config configs/learn.yaml``: the self-supervised learning loop.

The actor grasps in the twin (mode "train"), records every attempt in the run's dataset and
acts on the newest model, which a trainer process retrains in parallel; learning-curve
evaluations run at the configured attempt counts; the run ends with a final evaluation and
``report.json`` / ``report.md``. The run directory is ``--runs``/<config name>: rerunning the
same command resumes it (after a crash or SIGKILL too), ``--fresh`` starts ``<name>_1``,
``<name>_2``, ... beside it. ``--actors K`` collects with K actor processes (the config's
``lanes`` learning bins shared among them); K changes the speed, never the records. At the
end it prints the dataset and model digests: two runs of one config and seed under the
lockstep schedule print the same two, for any K. ``--ray auto`` makes the K actors Ray
actors (one CPU each) on this machine's Ray cluster or a new local one, ``--ray HOST:PORT``
on the cluster whose head is there (reached within ``--ray-timeout`` seconds, or an error);
the trainer becomes a Ray actor as well, on a GPU when the cluster has one
(:mod:`agents.learning.ray_trainer`); the dataset writer stays in this process, and with a
CPU trainer the records are the same.
``grasp learn --curve RUN`` evaluates the learning-curve points a run has no figures for yet
(from the checkpoints kept for them) and rewrites its report. ``grasp learn --plot RUN
[RUN ...]`` draws the runs' curves in one ``learning_curve.png`` (in the first RUN, or
``--out``) and prints each as a markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from grasp_env.errors import GraspError
from grasp_toolkit.scripts.ray_options import add_ray_arguments, connect_if_asked

if TYPE_CHECKING:
    from agents.learning.config import LearnConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp learn``."""
    p = subparsers.add_parser(
        "learn",
        help="self-supervised learning loop: collect, retrain, evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", help="the learn YAML file, e.g. configs/learn.yaml")
    p.add_argument("--runs", default="runs", help="folder of run directories (default runs)")
    p.add_argument("--env", help="environment id, overriding the config's env_id")
    p.add_argument("--cell-config", help="cell YAML of RealBinGrasp-v0 (default: packaged)")
    p.add_argument(
        "--seed", type=int, help="override the config's seed; the run is named <name>_seed<N>"
    )
    p.add_argument(
        "--actors",
        type=int,
        help="actor processes collecting at once (1 <= K <= the config's lanes), overriding"
        " the config's actors; a run resumes under any K and records the same attempts",
    )
    add_ray_arguments(p, "the K actors")
    p.add_argument("--fresh", action="store_true", help="start a new run beside an old one")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument(
        "--plot", metavar="RUN", nargs="+", help="draw the runs' learning curves, print tables"
    )
    p.add_argument("--out", help="the PNG to write with --plot (default RUN/learning_curve.png)")
    p.add_argument("--curve", metavar="RUN", help="fill in the learning-curve points of a run")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Learn, or plot a run's curve; exit status."""
    try:
        if args.plot:
            return _plot([Path(p) for p in args.plot], args.out)
        if args.curve:
            return _curve(Path(args.curve))
        if not args.config:
            print("grasp learn: expected --config FILE (or --plot RUN)", file=sys.stderr)
            return 2
        return _learn(args)
    except GraspError as exc:
        print(f"grasp learn: {exc}", file=sys.stderr)
        return 1


def config_from_args(args: argparse.Namespace) -> LearnConfig:
    """The config file's LearnConfig with the command line's overrides."""
    from agents.learning import load_config

    config = load_config(args.config)
    if args.env is not None:
        config = dataclasses.replace(config, env_id=args.env)
    if args.cell_config is not None:
        config = dataclasses.replace(config, cell_config=args.cell_config)
    if args.seed is not None:
        config = dataclasses.replace(config, seed=args.seed, name=f"{config.name}_seed{args.seed}")
    if args.actors is not None:
        config = dataclasses.replace(config, actors=args.actors)
    return config


def _learn(args: argparse.Namespace) -> int:
    from agents.learning import resolve_run_dir, run_learning
    from agents.learning.prior import check_datasets

    config = config_from_args(args)
    check_datasets(config)
    connect_if_asked(args)
    run_dir = resolve_run_dir(args.runs, config, fresh=args.fresh)
    print(f"run directory: {run_dir}", flush=True)
    report = run_learning(config, run_dir, progress=not args.quiet, ray_address=args.ray)
    _print_result(report, run_dir)
    return 0


def _print_result(report: dict, run_dir: Path) -> None:
    from agents.learning.versions import pinned_versions, version_differences

    final = report.get("final_evaluation") or {}
    if final:
        print(
            f"final: {100 * final['grasp_rate']:.1f} % +- {100 * final['stderr']:.1f} %"
            f" over {final['runs']} runs of {final['n']} out of {final['m']};"
            f" report {run_dir / 'report.md'}",
            flush=True,
        )
    if report.get("finished"):
        print(f"schedule: {report['schedule']}")
        print(f"dataset digest: {report['dataset_digest']}")
        print(f"model digest:   {report['model_digest']}", flush=True)
        differ = version_differences(report.get("libraries", {}), pinned_versions())
        if differ:
            print(
                "these libraries differ from configs/constraints.txt, so the digests may"
                f" differ from the published ones: {'; '.join(differ)}",
                flush=True,
            )


def _curve(run_dir: Path) -> int:
    """Evaluate the missing curve points of a finished run and rewrite its report."""
    import yaml

    from agents.learning.config import config_from_mapping
    from agents.learning.curve import evaluate_curve
    from agents.learning.report import write_report
    from agents.learning.rundir import CONFIG_FILE, read_progress

    stored = run_dir / CONFIG_FILE
    if not stored.exists():
        print(f"grasp learn: expected a run directory with {CONFIG_FILE}, got {run_dir}",
              file=sys.stderr)  # fmt: skip
        return 1
    config = config_from_mapping(yaml.safe_load(stored.read_text()))
    evaluate_curve(run_dir, config)
    progress = read_progress(run_dir)
    report = write_report(run_dir, config, wall_seconds=float(progress.get("wall_seconds", 0.0)),
                          seconds=progress.get("seconds", {}),
                          sessions=progress.get("sessions", []))  # fmt: skip
    _print_result(report, run_dir)
    return 0


def _plot(run_dirs: list[Path], out: str | None) -> int:
    from agents.learning.curve import curve_table, plot_curve, read_curve
    from agents.learning.rundir import CURVE_FILE

    curves = {}
    for run_dir in run_dirs:
        points = read_curve(run_dir / CURVE_FILE)
        if not points:
            missing = run_dir / CURVE_FILE
            print(f"grasp learn: no learning-curve points in {missing}", file=sys.stderr)
            return 1
        curves[run_dir.name if run_dir.name not in curves else str(run_dir)] = points
    target = Path(out) if out else run_dirs[0] / "learning_curve.png"
    title = run_dirs[0].name if len(run_dirs) == 1 else ""
    path = plot_curve(curves, target, title)
    for name, points in curves.items():
        print(f"{name}\n\n{curve_table(points)}\n" if len(curves) > 1 else curve_table(points))
    print(json.dumps({"png": str(path)}))
    return 0
