"""Scenes of the twin: filling bins, rebuilding them reproducibly, and parts that get away."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grasp_env.errors import ConfigError
from grasp_env.geometry import Pose
from sim.bins import bin_of
from sim.cell import TwinCell
from sim.config import TwinConfig
from sim.objects import random_urdf_indices


def poses(cell: TwinCell) -> np.ndarray:
    """Every object's position and orientation, as raw pybullet floats."""
    c = cell.world.client
    return np.array(
        [np.concatenate(c.getBasePositionAndOrientation(cell.world.id(n))) for n in cell.objects]
    )


@pytest.fixture(scope="module")
def twin():
    cell = TwinCell(TwinConfig(objects=12))
    yield cell
    cell.close()


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), grasp_bin=st.sampled_from([0, 1]))
def test_spawned_objects_settle_inside_the_grasp_bin(twin, seed, grasp_bin):
    twin.prepare(np.random.default_rng(seed), grasp_bin)
    inside = [bin_of(twin.layout, twin.world.position(n)) for n in twin.objects]
    assert inside == [grasp_bin] * 12
    assert np.isfinite(poses(twin)).all()
    assert twin.world.speeds(twin.objects).max() < 0.05


def test_rebuilding_with_the_same_seed_is_bit_identical(twin):
    twin.prepare(np.random.default_rng(5), 0)
    first = poses(twin)
    twin.prepare(np.random.default_rng(6), 1)
    twin.prepare(np.random.default_rng(5), 0)
    again = poses(twin)
    other = TwinCell(TwinConfig(objects=12))
    other.prepare(np.random.default_rng(5), 0)
    fresh = poses(other)
    other.close()
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() == fresh.tobytes()


def test_prepare_without_a_generator_keeps_the_scene(twin):
    twin.prepare(np.random.default_rng(8), 0)
    before = poses(twin)
    twin.prepare(None, 0)
    assert before.tobytes() == poses(twin).tobytes()


def test_an_object_pushed_out_of_the_bins_is_detected_and_removed(twin):
    twin.prepare(np.random.default_rng(9), 0)
    runaway = twin.objects[3]
    twin.world.set_pose(runaway, Pose.from_xyz_yaw(0.30, 0.0, 0.05))
    report = twin.report()
    assert report.extra["objects_lost"] == 1
    assert runaway not in twin.objects
    assert twin.objects_in_bins() == (11, 0)


def test_a_diverged_object_is_detected_and_removed(twin):
    twin.prepare(np.random.default_rng(10), 0)
    runaway = twin.objects[0]
    twin.world.client.resetBaseVelocity(twin.world.id(runaway), [0.0, 0.0, 80.0], [0, 0, 0])
    report = twin.report()
    assert report.extra["objects_diverged"] + report.extra["objects_lost"] == 1
    assert runaway not in twin.objects


def test_report_twice_without_an_attempt_between_is_the_same(twin):
    twin.prepare(np.random.default_rng(11), 0)
    assert twin.report() == twin.report()


@pytest.mark.parametrize("object_set", ["cubes", "train", "novel"])
def test_every_object_set_fills_a_bin(object_set):
    cell = TwinCell(TwinConfig(object_set=object_set, objects=6))
    cell.prepare(np.random.default_rng(1), 0)
    assert cell.objects_in_bins() == (6, 0)
    cell.close()


def test_novel_shapes_never_appear_in_the_train_set():
    novel, train = set(random_urdf_indices("novel")), set(random_urdf_indices("train"))
    assert novel.isdisjoint(train)
    assert novel | train == set(range(1000))
    assert all(i % 10 == 0 for i in novel)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"object_set": "spheres"}, r"object_set must be one of .* got 'spheres'"),
        ({"objects": 0}, r"objects must be in \[1, 30\], got 0"),
        ({"objects": 31}, r"objects must be in \[1, 30\], got 31"),
    ],
)
def test_a_bad_twin_config_names_what_was_expected(changes, message):
    with pytest.raises(ConfigError, match=message):
        TwinConfig(**changes)


def test_render_is_an_rgb_picture(twin):
    frame = twin.render()
    assert frame.dtype == np.uint8
    assert frame.shape == (360, 480, 3)
    assert frame.std() > 10


def test_close_disconnects_the_pybullet_client_and_a_second_close_is_harmless():
    cell = TwinCell(TwinConfig(objects=1))
    connection_info = cell.world.client.getConnectionInfo  # bound to this cell's client id
    cell.close()
    cell.close()
    assert connection_info()["isConnected"] == 0
