"""The benchmark config: typed, unknown keys and inconsistent names refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.benchmark.config import load_benchmark
from grasp_env.errors import ConfigError
from grasp_env.factory import find_config

from .conftest import TINY, write_config


def test_a_config_is_named_after_its_file_without_a_name(tmp_path):
    config = load_benchmark(write_config(tmp_path, {**TINY, "name": ""}, "mine.yaml"))
    assert config.name == "mine"


def test_an_unknown_key_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="colour"):
        load_benchmark(write_config(tmp_path, {**TINY, "colour": "red"}))


def test_two_agents_of_one_name_are_refused(tmp_path):
    agents = [{"name": "a", "agent": "random"}, {"name": "a", "agent": "heuristic"}]
    with pytest.raises(ConfigError, match="unique"):
        load_benchmark(write_config(tmp_path, {**TINY, "agents": agents}))


def test_a_reference_that_is_no_agent_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="reference"):
        load_benchmark(write_config(tmp_path, {**TINY, "reference": "fcn"}))


def test_the_learning_protocol_must_be_one_of_the_protocols(tmp_path):
    learning = {"protocol": "5of5", "learners": [{"name": "loop", "learner": "fcn"}]}
    with pytest.raises(ConfigError, match="5of5"):
        load_benchmark(write_config(tmp_path, {**TINY, "learning": learning}))


def test_a_protocol_with_n_above_m_is_refused(tmp_path):
    protocols = [{"name": "bad", "n": 3, "m": 2}]
    with pytest.raises(ConfigError, match="n <= m"):
        load_benchmark(write_config(tmp_path, {**TINY, "protocols": protocols}))


def test_an_object_set_file_beside_the_config_is_found_from_anywhere(tmp_path):
    (tmp_path / "parts.yaml").write_text("objects: []\n")
    protocols = [{"name": "own", "n": 1, "m": 1, "object_set": "parts.yaml"}]
    config = load_benchmark(write_config(tmp_path, {**TINY, "protocols": protocols}))
    assert Path(config.protocols[0].object_set) == (tmp_path / "parts.yaml").resolve()


@pytest.mark.parametrize("name", ["configs/benchmark.yaml", "configs/benchmark_quick.yaml"])
def test_the_shipped_configs_load(name):
    path = find_config(name)
    assert path is not None
    config = load_benchmark(path)
    assert config.protocols
    assert config.agents


def test_the_quick_config_is_the_shipped_one_made_small():
    full = load_benchmark(find_config("configs/benchmark.yaml"))
    quick = load_benchmark(find_config("configs/benchmark_quick.yaml"))
    assert [a.name for a in quick.agents] == [a.name for a in full.agents]
    assert max(p.runs for p in quick.protocols) < min(p.runs for p in full.protocols)


def test_an_empty_suite_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="empty suite"):
        load_benchmark(write_config(tmp_path, {**TINY, "agents": []}))
