"""The grasp dataset: every grasp attempt in one append-only, crash-safe HDF5 file.

Writing::

    with GraspDatasetWriter.open("grasps.h5", config=env_config) as writer:
        writer.append(GraspRecord(height=obs["height"], valid=obs["valid"], action=action,
                                  index=index, reward=reward, method="max", value=value,
                                  timestamp=time.time(), object_set="cubes",
                                  env_id="SimBinGrasp-v0", seed=seed))

Reading (also while a writer appends)::

    with GraspDataset("grasps.h5") as dataset:
        arrays = dataset.read()              # GraspArrays of the committed records
        train, test = dataset.split()        # index arrays, by timestamp hash (paper III-F)

Schema version 1 (:data:`SCHEMA_VERSION`). One HDF5 file (format >= HDF5 1.10, written with
``libver="latest"``, in SWMR mode). N records, images H x W (110 x 110 by default):

=============  ===========  =========  ====================================================
dataset        dtype        shape      meaning (unknown values)
=============  ===========  =========  ====================================================
height         float32      (N, H, W)  m above the bin floor; 0 where depth is missing
valid          uint8        (N, H, W)  1 where the height is measured
action         float32      (N, 4)     executed x (m), y (m), a (rad), d (m), bin frame
index          int16        (N, 4)     grid index r, i, j, k (-1 -1 -1 -1: not on the grid)
reward         float32      (N,)       1 held an object after lifting, 0 not
method         S32          (N,)       UTF-8 selection method, e.g. "random", "max"
value          float32      (N,)       predicted value of the action (NaN: none)
timestamp      float64      (N,)       s since the Unix epoch; keys the train/test split
object_set     S64          (N,)       UTF-8 object set ("")
env_id         S64          (N,)       UTF-8 environment id ("")
seed           int64        (N,)       episode reset seed (-1)
z              float32      (N,)       m, aimed fingertip height (NaN)
reached_z      float32      (N,)       m, fingertip height where the approach ended (NaN)
contact        int8         (N,)       1 contact ended the approach early, 0 not (-1)
width          float32      (N,)       m, finger opening measured after lifting (NaN)
force          float32      (N,)       N, clamping force (NaN)
cycle_time     float32      (N,)       s, duration of the attempt (NaN)
grasp_bin      int8         (N,)       0 or 1, the bin grasped from (-1)
grasped        S64          (N,)       UTF-8 name of the object held ("")
committed      int64        (1,)       number of complete records: read nothing beyond it
=============  ===========  =========  ====================================================

Strings are fixed-length, NUL-padded UTF-8. Each dataset carries ``units`` and
``description`` attributes. Storage: the image datasets are chunked one record per chunk and
compressed (gzip level 1 by default, byte-shuffled for ``height``; or lzf, or none); the
others are uncompressed, 64 records per chunk. All have ``maxshape=(None, ...)``.

File attributes (written once, before the file is published): ``format`` (always
"grasp-toolkit/grasp-dataset"), ``schema_version``, ``pixel_size`` (m), ``image_shape``
(rows, cols), ``max_height`` (m), ``units`` and ``fields`` (JSON: name -> unit, name ->
description), ``config`` (JSON: the resolved config), ``meta`` (JSON: git commit, versions,
env kwargs, whatever the caller passes), ``library_version`` (grasp_env.__version__),
``h5py_version``, ``hdf5_version``, ``created`` (s since the epoch), ``created_iso``, and
``recoveries`` (JSON list, one entry per resume after a crashed writer).

Guarantees, and how (see :mod:`agents.data.writer`):

* Appends only. A record is committed once :meth:`GraspDatasetWriter.append` returns: all its
  fields are written and flushed, then ``committed`` is raised and flushed, last.
* A writer killed at any moment (SIGKILL included) loses at most the record it was writing;
  the file opens without repair in SWMR read mode, which is how :class:`GraspDataset` opens.
* :meth:`GraspDatasetWriter.open` resumes a dataset, also after a crash (it then rebuilds the
  file from its committed records and atomically replaces it), so a restarted learning loop
  appends to the same dataset without losing or duplicating records.
* One writer at a time: an exclusive ``flock`` on ``PATH.lock``; a second writer gets
  :class:`DatasetLocked`.
* A file of another schema version raises :class:`SchemaVersionError` naming both versions;
  a foreign HDF5 file, a truncated or damaged one, or a non-HDF5 file raises
  :class:`DatasetError`. :func:`check_file` opens untrusted files in a subprocess with a
  timeout, since a damaged HDF5 file can hang its reader (HDFGroup/hdf5#1707).

Limits: the file must live on a local filesystem with POSIX semantics (SWMR and ``flock``
are unreliable on network filesystems). With ``fsync=True`` (the default) each committed
record is also on disk, but HDF5 does not promise that a power loss *during* a write leaves
the file consistent; SIGKILL and crashes of the writer are what is tested.
"""

from __future__ import annotations

from agents.data.check import check_file, summarize
from agents.data.h5 import open_swmr_read
from agents.data.reader import GraspArrays, GraspDataset, read_dataset
from agents.data.schema import (
    FIELDS,
    FORMAT,
    SCHEMA_VERSION,
    DatasetError,
    DatasetLocked,
    FieldSpec,
    GraspRecord,
    InvalidRecord,
    SchemaVersionError,
)
from agents.data.split import TEST_FRACTION, in_test_set, split, timestamp_hash
from agents.data.writer import GraspDatasetWriter

__all__ = [
    "FIELDS",
    "FORMAT",
    "SCHEMA_VERSION",
    "TEST_FRACTION",
    "DatasetError",
    "DatasetLocked",
    "FieldSpec",
    "GraspArrays",
    "GraspDataset",
    "GraspDatasetWriter",
    "GraspRecord",
    "InvalidRecord",
    "SchemaVersionError",
    "check_file",
    "in_test_set",
    "open_swmr_read",
    "read_dataset",
    "split",
    "summarize",
    "timestamp_hash",
]
