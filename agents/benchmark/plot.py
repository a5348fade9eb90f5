"""The benchmark's figure: grouped bars per protocol, and a curve per learning agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from agents.plotting import pyplot

FIGURE = "report.png"


def plot_report(report: dict[str, Any], out: Path) -> Path:
    """Draw ``report`` (:func:`agents.benchmark.report.build_report`) to the PNG ``out``.

    Left: the grasp rate with its standard error, a group of bars per protocol, a bar per
    agent. Right (when the report has learners): the grasp rate against training attempts,
    a curve per learner and seed.
    """
    plt = pyplot()
    panels = 2 if report["learning"] else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), dpi=120, squeeze=False)
    _bars(axes[0][0], report)
    if report["learning"]:
        _curves(axes[0][1], report)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def _bars(ax: Any, report: dict[str, Any]) -> None:
    protocols = [p["name"] for p in report["config"]["protocols"]]
    agents = list(report["agents"])
    width = 0.8 / max(1, len(agents))
    x = np.arange(len(protocols))
    for i, agent in enumerate(agents):
        cells = report["agents"][agent]
        y = [100 * cells[p]["grasp_rate"] if p in cells else np.nan for p in protocols]
        e = [100 * cells[p]["stderr"] if p in cells else 0.0 for p in protocols]
        ax.bar(x + (i - (len(agents) - 1) / 2) * width, y, width, yerr=e, capsize=2, label=agent)
    ax.set_xticks(x, protocols, rotation=20, fontsize="small")
    ax.set_ylabel("grasp rate [%]")
    ax.set_ylim(0, 115)  # room above the bars for the legend, which covers none of them
    ax.set_yticks(range(0, 101, 20))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", ncol=len(agents), fontsize="small", frameon=False)
    ax.set_title(f"benchmark {report['name']}")


def _curves(ax: Any, report: dict[str, Any]) -> None:
    for learner, seeds in report["learning"].items():
        for seed, points in seeds.items():
            budgets = sorted(int(b) for b in points)
            y = [100 * points[str(b)]["grasp_rate"] for b in budgets]
            e = [100 * points[str(b)]["stderr"] for b in budgets]
            ax.errorbar(budgets, y, yerr=e, marker="o", capsize=3, label=f"{learner} (seed {seed})")
    ax.set_xlabel("training attempts")
    ax.set_ylabel(f"grasp rate, {report['learning_protocol']} [%]")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    ax.set_title("learning from nothing")


__all__ = ["FIGURE", "plot_report"]
