"""Run a benchmark: fill every missing cell of its tables, then draw the report from the cache.

Each cell's missing bins run through :func:`agents.evaluation.run_bins` over the worker
processes (or Ray actors, with ``ray_address``); every finished bin is stored at once
(:class:`agents.benchmark.cells.Cell`), so a killed benchmark resumes with the bins it lacks,
and the report is a function of the cache alone (:mod:`agents.benchmark.report`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from agents.baselines.learners import Learned
from agents.benchmark.cells import Cell, agent_spec, env_spec
from agents.benchmark.config import BenchmarkConfig, Protocol
from agents.benchmark.learners import learn_once
from agents.evaluation import AgentSpec, BinResult, run_bins

LEARNED_DIR = "learned"

Progress = Callable[[str], None]


def fill_cell(
    root: Path, agent: AgentSpec, protocol: Protocol, *, label: str, workers: int,
    progress: Progress | None = None, ray_address: str | None = None,
) -> Cell:  # fmt: skip
    """Run the bins of ``agent`` on ``protocol`` that the cache lacks; the cell."""
    cell = Cell(root, agent, protocol)
    missing = cell.missing()
    if not missing:
        return cell
    done = protocol.runs - len(missing)

    def store(result: BinResult) -> None:
        nonlocal done
        cell.append(result)
        done += 1
        if progress is not None:
            progress(f"{label} on {protocol.name}: bin {done}/{protocol.runs}")

    run_bins(
        env_spec(protocol), agent, n=protocol.n, indices=missing, seed=protocol.seed,
        max_attempts=protocol.max_attempts, workers=workers, on_bin=store,
        ray_address=ray_address,
    )  # fmt: skip
    return cell


def learned_agents(
    config: BenchmarkConfig, root: Path, progress: Progress | None = None
) -> dict[str, dict[int, dict[int, Learned]]]:
    """Every learner's agents: by learner name, training seed and budget (trained if new)."""
    learning = config.learning
    out: dict[str, dict[int, dict[int, Learned]]] = {}
    for entry in learning.learners:
        protocol = config.protocol(learning.protocol)
        out[entry.name] = {}
        for seed in learning.seeds:
            if progress is not None:
                progress(f"training {entry.name} (seed {seed}) for {list(learning.budgets)}")
            out[entry.name][seed] = learn_once(
                entry.learner, entry.options, budgets=learning.budgets, seed=seed,
                object_set=protocol.object_set,
                out_dir=root / LEARNED_DIR / entry.name / f"seed{seed}",
            )  # fmt: skip
    return out


def learning_protocol(config: BenchmarkConfig) -> Protocol:
    """The protocol learned agents are evaluated on, with the learning table's bin count."""
    protocol = config.protocol(config.learning.protocol)
    return dataclasses.replace(protocol, runs=config.learning.runs or protocol.runs)


def run_benchmark(
    config: BenchmarkConfig,
    root: Path,
    *,
    workers: int,
    progress: Progress | None = None,
    ray_address: str | None = None,
) -> None:
    """Fill every cell of ``config``'s tables under ``root`` (the cache and the learners).

    ``ray_address``: the bins run on Ray actors of that cluster (the learners still train
    here).
    """
    for entry in config.agents:
        spec = agent_spec(entry)
        for protocol in config.protocols:
            fill_cell(root, spec, protocol, label=entry.name, workers=workers,
                      progress=progress, ray_address=ray_address)  # fmt: skip
    if not config.learning.learners:
        return
    protocol = learning_protocol(config)
    for name, seeds in learned_agents(config, root, progress).items():
        for seed, budgets in seeds.items():
            for budget, learned in budgets.items():
                label = f"{name} (seed {seed}, {budget} attempts)"
                fill_cell(root, learned.agent, protocol, label=label, workers=workers,
                          progress=progress, ray_address=ray_address)  # fmt: skip


__all__ = ["LEARNED_DIR", "fill_cell", "learned_agents", "learning_protocol", "run_benchmark"]
