"""A content digest of a grasp dataset: equal records in equal order give equal digests.

The digest is a SHA-256 over the committed records' values, record by record in attempt
order, each record's fields in schema order (the file's own: :data:`~agents.data.schema.FIELDS`
for schema 2, :data:`~agents.data.schema.FIELDS_V1` for schema 1), after a header naming the
schema version, the image shape and every field's stored dtype. It does not hash the file's
bytes: HDF5 lays out the same records differently depending on chunking, compression and how
often a writer resumed, and the file attributes (creation time, library versions,
recoveries) say how a dataset was made, not what it holds. So two runs of one lockstep config
(:mod:`agents.learning.rounds`) show the same digest exactly when they recorded the same
attempts.

Image fields are hashed as stored: a schema 1 file's float32 heights and uint8 mask, a schema
2 file's uint16 height codes and packed mask bytes (strings are hashed as read, as numpy
unicode, in both). A schema 1 and a schema 2 file of the same attempts therefore have
different digests: their headers name other schemas and dtypes, and schema 2 holds heights
rounded to 0.1 mm. The schema 1 digest is the one this library always gave for such files.
"""

from __future__ import annotations

import hashlib

from agents.data.reader import GraspDataset

DIGEST_VERSION = 1
BLOCK = 256


def dataset_digest(dataset: GraspDataset, count: int | None = None) -> str:
    """The hex SHA-256 of the first ``count`` committed records (default: all of them)."""
    n = len(dataset) if count is None else int(count)
    if not 0 <= n <= len(dataset):
        raise ValueError(f"expected 0 <= count <= {len(dataset)} committed records, got {n}")
    h = hashlib.sha256()
    specs = dataset.fields
    fields = ",".join(f"{f.name}:{f.dtype}" for f in specs)
    rows, cols = dataset.image.shape
    header = f"grasp-dataset-digest {DIGEST_VERSION} schema {dataset.schema_version}"
    h.update(f"{header} image {rows}x{cols} fields {fields}\n".encode())
    for start in range(0, n, BLOCK):
        block = slice(start, min(n, start + BLOCK))
        columns = [dataset.column(f.name, block, encoded=True) for f in specs]
        for i in range(block.stop - block.start):
            for column in columns:
                h.update(column[i].tobytes())
    return h.hexdigest()


def file_digest(path: str) -> str:
    """:func:`dataset_digest` of the dataset file at ``path``."""
    with GraspDataset(path) as dataset:
        return dataset_digest(dataset)


__all__ = ["DIGEST_VERSION", "dataset_digest", "file_digest"]
