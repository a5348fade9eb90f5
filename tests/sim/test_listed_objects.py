"""Your own objects in the twin: a YAML set of URDF files fills the bin, or is refused early."""

from __future__ import annotations

import collections
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml

import grasp_env  # noqa: F401  (registers the environments)
from grasp_env import factory
from grasp_env.object_sets import ObjectSetError
from sim.cell import TwinCell
from sim.config import TwinConfig
from sim.objects import ObjectFactory, ObjectSpec
from sim.world import World

ROOT = Path(__file__).resolve().parents[2]


def box_urdf(size: tuple[float, float, float], mass: float = 0.01) -> str:
    """A one-link URDF: a box of ``size`` metres."""
    box = f'<geometry><box size="{size[0]} {size[1]} {size[2]}"/></geometry>'
    inertia = '<inertia ixx="1e-6" ixy="0" ixz="0" iyy="1e-6" iyz="0" izz="1e-6"/>'
    return (
        f'<robot name="box"><link name="base"><inertial><mass value="{mass}"/>{inertia}'
        f"</inertial><visual>{box}</visual><collision>{box}</collision></link></robot>"
    )


@pytest.fixture
def parts(tmp_path: Path) -> Path:
    """A folder with a small block, a small plate, and parts the twin must refuse."""
    urdfs = {
        "block": box_urdf((0.04, 0.02, 0.02)),
        "plate": box_urdf((0.03, 0.03, 0.008)),
        "slab": box_urdf((0.15, 0.12, 0.02)),
        "plank": box_urdf((0.25, 0.03, 0.02)),
        "anchor": box_urdf((0.03, 0.03, 0.03), mass=0.0),
        "broken": "<robot name='broken'><link",
    }
    for name, text in urdfs.items():
        (tmp_path / f"{name}.urdf").write_text(text)
    return tmp_path


def write_set(folder: Path, *entries: dict) -> str:
    path = folder / "my_parts.yaml"
    path.write_text(yaml.safe_dump({"objects": list(entries)}))
    return str(path)


def kinds(names: list[str]) -> collections.Counter:
    """How many objects of each URDF there are (names are ``<urdf stem>_<serial>``)."""
    return collections.Counter(n.rsplit("_", 1)[0] for n in names)


def test_a_set_of_two_urdfs_fills_the_bin_with_both(parts):
    listed = write_set(parts, {"urdf": "block.urdf"}, {"urdf": "plate.urdf", "mass": 0.02})
    cell = TwinCell(TwinConfig(object_set=listed, objects=8))
    cell.prepare(np.random.default_rng(3), 0)
    try:
        assert cell.objects_in_bins() == (8, 0)
        assert set(kinds(cell.objects)) == {"block", "plate"}
        c = cell.world.client
        masses = {
            n.rsplit("_", 1)[0]: c.getDynamicsInfo(cell.world.id(n), -1)[0] for n in cell.objects
        }
        assert masses == pytest.approx({"block": 0.01, "plate": 0.02})
    finally:
        cell.close()


@pytest.mark.parametrize(("weights", "more"), [((1, 9), "plate"), ((9, 1), "block")])
def test_the_weights_set_the_mix(parts, weights, more):
    listed = write_set(
        parts,
        {"urdf": "block.urdf", "weight": weights[0]},
        {"urdf": "plate.urdf", "weight": weights[1]},
    )
    world = World()
    objects = ObjectFactory(world, listed, ObjectSpec())
    rng = np.random.default_rng(0)
    made = kinds([objects.create(k, rng) for k in range(100)])
    world.close()
    assert made[more] > 75


def test_a_seeded_reset_is_reproducible(parts):
    listed = write_set(parts, {"urdf": "block.urdf"}, {"urdf": "plate.urdf", "friction": 0.9})

    def scene(env: gym.Env, seed: int) -> tuple[list[str], bytes]:
        obs, _ = env.reset(seed=seed)
        return env.unwrapped.cell.objects, obs["height"].tobytes()

    env, other = (
        gym.make("SimBinGrasp-v0", object_set=listed, objects=6, artefacts=False) for _ in "ab"
    )
    first = scene(env, 7)
    scene(env, 8)
    again = scene(env, 7)
    fresh = scene(other, 7)
    env.close()
    other.close()
    assert first == again == fresh


def test_the_factory_hands_a_yaml_set_to_the_twin(parts):
    listed = write_set(parts, {"urdf": "plate.urdf"})
    env = factory.make_env("SimBinGrasp-v0", objects=2, object_set=listed)
    env.reset(seed=0)
    assert kinds(env.unwrapped.cell.objects) == {"plate": 2}
    env.close()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"urdf": "broken.urdf"}, r"objects\[1\]\.urdf: expected a URDF file pybullet can load"),
        ({"urdf": "slab.urdf"}, r"objects\[1\]\.scale: expected an object whose smallest hori"),
        ({"urdf": "block.urdf", "scale": 6}, r"objects\[1\]\.scale: expected an object whose"),
        ({"urdf": "plank.urdf"}, r"objects\[1\]\.scale: expected an object that fits in the b"),
        ({"urdf": "anchor.urdf"}, r"objects\[1\]\.urdf: expected a URDF whose base link has a"),
        ({"urdf": "anchor.urdf", "mass": 0.01}, r"objects\[1\]\.urdf: expected a URDF whose ba"),
    ],
)
def test_an_object_the_twin_cannot_use_is_refused_when_the_env_is_built(parts, entry, message):
    listed = write_set(parts, {"urdf": "block.urdf"}, entry)
    with pytest.raises(ObjectSetError, match=message) as info:
        gym.make("SimBinGrasp-v0", object_set=listed, objects=2)
    assert str(info.value).startswith(f"{listed}, objects[1].")


def test_a_bad_file_is_refused_by_the_twin_config(parts):
    listed = write_set(parts, {"urdf": "block.urdf", "colour": "red"})
    with pytest.raises(ObjectSetError, match=r"my_parts\.yaml, objects\[0\]\.colour"):
        TwinConfig(object_set=listed)


@pytest.mark.parametrize("object_set", ["configs/objects_pybullet.yaml", "pybullet"])
def test_the_example_set_fills_a_bin(object_set, monkeypatch):
    monkeypatch.chdir(ROOT)
    cell = TwinCell(TwinConfig(object_set=object_set, objects=10))
    cell.prepare(np.random.default_rng(0), 0)
    try:
        assert cell.objects_in_bins() == (10, 0)
        assert len(kinds(cell.objects)) >= 4
    finally:
        cell.close()
