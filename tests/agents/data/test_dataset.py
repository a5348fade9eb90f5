"""The grasp dataset: round trip, schema, damaged files, the hash split, resume, locking, CLI."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import grasp_env
from agents.data import (
    FIELDS,
    FIELDS_V1,
    FORMAT,
    SCHEMA_VERSION,
    DatasetError,
    DatasetLocked,
    GraspArrays,
    GraspDataset,
    GraspDatasetWriter,
    GraspRecord,
    InvalidRecord,
    SchemaVersionError,
    check_file,
    in_test_set,
    read_dataset,
    split,
    summarize,
    timestamp_hash,
)
from agents.data.codec import HEIGHT_CODES, HEIGHT_STEP
from agents.data.h5 import bounded_retries
from grasp_env.config import EnvConfig, to_dict
from grasp_env.errors import GraspError
from grasp_env.geometry import ImageGeometry
from grasp_toolkit.scripts import dataset_cmd

SMALL = ImageGeometry(rows=24, cols=20)
METHODS = ("random", "max", "prob", "top-5")


def on_grid(codes: np.ndarray) -> np.ndarray:
    """Heights of schema 2 codes: they are stored exactly, so their records read back equal."""
    return HEIGHT_CODES.decode(np.asarray(codes, np.uint16), SMALL)


def make_record(i: int, shape: tuple[int, int] = SMALL.shape) -> GraspRecord:
    """Record ``i``, a pure function of ``i``, with unknowns and odd values mixed in."""
    rng = np.random.default_rng(1000 + i)
    return GraspRecord(
        height=on_grid(rng.integers(0, round(0.15 / HEIGHT_STEP), shape, endpoint=True)),
        valid=(rng.random(shape) > 0.1).astype(np.uint8),
        action=rng.uniform(-0.1, 0.1, 4).astype(np.float32),
        index=None if i % 4 == 3 else rng.integers(0, 20, 4).astype(np.int16),
        reward=float(i % 2),
        method=METHODS[i % len(METHODS)],
        value=math.nan if i % 3 == 0 else float(rng.random()),
        timestamp=1_700_000_000.0 + 0.25 * i,
        object_set=("cubes", "Würfel-Ø", "")[i % 3],
        env_id="SimBinGrasp-v0",
        seed=None if i % 5 == 4 else i,
        z=float(rng.random()) * 0.05,
        reached_z=math.nan if i % 2 else 0.01,
        contact=(None, True, False)[i % 3],
        width=float(rng.random()) * 0.07,
        force=10.0,
        cycle_time=12.5 + i,
        grasp_bin=(None, 0, 1)[i % 3],
        grasped="screw" if i % 2 else "",
    )


def write(path: Path, records: range, **kwargs) -> None:
    kwargs.setdefault("image", SMALL)
    kwargs.setdefault("fsync", False)
    with GraspDatasetWriter.open(path, **kwargs) as writer:
        for i in records:
            writer.append(make_record(i, writer.image.shape))


# --- round trip and schema --------------------------------------------------------------


def test_round_trip_keeps_values_dtypes_and_shapes(tmp_path: Path) -> None:
    path = tmp_path / "grasps.h5"
    config = EnvConfig()
    with GraspDatasetWriter.open(path, config=config, meta={"git": "abc"}) as writer:
        assert writer.image == config.image  # taken from the config
        shape = writer.image.shape
        written = [make_record(i, shape) for i in range(6)]
        for n, record in enumerate(written, start=1):
            assert writer.append(record) == n
        assert writer.count == 6
    with GraspDataset(path) as ds:
        assert len(ds) == 6
        arrays = ds.read()
        for spec in FIELDS_V1:  # arrays come decoded, in schema 1's dtypes and shapes
            got = getattr(arrays, spec.plural)
            want_shape = (6, *spec.record_shape(shape))
            assert got.shape == want_shape, spec.name
            if spec.is_string:
                assert got.dtype.kind == "U", spec.name
            else:
                assert got.dtype == np.dtype(spec.dtype), spec.name
        for i, record in enumerate(written):
            assert arrays.record(i) == record
            assert ds[i] == record
        assert ds[-1] == written[-1]
        np.testing.assert_array_equal(arrays.heights[2], written[2].height)
        assert arrays.object_sets[1] == "Würfel-Ø"
        np.testing.assert_array_equal(arrays.indices[3], [-1, -1, -1, -1])
        assert math.isnan(arrays.values[0])
        assert arrays.seeds[4] == -1
        assert list(arrays.contacts[:3]) == [-1, 1, 0]
        picked = ds.read(np.array([5, 0, 5]))
        assert [picked.record(k) for k in range(3)] == [written[5], written[0], written[5]]
        mask = np.zeros(6, bool)
        mask[[1, 4]] = True
        assert len(ds.read(mask)) == 2
        np.testing.assert_array_equal(ds.column("rewards"), arrays.rewards)
        with pytest.raises(IndexError, match=r"record index must lie in \[-6, 5\], got 6"):
            ds[6]
        with pytest.raises(DatasetError, match=r"indices must lie in \[0, 5\]"):
            ds.read(np.array([0, 6]))
        with pytest.raises(DatasetError, match="unknown field 'rewardz'"):
            ds.column("rewardz")
    assert len(read_dataset(path)) == 6


def test_file_describes_itself(tmp_path: Path) -> None:
    path = tmp_path / "grasps.h5"
    before = time.time()
    write(path, range(2), config=EnvConfig(), image=None, meta={"git_commit": "0123abc"})
    with h5py.File(path, "r", swmr=True, libver="latest", locking=False) as f:
        attrs = dict(f.attrs)
        assert attrs["format"] == FORMAT
        assert attrs["schema_version"] == SCHEMA_VERSION == 2
        assert attrs["pixel_size"] == pytest.approx(0.002)
        assert list(attrs["image_shape"]) == [110, 110]
        assert attrs["max_height"] == pytest.approx(0.15)
        assert json.loads(attrs["units"])["height"] == "0.1 mm"
        assert json.loads(attrs["units"])["action"] == "m, m, rad, m"
        assert json.loads(attrs["config"]) == json.loads(json.dumps(to_dict(EnvConfig())))
        assert json.loads(attrs["meta"]) == {"git_commit": "0123abc"}
        assert attrs["library_version"] == grasp_env.__version__
        assert attrs["hdf5_version"] == h5py.version.hdf5_version
        assert before <= attrs["created"] <= time.time()
        assert f["committed"][0] == 2
        for spec in FIELDS:
            ds = f[spec.name]
            assert ds.maxshape[0] is None
            assert ds.attrs["units"] == spec.units
            assert ds.attrs["description"] == spec.description
        assert f["height"].chunks == (1, 110, 110)
        assert f["height"].compression == "gzip"
        assert f["height"].dtype == np.uint16
        assert (f["height"].attrs["scale_factor"], f["height"].attrs["add_offset"]) == (1e-4, 0.0)
        assert f["valid"].chunks == (1, 110, 14)
    with GraspDataset(path) as ds:
        assert ds.config == json.loads(json.dumps(to_dict(EnvConfig())))
        assert ds.library_version == grasp_env.__version__
        assert ds.recoveries == []


@pytest.mark.parametrize("compression", ["lzf", None])
def test_other_compressions_round_trip(tmp_path: Path, compression: str | None) -> None:
    path = tmp_path / "grasps.h5"
    write(path, range(3), compression=compression)
    with GraspDataset(path) as ds:
        assert [ds[i] for i in range(3)] == [make_record(i) for i in range(3)]


def test_from_step_reads_the_env_info(tmp_path: Path) -> None:
    obs = {"height": np.zeros(SMALL.shape, np.float32), "valid": np.ones(SMALL.shape, np.uint8)}
    info = {
        "pose": {"x": 0.01, "y": 0.0, "z": 0.021, "a": 0.1, "d": 0.05},
        "reached_z": 0.024,
        "contact": True,
        "gripper_width": 0.031,
        "grasped_object": "cube_3",
        "cycle_time": 17.5,
        "grasp_bin": 1,
    }
    action = np.array([0.01, 0.0, 0.1, 0.05], np.float32)
    record = GraspRecord.from_step(
        obs, action, 1.0, info, method="max", timestamp=1.7e9, value=0.9, seed=3, force=10.0
    )
    assert record.z == pytest.approx(0.021)
    assert record.reached_z == pytest.approx(0.024)
    assert record.contact is True
    assert record.width == pytest.approx(0.031)
    assert record.grasped == "cube_3"
    assert record.grasp_bin == 1
    assert record.cycle_time == pytest.approx(17.5)
    bare = GraspRecord.from_step(obs, action, 0.0, {}, method="random", timestamp=1.7e9)
    assert math.isnan(bare.z)
    assert bare.contact is None
    assert bare.grasp_bin is None
    path = tmp_path / "grasps.h5"
    with GraspDatasetWriter.open(path, image=SMALL, fsync=False) as writer:
        writer.append(record)
        writer.append(bare)
    with GraspDataset(path) as ds:
        assert ds[0] == record
        assert ds[1] == bare


BAD_FIELDS = [
    ({"height": np.zeros((2, 3, 4))}, r"height must be a 2-D \(H, W\) image, got shape"),
    ({"valid": np.ones((5, 5), np.uint8)}, r"valid must have shape \(24, 20\), got \(5, 5\)"),
    ({"valid": np.full(SMALL.shape, 2, np.uint8)}, r"valid must hold only 0 and 1"),
    ({"height": np.full(SMALL.shape, np.nan)}, r"height must be finite, got NaN or inf"),
    ({"action": [0.0, 0.0, 0.0]}, r"action must have shape \(4,\), got \(3,\)"),
    ({"action": [0.0, np.inf, 0.0, 0.05]}, r"action must be finite"),
    ({"action": ["a", "b", "c", "d"]}, r"action must be numeric \(float32\), got dtype <U1"),
    ({"index": [1, -1, 2, 0]}, r"index must be four values >= 0 or four -1s, got"),
    ({"index": [1.5, 0, 0, 0]}, r"index must hold integers \(int16\)"),
    ({"index": [70000, 0, 0, 0]}, r"index does not fit int16 without loss"),
    ({"reward": math.nan}, r"reward must be a finite number, got nan"),
    ({"reward": "1"}, r"^reward must be a real number, got '1'$"),
    ({"value": math.inf}, r"value must be a finite number or NaN, got inf"),
    ({"method": ""}, r"method must be 1..32 UTF-8 bytes without NUL, got 0 bytes"),
    ({"method": "x" * 33}, r"method must be 1..32 UTF-8 bytes without NUL, got 33 bytes"),
    ({"method": 3}, r"method must be a str, got int 3"),
    ({"timestamp": math.inf}, r"timestamp must be a finite number, got inf"),
    ({"object_set": "a\x00b"}, r"object_set must be at most 64 UTF-8 bytes without NUL"),
    ({"seed": -2}, r"seed must be an int >= 0 or None, got -2"),
    ({"contact": "yes"}, r"contact must be True, False or None, got 'yes'"),
    ({"grasp_bin": 2}, r"grasp_bin must be 0, 1 or None, got 2"),
]


@pytest.mark.parametrize(("change", "message"), BAD_FIELDS)
def test_bad_records_are_refused_with_what_was_expected(change: dict, message: str) -> None:
    fields = {
        "height": np.zeros(SMALL.shape, np.float32),
        "valid": np.ones(SMALL.shape, np.uint8),
        "action": np.zeros(4, np.float32),
        "reward": 0.0,
        "method": "max",
        "timestamp": 1.7e9,
    }
    fields.update(change)
    with pytest.raises(InvalidRecord, match=message) as info:
        GraspRecord(**fields)
    assert isinstance(info.value, GraspError)
    assert isinstance(info.value, ValueError)


def test_writer_refuses_images_of_another_size(tmp_path: Path) -> None:
    with GraspDatasetWriter.open(tmp_path / "g.h5", image=SMALL, fsync=False) as writer:
        with pytest.raises(InvalidRecord, match=r"file's image shape \(24, 20\), got \(12, 10\)"):
            writer.append(make_record(0, (12, 10)))
        assert writer.count == 0
    writer.close()  # twice is fine
    with pytest.raises(DatasetError, match="the writer is closed"):
        writer.append(make_record(0))


# --- schema versions and damaged files ----------------------------------------------------


def test_another_schema_version_is_refused_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "future.h5"
    write(path, range(2))
    with h5py.File(path, "r+", libver="latest") as f:
        f.attrs["schema_version"] = 3
    message = r"schema version 3 is not supported: this library reads schema versions 1 and 2"
    with pytest.raises(SchemaVersionError, match=message):
        GraspDataset(path)
    with pytest.raises(SchemaVersionError, match=message):
        check_file(path, timeout=60)
    with pytest.raises(SchemaVersionError, match=message):
        GraspDatasetWriter.open(path)


def test_a_foreign_hdf5_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.zeros((3, 4, 4))
    content = path.read_bytes()
    message = r"not a grasp dataset: expected the file attribute format='grasp-toolkit/grasp-"
    with pytest.raises(DatasetError, match=message):
        GraspDataset(path)
    with pytest.raises(DatasetError, match=message):
        check_file(path, timeout=60)
    with pytest.raises(DatasetError, match=message):
        GraspDatasetWriter.open(path)
    assert path.read_bytes() == content


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file\n" * 100])
def test_a_non_hdf5_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "text.h5"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=r"found not an HDF5 file \(no HDF5 signature\)"):
        GraspDataset(path)
    with pytest.raises(DatasetError, match=r"not an HDF5 file"):
        GraspDatasetWriter.open(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"missing\.h5: expected a grasp dataset file, found no"):
        GraspDataset(tmp_path / "missing.h5")
    with pytest.raises(DatasetError, match=r"the directory .*nowhere does not exist"):
        GraspDatasetWriter.open(tmp_path / "nowhere" / "g.h5")


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("intact") / "grasps.h5"
    write(path, range(60), image=ImageGeometry(rows=32, cols=32))
    return path


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fraction", [0.999, 0.6, 0.05, 0.005])
def test_a_truncated_file_gives_an_error_not_a_hang(
    intact: Path, tmp_path: Path, fraction: float
) -> None:
    path = tmp_path / "cut.h5"
    shutil.copy(intact, path)
    os.truncate(path, int(intact.stat().st_size * fraction))
    with pytest.raises(DatasetError, match=r"cut\.h5: .*(truncated|damaged)"):
        check_file(path, timeout=60)
    if bounded_retries():  # in-process too, thanks to the bounded SWMR retries
        with pytest.raises(DatasetError, match=r"cut\.h5: "):
            with GraspDataset(path) as ds:
                ds.read()


def _flip(path: Path, offset: int, count: int, rng: random.Random) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        old = f.read(count)
        f.seek(offset)
        f.write(bytes(b ^ rng.randrange(1, 256) for b in old))


@pytest.mark.timeout(180)
def test_corrupt_files_give_an_error_or_a_summary_never_a_hang(
    intact: Path, tmp_path: Path
) -> None:
    rng = random.Random(1707)
    size = intact.stat().st_size
    path = tmp_path / "bad.h5"
    with h5py.File(intact, "r") as f:
        chunk = f["height"].id.get_chunk_info(7)
    # the superblock, object headers near the start, a compressed image chunk: must be errors
    for offset, count in [(0, 8), (40, 8), (900, 64), (chunk.byte_offset + 10, 16)]:
        shutil.copy(intact, path)
        _flip(path, offset, count, rng)
        with pytest.raises(DatasetError, match=r"bad\.h5: "):
            check_file(path, timeout=60, verify=True)
    # anywhere: an error or a summary (raw uncompressed numbers carry no checksum), in time
    outcomes = []
    for _ in range(6):
        shutil.copy(intact, path)
        _flip(path, rng.randrange(size - 64), 64, rng)
        try:
            outcomes.append(str(check_file(path, timeout=60, verify=True)["records"]))
        except DatasetError as exc:
            outcomes.append(str(exc))
    assert len(outcomes) == 6
    assert all(o == "60" or "bad.h5: " in o for o in outcomes), outcomes


def test_check_file_times_out_with_a_clear_error(
    intact: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A reader that hangs (HDFGroup/hdf5#1707) is stopped and named; simulated by a sleep."""
    hang = tmp_path / "hang.py"
    hang.write_text("import time\ntime.sleep(60)\n")
    real_run = subprocess.run

    def slow_run(cmd: list[str], **kwargs):  # the checker, replaced by a process that hangs
        return real_run([sys.executable, str(hang)], **kwargs)

    monkeypatch.setattr(subprocess, "run", slow_run)
    start = time.monotonic()
    with pytest.raises(DatasetError, match=r"expected the file to open within 0.5 s.*hdf5#1707"):
        check_file(intact, timeout=0.5)
    assert time.monotonic() - start < 10.0


