"""Opening dataset files with HDF5 in SWMR mode, with bounded retries and clear errors.

A SWMR reader that meets a metadata block with a bad checksum assumes a writer is halfway
through updating it and reads again, sleeping 1, 2, 4, ... ns between tries, up to the file
access property "metadata read attempts" (100 by default for SWMR). With 100 tries the last
sleeps are astronomically long, so a truncated or damaged file hangs its SWMR reader for ever.
h5py does not expose ``H5Pset_metadata_read_attempts``; :func:`swmr_fapl` calls it through
ctypes on the very HDF5 library h5py has loaded, bounding the total sleep to about a second.
Where that library cannot be found the HDF5 default stays in force; callers that must not
hang on untrusted files use :func:`agents.data.check.check_file`, which opens them in a
subprocess with a timeout.
"""

from __future__ import annotations

import ctypes
import functools
import os
from pathlib import Path

import h5py
from h5py import h5f, h5p

from agents.data.schema import DatasetError

READ_ATTEMPTS = 30
"""Metadata read attempts of a SWMR reader: the sleeps between them add up to about 1 s."""


@functools.cache
def _set_read_attempts() -> object | None:
    """``H5Pset_metadata_read_attempts`` of the HDF5 library loaded by h5py, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/libhdf5" in line}
    except OSError:
        return None
    for path in sorted(paths):
        if "libhdf5_hl" in path or not os.path.exists(path):
            continue
        try:
            # RTLD_NOLOAD: only a library already in the process, so its state is h5py's own
            lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD)
            func = lib.H5Pset_metadata_read_attempts
        except (OSError, AttributeError):
            continue
        func.argtypes = [ctypes.c_int64, ctypes.c_uint]
        func.restype = ctypes.c_int
        return func
    return None


def bounded_retries() -> bool:
    """True when SWMR readers opened here give up on bad metadata after about a second."""
    return _set_read_attempts() is not None


def swmr_fapl(read_attempts: int = READ_ATTEMPTS) -> h5p.PropFAID:
    """A file access property list for SWMR: latest format, no HDF5 file lock, bounded retries.

    No HDF5 file lock: the writer lock (``PATH.lock``) keeps writers apart, SWMR readers
    need none, and HDF5 refuses to mix locking flags on one file within a process.
    """
    fapl = h5p.create(h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5f.LIBVER_LATEST, h5f.LIBVER_LATEST)
    fapl.set_file_locking(False, True)
    func = _set_read_attempts()
    if func is not None and func(fapl.id, read_attempts) < 0:  # type: ignore[operator]
        raise DatasetError(f"HDF5 refused metadata read attempts = {read_attempts}")
    return fapl


def open_swmr_read(path: str | os.PathLike[str]) -> h5py.File:
    """Open an HDF5 file as a SWMR reader; errors say what the file is instead.

    Raises:
        DatasetError: no such file, not an HDF5 file, a truncated or damaged one.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: expected a grasp dataset file, found no such file")
    if not path.is_file():
        raise DatasetError(f"{path}: expected a grasp dataset file, found no regular file")
    try:
        fid = h5f.open(os.fsencode(path), h5f.ACC_RDONLY | h5f.ACC_SWMR_READ, fapl=swmr_fapl())
    except OSError as exc:
        text = str(exc)
        if "signature not found" in text:
            why = "not an HDF5 file (no HDF5 signature)"
        elif "truncated" in text:
            why = "a truncated HDF5 file"
        else:
            why = "a damaged or truncated HDF5 file"
        raise DatasetError(f"{path}: expected a grasp dataset, found {why}: {text}") from exc
    return h5py.File(fid)


def open_swmr_write(path: Path) -> h5py.File:
    """Open ``path`` read-write directly in SWMR mode (never in plain write mode).

    Opening straight into SWMR mode leaves no moment in which a SWMR reader would find the
    file marked open for plain writing.
    """
    fid = h5f.open(os.fsencode(path), h5f.ACC_RDWR | h5f.ACC_SWMR_WRITE, fapl=swmr_fapl())
    return h5py.File(fid)
