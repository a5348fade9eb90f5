"""The train/test split of paper III-F: a hash of each grasp's timestamp decides its set.

A record goes to the test set when the hash of its timestamp, mapped to [0, 1), is below the
test fraction (0.2 in the paper). The hash depends on nothing but the timestamp, so a record
never changes sets as the dataset grows, and every process and machine computes the same
split. It is not Python's ``hash()``, which is salted per process.

The hash: SHA-256 of the timestamp's 8 bytes as an IEEE 754 little-endian float64; the first
8 bytes of the digest, read as a big-endian unsigned integer, keep their top 53 bits, divided
by 2**53. In Python::

    u = int.from_bytes(hashlib.sha256(struct.pack("<d", t)).digest()[:8], "big")
    fraction = (u >> 11) / 2**53
"""

from __future__ import annotations

import hashlib

import numpy as np

from agents.data.schema import DatasetError

TEST_FRACTION = 0.2
"""The share of records the paper assigns to the test set (III-F)."""


def timestamp_hash(timestamps: np.ndarray | list[float] | float) -> np.ndarray:
    """Each timestamp's hash in [0, 1), as float64 of the same shape.

    Args:
        timestamps: seconds since the Unix epoch, any shape; converted to float64.
    """
    ts = np.ascontiguousarray(timestamps, dtype="<f8")
    raw = ts.tobytes()
    top = [
        int.from_bytes(hashlib.sha256(raw[k : k + 8]).digest()[:8], "big") >> 11
        for k in range(0, len(raw), 8)
    ]
    return (np.array(top, dtype=np.float64) / 2.0**53).reshape(ts.shape)


def in_test_set(
    timestamps: np.ndarray | list[float], test_fraction: float = TEST_FRACTION
) -> np.ndarray:
    """Boolean array: True where the record with this timestamp belongs to the test set."""
    if not 0.0 <= test_fraction <= 1.0:
        raise DatasetError(f"test_fraction must lie in [0, 1], got {test_fraction!r}")
    return timestamp_hash(timestamps) < test_fraction


def split(
    timestamps: np.ndarray | list[float], test_fraction: float = TEST_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """Record indices of the train and the test set, each ascending (int64)."""
    mask = in_test_set(np.asarray(timestamps, dtype=np.float64).reshape(-1), test_fraction)
    return np.flatnonzero(~mask), np.flatnonzero(mask)
