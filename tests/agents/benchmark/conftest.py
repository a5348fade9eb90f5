"""Tiny benchmark configs: two cheap agents on 1-of-1 bins of the twin."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

TINY = {
    "name": "tiny",
    "agents": [{"name": "random", "agent": "random"}, {"name": "heuristic", "agent": "heuristic"}],
    "protocols": [{"name": "1of1", "n": 1, "m": 1, "runs": 2}],
}


def write_config(folder: Path, data: dict, name: str = "bench.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    return write_config(tmp_path, TINY)
