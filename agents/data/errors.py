"""The grasp dataset's error types: every failure of a dataset file is a :class:`DatasetError`."""

from __future__ import annotations

from grasp_env.errors import GraspError


class DatasetError(GraspError, RuntimeError):
    """A grasp dataset file that cannot be created, opened, read or appended to."""


class SchemaVersionError(DatasetError):
    """A grasp dataset written with a schema version this library does not read."""


class DatasetLocked(DatasetError):
    """Another process holds the dataset's writer lock or an HDF5 lock on the file."""


class InvalidRecord(DatasetError, ValueError):
    """A grasp record whose values do not fit the schema (shape, dtype, range, length)."""


__all__ = ["DatasetError", "DatasetLocked", "InvalidRecord", "SchemaVersionError"]
