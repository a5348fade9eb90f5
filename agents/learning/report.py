"""The report of a finished run: ``report.json`` and ``report.md``.

Besides the figures (the curve, the final evaluation, attempts to reach 90, 95 and 97 %, the
selection mix, wall time and where it went) it carries the run's identity: the schedule, the
``dataset_digest`` (:mod:`agents.data.digest`) and the ``model_digest`` of the final weights
(:func:`agents.fcn.checkpoint.model_digest`). Two runs of one lockstep config and seed show
the same two digests, given the same versions of the libraries that compute them, which the
report lists as ``libraries`` (:mod:`agents.learning.versions`); that is how a user sees at
once whether a run reproduced another, and if not, whether the libraries are why.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.learning.callbacks import selection_kind
from agents.learning.config import LearnConfig, config_to_dict
from agents.learning.curve import attempts_to_reach, curve_table, read_curve
from agents.learning.rundir import (
    CHECKPOINTS,
    CURVE_FILE,
    DATASET_FILE,
    FINAL_MODEL,
    REPORT_JSON,
    REPORT_MD,
    read_latest,
    write_atomic,
)
from agents.learning.versions import installed_versions, pinned_versions

REACH = (0.90, 0.95, 0.97)


def digests(run_dir: Path, config: LearnConfig) -> dict[str, str | None]:
    """The dataset's and the final model's digests (None for a run without a model)."""
    from agents.data import GraspDataset
    from agents.data.digest import dataset_digest
    from agents.fcn.checkpoint import load_checkpoint, model_digest

    with GraspDataset(run_dir / DATASET_FILE) as ds:
        data = dataset_digest(ds)
    final = run_dir / FINAL_MODEL
    model = model_digest(load_checkpoint(final, config.env.grid)[0]) if final.exists() else None
    return {"dataset_digest": data, "model_digest": model}


def write_report(
    run_dir: Path,
    config: LearnConfig,
    *,
    wall_seconds: float,
    seconds: dict[str, float],
    sessions: Sequence[dict[str, int]] = (),
) -> dict[str, Any]:
    """Copy the final model, write ``report.json`` and ``report.md``; return the report.

    ``sessions`` are ``progress.json``'s: each session's ``actors``, the attempts it
    committed (``start`` to ``end``) and its replaced actors (``restarts``); those that
    committed nothing are left out.
    """
    from agents.data import GraspDataset
    from agents.learning.prior import check_datasets

    latest = read_latest(run_dir)
    if latest.version:
        shutil.copyfile(run_dir / CHECKPOINTS / latest.path, run_dir / FINAL_MODEL)
    with GraspDataset(run_dir / DATASET_FILE) as ds:
        methods, rewards = ds.column("method"), ds.column("reward")
    points = read_curve(run_dir / CURVE_FILE)
    final = next((p for p in points if p["attempts"] == config.target_attempts), None)
    report = {
        "finished": True,
        "name": config.name,
        "schedule": config.schedule,
        **digests(run_dir, config),
        "datasets": check_datasets(config, digests=True),
        "libraries": installed_versions(list(pinned_versions())),
        "attempts": len(rewards),
        "training_grasp_rate": float(np.mean(rewards)) if len(rewards) else 0.0,
        "selection_counts": dict(Counter(selection_kind(str(m)) for m in methods)),
        "wall_seconds": wall_seconds,
        "attempts_per_second": len(rewards) / wall_seconds if wall_seconds > 0 else 0.0,
        "seconds": seconds,
        "sessions": [dict(s) for s in sessions if s["end"] > s["start"]],
        "waited_seconds": seconds.get("waiting for the model", 0.0),
        "model_version": latest.version,
        "final_model": FINAL_MODEL if latest.version else None,
        "final_evaluation": final,
        **{f"attempts_to_{round(100 * r)}": attempts_to_reach(points, r) for r in REACH},
        "curve": points,
        "config": config_to_dict(config),
    }
    write_atomic(run_dir / REPORT_JSON, json.dumps(report, indent=2))
    write_atomic(run_dir / REPORT_MD, report_markdown(report))
    return report


def report_markdown(report: dict[str, Any]) -> str:
    """The report as markdown: the figures, where the time went, the learning curve."""
    final = report.get("final_evaluation") or {}
    ev = report["config"]["evaluation"]
    reach = ", ".join(
        f"{round(100 * r)} %: {report[f'attempts_to_{round(100 * r)}']}" for r in REACH
    )
    lines = [
        f"# Learning run {report['name']}",
        "",
        f"- schedule: {report['schedule']}",
        f"- dataset digest: `{report['dataset_digest']}`",
        f"- model digest: `{report['model_digest']}`",
        f"- libraries: {', '.join(f'{k} {v}' for k, v in report.get('libraries', {}).items())}",
        *(
            f"- trained together with `{d['path']}`: {d['records']} records, digest `{d['digest']}`"
            for d in report.get("datasets", [])
        ),
        f"- attempts: {report['attempts']} (grasp rate while learning"
        f" {100 * report['training_grasp_rate']:.1f} %)",
        f"- selection counts: {report['selection_counts']}",
        f"- wall time: {report['wall_seconds'] / 60:.1f} min"
        f" ({report['attempts_per_second']:.2f} attempts/s, trainer and evaluations included;"
        f" the actors waited {report['waited_seconds']:.0f} s for models, summed over them)",
        f"- model version: {report['model_version']}",
        f"- sessions: {session_summary(report.get('sessions', []))}",
        f"- attempts to reach {reach}",
    ]
    if final:
        lines.append(
            f"- final evaluation, {ev['n']} out of {ev['m']}, {final['runs']} runs:"
            f" {100 * final['grasp_rate']:.1f} % +- {100 * final['stderr']:.1f} % (stderr),"
            f" {final['pph']:.0f} picks per hour (twin clock)"
        )
    lines += ["", "## Where the time went", "",
              "With several actors their parts are summed over the actors' processes, so the"
              " shares of the wall time can add up to more than 100 %.", "",
              "| part | seconds | share |", "|---|---:|---:|"]  # fmt: skip
    total = report["wall_seconds"] or 1.0
    for part, value in sorted(report["seconds"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {part} | {value:.1f} | {100 * value / total:.1f} % |")
    lines += ["", "## Learning curve", "", curve_table(report["curve"]), ""]
    return "\n".join(lines)


def session_summary(sessions: Sequence[dict[str, int]]) -> str:
    """The sessions in words: "attempts 0-99 with 1 actor, 100-199 with 2 (1 replaced)"."""
    parts = []
    for s in sessions:
        k = s["actors"]
        replaced = f" ({s['restarts']} replaced)" if s.get("restarts") else ""
        on = f" on Ray (trainer: {s.get('trainer', 'cpu')})" if s.get("ray") else ""
        parts.append(
            f"{s['start']}-{s['end'] - 1} with {k} actor{'s' if k > 1 else ''}{on}{replaced}"
        )
    return f"attempts {', '.join(parts)}" if parts else "none recorded"


__all__ = ["digests", "report_markdown", "session_summary", "write_report"]
