"""``grasp bench actors``: attempts per second of collection with K actor processes.

Runs the collection of a short lockstep config once per K of ``--actors`` (default 1,2),
one after the other, each in a fresh temporary run folder: ``--config`` (default
configs/learn.yaml) with ``lanes`` set (``--lanes``, default the larger of 2 and the largest
K), its random phase (``--random`` overrides its length), then ``--attempts`` model-driven
attempts; no evaluations and no wait for the last model
(:func:`agents.learning.loop.run_collection`). Other work on the machine skews the figures:
run it on a quiet one. ``--ray auto|HOST:PORT`` collects every K with Ray actors instead of
processes (K = 1 too: one Ray actor), so running it with and without ``--ray`` measures
what Ray costs.

Figures, per K:
    * attempts_per_s: committed attempts per second of the collection's wall time (starting
      the actors, the random phase and the model-driven one).
    * model_attempts_per_s: the same over the model-driven attempts alone (from the last
      random attempt's commit to the last commit).
    * ratio, model_ratio: those two over the first K's.
    * seconds: the loop's per-part seconds (report.json's ``seconds``); with K > 1 the
      actors' parts are summed over their processes, and "writer waiting for the actors" is
      the writer's idle time.
    * dataset_digest: the same for every K under lockstep (K changes the speed only).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from typing import Any

from agents.learning import load_config, resolve_run_dir
from agents.learning.callbacks import Attempt, Callback
from agents.learning.config import LearnConfig
from agents.learning.loop import run_collection
from grasp_env.errors import ConfigError
from grasp_toolkit.scripts.ray_options import add_ray_arguments, connect_if_asked


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp bench actors``."""
    p = subparsers.add_parser(
        "actors",
        help="attempts per second of collection with K actor processes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", default="configs/learn.yaml", help="the learn config to collect")
    p.add_argument("--actors", default="1,2", help="the Ks to measure, comma-separated")
    p.add_argument("--attempts", type=int, default=300, help="model-driven attempts per K")
    p.add_argument("--random", type=int, help="random attempts first (default: the config's)")
    p.add_argument("--lanes", type=int, help="learning bins (default: max(2, largest K))")
    add_ray_arguments(p, "the K actors")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def parse_actors(text: str) -> list[int]:
    """``"1,2"`` -> [1, 2]."""
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"--actors: expected comma-separated integers, got {text!r}") from exc
    if not ks:
        raise ConfigError(f"--actors: expected at least one K, got {text!r}")
    return ks


def bench_config(args: argparse.Namespace, ks: list[int]) -> LearnConfig:
    """The config every K collects (with ``actors`` still 1)."""
    config = load_config(args.config)
    if args.attempts < 1:
        raise ConfigError(f"--attempts: expected >= 1 model-driven attempts, got {args.attempts}")
    random = config.random_attempts if args.random is None else args.random
    lanes = args.lanes if args.lanes is not None else max(2, *ks)
    return dataclasses.replace(
        config, name="bench_actors", lanes=lanes, random_attempts=random,
        target_attempts=random + args.attempts,
    )  # fmt: skip


class _CommitTimes(Callback):
    """When the last random attempt and the last attempt were committed."""

    def __init__(self, random_attempts: int) -> None:
        self.random_attempts = random_attempts
        self.random_done = self.last = 0.0

    def on_attempt(self, attempt: Attempt) -> bool:
        """Note the time."""
        self.last = time.perf_counter()
        if attempt.count == self.random_attempts:
            self.random_done = self.last
        return True


def measure(config: LearnConfig, ray_address: str | None = None) -> dict[str, Any]:
    """Collect ``config`` in a temporary run folder (on Ray with ``ray_address``); its figures."""
    from agents.data import GraspDataset
    from agents.data.digest import dataset_digest
    from agents.learning.rundir import DATASET_FILE

    times = _CommitTimes(config.random_attempts)
    with tempfile.TemporaryDirectory(prefix="grasp_bench_actors_") as folder:
        run_dir = resolve_run_dir(folder, config)
        result = run_collection(config, run_dir, callbacks=[times], ray_address=ray_address)
        with GraspDataset(run_dir / DATASET_FILE) as ds:
            digest = dataset_digest(ds)
    model_attempts = config.target_attempts - config.random_attempts
    model_seconds = times.last - times.random_done
    return {
        "actors": config.actors,
        "ray": ray_address,
        "attempts": result["attempts"],
        "collection_seconds": result["collection_seconds"],
        "attempts_per_s": result["attempts"] / result["collection_seconds"],
        "model_attempts_per_s": model_attempts / model_seconds if model_seconds > 0 else None,
        "seconds": result["seconds"],
        "dataset_digest": digest,
    }


def run(args: argparse.Namespace) -> int:
    """Measure every K; print the figures."""
    ks = parse_actors(args.actors)
    config = bench_config(args, ks)
    configs = [dataclasses.replace(config, actors=k) for k in ks]  # all checked before any run
    connect_if_asked(args)
    rows = [measure(c, args.ray) for c in configs]
    first = rows[0]
    for row in rows:
        row["ratio"] = row["attempts_per_s"] / first["attempts_per_s"]
        if row["model_attempts_per_s"] and first["model_attempts_per_s"]:
            row["model_ratio"] = row["model_attempts_per_s"] / first["model_attempts_per_s"]
    out = {
        "config": str(args.config),
        "lanes": config.lanes,
        "random_attempts": config.random_attempts,
        "model_attempts": args.attempts,
        "ray": args.ray,
        "same_dataset_digest": len({row["dataset_digest"] for row in rows}) == 1,
        "runs": rows,
    }
    print(json.dumps(out, indent=2) if args.json else _table(out))
    return 0


def _table(out: dict[str, Any]) -> str:
    lines = [
        f"{out['config']}: {out['lanes']} lanes, {out['random_attempts']} random then"
        f" {out['model_attempts']} model-driven attempts{' on Ray' if out['ray'] else ''};"
        f" same dataset digest for every K: {out['same_dataset_digest']}",
        "",
        "| K | attempts/s | ratio | model-driven attempts/s | ratio | collection s |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in out["runs"]:
        lines.append(
            f"| {row['actors']} | {row['attempts_per_s']:.2f} | {row['ratio']:.2f} |"
            f" {_figure(row['model_attempts_per_s'])} | {_figure(row.get('model_ratio'))} |"
            f" {row['collection_seconds']:.1f} |"
        )
    for row in out["runs"]:
        lines += ["", f"K = {row['actors']}: seconds by part"]
        parts = sorted(row["seconds"].items(), key=lambda kv: -kv[1])
        lines += [f"  {part}: {seconds:.1f}" for part, seconds in parts]
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
