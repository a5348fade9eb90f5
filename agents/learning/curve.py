"""The learning curve: evaluations of the models kept for the configured attempt counts.

Each point is the paper's bin-clearing protocol (Table I: n out of m, env in mode "apply",
bins never swapping) with the application rule (maximum(1), maximum(5) after a failure), run
by :func:`agents.evaluation.evaluate_bins` over worker processes, on the same bins (seeds
``evaluation.seed + k``) for every point, so points differ by their models alone. Points
are appended to ``curve.jsonl`` one JSON line each, flushed and fsynced; a line cut short by
a crash is ignored when reading, so a resumed run redoes only the points it has no line for.
:func:`plot_curve` draws the PNG (matplotlib, the ``plot`` extra) and :func:`curve_table`
the markdown table.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.evaluation import (
    AgentSpec,
    EnvSpec,
    EvaluationResult,
    default_workers,
    evaluate_bins,
)
from agents.learning.config import LearnConfig
from agents.learning.rundir import CHECKPOINTS, CURVE_FILE, TB_DIR, read_curve_models
from grasp_env.config import to_dict


def eval_env_spec(config: LearnConfig) -> EnvSpec:
    """The curve's evaluation environment: m objects, application force, no bin swaps."""
    return EnvSpec(
        env_id=config.env_id,
        config=config.env,
        m=config.evaluation.m,
        object_set=config.object_set or None,
        cell_config=config.cell_config,
    )


def eval_agent_spec(config: LearnConfig, checkpoint: Path | None) -> AgentSpec:
    """The agent the curve and the final evaluation run.

    The model at ``checkpoint`` with the application rule and the run's wall mask; random
    grasps without a model.
    """
    if checkpoint is None:
        return AgentSpec("random")
    options: dict[str, Any] = {"checkpoint": str(checkpoint), "selection": "application"}
    if config.walls is not None:
        options["walls"] = to_dict(config.walls)
    return AgentSpec("fcn", options)


def evaluate_model(config: LearnConfig, checkpoint: Path | None, runs: int) -> EvaluationResult:
    """Bin clearing with the model at ``checkpoint`` and the application rule.

    Random grasps without a model; over ``evaluation.workers`` processes (default: the
    cores).
    """
    ev = config.evaluation
    env_spec = eval_env_spec(config)
    agent = eval_agent_spec(config, checkpoint)
    workers = ev.workers if ev.workers is not None else default_workers(env_spec)
    return evaluate_bins(env_spec, agent, n=ev.n, runs=runs, seed=ev.seed,
                         max_attempts=ev.max_attempts, workers=workers)  # fmt: skip


def curve_counts(config: LearnConfig) -> tuple[int, ...]:
    """The attempt counts the curve evaluates: ``evaluation.at`` up to the target, and it."""
    target = config.target_attempts
    return tuple(sorted({c for c in config.evaluation.at if c <= target} | {target}))


def evaluate_curve(run_dir: Path, config: LearnConfig) -> list[dict[str, Any]]:
    """Evaluate every curve count that has a kept model and no point yet; all points.

    Each count's model is the one kept for it (``checkpoints/curve_<count>.pt``); the target's
    point is the final evaluation, with ``final_runs`` runs. Points go to ``curve.jsonl`` as
    they are done, so a killed evaluation redoes only the missing ones.
    """
    from torch.utils.tensorboard import SummaryWriter

    from agents.training.logger import TrainingLogger

    path = run_dir / CURVE_FILE
    done = {int(p["attempts"]) for p in read_curve(path)}
    models = read_curve_models(run_dir)
    todo = [c for c in curve_counts(config) if c not in done and c in models]
    if not todo:
        return read_curve(path)
    ev = config.evaluation
    logger = TrainingLogger(SummaryWriter(str(run_dir / TB_DIR), filename_suffix=".eval"))
    try:
        for count in todo:
            ref = models[count]
            checkpoint = run_dir / CHECKPOINTS / ref.path if ref.version else None
            runs = max(ev.final_runs, ev.runs) if count == config.target_attempts else ev.runs
            start = time.monotonic()
            result = evaluate_model(config, checkpoint, runs)
            append_point(path, {
                **result.as_dict(), "eval_attempts": result.attempts,
                "attempts": count,  # the dataset size: the learning curve's x
                "model_version": ref.version, "trained_on": ref.attempts,
                "seconds": time.monotonic() - start,
            })  # fmt: skip
            logger.evaluation(count, result.grasp_rate, result.stderr, result.pph)
    finally:
        logger.close()
    return read_curve(path)


def read_curve(path: Path) -> list[dict[str, Any]]:
    """The points in ``curve.jsonl`` (a cut-off last line is skipped), by attempts."""
    points = []
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        try:
            points.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return sorted(points, key=lambda p: p["attempts"])


def append_point(path: Path, point: dict[str, Any]) -> None:
    """Append one point as a JSON line; fsynced before returning."""
    with open(path, "a") as f:
        if f.tell() > 0:
            f.write("\n")  # a crash's partial line stays alone on its line
        f.write(json.dumps(point))
        f.flush()
        os.fsync(f.fileno())


def attempts_to_reach(points: list[dict[str, Any]], rate: float) -> int | None:
    """The first curve point's attempt count whose grasp rate is >= ``rate``, or None."""
    for p in points:
        if p["grasp_rate"] >= rate:
            return int(p["attempts"])
    return None


def curve_table(points: list[dict[str, Any]]) -> str:
    """The learning curve as a markdown table."""
    rows = [
        "| attempts | model version | grasp rate | stderr | runs | PPH |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        rows.append(
            f"| {p['attempts']} | {p['model_version']} | {100 * p['grasp_rate']:.1f} % |"
            f" {100 * p['stderr']:.1f} % | {p['runs']} | {p['pph']:.0f} |"
        )
    return "\n".join(rows)


def plot_curve(curves: dict[str, list[dict[str, Any]]], out: Path, title: str = "") -> Path:
    """Draw grasp rate (with stderr) against attempts, one line per labelled run, to ``out``.

    Raises:
        DependencyNotInstalled: matplotlib is missing (install the ``plot`` extra).
    """
    from agents.plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    protocols = set()
    for label, points in curves.items():
        x = np.array([p["attempts"] for p in points])
        y = np.array([100 * p["grasp_rate"] for p in points])
        e = np.array([100 * p["stderr"] for p in points])
        ax.errorbar(x, y, yerr=e, marker="o", capsize=3, label=label)
        protocols |= {(p["n"], p["m"]) for p in points}
    protocol = ", ".join(f"{n} out of {m}" for n, m in sorted(protocols))
    ax.set_xlabel("grasp attempts in the dataset")
    ax.set_ylabel(f"grasp rate, {protocol} [%]" if protocol else "grasp rate [%]")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend(loc="best", fontsize="small")
    ax.set_title(title or "self-supervised learning curve")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


__all__ = [
    "append_point",
    "attempts_to_reach",
    "curve_counts",
    "curve_table",
    "eval_agent_spec",
    "eval_env_spec",
    "evaluate_curve",
    "evaluate_model",
    "plot_curve",
    "read_curve",
]
