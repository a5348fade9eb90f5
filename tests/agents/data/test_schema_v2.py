"""Schema 2: compact heights and packed masks, schema 1 files still read, resumed and converted."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import gymnasium as gym
import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import grasp_env  # noqa: F401  (registers the twin)
from agents.data import (
    DatasetError,
    GraspDataset,
    GraspDatasetWriter,
    GraspRecord,
    InvalidRecord,
    summarize,
)
from agents.data.codec import HEIGHT_CODES, HEIGHT_STEP, PACKED_ROWS
from agents.data.convert import convert
from agents.data.digest import dataset_digest, file_digest
from grasp_env.geometry import ImageGeometry
from grasp_toolkit.scripts import dataset_cmd

from .test_dataset import SMALL, make_record

FIXTURE = Path(__file__).parent / "fixtures" / "schema_v1.h5"
FIXTURE_DIGEST = "3786d027a011d597f6d3c1963cc717bfc771dd22513aed2c640b0a7fff310f6f"
"""The fixture's digest as the schema 1 code computed it (commit a2c0cc6)."""

TARGET_BYTES_PER_RECORD = 12_000


def fixture_heights(i: int) -> np.ndarray:
    """The heights record ``i`` of the fixture was written with (fixtures/README.md)."""
    return np.random.default_rng(1000 + i).uniform(0.0, 0.15, SMALL.shape).astype(np.float32)


def record(height: np.ndarray, **changes) -> GraspRecord:
    fields = {"valid": np.ones(height.shape, np.uint8), "action": np.zeros(4, np.float32),
              "reward": 1.0, "method": "max", "timestamp": 1.7e9}  # fmt: skip
    return GraspRecord(height=height, **{**fields, **changes})


def _command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="grasp")
    dataset_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


# --- the codecs -------------------------------------------------------------------------------

_storable = st.floats(0.0, float(np.float32(0.15)), width=32)  # 0.15 m as float32


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float32, st.tuples(st.integers(1, 8), st.integers(1, 8)), elements=_storable))
def test_heights_decode_within_half_a_step_over_the_storable_range(height: np.ndarray) -> None:
    decoded = HEIGHT_CODES.decode(HEIGHT_CODES.encode(height, ImageGeometry()), ImageGeometry())
    assert decoded.dtype == np.float32
    error = np.abs(decoded.astype(np.float64) - height.astype(np.float64))
    # half a 0.1 mm step, plus the float32 rounding of the decoded height
    assert error.max() <= HEIGHT_STEP / 2 + np.spacing(np.float32(0.15))


