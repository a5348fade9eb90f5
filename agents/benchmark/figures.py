"""The figures of a benchmark cell, and paired differences between two agents' cells.

Every agent meets the same bins of a protocol (bin k resets with the protocol's seed + k),
so two agents are compared by the mean of their per-bin differences, whose standard error
is smaller than either agent's own when the bins' difficulty is shared.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from agents.evaluation import BinResult, summarise


@dataclass(frozen=True)
class CellFigures:
    """One agent on one protocol.

    Attributes:
        grasp_rate: mean over bins of successes / attempts.
        stderr: its standard error over bins.
        cleared: mean over bins of the share of the protocol's n objects picked within the
            attempt budget (1.0: every bin reached n).
        pph: picks per hour on the cell's clock (the twin's simulated cycle times).
        decision_ms: the median wall time of the agent's decision per grasp, ms (this
            machine, in an evaluation worker).
        attempts: grasp attempts over all bins.
        bins: bins stored.
        wall_s: the bins' wall time summed, seconds (what the cell cost on this machine).
    """

    grasp_rate: float
    stderr: float
    cleared: float
    pph: float
    decision_ms: float
    attempts: int
    bins: int
    wall_s: float

    def as_dict(self) -> dict:
        """Plain data for JSON."""
        return asdict(self)


def cell_figures(bins: list[BinResult], n: int, m: int) -> CellFigures:
    """The figures of a cell's bins (at least one)."""
    summary = summarise(n, m, bins)
    decisions = [s for b in bins for s in b.decisions]
    return CellFigures(
        grasp_rate=summary.grasp_rate,
        stderr=summary.stderr,
        cleared=float(np.mean([min(b.successes, n) / n for b in bins])),
        pph=summary.pph,
        decision_ms=float(np.median(decisions) * 1e3) if decisions else math.nan,
        attempts=summary.attempts,
        bins=summary.runs,
        wall_s=float(sum(b.wall for b in bins)),
    )


@dataclass(frozen=True)
class PairedDifference:
    """Agent minus reference on the bins both have.

    Attributes:
        mean: mean over shared bins of the difference in grasp rate.
        stderr: its standard error over those bins.
        bins: shared bins.
    """

    mean: float
    stderr: float
    bins: int


def paired_difference(agent: list[BinResult], reference: list[BinResult]) -> PairedDifference:
    """The per-bin grasp-rate difference of ``agent`` over ``reference``, on shared bins."""
    ref = {b.index: b.rate for b in reference}
    diffs = [b.rate - ref[b.index] for b in agent if b.index in ref]
    if not diffs:
        return PairedDifference(math.nan, math.nan, 0)
    stderr = float(np.std(diffs, ddof=1) / math.sqrt(len(diffs))) if len(diffs) > 1 else 0.0
    return PairedDifference(float(np.mean(diffs)), stderr, len(diffs))


def same_scenes(cells: list[list[BinResult]]) -> bool | None:
    """Whether every bin index met the same first scene in every cell that ran it.

    None when no bin index was run by two cells with recorded scene digests.
    """
    seen: dict[int, set[str]] = {}
    runs: dict[int, int] = {}
    for bins in cells:
        for b in (b for b in bins if b.scene):
            seen.setdefault(b.index, set()).add(b.scene)
            runs[b.index] = runs.get(b.index, 0) + 1
    compared = [k for k, count in runs.items() if count > 1]
    if not compared:
        return None
    return all(len(seen[k]) == 1 for k in compared)


__all__ = ["CellFigures", "PairedDifference", "cell_figures", "paired_difference", "same_scenes"]
