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

Schema version 2 (:data:`SCHEMA_VERSION`). One HDF5 file (format >= HDF5 1.10, written with
``libver="latest"``, in SWMR mode) of N records with images H x W (110 x 110 by default).
The per-record datasets, their dtypes, shapes, units and meanings are
:data:`agents.data.schema.FIELDS`, the one list the writer writes, the reader checks and
``grasp dataset --schema`` prints as a table (:func:`agents.data.schema.field_table`); beside
them ``committed`` (int64, (1,)) counts the complete records: read nothing beyond it. The file
attributes, written once before the file is published, are
:data:`agents.data.schema.ROOT_ATTRIBUTES`.

The images are stored compactly (:mod:`agents.data.codec`): ``height`` as uint16 codes of
0.1 mm above the bin floor (metres = code * 1e-4), which refuses heights outside the file's
``[0, max_height]``, and ``valid`` as bits packed along each row. The reader decodes both, so
``GraspArrays.heights`` are float32 metres within 0.05 mm of what was appended. A record of
the twin takes about 9 kB (36 kB in schema 1): the 23,000 attempts of the paper about 200 MB.

Schema 1 files (float32 heights, one byte per mask pixel: :data:`agents.data.schema.FIELDS_V1`)
still read, with the values and digests they always had; a writer resuming one keeps writing
schema 1, so one file holds one schema. ``grasp dataset PATH --convert OUT``
(:func:`agents.data.convert.convert`) rewrites one in schema 2.

Strings are fixed-length, NUL-padded UTF-8. Each dataset carries ``units`` and
``description`` attributes (and the height codes netCDF's ``scale_factor`` and
``add_offset``). Storage: the image datasets are chunked one record per chunk and compressed
(gzip level 1 by default, byte-shuffled for ``height``; or lzf, or none); the others are
uncompressed, 64 records per chunk. All have ``maxshape=(None, ...)``.

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
* A file of a schema version other than 1 and 2 raises :class:`SchemaVersionError` naming it;
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
from agents.data.errors import DatasetError, DatasetLocked, InvalidRecord, SchemaVersionError
from agents.data.h5 import open_swmr_read
from agents.data.reader import GraspArrays, GraspDataset, read_dataset
from agents.data.schema import (
    FIELDS,
    FIELDS_V1,
    FORMAT,
    SCHEMA_VERSION,
    FieldSpec,
    GraspRecord,
)
from agents.data.split import TEST_FRACTION, in_test_set, split, timestamp_hash
from agents.data.writer import GraspDatasetWriter

__all__ = [
    "FIELDS",
    "FIELDS_V1",
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
