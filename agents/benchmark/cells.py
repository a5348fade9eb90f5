"""The benchmark's cache: (agent, protocol, bin) -> the bin's result, on disk.

A cell is one agent on one protocol; its file holds one JSON line per finished bin, written
and fsynced as the bin ends, so a killed benchmark loses only the bins in flight and a line
cut short by the kill is ignored when reading. A cell's file is named by digests of what
decides its bins: the agent's factory and options (a file named in an option, such as a
checkpoint, by its content), and the protocol's environment, objects, n, m, budget and seed.
So adding an agent runs only that agent, changing a protocol reruns only its column, and a
retrained checkpoint at the same path is a new cell. A bin's index is its reset seed's
offset, so bins of a protocol grown from 20 to 100 runs reuse the first 20.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from agents.benchmark.config import AgentEntry, Protocol
from agents.evaluation import AgentSpec, BinResult, EnvSpec
from grasp_env.config import to_dict

CELLS = "cells"


def agent_spec(entry: AgentEntry) -> AgentSpec:
    """The evaluation's spec of a row, a shipped model's name made its path."""
    from agents.pretrained import resolve_model

    options = dict(entry.options)
    if isinstance(options.get("checkpoint"), str):
        options["checkpoint"] = resolve_model(options["checkpoint"])
    return AgentSpec(entry.agent, options)


def env_spec(protocol: Protocol) -> EnvSpec:
    """The evaluation environment of a protocol."""
    return EnvSpec(env_id=protocol.env_id, m=protocol.m, object_set=protocol.object_set)


def _content(value: Any) -> Any:
    """An option's identity: a file's SHA-256 for a path to a file, else the value."""
    if isinstance(value, str) and os.path.isfile(value):
        return {"file_sha256": hashlib.sha256(Path(value).read_bytes()).hexdigest()}
    return value


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def agent_key(spec: AgentSpec) -> str:
    """The folder of an agent's cells: its factory name and a digest of its options' content."""
    options = {k: _content(v) for k, v in sorted(spec.options.items())}
    slug = "".join(c if c.isalnum() else "_" for c in spec.name)[:40]
    return f"{slug}-{_digest({'agent': spec.name, 'options': options})}"


def protocol_key(protocol: Protocol, spec: EnvSpec) -> str:
    """The file of a protocol's cell: its name and a digest of what decides its bins."""
    identity = {
        "env": spec.env_id,
        "config": to_dict(spec.config),
        "objects": _content(protocol.object_set),
        "n": protocol.n,
        "m": protocol.m,
        "max_attempts": protocol.max_attempts,
        "seed": protocol.seed,
    }
    return f"{protocol.name}-{_digest(identity)}"


class Cell:
    """The stored bins of one agent on one protocol (``cells/<agent>/<protocol>.jsonl``)."""

    def __init__(self, root: Path, agent: AgentSpec, protocol: Protocol) -> None:
        spec = env_spec(protocol)
        self.path = root / CELLS / agent_key(agent) / f"{protocol_key(protocol, spec)}.jsonl"
        self.protocol = protocol

    def read(self) -> dict[int, BinResult]:
        """The bins stored so far, by index; a line cut short by a crash is skipped."""
        if not self.path.exists():
            return {}
        bins = {}
        for line in self.path.read_text().splitlines():
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            data["decisions"] = tuple(data.get("decisions", ()))
            result = BinResult(**data)
            bins[result.index] = result
        return bins

    def missing(self) -> list[int]:
        """The protocol's bin indices with no stored result."""
        have = self.read()
        return [k for k in range(self.protocol.runs) if k not in have]

    def results(self) -> list[BinResult]:
        """The protocol's bins, in index order (only those stored)."""
        have = self.read()
        return [have[k] for k in range(self.protocol.runs) if k in have]

    def append(self, result: BinResult) -> None:
        """Store one bin: one line, flushed and fsynced before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(result)
        data["decisions"] = list(result.decisions)
        with open(self.path, "a+b") as f:
            # a line cut short by a kill must not swallow this one: start on a fresh line
            cut = f.tell() > 0 and f.seek(-1, os.SEEK_END) >= 0 and f.read(1) != b"\n"
            f.write((("\n" if cut else "") + json.dumps(data) + "\n").encode())
            f.flush()
            os.fsync(f.fileno())


__all__ = ["CELLS", "Cell", "agent_key", "agent_spec", "env_spec", "protocol_key"]
