"""A benchmark's report, drawn from its cache alone: ``report.json`` and ``report.md``.

The agents' table gives, per agent and protocol, the figures of
:class:`agents.benchmark.figures.CellFigures` and the paired difference to the reference
agent on the same bins; the learning table gives, per learner, training seed and budget,
the evaluated grasp rate and the training time.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from agents.benchmark.cells import Cell, agent_spec
from agents.benchmark.config import BenchmarkConfig
from agents.benchmark.figures import cell_figures, paired_difference, same_scenes
from agents.benchmark.learners import LEARNED, read_learned
from agents.benchmark.suite import LEARNED_DIR, learning_protocol
from agents.evaluation import BinResult
from grasp_env.config import to_dict

REPORT_JSON = "report.json"
REPORT_MD = "report.md"


Cells = dict[tuple[str, str], list[BinResult]]


def read_cells(config: BenchmarkConfig, root: Path) -> Cells:
    """Every agent's stored bins by (agent name, protocol name), each cell read once."""
    return {
        (a.name, p.name): Cell(root, agent_spec(a), p).results()
        for a in config.agents
        for p in config.protocols
    }


def agents_table(config: BenchmarkConfig, cells: Cells) -> dict[str, dict[str, Any]]:
    """Figures by agent and protocol, with the paired difference to the reference agent."""
    table: dict[str, dict[str, Any]] = {}
    for a in config.agents:
        table[a.name] = {}
        for p in config.protocols:
            bins = cells[a.name, p.name]
            if not bins:
                continue
            row = cell_figures(bins, p.n, p.m).as_dict()
            ref = cells.get((config.reference_agent, p.name), [])
            if a.name != config.reference_agent and ref:
                diff = paired_difference(bins, ref)
                row["vs_reference"] = {"mean": diff.mean, "stderr": diff.stderr, "bins": diff.bins}
            table[a.name][p.name] = row
    return table


def paired_protocols(config: BenchmarkConfig, cells: Cells) -> dict[str, bool | None]:
    """By protocol: whether all agents met the same scene in each bin (None: not checkable)."""
    return {
        p.name: same_scenes([cells[a.name, p.name] for a in config.agents])
        for p in config.protocols
    }


def learning_table(config: BenchmarkConfig, root: Path) -> dict[str, dict[str, Any]]:
    """Figures by learner, training seed and budget (only what has been trained)."""
    protocol = learning_protocol(config)
    table: dict[str, dict[str, Any]] = {}
    for entry in config.learning.learners:
        table[entry.name] = {}
        for seed in config.learning.seeds:
            learned = read_learned(root / LEARNED_DIR / entry.name / f"seed{seed}" / LEARNED)
            points = {}
            for budget, item in sorted(learned.items()):
                bins = Cell(root, item.agent, protocol).results()
                if bins:
                    figures = cell_figures(bins, protocol.n, protocol.m).as_dict()
                    points[str(budget)] = {**figures, "train_seconds": item.seconds}
            table[entry.name][str(seed)] = points
    return table


def build_report(
    config: BenchmarkConfig, root: Path, command: str = "", session_seconds: float | None = None
) -> dict[str, Any]:
    """The report as plain data; ``session_seconds``: the wall time of the run that filled it."""
    cells = read_cells(config, root)
    return {
        "name": config.name,
        "command": command,
        "session_seconds": session_seconds,
        "reference": config.reference_agent,
        "config": to_dict(config),
        "agents": agents_table(config, cells),
        "same_scenes": paired_protocols(config, cells),
        "learning": learning_table(config, root) if config.learning.learners else {},
        "learning_protocol": config.learning.protocol if config.learning.learners else None,
    }


def _pct(value: float, err: float | None = None) -> str:
    if math.isnan(value):
        return "-"
    return f"{100 * value:.1f} %" + (f" ± {100 * err:.1f}" if err is not None else "")


def markdown(report: dict[str, Any]) -> str:
    """The report as markdown: one agents table per protocol, one learning table."""
    lines = [f"# Benchmark `{report['name']}`", ""]
    if report["command"]:
        lines += [f"Command: `{report['command']}`", ""]
    if report.get("session_seconds") is not None:
        lines += [
            f"The last run of it took {report['session_seconds'] / 60:.1f} min (cached cells"
            " cost nothing); a cell's own cost is its wall s, summed over its bins.",
            "",
        ]
    lines += [
        f"Paired differences are grasp-rate differences to `{report['reference']}` over the"
        " same bins. Decision time: median wall time of one `act` call in an evaluation"
        " worker on this machine.",
        "",
    ]
    protocols = report["config"]["protocols"]
    for p in protocols:
        lines += _protocol_table(report, p)
    if report["learning"]:
        lines += _learning_lines(report)
    return "\n".join(lines) + "\n"


def _protocol_table(report: dict[str, Any], protocol: dict[str, Any]) -> list[str]:
    name = protocol["name"]
    lines = [
        f"## {name}: {protocol['n']} out of {protocol['m']}, {protocol['object_set']},"
        f" seeds {protocol['seed']} to {protocol['seed'] + protocol['runs'] - 1}",
        "",
        "| agent | grasp rate | vs reference | cleared | picks/h | decision ms | attempts | bins"
        " | wall s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for agent, cells in report["agents"].items():
        c = cells.get(name)
        if c is None:
            continue
        vs = c.get("vs_reference")
        diff = f"{100 * vs['mean']:+.1f} ± {100 * vs['stderr']:.1f}" if vs else "-"
        lines.append(
            f"| {agent} | {_pct(c['grasp_rate'], c['stderr'])} | {diff} | {_pct(c['cleared'])}"
            f" | {c['pph']:.0f} | {c['decision_ms']:.1f} | {c['attempts']} | {c['bins']}"
            f" | {c.get('wall_s', math.nan):.0f} |"
        )
    paired = report.get("same_scenes", {}).get(name)
    if paired is not None:
        lines += [
            "",
            "Every agent met the same scene in each bin."
            if paired
            else "**The agents met different scenes in some bins: differences are not paired.**",
        ]
    return [*lines, ""]


def _learning_lines(report: dict[str, Any]) -> list[str]:
    budgets = report["config"]["learning"]["budgets"]
    lines = [
        f"## Learning from nothing, evaluated on {report['learning_protocol']}",
        "",
        "| learner | seed | " + " | ".join(f"{b} attempts" for b in budgets) + " | training |",
        "|---|---|" + "---|" * len(budgets) + "---|",
    ]
    for learner, seeds in report["learning"].items():
        for seed, points in seeds.items():
            cells = [
                _pct(points[str(b)]["grasp_rate"], points[str(b)]["stderr"])
                if str(b) in points else "-"
                for b in budgets
            ]  # fmt: skip
            seconds = max((p["train_seconds"] for p in points.values()), default=math.nan)
            lines.append(
                f"| {learner} | {seed} | " + " | ".join(cells) + f" | {seconds / 60:.1f} min |"
            )
    return [*lines, ""]


def write_report(
    config: BenchmarkConfig, root: Path, command: str = "", session_seconds: float | None = None
) -> dict[str, Any]:
    """Write ``report.json`` and ``report.md`` under ``root`` (atomically); the report."""
    report = build_report(config, root, command, session_seconds)
    for name, text in ((REPORT_JSON, json.dumps(report, indent=1)), (REPORT_MD, markdown(report))):
        tmp = root / f".{name}.tmp"
        tmp.write_text(text)
        os.replace(tmp, root / name)
    return report


__all__ = ["REPORT_JSON", "REPORT_MD", "build_report", "markdown", "write_report"]