# --- the train/test split ----------------------------------------------------------------

FIXED = [1_700_000_000.0 + 0.25 * i for i in range(12)]
FIXED_HASH = [
    0.7365764633986649, 0.32679524087835754, 0.11643460764774305, 0.36365246052767053,
    0.17297010896435028, 0.4320128235764965, 0.5198059997646657, 0.4246556427264637,
    0.3956880884166043, 0.05175807853884595, 0.1375095483559753, 0.6333506270974884,
]  # fmt: skip


def test_the_split_of_fixed_timestamps_is_fixed() -> None:
    np.testing.assert_array_equal(timestamp_hash(FIXED), FIXED_HASH)
    train, test = split(FIXED)
    np.testing.assert_array_equal(test, [2, 4, 9, 10])
    np.testing.assert_array_equal(train, [0, 1, 3, 5, 6, 7, 8, 11])
    # the documented recipe, written out independently
    for t, h in zip(FIXED, FIXED_HASH, strict=True):
        u = int.from_bytes(hashlib.sha256(struct.pack("<d", t)).digest()[:8], "big")
        assert (u >> 11) / 2**53 == h


def test_the_split_is_the_same_in_another_process() -> None:
    code = (
        "import json; from agents.data.split import timestamp_hash;"
        f"print(json.dumps(timestamp_hash({FIXED!r}).tolist()))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert json.loads(done.stdout) == FIXED_HASH


def test_adding_records_never_moves_old_ones_and_about_a_fifth_is_test() -> None:
    rng = np.random.default_rng(3)
    stamps = 1.7e9 + np.cumsum(rng.exponential(20.0, 20000))
    mask = in_test_set(stamps)
    for n in (1, 10, 777, 5000):
        np.testing.assert_array_equal(in_test_set(stamps[:n]), mask[:n])
    assert abs(mask.mean() - 0.2) < 0.015  # 5 sigma for 20000 Bernoulli(0.2) draws
    hashes = timestamp_hash(stamps)
    assert hashes.min() >= 0.0
    assert hashes.max() < 1.0
    assert not in_test_set(stamps, 0.0).any()
    assert in_test_set(stamps, 1.0).all()
    with pytest.raises(DatasetError, match=r"test_fraction must lie in \[0, 1\], got 1.5"):
        in_test_set(stamps, 1.5)


def test_dataset_split_follows_the_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "grasps.h5"
    write(path, range(12))
    with GraspDataset(path) as ds:
        train, test = ds.split()
    np.testing.assert_array_equal(test, [2, 4, 9, 10])  # make_record(i) has FIXED[i]
    assert len(train) + len(test) == 12


# --- resume, locking, readers -------------------------------------------------------------


def test_resume_appends_without_loss_or_duplication(tmp_path: Path) -> None:
    path = tmp_path / "grasps.h5"
    write(path, range(5), config={"run": 1})
    with GraspDatasetWriter.open(path, config={"run": 1}, fsync=False) as writer:
        assert writer.count == 5
        assert writer.dropped == 0
        for i in range(5, 9):
            writer.append(make_record(i))
    with GraspDatasetWriter.open(path, fsync=False) as writer:  # config=None: keep the stored
        assert writer.count == 9
        writer.append(make_record(9))
    with GraspDataset(path) as ds:
        assert [ds[i] for i in range(len(ds))] == [make_record(i) for i in range(10)]
        assert ds.recoveries == []  # clean closes need no rebuild


def test_resume_refuses_another_config_or_geometry(tmp_path: Path) -> None:
    path = tmp_path / "grasps.h5"
    write(path, range(2), config={"mode": "train", "force": 10.0})
    message = r"collected under another config \(differing keys: \['force'\]\)"
    with pytest.raises(DatasetError, match=message):
        GraspDatasetWriter.open(path, config={"mode": "train", "force": 20.0})
    with pytest.raises(DatasetError, match=r"holds images of ImageGeometry\(.*rows=24, cols=20"):
        GraspDatasetWriter.open(path, image=ImageGeometry())
    with GraspDatasetWriter.open(path, config={"mode": "train", "force": 10.0}) as writer:
        assert writer.count == 2


def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "grasps.h5"
    with GraspDatasetWriter.open(path, image=SMALL, fsync=False) as writer:
        writer.append(make_record(0))
        with pytest.raises(DatasetLocked, match=rf"holder: pid {os.getpid()} on"):
            GraspDatasetWriter.open(path)
        code = (
            "import sys; from agents.data import GraspDatasetWriter, DatasetLocked\n"
            "try:\n    GraspDatasetWriter.open(sys.argv[1])\n"
            "except DatasetLocked as e:\n    print('locked:', e)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
        )
        assert done.stdout.startswith("locked:"), done.stderr
        assert "expected to be the only writer" in done.stdout
        writer.append(make_record(1))
    with GraspDatasetWriter.open(path, fsync=False) as writer:  # free again after close
        assert writer.count == 2


def test_a_reader_in_the_same_process_follows_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "grasps.h5"
    with GraspDatasetWriter.open(path, image=SMALL, fsync=False) as writer:
        with GraspDataset(path) as ds:
            assert len(ds) == 0
            assert len(ds.read()) == 0
            for i in range(5):
                writer.append(make_record(i))
                assert ds.refresh() == i + 1
                assert ds[i] == make_record(i)
            assert ds.uncommitted == 0


# --- summary and command --------------------------------------------------------------------


def test_summary_counts(tmp_path: Path) -> None:
    path = tmp_path / "grasps.h5"
    write(path, range(12), config={"mode": "train"})
    s = summarize(path)
    assert s["records"] == 12
    assert s["grasp_rate"] == pytest.approx(0.5)
    assert (s["train"], s["test"]) == (8, 4)
    assert s["methods"]["max"] == {"records": 3, "grasp_rate": 1.0}
    assert s["methods"]["random"] == {"records": 3, "grasp_rate": 0.0}
    assert s["object_sets"]["Würfel-Ø"]["records"] == 4
    assert s["time_span_s"] == pytest.approx(0.25 * 11)
    assert s["schema_version"] == 2
    assert s["config"] == {"mode": "train"}
    assert s["uncommitted"] == 0


def test_an_empty_dataset_summarizes(tmp_path: Path) -> None:
    path = tmp_path / "empty.h5"
    write(path, range(0))
    s = summarize(path)
    assert (s["records"], s["train"], s["test"]) == (0, 0, 0)
    assert s["grasp_rate"] is None
    assert s["time_span_s"] is None
    assert s["methods"] == {}
    assert _command(["dataset", str(path)]) == 0


def test_arrays_fields_follow_the_schema() -> None:
    assert [f.name for f in dataclasses.fields(GraspArrays)] == [s.plural for s in FIELDS]
    assert [f.name for f in dataclasses.fields(GraspRecord) if f.init] == [
        "height", "valid", "action", "reward", "method", "timestamp",
        *[s.name for s in FIELDS if s.name not in
          ("height", "valid", "action", "reward", "method", "timestamp")],
    ]  # fmt: skip


def _command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="grasp")
    dataset_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_dataset_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "grasps.h5"
    write(path, range(12), config=EnvConfig())
    assert _command(["dataset", str(path)]) == 0
    text = capsys.readouterr().out
    for expected in (
        "records         12",
        "grasp rate      50.0 %",
        "train / test    8 / 4",
        "schema version  2",
        "24 x 20 px at 2 mm/px",
        "max                             3 records, grasp rate 100.0 %",
        "Würfel-Ø",
        "config          ",
        'mode = "train"',
    ):
        assert expected in text, expected
    assert _command(["dataset", str(path), "--json", "--verify"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["records"] == 12
    assert summary["pixel_size"] == pytest.approx(0.002)
    foreign = tmp_path / "foreign.h5"
    foreign.write_bytes(b"hello")
    assert _command(["dataset", str(foreign)]) == 1
    assert "not an HDF5 file" in capsys.readouterr().err


# --- property: any valid record comes back equal -----------------------------------------

_text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))


