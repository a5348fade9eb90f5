"""A learn config's object_set may be a YAML file of your own objects: found, read, checked."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agents.learning.config import LearnConfig, load_config
from grasp_env.errors import ConfigError
from grasp_env.object_sets import ObjectSetError


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A config folder with an object set file and its URDF."""
    (tmp_path / "parts.urdf").write_text("<robot/>")
    (tmp_path / "my_parts.yaml").write_text(yaml.safe_dump({"objects": [{"urdf": "parts.urdf"}]}))
    return tmp_path


def write_learn(folder: Path, object_set: str) -> Path:
    path = folder / "learn_parts.yaml"
    path.write_text(yaml.safe_dump({"object_set": object_set}))
    return path


def test_a_relative_object_set_is_relative_to_the_config_file(
    folder, tmp_path_factory, monkeypatch
):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    config = load_config(write_learn(folder, "my_parts.yaml"))
    assert Path(config.object_set) == (folder / "my_parts.yaml").resolve()


def test_without_a_file_a_relative_object_set_is_relative_to_the_working_directory(
    folder, monkeypatch
):
    monkeypatch.chdir(folder)
    assert LearnConfig(object_set="my_parts.yaml").object_set == "my_parts.yaml"
    monkeypatch.chdir(folder.parent)
    with pytest.raises(ConfigError, match=r"^my_parts\.yaml: expected a YAML file listing objects"):
        LearnConfig(object_set="my_parts.yaml")


def test_a_missing_object_set_file_is_refused_when_the_config_loads(folder):
    with pytest.raises(ConfigError, match=r"nope\.yaml: expected a YAML file listing objects"):
        load_config(write_learn(folder, "nope.yaml"))


def test_an_object_set_file_that_does_not_parse_is_refused_when_the_config_loads(folder):
    bad = {"objects": [{"urdf": "parts.urdf", "scale": -1}]}
    (folder / "my_parts.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(ObjectSetError, match=r"my_parts\.yaml, objects\[0\]\.scale: expected"):
        load_config(write_learn(folder, "my_parts.yaml"))


@pytest.mark.parametrize("name", ["cubes", "pybullet"])
def test_a_named_object_set_stays_a_name(folder, name):
    assert load_config(write_learn(folder, name)).object_set == name
