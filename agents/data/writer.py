"""The grasp dataset's writer: append-only, crash-safe, resumable, one writer at a time.

The file is an HDF5 file in SWMR mode (single writer, multiple readers). Every dataset is
created, and every file attribute written, before the file is published under its name; the
writer then only appends. Each :meth:`GraspDatasetWriter.append` resizes, writes and flushes
every per-record dataset, and only then raises the ``committed`` count and flushes it. A
reader trusts ``committed`` alone, so a writer killed at any moment leaves at most one
uncommitted record behind, and the file opens in SWMR read mode without ``h5clear``.

HDF5 refuses to reopen a file for writing after its writer died (the superblock still says it
is open for writing). :meth:`GraspDatasetWriter.open` then *rebuilds* the file instead of
repairing it in place: it reads the committed records through a SWMR reader, writes them to a
temporary file in the same directory, fsyncs it and atomically renames it over the old one
(raw compressed chunks are copied, not recompressed). A kill during the rebuild leaves the
old file intact. The rebuild is logged in the ``recoveries`` file attribute.

One file, one schema: a new file is written in schema 2
(:data:`~agents.data.schema.SCHEMA_VERSION`), and a resumed file keeps the schema it was
created with, so a run begun under schema 1 goes on appending schema 1 records (and its
digest goes on as an uninterrupted run's would).

Only one writer may hold a dataset: ``open`` takes an exclusive ``flock`` on ``PATH.lock``
(released by the kernel when the process dies, so a crash never leaves a stale lock). The
lock is advisory: it keeps out other writers of this module, not arbitrary programs.
"""

from __future__ import annotations

import datetime
import fcntl
import glob
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

import grasp_env
from agents.data.codec import height_code_limit
from agents.data.errors import DatasetError, DatasetLocked, InvalidRecord
from agents.data.h5 import open_swmr_read, open_swmr_write
from agents.data.schema import (
    COMMITTED,
    FIELDS,
    FORMAT,
    SCHEMA_VERSION,
    FieldSpec,
    GraspRecord,
    Layout,
    check_layout,
    config_json,
    read_attr,
)
from grasp_env.geometry import ImageGeometry

SCALAR_CHUNK = 64
"""Records per chunk of the small per-record datasets (uncompressed)."""

COMPRESSIONS = ("gzip", "lzf", None)
"""Image compressions :meth:`GraspDatasetWriter.open` accepts for a new file."""

_CRASHED = "already open for write"
_LOCKED = "unable to lock file"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tmp_name(path: Path, what: str) -> Path:
    return path.with_name(f".{path.name}.{what}-{os.getpid()}.tmp")


