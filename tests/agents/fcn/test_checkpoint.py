"""Checkpoints: a round trip keeps the model; a card for another geometry is refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import grasp_env
from agents.fcn.checkpoint import load_checkpoint, read_card, save_checkpoint
from agents.fcn.inference import GraspScorer
from agents.fcn.model import parameter_count
from grasp_env.errors import ConfigError
from grasp_env.geometry import ImageGeometry
from grasp_env.grasp_grid import GraspGrid

from ..conftest import SMALL, clutter_scene


def test_round_trip_keeps_outputs_and_card(small_model, grid, tmp_path):
    path = save_checkpoint(tmp_path / "model.pt", small_model, grid, {"train_attempts": 12})
    loaded, card = load_checkpoint(path, grid)
    obs = clutter_scene(3)
    np.testing.assert_array_equal(
        GraspScorer(loaded, grid).logits(obs), GraspScorer(small_model, grid).logits(obs)
    )
    assert loaded.config == SMALL
    assert not loaded.training
    assert card["parameter_count"] == parameter_count(small_model)
    assert card["library_version"] == grasp_env.__version__
    assert card["pixel_size"] == 0.002
    assert card["window_px"] == 32
    assert card["stride_px"] == 2
    assert card["widths"] == [0.03, 0.05, 0.07]
    assert card["rotations"] == 20
    assert len(card["angles"]) == 20
    assert card["input_channels"] == ["height", "valid"]
    assert card["training"] == {"train_attempts": 12}
    assert read_card(path) == card
    # plain data only: loadable without unpickling arbitrary objects
    assert torch.load(path, weights_only=True)["card"] == card


@pytest.mark.parametrize(
    ("other", "field"),
    [
        (GraspGrid(widths=(0.03, 0.05, 0.09)), "widths"),
        (GraspGrid(image=ImageGeometry(pixel_size=0.0025)), "pixel_size"),
        (GraspGrid(rotations=16), "rotations"),
        (GraspGrid(image=ImageGeometry(max_height=0.2)), "max_height"),
        (GraspGrid(image=ImageGeometry(rows=120, cols=120)), "image_rows"),
    ],
)
def test_mismatched_geometry_is_refused(small_model, grid, tmp_path, other, field):
    path = save_checkpoint(tmp_path / "model.pt", small_model, grid)
    with pytest.raises(ConfigError, match=f"made for {field} = .* serve {field} = "):
        load_checkpoint(path, other)


def test_changed_normalisation_is_refused(small_model, grid, tmp_path):
    path = save_checkpoint(tmp_path / "model.pt", small_model, grid)
    payload = torch.load(path, weights_only=True)
    payload["card"]["normalisation"] = "depth in mm"
    torch.save(payload, path)
    with pytest.raises(ConfigError, match="normalisation = 'depth in mm'"):
        load_checkpoint(path, grid)


def test_not_a_checkpoint_and_no_overwrite(small_model, grid, tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="expected a value-model checkpoint"):
        load_checkpoint(junk, grid)
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="'state_dict' and 'card'"):
        load_checkpoint(tmp_path / "other.pt", grid)
    with pytest.raises(ConfigError, match="existing file"):
        save_checkpoint(junk, small_model, grid, overwrite=False)


def test_grid_dataclass_fields_all_reach_the_card(small_model, grid, tmp_path):
    card = read_card(save_checkpoint(tmp_path / "m.pt", small_model, grid))
    for f in dataclasses.fields(GraspGrid):
        if f.name != "image":
            assert f.name in card or f.name == "window_px"
