"""Shared fixtures of the agent tests: scenes, and models with non-trivial statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from agents.fcn.model import ModelConfig, ValueModel, build_model


def clutter_scene(seed: int, rows: int = 110, cols: int = 110) -> dict[str, np.ndarray]:
    """A random pile of boxes with some missing depth: the observation dict."""
    rng = np.random.default_rng(seed)
    height = np.zeros((rows, cols), np.float32)
    for _ in range(12):
        r, c = rng.integers(0, rows - 5), rng.integers(0, cols - 5)
        h, w = rng.integers(3, 25, 2)
        height[r : r + h, c : c + w] += rng.uniform(0.01, 0.05)
    height += rng.normal(0.0, 0.001, height.shape).astype(np.float32)
    height = np.clip(height, 0.0, 0.2).astype(np.float32)
    valid = (rng.random((rows, cols)) > 0.05).astype(np.uint8)
    return {"height": height * valid, "valid": valid}


def randomise_batch_norm(model: ValueModel, seed: int) -> ValueModel:
    """Give every batch norm non-trivial running statistics and affine parameters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 2.0, generator=gen)
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.2, 0.2, generator=gen)
    return model.eval()


SMALL = ModelConfig(channels=(8, 8, 16, 16))


@pytest.fixture(scope="module")
def model() -> ValueModel:
    return randomise_batch_norm(build_model(ModelConfig(), torch.Generator().manual_seed(0)), 1)


@pytest.fixture(scope="module")
def small_model() -> ValueModel:
    return randomise_batch_norm(build_model(SMALL, torch.Generator().manual_seed(0)), 1)


TINY = {
    "seed": 3,
    "target_attempts": 70,
    "random_attempts": 25,
    "objects": 12,
    "object_set": "cylinders",
    "rebuild_every": 40,
    "wait_for_model": 20.0,
    "log_every": 5,
    "phases": [
        {"until": None, "random": 0.2, "probabilistic": 0.4, "uncertain": 0.2, "maximum": 0.2}
    ],
    "trainer": {
        "min_attempts": 15,
        "min_new_attempts": 10,
        "lag": 10,
        "weighted_from": 45,
        "plateau_rounds": 0,
        "poll_seconds": 0.1,
        "train": {
            "epochs": 2,
            "batch_size": 16,
            "model": {"channels": [4, 4, 4, 8], "dropout": [0.0, 0.0, 0.0, 0.0]},
        },
    },
    "evaluation": {"at": [35], "n": 2, "m": 4, "runs": 1, "final_runs": 1, "workers": 1},
}


def _write_config(folder: Path, name: str = "tiny", **changes: object) -> Path:
    """The tiny config with top-level ``changes``, as ``folder/name.yaml``."""
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**TINY, **changes}))
    return path


def _stat_fields(stat: Path) -> list[str] | None:
    """The fields of a ``/proc/<pid>/stat`` after the command (state, ppid, ...); None if gone."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    return fields is not None and fields[0] not in ("Z", "X")


def _spawned_children(pid: int) -> list[int]:
    """The pids of ``pid``'s children that are multiprocessing spawn workers."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat)
        try:
            command = (stat.parent / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields is not None and int(fields[1]) == pid and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="session")
def write_config():
    """Writes the tiny learning-loop config with top-level changes; returns its path."""
    return _write_config


@pytest.fixture(scope="session")
def alive():
    """Whether a process id is running (not gone, not a zombie)."""
    return _alive


@pytest.fixture(scope="session")
def spawned_children():
    """The spawn workers among a process id's children."""
    return _spawned_children
