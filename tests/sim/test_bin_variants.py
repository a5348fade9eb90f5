"""The paper's IV-C bins: a ramp over the floor rising 10 degrees along x, and no walls."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import grasp_env  # noqa: F401  (registers the environments)
from grasp_env.errors import ConfigError
from sim.bins import BinSpec


def _floor_by_column(env_id: str) -> np.ndarray:
    env = gym.make(env_id, objects=1)
    try:
        observation, _ = env.reset(seed=0)
    finally:
        env.close()
    height, valid = observation["height"], observation["valid"] > 0
    # the bin's inner floor spans the image's middle 100 columns; the median ignores the part
    return np.array([np.median(height[15:95, c][valid[15:95, c]]) for c in (10, 55, 100)])


def test_the_tilted_floor_rises_along_x_by_its_slope():
    low, middle, high = _floor_by_column("SimBinGraspTilted-v0")
    assert low < 0.006
    # 90 mm either side of the centre at tan(10 deg): 15.9 mm below and above the middle
    assert middle == pytest.approx(0.100 * np.tan(np.deg2rad(10.0)), abs=0.004)
    assert high - low == pytest.approx(0.180 * np.tan(np.deg2rad(10.0)), abs=0.005)


def test_the_plain_twin_has_a_flat_floor():
    assert np.ptp(_floor_by_column("SimBinGrasp-v0")) < 0.002


def test_a_floor_tilt_beyond_twenty_degrees_is_refused():
    with pytest.raises(ConfigError, match=r"bins\.floor_tilt: expected 0 to 20 degrees"):
        BinSpec(floor_tilt=0.5)


def test_the_table_twin_has_no_walls_and_keeps_most_parts_on_its_plate():
    env = gym.make("SimBinGraspTable-v0", objects=20)
    try:
        observation, _ = env.reset(seed=0)
        inside, _ = env.unwrapped.cell.objects_in_bins()
    finally:
        env.close()
    # no wall tops along the image border: the walls' 80 mm would show there
    border = np.concatenate(
        [observation["height"][:, :4].ravel(), observation["height"][:, -4:].ravel()]
    )
    assert border.max() < 0.03
    assert 12 <= inside <= 20


def test_the_plain_twin_shows_its_walls():
    env = gym.make("SimBinGrasp-v0", objects=1)
    try:
        observation, _ = env.reset(seed=0)
    finally:
        env.close()
    assert observation["height"][:, :4].max() > 0.07
