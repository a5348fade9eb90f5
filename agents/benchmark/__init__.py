"""Benchmarking agents: ``grasp benchmark --config configs/benchmark.yaml``.

A benchmark is a table of cached cells (agent, protocol, bin) -> result:

* :mod:`~agents.benchmark.config`: the typed config (agents, protocols, learners, budgets);
* :mod:`~agents.benchmark.cells`: the on-disk cache, one JSON line per finished bin;
* :mod:`~agents.benchmark.learners`: learning agents trained from nothing for attempt
  budgets (the paper's loop, the Stable-Baselines3 baselines);
* :mod:`~agents.benchmark.suite`: fills the missing cells over worker processes;
* :mod:`~agents.benchmark.figures`: a cell's figures and paired differences;
* :mod:`~agents.benchmark.report` and :mod:`~agents.benchmark.plot`: the report, from the
  cache alone.
"""

from agents.benchmark.config import BenchmarkConfig, load_benchmark
from agents.benchmark.report import write_report
from agents.benchmark.suite import run_benchmark

__all__ = ["BenchmarkConfig", "load_benchmark", "run_benchmark", "write_report"]
