"""The run directory of a learning run, and the model-version pointer shared by two processes.

Layout of ``runs/<name>``::

    config.yaml        the resolved LearnConfig (a rerun with another config is refused)
    grasps.h5          the grasp dataset (its committed count is the attempt counter)
    checkpoints/       model_00001.pt, ... (versioned, written atomically) and latest.json;
                       curve_00500.pt, ...: the model of each learning-curve count, and
                       curve.json: which version each is
    tb/                TensorBoard events of the actor and the trainer
    curve.jsonl        one learning-curve point per line, appended and fsynced
    progress.json      wall time spent so far, and the sessions (their actors and attempt
                       ranges), updated as the loop goes
    trainer.pid        the trainer process of the current session
    actors.pid         its actor processes, one pid a line (with ``actors`` >= 2)
    final_model.pt     the model of the final evaluation
    report.json, report.md

:func:`resolve_run_dir` never lets a different run overwrite a directory: rerunning the same
config resumes it (its :data:`~agents.learning.config.SESSION_KEYS`, such as ``actors``, may
differ); ``fresh=True`` picks the first free ``<name>_1``, ``<name>_2``, ...
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agents.learning.config import (
    SESSION_KEYS,
    LearnConfig,
    config_from_mapping,
    config_to_dict,
)
from grasp_env.errors import ConfigError

CONFIG_FILE = "config.yaml"
DATASET_FILE = "grasps.h5"
CHECKPOINTS = "checkpoints"
LATEST = "latest.json"
CURVE_MODELS = "curve.json"
CURVE_FILE = "curve.jsonl"
PROGRESS_FILE = "progress.json"
TRAINER_PID = "trainer.pid"
ACTORS_PID = "actors.pid"
FINAL_MODEL = "final_model.pt"
REPORT_JSON = "report.json"
REPORT_MD = "report.md"
TB_DIR = "tb"


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes) to ``path`` through a temporary file and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def resolve_run_dir(root: str | Path, config: LearnConfig, fresh: bool = False) -> Path:
    """The directory of this run under ``root``, created, with ``config.yaml`` written.

    Args:
        root: the runs folder.
        config: the resolved config; its ``name`` names the directory.
        fresh: start a new run in the first free ``<name>_<k>`` instead of resuming.

    Raises:
        ConfigError: ``<name>`` holds a run of another config (and ``fresh`` is False).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(config_to_dict(config), sort_keys=False)
    base = root / config.name
    candidates = [base] if not fresh else [root / f"{config.name}_{k}" for k in range(1, 10_000)]
    for path in candidates:
        if fresh and path.exists():
            continue
        path.mkdir(exist_ok=True)
        stored = path / CONFIG_FILE
        if stored.exists():
            differ = differing_keys(_resolved(stored), yaml.safe_load(text))
            differ = [key for key in differ if key not in SESSION_KEYS]
            if differ:
                raise ConfigError(
                    f"{path} holds a run of another config (differing in {', '.join(differ)});"
                    " rerun with that config to resume it, or pass --fresh to start a new run"
                    " beside it"
                )
        elif any(path.iterdir()):
            raise ConfigError(f"{path} is not empty and holds no {CONFIG_FILE}; refusing it")
        else:
            write_atomic(stored, text)
        (path / CHECKPOINTS).mkdir(exist_ok=True)
        (path / TB_DIR).mkdir(exist_ok=True)
        return path
    raise ConfigError(f"expected a free run directory for {config.name!r} under {root}")


def _resolved(stored: Path) -> Any:
    """A stored config with every key of this version, defaults filled in for the new ones.

    So a run started by an earlier version, whose config lacks a key added since with a
    default that keeps its records (``lanes``, say), resumes.
    """
    data = yaml.safe_load(stored.read_text())
    try:
        return config_to_dict(config_from_mapping(data))
    except ConfigError:  # not a config this version reads: compare it as it stands
        return data


