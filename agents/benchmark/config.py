"""A benchmark's whole configuration, one frozen dataclass read from one YAML file.

A benchmark is a table: agents (rows) by protocols (columns), each cell the bins of one
protocol for one agent. Learning agents add a second table: learners trained from nothing
in the twin for fixed attempt budgets, each budget's agent evaluated on one protocol. The
YAML is read by :func:`load_benchmark`; an unknown key anywhere is a ConfigError naming it,
and ``base: other.yaml`` lays a file over another (``configs/benchmark_quick.yaml`` is the
shipped config made small).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grasp_env.config import from_dict, read_layered
from grasp_env.errors import ConfigError


@dataclass(frozen=True)
class AgentEntry:
    """One row: an agent by registry name or import path, with its factory's options.

    Attributes:
        name: the row's label in the report (unique).
        agent: a name in :mod:`agents.registry` or ``"module:function"``.
        options: keyword options of the factory, e.g. ``{"checkpoint": "pretrained"}``.
    """

    name: str
    agent: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Protocol:
    """One column: bin clearing, n out of m objects of one set (paper Table I).

    Attributes:
        name: the column's label (unique).
        n: objects to grasp per bin.
        m: objects in the bin at the start.
        object_set: the twin's object set: a built-in name or a YAML file of URDFs.
        runs: bins; bin k resets with seed ``seed + k``, the same for every agent.
        seed: the first bin's seed.
        max_attempts: attempt budget per bin (None: 3 n + 5).
        env_id: the environment.
    """

    name: str
    n: int
    m: int
    object_set: str = "cylinders"
    runs: int = 100
    seed: int = 0
    max_attempts: int | None = None
    env_id: str = "SimBinGrasp-v0"

    def __post_init__(self) -> None:
        if not 1 <= self.n <= self.m or self.runs < 1 or self.seed < 0:
            raise ConfigError(
                f"protocol {self.name!r}: expected 1 <= n <= m, runs >= 1 and seed >= 0, got"
                f" n={self.n}, m={self.m}, runs={self.runs}, seed={self.seed}"
            )


@dataclass(frozen=True)
class LearnerEntry:
    """A learning agent: trained from nothing by a learner of :mod:`agents.benchmark.learners`.

    Attributes:
        name: the curve's label (unique).
        learner: the learner's name, e.g. "fcn" (the paper's loop) or "sb3_ppo_grid".
        options: the learner's options, e.g. ``{"config": "configs/learn.yaml"}``.
    """

    name: str
    learner: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LearningConfig:
    """The data-efficiency table: each learner trained for each budget, then evaluated.

    Attributes:
        budgets: grasp attempts of training, each giving one agent.
        protocol: the name of the protocol (of ``protocols``) the agents are evaluated on.
        runs: bins per evaluation (None: the protocol's own).
        seeds: training seeds; each (learner, seed) is one training from nothing.
        learners: the learning agents.
    """

    budgets: tuple[int, ...] = (500, 1000, 2000, 5000)
    protocol: str = "10of20"
    runs: int | None = None
    seeds: tuple[int, ...] = (0,)
    learners: tuple[LearnerEntry, ...] = ()

    def __post_init__(self) -> None:
        if not self.budgets or min(self.budgets) < 1:
            raise ConfigError(f"learning.budgets: expected attempts >= 1, got {self.budgets}")
        if self.runs is not None and self.runs < 1:
            raise ConfigError(f"learning.runs: expected >= 1 or null, got {self.runs}")


@dataclass(frozen=True)
class BenchmarkConfig:
    """A benchmark: agents by protocols, and learners by budgets.

    Attributes:
        name: the report's folder, ``benchmarks/<name>``; default the YAML's stem.
        reference: the agent the paired differences are taken against (default the first).
        agents: the rows.
        protocols: the columns.
        learning: the learning agents' table (no learners: none).
    """

    name: str = ""
    reference: str = ""
    agents: tuple[AgentEntry, ...] = ()
    protocols: tuple[Protocol, ...] = ()
    learning: LearningConfig = LearningConfig()

    def __post_init__(self) -> None:
        _unique(
            "agents", [a.name for a in self.agents] + [le.name for le in self.learning.learners]
        )
        _unique("protocols", [p.name for p in self.protocols])
        if not self.protocols:
            raise ConfigError("protocols: expected at least one protocol")
        if not self.agents and not self.learning.learners:
            raise ConfigError("expected at least one agent or learner, got an empty suite")
        if self.reference and self.reference not in {a.name for a in self.agents}:
            raise ConfigError(
                f"reference: expected one of the agents {[a.name for a in self.agents]},"
                f" got {self.reference!r}"
            )
        if self.learning.learners:
            self.protocol(self.learning.protocol)

    def protocol(self, name: str) -> Protocol:
        """The protocol called ``name``."""
        for p in self.protocols:
            if p.name == name:
                return p
        raise ConfigError(
            f"expected a protocol of {[p.name for p in self.protocols]}, got {name!r}"
        )

    @property
    def reference_agent(self) -> str:
        """The name of the agent paired differences are taken against ('' without agents)."""
        return self.reference or (self.agents[0].name if self.agents else "")


def _unique(what: str, names: list[str]) -> None:
    seen = {n for n in names if names.count(n) > 1}
    if seen:
        raise ConfigError(f"{what}: expected unique names, got {sorted(seen)} more than once")


def load_benchmark(path: str | Path) -> BenchmarkConfig:
    """Read the benchmark YAML at ``path`` (``base:`` chains included); named after its stem.

    A relative ``object_set`` path of a protocol is taken relative to the YAML file that
    names it, when such a file exists there.
    """
    path = Path(path)
    data = read_layered(path, "a benchmark config")
    config = from_dict(BenchmarkConfig, data, str(path))
    protocols = tuple(replace(p, object_set=_beside(path, p.object_set)) for p in config.protocols)
    return replace(config, name=config.name or path.stem, protocols=protocols)


def _beside(path: Path, object_set: str) -> str:
    """``object_set`` as a path beside ``path`` when it names a file there, else as given."""
    if not object_set.endswith((".yaml", ".yml")) or Path(object_set).is_absolute():
        return object_set
    candidate = path.parent / object_set
    return str(candidate.resolve()) if candidate.exists() else object_set


__all__ = [
    "AgentEntry",
    "BenchmarkConfig",
    "LearnerEntry",
    "LearningConfig",
    "Protocol",
    "load_benchmark",
]
