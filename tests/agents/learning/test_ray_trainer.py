"""The Ray trainer's mirror, without Ray: shipped records read in order, the files it starts from.

The runs with a Ray trainer (the same digests as without Ray, a resume from a local run, a
killed trainer) are in test_ray_actors.py.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from agents.data.reader import GraspArrays
from agents.learning import load_config
from agents.learning.config import config_to_dict
from agents.learning.ray_trainer import ShippedRecords, TrainerHost, starting_files


def _arrays(lo: int, hi: int) -> GraspArrays:
    """Records lo to hi-1 whose every field holds the record's index."""
    n = hi - lo
    shapes = {"heights": (2, 3), "valid": (2, 3), "actions": (4,), "indices": (4,)}
    return GraspArrays(**{
        f.name: np.arange(lo, hi).reshape(n, *[1] * len(shapes.get(f.name, ())))
        * np.ones((n, *shapes.get(f.name, ())))
        for f in dataclasses.fields(GraspArrays)
    })  # fmt: skip


def test_shipped_records_are_read_in_order_across_shipments() -> None:
    records = ShippedRecords()
    records.add(_arrays(0, 3))
    records.add(_arrays(3, 8))
    assert records.refresh() == 8
    first = records.read(slice(0, 5))
    assert first.timestamps.tolist() == [0, 1, 2, 3, 4]
    assert first.heights.shape == (5, 2, 3)
    records.add(_arrays(8, 10))
    assert records.read(slice(5, 10)).rewards.tolist() == [5, 6, 7, 8, 9]


def test_a_read_that_skips_or_passes_the_shipped_records_is_refused() -> None:
    records = ShippedRecords()
    records.add(_arrays(0, 4))
    with pytest.raises(ValueError, match=r"from record 0 to at most 4, got 1 to 3"):
        records.read(slice(1, 3))
    with pytest.raises(ValueError, match=r"got 0 to 5"):
        records.read(slice(0, 5))


def test_the_trainer_starts_from_the_runs_checkpoints_and_the_prior_datasets(
    tmp_path: Path, write_config
) -> None:
    prior = tmp_path / "earlier.h5"
    prior.write_bytes(b"an earlier run's records")
    config = load_config(write_config(tmp_path, datasets=[str(prior)]))
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "latest.json").write_text("{}")
    (run_dir / "checkpoints" / ".latest.json.partial").write_text("")
    config_data, files = starting_files(run_dir, config)
    assert config_data["datasets"] == ["datasets/0_earlier.h5"]
    assert files == {
        "checkpoints/latest.json": b"{}",
        "datasets/0_earlier.h5": b"an earlier run's records",
    }


def test_the_pointer_waits_until_the_model_it_names_goes_with_it(tmp_path: Path, write_config):
    config = load_config(write_config(tmp_path))
    host = TrainerHost(config_to_dict(config), {}, "cpu")
    assert host.finish(10.0)  # the trainer has read its (empty) folder and ended
    try:
        folder = host.dir / "checkpoints"
        (folder / "latest.json").write_text(json.dumps({"path": "model_00001.pt"}))
        changed, _, error = host.changes()
        assert error is None
        assert "checkpoints/latest.json" not in changed
        (folder / "model_00001.pt").write_bytes(b"weights")
        changed, present, _ = host.changes()
        assert set(changed) == {"checkpoints/latest.json", "checkpoints/model_00001.pt"}
        assert sorted(present) == ["checkpoints/latest.json", "checkpoints/model_00001.pt"]
    finally:
        host.close()
