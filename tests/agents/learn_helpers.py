"""Shared by the learning-loop tests: a tiny, fast LearnConfig written as YAML."""

from __future__ import annotations

from pathlib import Path

import yaml

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
        {"until": 10**9, "random": 0.2, "probabilistic": 0.4, "uncertain": 0.2, "maximum": 0.2}
    ],
    "trainer": {
        "min_attempts": 15,
        "min_new_attempts": 10,
        "weighted_from": 45,
        "plateau_rounds": 0,
        "poll_seconds": 0.1,
        "train": {
            "epochs": 2,
            "batch_size": 16,
            "model": {"channels": [4, 4, 4, 8], "dropout": [0.0, 0.0, 0.0, 0.0]},
        },
    },
    "evaluation": {"at": [35], "n": 2, "m": 4, "runs": 1, "final_runs": 1},
}


def write_config(folder: Path, name: str = "tiny", **changes: object) -> Path:
    """The tiny config with top-level ``changes``, as ``folder/name.yaml``."""
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**TINY, **changes}))
    return path


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")