def differing_keys(stored: Any, given: Any, prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two parsed configs."""
    if isinstance(stored, dict) and isinstance(given, dict):
        keys = sorted(set(stored) | set(given), key=str)
        return [
            d for k in keys for d in differing_keys(stored.get(k), given.get(k), f"{prefix}{k}.")
        ]
    return [] if stored == given else [prefix.rstrip(".") or "config"]


@dataclass(frozen=True)
class Latest:
    """The newest model's pointer, ``checkpoints/latest.json``.

    Attributes:
        version: 1, 2, ... (0: no model yet).
        path: the checkpoint file name inside ``checkpoints/``.
        attempts: committed attempts when its training round started.
        state: the trainer's own resumable state (weighted retraining on, plateau counters).
    """

    version: int = 0
    path: str = ""
    attempts: int = 0
    state: dict[str, Any] | None = None


def read_latest(run_dir: Path) -> Latest:
    """The pointer, or version 0 when there is none yet."""
    path = run_dir / CHECKPOINTS / LATEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return Latest()
    return Latest(int(data["version"]), str(data["path"]), int(data["attempts"]), data["state"])


def write_latest(run_dir: Path, latest: Latest) -> None:
    """Point at a new version (atomically)."""
    data = {
        "version": latest.version,
        "path": latest.path,
        "attempts": latest.attempts,
        "state": latest.state or {},
    }
    write_atomic(run_dir / CHECKPOINTS / LATEST, json.dumps(data))


def checkpoint_name(version: int) -> str:
    """The file name of model ``version``."""
    return f"model_{version:05d}.pt"


def trained_name(version: int) -> str:
    """The file of round ``version``'s own weights, where the model is their average."""
    return f"trained_{version:05d}.pt"


@dataclass(frozen=True)
class ModelRef:
    """A model version of the run: its number, file and the attempts it was trained on.

    Version 0 is "no model yet" (the learning curve evaluates random grasps for it).
    """

    version: int
    path: str
    attempts: int


def read_curve_models(run_dir: Path) -> dict[int, ModelRef]:
    """The learning curve's models so far, by attempt count (``checkpoints/curve.json``)."""
    try:
        data = json.loads((run_dir / CHECKPOINTS / CURVE_MODELS).read_text())
    except FileNotFoundError:
        return {}
    return {
        int(k): ModelRef(int(v["version"]), str(v["path"]), int(v["attempts"]))
        for k, v in data.items()
    }


def record_curve_checkpoints(
    run_dir: Path, counts: tuple[int, ...], model: ModelRef, next_attempts: int | None
) -> None:
    """Keep ``model`` as the curve's model of every count in [model.attempts, next_attempts).

    ``model`` is the newest model trained on at most those counts, since the next version is
    trained on ``next_attempts`` (None: there is no next one). Its checkpoint is copied to
    ``curve_<count>.pt``, so pruning never takes it; a count already kept stays as it is.
    """
    known = read_curve_models(run_dir)
    folder = run_dir / CHECKPOINTS
    new = [
        c for c in counts
        if c not in known and model.attempts <= c and (next_attempts is None or c < next_attempts)
    ]  # fmt: skip
    for count in new:
        path = ""
        if model.version:
            path = f"curve_{count:05d}.pt"
            shutil.copyfile(folder / model.path, folder / path)
        known[count] = ModelRef(model.version, path, model.attempts)
    if new:
        data = {str(c): vars(m) for c, m in sorted(known.items())}
        write_atomic(folder / CURVE_MODELS, json.dumps(data))


def read_progress(run_dir: Path) -> dict[str, Any]:
    """``progress.json`` (wall seconds so far), or an empty dict."""
    try:
        return json.loads((run_dir / PROGRESS_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_progress(run_dir: Path, data: dict[str, Any]) -> None:
    """Replace ``progress.json`` atomically."""
    write_atomic(run_dir / PROGRESS_FILE, json.dumps(data))


__all__ = [
    "ACTORS_PID",
    "CHECKPOINTS",
    "CONFIG_FILE",
    "CURVE_FILE",
    "CURVE_MODELS",
    "DATASET_FILE",
    "FINAL_MODEL",
    "LATEST",
    "PROGRESS_FILE",
    "REPORT_JSON",
    "REPORT_MD",
    "TB_DIR",
    "TRAINER_PID",
    "Latest",
    "ModelRef",
    "checkpoint_name",
    "differing_keys",
    "read_curve_models",
    "read_latest",
    "read_progress",
    "record_curve_checkpoints",
    "resolve_run_dir",
    "trained_name",
    "write_atomic",
    "write_latest",
    "write_progress",
]
