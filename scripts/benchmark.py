"""``grasp benchmark``: every agent of a config on every protocol, one report.

``grasp benchmark [--config configs/benchmark.yaml] [--quick] [--workers N] [--json]``
writes ``<--out>/<name>/report.md``, ``report.json`` and ``report.png``. Every agent meets the
same bins of a protocol (bin k resets with the protocol's seed + k), so the report's
differences are paired. Results are cached per (agent, protocol, bin) under the benchmark's
folder (:mod:`agents.benchmark.cells`): adding an agent runs only that agent, and a killed
benchmark, run again, resumes with the bins it lacks. ``--quick`` runs the small suite of
``configs/benchmark_quick.yaml`` (a smoke test, minutes). ``--ray auto|HOST:PORT`` runs the
bins on Ray actors across a cluster (``--workers`` of them, default its CPUs), with the same
figures.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from grasp_env.errors import ConfigError
from grasp_toolkit.scripts.ray_options import add_ray_arguments, connect_if_asked

DEFAULT_CONFIG = "configs/benchmark.yaml"
QUICK_CONFIG = "configs/benchmark_quick.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp benchmark``."""
    p = subparsers.add_parser("benchmark", help="agents by protocols, one cached report")
    p.add_argument("--config", default=None, help=f"benchmark YAML (default {DEFAULT_CONFIG})")
    p.add_argument("--quick", action="store_true", help=f"the small suite ({QUICK_CONFIG})")
    p.add_argument("--out", default="benchmarks", help="folder of benchmark folders")
    p.add_argument(
        "--workers", type=int, default=None, help="processes running the bins (default: cores)"
    )
    add_ray_arguments(p, "the bins")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fill the benchmark's cells, write its report and figure, print the report."""
    from agents.benchmark import load_benchmark, run_benchmark, write_report
    from agents.benchmark.plot import FIGURE, plot_report
    from agents.evaluation import check_workers
    from grasp_env.factory import find_config

    source = args.config or (QUICK_CONFIG if args.quick else DEFAULT_CONFIG)
    path = find_config(source)
    if path is None:
        raise ConfigError(f"expected a benchmark config file, got missing {source!r}")
    config = load_benchmark(path)
    root = Path(args.out) / config.name
    root.mkdir(parents=True, exist_ok=True)
    connect_if_asked(args)
    workers = check_workers(args.workers) if args.workers is not None else _cores(args)
    quiet = args.json

    def progress(line: str) -> None:
        if not quiet:
            print(f"\r{line:<78}", end="", file=sys.stderr, flush=True)

    start = time.perf_counter()
    run_benchmark(config, root, workers=workers, progress=progress, ray_address=args.ray)
    # the figures do not depend on --workers or --out, so the command that gives them omits both
    command = shlex.join(["grasp", "benchmark", "--config", source])
    report = write_report(config, root, command, time.perf_counter() - start)
    plot_report(report, root / FIGURE)
    if not quiet:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report))
    else:
        print((root / "report.md").read_text())
        print(f"report: {root / 'report.md'}, {root / FIGURE}")
    return 0


def _cores(args: argparse.Namespace) -> int:
    """The cluster's CPUs under ``--ray``, else this machine's."""
    import os

    if args.ray is not None:
        from agents.raycluster import cluster_cpus, import_ray

        return cluster_cpus(import_ray())
    return os.cpu_count() or 1
