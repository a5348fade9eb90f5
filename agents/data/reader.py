"""Reading the grasp dataset: the committed records as numpy arrays, also while it grows.

:class:`GraspDataset` opens the file as an HDF5 SWMR reader without taking an HDF5 file lock,
so it can read while a :class:`~agents.data.writer.GraspDatasetWriter` appends, and it never
keeps a writer from reopening the file. It sees the records below the ``committed`` count of
its last :meth:`GraspDataset.refresh` and nothing else: a consistent prefix.

Every schema version it reads gives the same arrays: a schema 2 file's height codes and
packed mask are decoded (:mod:`agents.data.codec`) to float32 metres and a uint8 mask;
``column(name, encoded=True)`` gives the stored codes instead.

A damaged file gives a :class:`~agents.data.errors.DatasetError`, after about a second of
SWMR retries (see :mod:`agents.data.h5`). Some damage can still hang the HDF5 library
(HDFGroup/hdf5#1707); this module opens files in-process, so for files you do not trust, call
:func:`agents.data.check.check_file` first, which opens them in a subprocess with a timeout.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from agents.data.errors import DatasetError
from agents.data.h5 import open_swmr_read
from agents.data.schema import (
    COMMITTED,
    FIELDS,
    FieldSpec,
    GraspRecord,
    check_layout,
    read_attr,
)
from agents.data.split import TEST_FRACTION, split


@dataclass(frozen=True)
class GraspArrays:
    """Records of a grasp dataset as arrays, one row per record, in the stored dtypes.

    Strings come back as numpy unicode arrays; unknown values keep their stored codes (NaN,
    -1). See :data:`agents.data.schema.FIELDS` for units and codes. The images are decoded,
    whatever the file's schema version.

    Attributes:
        heights: float32 (N, H, W), metres (from schema 2: multiples of 0.1 mm).
        valid: uint8 (N, H, W), 0 or 1.
        actions: float32 (N, 4): x, y (m), a (rad), d (m).
        indices: int16 (N, 4): grid index (r, i, j, k), -1s when off the grid.
        rewards: float32 (N,).
        methods: str (N,), the selection methods.
        values: float32 (N,), the predicted values, NaN when none.
        timestamps: float64 (N,), seconds since the Unix epoch.
        object_sets: str (N,).
        env_ids: str (N,).
        seeds: int64 (N,), -1 when none.
        z: float32 (N,), metres.
        reached_z: float32 (N,), metres.
        contacts: int8 (N,), 1, 0 or -1 (unknown).
        widths: float32 (N,), metres.
        forces: float32 (N,), newtons.
        cycle_times: float32 (N,), seconds.
        grasp_bins: int8 (N,), 0, 1 or -1 (unknown).
        grasped: str (N,).
    """

    heights: np.ndarray
    valid: np.ndarray
    actions: np.ndarray
    indices: np.ndarray
    rewards: np.ndarray
    methods: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray
    object_sets: np.ndarray
    env_ids: np.ndarray
    seeds: np.ndarray
    z: np.ndarray
    reached_z: np.ndarray
    contacts: np.ndarray
    widths: np.ndarray
    forces: np.ndarray
    cycle_times: np.ndarray
    grasp_bins: np.ndarray
    grasped: np.ndarray

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])

    def record(self, i: int) -> GraspRecord:
        """Row ``i`` as a :class:`GraspRecord` (unknown codes back to None)."""
        seed, contact = int(self.seeds[i]), int(self.contacts[i])
        grasp_bin = int(self.grasp_bins[i])
        return GraspRecord(
            height=self.heights[i],
            valid=self.valid[i],
            action=self.actions[i],
            index=self.indices[i],
            reward=float(self.rewards[i]),
            method=str(self.methods[i]),
            value=float(self.values[i]),
            timestamp=float(self.timestamps[i]),
            object_set=str(self.object_sets[i]),
            env_id=str(self.env_ids[i]),
            seed=None if seed < 0 else seed,
            z=float(self.z[i]),
            reached_z=float(self.reached_z[i]),
            contact=None if contact < 0 else bool(contact),
            width=float(self.widths[i]),
            force=float(self.forces[i]),
            cycle_time=float(self.cycle_times[i]),
            grasp_bin=None if grasp_bin < 0 else grasp_bin,
            grasped=str(self.grasped[i]),
        )


_PLURAL_TO_NAME = {spec.plural: spec.name for spec in FIELDS}


class GraspDataset:
    """The committed records of one grasp dataset file, read as numpy arrays.

    Args:
        path: the dataset file.

    Attributes:
        path: the dataset file.
        image: the image geometry of every record.
        schema_version: the file's schema version.
        fields: the per-record datasets of that version (:data:`~agents.data.schema.FIELDS`
            or :data:`~agents.data.schema.FIELDS_V1`).
        config: the resolved config the data was collected under (parsed JSON).
        meta: the writer's reproduction metadata (parsed JSON).
        library_version: the version of the library that created the file.
        created: creation time, seconds since the Unix epoch.
        recoveries: one entry per resume after a crashed writer.

    Raises:
        DatasetError: the file is missing, foreign, truncated or damaged.
        SchemaVersionError: the file has another schema version.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: h5py.File | None = None
        self._handles: dict[str, h5py.Dataset] = {}
        self._open()

    def _open(self) -> None:
        file = open_swmr_read(self.path)
        try:
            self._inode = os.fstat(file.id.get_vfd_handle()).st_ino
            layout = check_layout(file, str(self.path))
            self.image, self._count = layout.image, layout.count
            self.schema_version, self.fields = layout.version, layout.fields
            self._by_name: dict[str, FieldSpec] = {spec.name: spec for spec in self.fields}
            where = str(self.path)
            self.config = json.loads(read_attr(file, "config", where))
            self.meta = json.loads(read_attr(file, "meta", where))
            self.library_version = str(read_attr(file, "library_version", where))
            self.created = float(read_attr(file, "created", where))
            self.recoveries = json.loads(read_attr(file, "recoveries", where))
            # one handle per dataset: H5Drefresh with a second open handle to the same
            # dataset breaks later reads of it ("can't insert duplicate key", HDF5 2.0)
            handles = {name: file[name] for name in (*self._by_name, COMMITTED)}
        except DatasetError:
            file.close()
            raise
        except Exception as exc:
            file.close()
            raise DatasetError(f"{self.path}: damaged grasp dataset: {exc}") from exc
        if self._file is not None:
            self.close()
        self._file, self._handles = file, handles

    def _handle(self, name: str) -> h5py.Dataset:
        if self._file is None:
            raise DatasetError(f"{self.path}: the dataset is closed")
        return self._handles[name]

    def refresh(self) -> int:
        """See the records committed since the last refresh; return the committed count.

        When a resumed writer has rebuilt the file (a new file under the same name), the
        reader reopens it.
        """
        committed = self._handle(COMMITTED)
        try:
            if os.stat(self.path).st_ino != self._inode:
                self._open()
                return self._count
            committed.refresh()
            self._count = int(committed[0])
        except DatasetError:
            raise
        except Exception as exc:
            raise DatasetError(
                f"{self.path}: damaged or truncated grasp dataset: refreshing failed: {exc}"
            ) from exc
        return self._count

    def __len__(self) -> int:
        return self._count

    @property
    def uncommitted(self) -> int:
        """Rows written beyond the committed count (a record in flight, or a crash's leftover)."""
        longest = 0
        for spec in self.fields:
            longest = max(longest, self.dataset(spec.name).shape[0])
        return max(0, longest - self._count)

    def dataset(self, name: str) -> h5py.Dataset:
        """The h5py dataset ``name``, refreshed; its rows beyond ``len(self)`` are not committed."""
        ds = self._handle(name)
        ds.refresh()
        return ds

    def _rows(self, indices: Any) -> tuple[Any, np.ndarray | None]:
        """An h5py selection for ``indices`` (sorted, unique) and the order to restore."""
        n = self._count
        if indices is None:
            return slice(0, n), None
        if isinstance(indices, slice):
            return slice(*indices.indices(n)), None
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (n,):
                raise DatasetError(f"a boolean mask must have shape ({n},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise DatasetError(f"indices must be a 1-D integer array, got {idx.dtype} {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise DatasetError(
                f"indices must lie in [0, {n - 1}] (committed records), got"
                f" [{idx.min()}, {idx.max()}]"
            )
        unique, inverse = np.unique(idx, return_inverse=True)
        return unique, inverse

    def column(self, name: str, indices: Any = None, *, encoded: bool = False) -> np.ndarray:
        """One field of the committed records, by record name (``"reward"``) or array name.

        Args:
            name: a field name of :data:`~agents.data.schema.FIELDS`, singular or plural.
            indices: None (all), a slice, an integer array or a boolean mask of length N.
            encoded: give an encoded image field (schema 2's ``height`` and ``valid``) as
                stored, not decoded; no effect on other fields and on schema 1.
        """
        name = _PLURAL_TO_NAME.get(name, name)
        if name not in self._by_name:
            raise DatasetError(f"unknown field {name!r}; expected one of {sorted(self._by_name)}")
        spec = self._by_name[name]
        data = self._stored(name, indices)
        if spec.is_string:
            return np.char.decode(data, "utf-8") if data.size else data.astype(str)
        if spec.codec is not None and not encoded:
            return spec.codec.decode(data, self.image)
        return data

    def _stored(self, name: str, indices: Any) -> np.ndarray:
        """Field ``name`` of the committed records at ``indices``, as stored."""
        rows, inverse = self._rows(indices)
        ds = self._handle(name)
        try:
            ds.refresh()
            if ds.shape[0] < self._count:
                raise DatasetError(
                    f"{self.path}: damaged grasp dataset: {name!r} holds {ds.shape[0]} rows,"
                    f" fewer than the {self._count} committed"
                )
            if isinstance(rows, np.ndarray) and rows.size == 0:
                data = np.empty((0, *ds.shape[1:]), ds.dtype)
            else:
                data = ds[rows]
        except DatasetError:
            raise
        except Exception as exc:
            raise DatasetError(
                f"{self.path}: damaged or truncated grasp dataset: reading {name!r} failed: {exc}"
            ) from exc
        return data if inverse is None else data[inverse]

    def read(self, indices: Any = None) -> GraspArrays:
        """The committed records (all, or ``indices``) as :class:`GraspArrays`."""
        return GraspArrays(**{spec.plural: self.column(spec.name, indices) for spec in self.fields})

    def __getitem__(self, i: int) -> GraspRecord:
        """Record ``i`` (negative counts from the end)."""
        n = self._count
        if not -n <= int(i) < n:
            raise IndexError(f"record index must lie in [{-n}, {n - 1}], got {i}")
        return self.read(np.array([int(i) % n])).record(0)

    def split(self, test_fraction: float = TEST_FRACTION) -> tuple[np.ndarray, np.ndarray]:
        """Train and test record indices by the timestamp hash (paper III-F)."""
        return split(self.column("timestamp"), test_fraction)

    def close(self) -> None:
        """Close the file. Safe to call more than once."""
        if self._file is not None:
            file, self._file, self._handles = self._file, None, {}
            file.close()

    def __enter__(self) -> GraspDataset:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GraspDataset({str(self.path)!r}, {self._count} records, {self.image})"


def read_dataset(path: str | os.PathLike[str], indices: Any = None) -> GraspArrays:
    """All committed records of the dataset at ``path`` (or ``indices`` of them)."""
    with GraspDataset(path) as dataset:
        return dataset.read(indices)


__all__ = ["GraspArrays", "GraspDataset", "open_swmr_read", "read_dataset"]
