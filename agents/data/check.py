"""Checking and summarising a grasp dataset file, safely for files that may be damaged.

Opening a damaged HDF5 file can hang the HDF5 library at full CPU (HDFGroup/hdf5#1707), so
:func:`check_file` opens the file in a subprocess (``python -m agents.data.check PATH``)
and gives up after a timeout. :func:`summarize` does the same work in-process.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from agents.data.digest import dataset_digest
from agents.data.errors import DatasetError, DatasetLocked, InvalidRecord, SchemaVersionError
from agents.data.reader import GraspDataset
from agents.data.split import TEST_FRACTION, split

_ERRORS: dict[str, type[DatasetError]] = {
    cls.__name__: cls for cls in (DatasetError, DatasetLocked, InvalidRecord, SchemaVersionError)
}


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.datetime.fromtimestamp(t, datetime.UTC).isoformat(timespec="seconds")


def _rate(rewards: np.ndarray) -> float | None:
    return float(np.mean(rewards)) if rewards.size else None


def _groups(names: np.ndarray, rewards: np.ndarray) -> dict[str, dict[str, Any]]:
    return {
        str(name): {"records": count, "grasp_rate": _rate(rewards[names == name])}
        for name, count in sorted(Counter(names.tolist()).items())
    }


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    """A nested config as ``{"a.b.c": leaf}``; lists of scalars stay as leaves."""
    if isinstance(config, dict):
        out: dict[str, Any] = {}
        for key, value in config.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    if isinstance(config, list) and any(isinstance(v, dict | list) for v in config):
        out = {}
        for i, value in enumerate(config):
            out.update(flatten(value, f"{prefix}{i}."))
        return out
    return {prefix.rstrip("."): config} if prefix else {"": config}


def _check_storage(ds: GraspDataset, size: int, verify: bool) -> None:
    """Raise when committed data lies beyond the end of the file, or (verify) cannot be read."""
    n = len(ds)
    for spec in ds.fields:
        h5 = ds.dataset(spec.name)
        ends = [0]

        def visit(info: Any, ends: list[int] = ends) -> None:
            if info.chunk_offset[0] < n:
                ends.append(info.byte_offset + info.size)

        try:
            h5.id.chunk_iter(visit)
        except Exception as exc:
            raise DatasetError(f"{ds.path}: damaged chunk index of {spec.name!r}: {exc}") from exc
        if max(ends) > size:
            raise DatasetError(
                f"{ds.path}: truncated: committed data of {spec.name!r} reaches byte {max(ends)},"
                f" but the file ends at byte {size}"
            )
        if verify:
            step = 256
            for start in range(0, n, step):
                ds.column(spec.name, slice(start, min(n, start + step)))


def summarize(path: str | os.PathLike[str], verify: bool = False) -> dict[str, Any]:
    """What a dataset file holds, as plain JSON-ready data (opened in this process).

    Always checks that the committed records' storage lies inside the file (a truncated
    file is an error); with ``verify``, also reads and decompresses every committed record.

    Keys: path, file_bytes, schema_version, library_version, created, created_iso,
    pixel_size, image_shape, records, digest (:func:`agents.data.digest.dataset_digest`),
    uncommitted, grasp_rate, train, test, test_fraction,
    methods, object_sets, env_ids (each ``{name: {records, grasp_rate}}``), time_first,
    time_last, time_span_s, bytes_per_record, recoveries, config, meta.

    Raises:
        DatasetError: the file is missing, foreign or damaged (or SchemaVersionError).
    """
    path = Path(path)
    with GraspDataset(path) as ds:
        n = len(ds)
        rewards = ds.column("reward").astype(np.float64)
        stamps = ds.column("timestamp")
        train, test = split(stamps)
        first = float(stamps.min()) if n else None
        last = float(stamps.max()) if n else None
        size = path.stat().st_size
        _check_storage(ds, size, verify)
        return {
            "path": str(path),
            "file_bytes": size,
            "schema_version": ds.schema_version,
            "library_version": ds.library_version,
            "created": ds.created,
            "created_iso": _iso(ds.created),
            "pixel_size": ds.image.pixel_size,
            "image_shape": list(ds.image.shape),
            "records": n,
            "digest": dataset_digest(ds),
            "uncommitted": ds.uncommitted,
            "grasp_rate": _rate(rewards),
            "train": int(train.size),
            "test": int(test.size),
            "test_fraction": TEST_FRACTION,
            "methods": _groups(ds.column("method"), rewards),
            "object_sets": _groups(ds.column("object_set"), rewards),
            "env_ids": _groups(ds.column("env_id"), rewards),
            "time_first": first,
            "time_last": last,
            "time_first_iso": _iso(first),
            "time_last_iso": _iso(last),
            "time_span_s": None if first is None or last is None else last - first,
            "bytes_per_record": size / n if n else None,
            "recoveries": len(ds.recoveries),
            "config": ds.config,
            "meta": ds.meta,
        }


def check_file(
    path: str | os.PathLike[str], timeout: float = 30.0, verify: bool = False
) -> dict[str, Any]:
    """:func:`summarize` run in a subprocess that must finish within ``timeout`` seconds.

    Raises:
        DatasetError: the file is missing, foreign, damaged, or did not open in time (or the
            subclass the subprocess raised, e.g. SchemaVersionError).
    """
    path = Path(path)
    cmd = [sys.executable, "-m", "agents.data.check", str(path), *(["--verify"] * verify)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise DatasetError(
            f"{path}: expected the file to open within {timeout:g} s, but reading it did not"
            " finish: the file may be damaged (damaged HDF5 files can hang their reader,"
            " HDFGroup/hdf5#1707)"
        ) from None
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (done.stderr or done.stdout).strip()[-600:]
        raise DatasetError(
            f"{path}: the checker exited with status {done.returncode} without an answer"
            f" (the HDF5 library may have crashed on a damaged file): {tail}"
        ) from None
    if answer.get("ok"):
        return answer["summary"]
    raise _ERRORS.get(answer.get("error", ""), DatasetError)(answer.get("message", "unknown"))


def main(argv: list[str] | None = None) -> int:
    """Print ``{"ok": true, "summary": {...}}`` or ``{"ok": false, "error", "message"}``."""
    args = sys.argv[1:] if argv is None else argv
    verify = "--verify" in args
    args = [a for a in args if a != "--verify"]
    if len(args) != 1:
        print("usage: python -m agents.data.check PATH [--verify]", file=sys.stderr)
        return 2
    try:
        answer: dict[str, Any] = {"ok": True, "summary": summarize(args[0], verify)}
    except DatasetError as exc:
        answer = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    except Exception as exc:
        answer = {"ok": False, "error": "DatasetError", "message": f"{args[0]}: {exc!r}"}
    print(json.dumps(answer, default=str))
    return 0 if answer["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