def _publish(tmp: Path, path: Path) -> None:
    """Make ``tmp`` durable and rename it onto ``path`` atomically."""
    _fsync_file(tmp)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class _WriterLock:
    """An exclusive ``flock`` on ``PATH.lock``, naming its holder inside the file."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(path.name + ".lock")
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DatasetError(f"{path}: cannot create the writer lock {self.path}: {exc}") from exc
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            os.close(self.fd)
            raise DatasetLocked(
                f"{path}: expected to be the only writer, but another writer holds {self.path}"
                f" (holder: {holder}); stop it, or write to another file"
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = -1


def _storage(
    spec: FieldSpec, shape: tuple[int, ...], compression: str | None, level: int | None
) -> dict[str, Any]:
    """Chunking and filters: images one record per chunk, compressed; the rest 64 a chunk."""
    if not spec.is_image:
        return {"chunks": (SCALAR_CHUNK, *shape)}
    if compression is None:
        return {"chunks": (1, *shape)}
    # byte-shuffling groups the bytes of multi-byte values, which gzip then finds runs in
    shuffle = np.dtype(spec.dtype).itemsize > 1
    return {
        "chunks": (1, *shape),
        "compression": compression,
        "compression_opts": level,
        "shuffle": shuffle,
    }


def _create_datasets(
    f: h5py.File,
    image: ImageGeometry,
    fields: tuple[FieldSpec, ...],
    compression: str | None,
    level: int | None,
) -> None:
    """Create every dataset of ``fields``, empty, in ``f`` (not yet in SWMR mode)."""
    for spec in fields:
        shape = spec.record_shape(image.shape)
        storage = _storage(spec, shape, compression, level)
        ds = f.create_dataset(
            spec.name, shape=(0, *shape), maxshape=(None, *shape), dtype=spec.dtype, **storage
        )
        ds.attrs["units"] = spec.units
        ds.attrs["description"] = spec.description
        for key, value in (spec.codec.attrs if spec.codec else {}).items():
            ds.attrs[key] = value
    committed = f.create_dataset(COMMITTED, data=np.zeros(1, np.int64), maxshape=(1,), chunks=(1,))
    committed.attrs["description"] = "number of complete records; read nothing beyond it"


def _write_new(
    path: Path,
    image: ImageGeometry,
    config: str,
    meta: str,
    compression: str | None,
) -> None:
    """Create an empty dataset file at ``path`` atomically (temp file, fsync, rename)."""
    if compression not in COMPRESSIONS:
        raise DatasetError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
    height_code_limit(image)  # refuses a max_height schema 2 cannot store
    tmp = _tmp_name(path, "create")
    now = time.time()
    try:
        with h5py.File(tmp, "w", libver="latest") as f:
            f.attrs["format"] = FORMAT
            f.attrs["schema_version"] = SCHEMA_VERSION
            f.attrs["pixel_size"] = float(image.pixel_size)
            f.attrs["image_shape"] = np.array(image.shape, np.int64)
            f.attrs["max_height"] = float(image.max_height)
            f.attrs["units"] = json.dumps({s.name: s.units for s in FIELDS})
            f.attrs["fields"] = json.dumps({s.name: s.description for s in FIELDS})
            f.attrs["config"] = config
            f.attrs["meta"] = meta
            f.attrs["library_version"] = grasp_env.__version__
            f.attrs["h5py_version"] = h5py.version.version
            f.attrs["hdf5_version"] = h5py.version.hdf5_version
            f.attrs["created"] = now
            f.attrs["created_iso"] = datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat()
            f.attrs["recoveries"] = "[]"
            level = 1 if compression == "gzip" else None
            _create_datasets(f, image, FIELDS, compression, level)
        _publish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _rebuild(path: Path) -> int:
    """Rewrite a file whose writer died: keep the committed records; return how many dropped.

    The committed records are copied into a temporary file that replaces ``path`` atomically.
    """
    tmp = _tmp_name(path, "rebuild")
    try:
        with open_swmr_read(path) as src:
            layout = check_layout(src, str(path))
            n, fields = layout.count, layout.fields
            tail = max(src[s.name].shape[0] for s in fields) - n
            height = src["height"]
            with h5py.File(tmp, "w", libver="latest") as dst:
                for key, value in src.attrs.items():
                    dst.attrs[key] = value
                history = json.loads(read_attr(src, "recoveries", str(path)))
                history.append({"time": time.time(), "committed": n, "dropped": tail})
                dst.attrs["recoveries"] = json.dumps(history)
                _create_datasets(
                    dst, layout.image, fields, height.compression, height.compression_opts
                )
                for spec in fields:
                    _copy(src[spec.name], dst[spec.name], n)
                dst[COMMITTED][0] = n
        _publish(tmp, path)
        return tail
    finally:
        tmp.unlink(missing_ok=True)


def _copy(src: h5py.Dataset, dst: h5py.Dataset, n: int) -> None:
    """Copy the first ``n`` records; raw chunks as they are where the chunking is per record."""
    dst.resize(n, axis=0)
    if src.chunks is not None and src.chunks[0] == 1 and len(src.chunks) > 1:
        zeros = (0,) * (src.ndim - 1)
        for i in range(n):
            mask, raw = src.id.read_direct_chunk((i, *zeros))
            dst.id.write_direct_chunk((i, *zeros), raw, mask)
        return
    step = 4096
    for start in range(0, n, step):
        dst[start : min(n, start + step)] = src[start : min(n, start + step)]


class GraspDatasetWriter:
    """Appends grasp records to one dataset file; see the module docstring for the guarantees.

    Use :meth:`open`, which creates the file or resumes it. As a context manager it closes the
    file (cleanly, so the next open needs no rebuild) and releases the lock.

    Attributes:
        path: the dataset file.
        image: the image geometry every record must match.
        schema_version: the file's schema version: 2 for a new file, a resumed file's own.
        dropped: uncommitted records discarded when this open resumed after a crash (0 or 1).
    """

    def __init__(
        self,
        path: Path,
        file: h5py.File,
        lock: _WriterLock,
        layout: Layout,
        fsync: bool,
        dropped: int,
    ) -> None:
        self.path = path
        self.image = layout.image
        self.schema_version = layout.version
        self.dropped = dropped
        self._file: h5py.File | None = file
        self._lock = lock
        self._count = layout.count
        self._datasets = [(spec, file[spec.name]) for spec in layout.fields]
        self._committed = file[COMMITTED]
        self._fsync_fd = os.open(path, os.O_RDONLY) if fsync else -1

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        image: ImageGeometry | None = None,
        config: Any = None,
        meta: dict[str, Any] | None = None,
        compression: str | None = "gzip",
        fsync: bool = True,
        check_timeout: float | None = 30.0,
    ) -> GraspDatasetWriter:
        """Create the dataset at ``path``, or resume appending to the one there.

        Args:
            path: the dataset file; ``PATH.lock`` next to it serves as the writer lock.
            image: the image geometry. For a new file: defaults to ``config.image`` when the
                config has one, else to ``ImageGeometry()``. For an existing file: None
                accepts the stored geometry; anything else must equal it.
            config: the resolved configuration (a dataclass or a mapping), stored as JSON.
                For an existing file: None accepts the stored config; anything else must
                equal it, so data collected under another config goes to another file.
            meta: reproduction metadata (git commit, env kwargs, versions), stored as JSON
                with a new file; ignored when resuming.
            compression: image compression of a new file: "gzip" (level 1), "lzf" or None.
            fsync: fsync the file after every record, so a committed record also survives
                a power loss of the machine (SIGKILL safety does not need it).
            check_timeout: when resuming, first open the file in a subprocess that must
                finish within this many seconds (a damaged HDF5 file can hang its reader,
                HDFGroup/hdf5#1707); None skips the check.

        Raises:
            DatasetLocked: another writer holds the dataset.
            SchemaVersionError: the file has another schema version.
            DatasetError: the file is not a grasp dataset, is damaged, or does not match
                ``image`` or ``config``.
        """
        path = Path(path).absolute()
        if not path.parent.is_dir():
            raise DatasetError(f"{path}: the directory {path.parent} does not exist")
        lock = _WriterLock(path)
        try:
            for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
                stale.unlink(missing_ok=True)
            if not path.exists():
                if image is None:
                    found = getattr(config, "image", None)
                    image = found if isinstance(found, ImageGeometry) else ImageGeometry()
                _write_new(path, image, config_json(config), config_json(meta or {}), compression)
            elif check_timeout is not None:
                from agents.data.check import check_file

                check_file(path, timeout=check_timeout)
            file, dropped = cls._open_file(path)
            try:
                layout = check_layout(file, str(path))
                cls._check_match(path, file, layout.image, image, config)
            except BaseException:
                file.close()
                raise
            return cls(path, file, lock, layout, fsync, dropped)
        except BaseException:
            lock.release()
            raise

    @staticmethod
    def _open_file(path: Path) -> tuple[h5py.File, int]:
        dropped = 0
        for attempt in range(2):
            try:
                return open_swmr_write(path), dropped
            except OSError as exc:
                text = str(exc)
                if _CRASHED in text and attempt == 0:
                    try:
                        dropped = _rebuild(path)
                    except DatasetError:
                        raise
                    except Exception as err:
                        raise DatasetError(
                            f"{path}: its last writer died, and copying its committed records"
                            f" into a fresh file failed (the file is left as it was): {err}"
                        ) from err
                    continue
                if _LOCKED in text:
                    raise DatasetLocked(
                        f"{path}: expected no other program to hold the file, but HDF5 could not"
                        " lock it; a reader has it open without SWMR (open it with"
                        " GraspDataset, or h5py.File(path, 'r', swmr=True, locking=False))"
                    ) from exc
                raise DatasetError(f"{path}: cannot open the dataset for appending: {exc}") from exc
        raise DatasetError(f"{path}: still marked open for writing after a rebuild")

    @staticmethod
    def _check_match(
        path: Path, file: h5py.File, stored: ImageGeometry, image: ImageGeometry | None, config: Any
    ) -> None:
        if image is not None and image != stored:
            raise DatasetError(f"{path}: the file holds images of {stored}, got {image}")
        if config is None:
            return
        have = json.loads(read_attr(file, "config", str(path)))
        want = json.loads(config_json(config))
        if have != want:
            keys = sorted(set(have) | set(want)) if isinstance(have, dict) else []
            if isinstance(have, dict) and isinstance(want, dict):
                keys = [k for k in keys if have.get(k) != want.get(k)]
            raise DatasetError(
                f"{path}: the file was collected under another config (differing keys: {keys});"
                " pass config=None to append under the stored config, or write a new file"
            )

    @property
    def count(self) -> int:
        """The number of committed records."""
        return self._count

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._file is None

    def append(self, record: GraspRecord) -> int:
        """Write one record and commit it; return the new committed count.

        When this returns, the record is committed: a reader sees it after its next refresh,
        and a crash from now on cannot lose it.

        Raises:
            InvalidRecord: the record's image shape differs from the file's, or (schema 2) a
                height lies outside the file's ``[0, max_height]``; nothing is written.
            DatasetError: the writer is closed, or the write failed (the writer then closes;
                reopen it to go on).
        """
        if self._file is None:
            raise DatasetError(f"{self.path}: the writer is closed; open a new one to append")
        if record.height.shape != self.image.shape:
            raise InvalidRecord(
                f"height must have the file's image shape {self.image.shape},"
                f" got {record.height.shape}"
            )
        values = [(ds, self._encoded(spec, record)) for spec, ds in self._datasets]
        n = self._count
        try:
            for ds, value in values:
                if ds.shape[0] < n + 1:
                    ds.resize(n + 1, axis=0)
                ds[n] = value
            for ds, _ in values:
                ds.flush()
            self._committed[0] = n + 1
            self._committed.flush()
            if self._fsync_fd >= 0:
                os.fsync(self._fsync_fd)
        except Exception as exc:
            self.close()
            raise DatasetError(f"{self.path}: writing record {n} failed: {exc}") from exc
        self._count = n + 1
        return self._count

    def _encoded(self, spec: FieldSpec, record: GraspRecord) -> Any:
        value = record.stored(spec.name)
        return value if spec.codec is None else spec.codec.encode(value, self.image)

    def close(self) -> None:
        """Close the file cleanly and release the lock. Safe to call more than once."""
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            finally:
                if self._fsync_fd >= 0:
                    os.close(self._fsync_fd)
                    self._fsync_fd = -1
                self._lock.release()

    def __enter__(self) -> GraspDatasetWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self._count} records"
        return f"GraspDatasetWriter({str(self.path)!r}, {state})"
