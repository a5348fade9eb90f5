"""SimBinGraspEnv: the arguments reach the twin, and the spec sheet says what the env is."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import pytest

import grasp_env  # noqa: F401  (registers the environments)
from sim.config import TwinConfig
from sim.objects import ObjectSpec
from sim.sim_env import SimBinGraspEnv


def test_arguments_override_the_twin_config():
    twin = TwinConfig(parts=dataclasses.replace(ObjectSpec(), friction=0.4))
    env = SimBinGraspEnv(object_set="cubes", objects=4, artefacts=False, twin=twin)
    config = env.cell.config
    env.close()
    assert (config.object_set, config.objects, config.artefacts) == ("cubes", 4, False)
    assert config.parts.friction == 0.4
    assert config.camera_spec.noise is False


@pytest.mark.parametrize(
    ("env_id", "object_set"),
    [
        ("SimBinGrasp-v0", "cylinders"),
        ("SimBinGraspCubes-v0", "cubes"),
        ("SimBinGraspNovel-v0", "novel"),
    ],
)
def test_registered_ids_pick_their_object_set_and_know_their_id(env_id, object_set):
    env = gym.make(env_id, objects=2).unwrapped
    assert env.cell.config.object_set == object_set
    assert env.spec.id == env_id
    env.close()


def test_the_spec_sheet_has_every_section():
    doc = SimBinGraspEnv.__doc__
    for section in (
        "## Description",
        "## Action Space",
        "## Observation Space",
        "## Rewards",
        "## Starting State",
        "## Episode End",
        "## Arguments",
        "## Version History",
    ):
        assert section in doc