def test_missing_pixels_keep_their_height_zero_exactly() -> None:
    height = np.array([[0.0, 0.05], [0.0, 0.15]], np.float32)
    codes = HEIGHT_CODES.encode(height, ImageGeometry())
    np.testing.assert_array_equal(codes, [[0, 500], [0, 1500]])
    assert HEIGHT_CODES.decode(codes, ImageGeometry())[0, 0] == 0.0


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.uint8, st.tuples(st.integers(1, 6), st.integers(1, 30)), elements=st.integers(0, 1)
    )
)
def test_a_packed_mask_unpacks_exactly(mask: np.ndarray) -> None:
    geometry = ImageGeometry(rows=mask.shape[0], cols=mask.shape[1])
    packed = PACKED_ROWS.encode(mask, geometry)
    assert packed.shape == (mask.shape[0], -(-mask.shape[1] // 8))
    unpacked = PACKED_ROWS.decode(packed, geometry)
    assert unpacked.dtype == np.uint8
    np.testing.assert_array_equal(unpacked, mask)


# --- schema 2 files ---------------------------------------------------------------------------


def test_a_schema_2_file_stores_codes_and_bits_and_reads_heights_and_mask(tmp_path: Path) -> None:
    path = tmp_path / "grasps.h5"
    height = fixture_heights(0)  # off the 0.1 mm grid
    valid = (np.arange(SMALL.rows * SMALL.cols).reshape(SMALL.shape) % 3 > 0).astype(np.uint8)
    with GraspDatasetWriter.open(path, image=SMALL, fsync=False) as writer:
        assert writer.schema_version == 2
        writer.append(record(height, valid=valid))
    with GraspDataset(path) as ds:
        nearest = np.rint(height.astype(np.float64) / HEIGHT_STEP)
        np.testing.assert_array_equal(ds.column("height", encoded=True)[0], nearest)
        np.testing.assert_array_equal(ds.column("valid", encoded=True)[0], np.packbits(valid, -1))
        np.testing.assert_array_equal(ds.column("valid")[0], valid)
        assert np.abs(ds.column("height")[0] - height).max() <= HEIGHT_STEP / 2 + 1e-8


@pytest.mark.parametrize(("value", "pixel"), [(0.2, (3, 4)), (-0.001, (0, 19))])
def test_a_height_outside_the_range_is_refused_and_nothing_written(
    tmp_path: Path, value: float, pixel: tuple[int, int]
) -> None:
    height = np.full(SMALL.shape, 0.01, np.float32)
    height[pixel] = value
    with GraspDatasetWriter.open(tmp_path / "g.h5", image=SMALL, fsync=False) as writer:
        message = rf"height must lie in \[0, 0.15\] m .*got {value:g} m at pixel \({pixel[0]}, "
        with pytest.raises(InvalidRecord, match=message):
            writer.append(record(height))
        assert writer.count == 0
        assert writer.append(make_record(0)) == 1  # the writer goes on


def test_a_max_height_beyond_the_largest_code_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"max_height must be at most 6.5535 m .* got 7.0 m"):
        GraspDatasetWriter.open(tmp_path / "g.h5", image=ImageGeometry(max_height=7.0))
    assert not (tmp_path / "g.h5").exists()


def test_the_digest_hashes_the_stored_codes(tmp_path: Path) -> None:
    codes = np.random.default_rng(5).integers(0, 1500, SMALL.shape)
    base = HEIGHT_CODES.decode(codes, SMALL)
    near = base + np.float32(0.2 * HEIGHT_STEP)  # other heights, the same codes
    for name, height in (("a.h5", base), ("b.h5", near)):
        with GraspDatasetWriter.open(tmp_path / name, image=SMALL, fsync=False) as writer:
            writer.append(record(height))
    assert file_digest(str(tmp_path / "a.h5")) == file_digest(str(tmp_path / "b.h5"))


# --- schema 1 files ---------------------------------------------------------------------------


def test_the_schema_1_fixture_reads_with_its_old_digest_and_values() -> None:
    assert file_digest(str(FIXTURE)) == FIXTURE_DIGEST
    with GraspDataset(FIXTURE) as ds:
        assert ds.schema_version == 1
        arrays = ds.read()
        assert arrays.heights.dtype == np.float32
        for i in range(5):
            np.testing.assert_array_equal(arrays.heights[i], fixture_heights(i))
            assert arrays.record(i).method == make_record(i).method
    assert summarize(FIXTURE)["schema_version"] == 1


def test_a_resumed_schema_1_file_keeps_schema_1(tmp_path: Path) -> None:
    path = tmp_path / "old.h5"
    shutil.copy(FIXTURE, path)
    extra = record(fixture_heights(7), timestamp=1.8e9)
    with GraspDatasetWriter.open(path, fsync=False) as writer:
        assert writer.schema_version == 1
        assert writer.append(extra) == 6
    with h5py.File(path, "r", swmr=True, locking=False) as f:
        assert f.attrs["schema_version"] == 1
        assert f["height"].dtype == np.float32
    with GraspDataset(path) as ds:
        assert ds[5] == extra  # float32 heights as given, not rounded to 0.1 mm
        assert dataset_digest(ds, 5) == FIXTURE_DIGEST


def test_convert_writes_schema_2_with_another_digest(tmp_path: Path) -> None:
    out = tmp_path / "new.h5"
    done = convert(FIXTURE, out)
    assert (done["records"], done["source_schema"], done["target_schema"]) == (5, 1, 2)
    assert done["target_bytes"] == out.stat().st_size
    with GraspDataset(FIXTURE) as old, GraspDataset(out) as new:
        assert new.schema_version == 2
        assert new.meta["converted_from"]["schema_version"] == 1
        assert new.config == old.config
        a, b = old.read(), new.read()
        assert np.abs(a.heights - b.heights).max() <= HEIGHT_STEP / 2 + 1e-8
        np.testing.assert_array_equal(a.valid, b.valid)
        np.testing.assert_array_equal(a.timestamps, b.timestamps)
    assert file_digest(str(out)) != FIXTURE_DIGEST
    with pytest.raises(DatasetError, match="expected a new file to convert into"):
        convert(FIXTURE, out)


def test_grasp_dataset_convert_reports_both_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new.h5"
    assert _command(["dataset", str(FIXTURE), "--convert", str(out), "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["source_bytes"] == FIXTURE.stat().st_size
    assert done["target_bytes_per_record"] == pytest.approx(out.stat().st_size / 5)
    assert _command(["dataset", str(FIXTURE), "--convert", str(out)]) == 1
    assert "expected a new file" in capsys.readouterr().err


def test_grasp_dataset_json_reports_the_schema_and_bytes_per_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "grasps.h5"
    with GraspDatasetWriter.open(path, image=SMALL, fsync=False) as writer:
        for i in range(4):
            writer.append(make_record(i))
    assert _command(["dataset", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["schema_version"] == 2
    assert summary["bytes_per_record"] == pytest.approx(path.stat().st_size / 4)


def test_the_schema_table_is_schema_2s(capsys: pytest.CaptureFixture[str]) -> None:
    assert _command(["dataset", "--schema"]) == 0
    rows = {line.split("|")[1].strip(): line for line in capsys.readouterr().out.splitlines()}
    assert "| uint16 | (H, W) | 0.1 mm |" in rows["height"]
    assert "| uint8 | (H, W/8) | bits |" in rows["valid"]


# --- size on the twin's images ----------------------------------------------------------------


@pytest.fixture(scope="module")
def twin_observations() -> list[dict[str, np.ndarray]]:
    """Ten observations of the twin's 20-cylinder bin, each after a random grasp."""
    env = gym.make("SimBinGrasp-v0", objects=20)
    observations = [env.reset(seed=0)[0]]
    env.action_space.seed(0)
    for _ in range(9):
        observations.append(env.step(env.action_space.sample())[0])
        env.reset()
    env.close()
    return observations


def test_twin_records_take_at_most_12_kB(tmp_path: Path, twin_observations) -> None:
    path = tmp_path / "twin.h5"
    with GraspDatasetWriter.open(path, image=ImageGeometry(), fsync=False) as writer:
        for i in range(50):  # records are compressed one by one, so repeats cost as much
            obs = twin_observations[i % len(twin_observations)]
            action = np.array([0.01, 0.02, 0.3, 0.05], np.float32)
            writer.append(GraspRecord.from_step(obs, action, 0.0, {}, method="random",
                                                timestamp=1.7e9 + i, seed=i))  # fmt: skip
    assert path.stat().st_size / 50 <= TARGET_BYTES_PER_RECORD