def _fits(limit: int, empty_ok: bool = True):
    return _text.filter(lambda t: (empty_ok or t) and len(t.encode("utf-8")) <= limit)


_maybe_nan = st.floats(allow_infinity=False, width=32)
_finite = st.floats(allow_nan=False, allow_infinity=False, width=32)


@st.composite
def records(draw: st.DrawFn) -> GraspRecord:
    shape = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    return GraspRecord(
        height=on_grid(draw(hnp.arrays(np.uint16, shape, elements=st.integers(0, 1500)))),
        valid=draw(hnp.arrays(np.uint8, shape, elements=st.integers(0, 1))),
        action=draw(hnp.arrays(np.float32, 4, elements=_finite)),
        index=draw(st.none() | hnp.arrays(np.int16, 4, elements=st.integers(0, 32767))),
        reward=draw(_finite),
        method=draw(_fits(32, empty_ok=False)),
        value=draw(_maybe_nan),
        timestamp=draw(st.floats(allow_nan=False, allow_infinity=False)),
        object_set=draw(_fits(64)),
        env_id=draw(_fits(64)),
        seed=draw(st.none() | st.integers(0, 2**63 - 1)),
        z=draw(_maybe_nan),
        contact=draw(st.sampled_from([None, True, False])),
        cycle_time=draw(_maybe_nan),
        grasp_bin=draw(st.sampled_from([None, 0, 1])),
        grasped=draw(_fits(64)),
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(records(), min_size=1, max_size=3))
def test_any_valid_record_round_trips(tmp_path_factory: pytest.TempPathFactory, recs) -> None:
    shape = recs[0].height.shape
    recs = [r for r in recs if r.height.shape == shape]
    path = tmp_path_factory.mktemp("prop") / "grasps.h5"
    with GraspDatasetWriter.open(path, image=ImageGeometry(*(0.002, *shape)), fsync=False) as w:
        for record in recs:
            w.append(record)
    with GraspDataset(path) as ds:
        assert [ds[i] for i in range(len(ds))] == recs


def test_schema_command_prints_every_field_from_the_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _command(["dataset", "--schema"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("|")[1].strip() for line in lines[2:]] == [f.name for f in FIELDS]


def test_dataset_command_without_a_path_names_what_it_expected(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _command(["dataset"]) == 2
    assert "expected a dataset file PATH (or --schema)" in capsys.readouterr().err
