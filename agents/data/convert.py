"""Converting a grasp dataset to the current schema: ``grasp dataset PATH --convert OUT``.

The committed records of the source, in their order, go into a new file of schema 2
(:data:`~agents.data.schema.SCHEMA_VERSION`) with the source's image geometry, config and
meta (plus a ``converted_from`` entry naming the source). Heights are rounded to 0.1 mm on the
way (:mod:`agents.data.codec`), so the new file's digest differs from the source's; a source
height outside ``[0, max_height]`` stops the conversion with
:class:`~agents.data.errors.InvalidRecord` naming the record. A conversion that stops leaves
a valid dataset of the records converted so far; delete it and convert again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from agents.data.errors import DatasetError, InvalidRecord
from agents.data.reader import GraspDataset
from agents.data.writer import GraspDatasetWriter

BLOCK = 256
"""Records read from the source at a time."""


def _per_record(size: int, n: int) -> float | None:
    return size / n if n else None


def convert(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    count: int | None = None,
    compression: str | None = "gzip",
) -> dict[str, Any]:
    """Write the first ``count`` committed records of ``source`` (default: all) to ``target``.

    Returns:
        source, target, records, source_schema, target_schema, source_bytes, target_bytes,
        and the bytes per record of each (the source's over all its records).

    Raises:
        DatasetError: ``target`` exists, ``source`` is no readable dataset, or ``count``
            exceeds its committed records.
        InvalidRecord: a source record does not fit schema 2.
    """
    source, target = Path(source), Path(target)
    if target.exists():
        raise DatasetError(f"{target}: expected a new file to convert into, found one there")
    with GraspDataset(source) as src:
        n = len(src) if count is None else int(count)
        if not 0 <= n <= len(src):
            raise DatasetError(f"{source}: expected 0 <= count <= {len(src)} records, got {n}")
        origin = {"path": str(source), "schema_version": src.schema_version, "records": n}
        meta = {**src.meta, "converted_from": origin}
        with GraspDatasetWriter.open(
            target, image=src.image, config=src.config, meta=meta,
            compression=compression, fsync=False,
        ) as writer:  # fmt: skip
            _copy_records(src, writer, n)
        schema, total = writer.schema_version, len(src)
    source_bytes, target_bytes = source.stat().st_size, target.stat().st_size
    return {
        "source": str(source),
        "target": str(target),
        "records": n,
        "source_schema": origin["schema_version"],
        "target_schema": schema,
        "source_bytes": source_bytes,
        "target_bytes": target_bytes,
        "source_bytes_per_record": _per_record(source_bytes, total),
        "target_bytes_per_record": _per_record(target_bytes, n),
    }


def _copy_records(src: GraspDataset, writer: GraspDatasetWriter, n: int) -> None:
    for start in range(0, n, BLOCK):
        arrays = src.read(slice(start, min(n, start + BLOCK)))
        for i in range(len(arrays)):
            try:
                writer.append(arrays.record(i))
            except InvalidRecord as exc:
                raise InvalidRecord(f"{src.path}: record {start + i}: {exc}") from exc


__all__ = ["convert"]
