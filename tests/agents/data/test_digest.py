"""The dataset digest: the records' content in order, not the file's bytes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from agents.data import GraspDataset
from agents.data.digest import dataset_digest, file_digest
from grasp_toolkit.scripts import dataset_cmd

from .test_dataset import make_record, write


def test_equal_records_in_other_storage_give_the_same_digest(tmp_path: Path) -> None:
    write(tmp_path / "gzip.h5", range(9), compression="gzip", meta={"note": "one"})
    write(tmp_path / "plain.h5", range(9), compression=None, meta={"note": "other"})
    assert (tmp_path / "gzip.h5").read_bytes() != (tmp_path / "plain.h5").read_bytes()
    assert file_digest(str(tmp_path / "gzip.h5")) == file_digest(str(tmp_path / "plain.h5"))


def test_other_order_gives_another_digest(tmp_path: Path) -> None:
    write(tmp_path / "a.h5", range(4))
    write(tmp_path / "b.h5", [1, 0, 2, 3])
    assert file_digest(str(tmp_path / "a.h5")) != file_digest(str(tmp_path / "b.h5"))


def test_one_changed_value_changes_the_digest(tmp_path: Path) -> None:
    write(tmp_path / "a.h5", range(4))
    write(tmp_path / "b.h5", [0, 1, 2, 5])
    assert make_record(3) != make_record(5)
    assert file_digest(str(tmp_path / "a.h5")) != file_digest(str(tmp_path / "b.h5"))


def test_a_prefix_digest_equals_the_digest_of_a_file_of_that_prefix(tmp_path: Path) -> None:
    write(tmp_path / "long.h5", range(300))
    write(tmp_path / "short.h5", range(260))
    with GraspDataset(tmp_path / "long.h5") as ds:
        assert dataset_digest(ds, 260) == file_digest(str(tmp_path / "short.h5"))
        with pytest.raises(ValueError, match="expected 0 <= count <= 300"):
            dataset_digest(ds, 301)


def test_grasp_dataset_json_reports_the_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "grasps.h5"
    write(path, range(5))
    parser = argparse.ArgumentParser(prog="grasp")
    dataset_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["dataset", str(path), "--json"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["digest"] == file_digest(str(path))
