"""The benchmark's cache: one line per bin, keyed by what decides the bins."""

from __future__ import annotations

from dataclasses import replace

from agents.benchmark.cells import Cell, agent_key, protocol_key
from agents.benchmark.config import Protocol
from agents.evaluation import AgentSpec, BinResult, EnvSpec

PROTOCOL = Protocol(name="1of1", n=1, m=1, runs=3)


def test_a_stored_bin_reads_back_equal(tmp_path):
    cell = Cell(tmp_path, AgentSpec("random"), PROTOCOL)
    result = BinResult(1, 2, 1, 17.5, (0.01, 0.02))
    cell.append(result)
    read = cell.read()[1]
    assert read == result
    assert read.decisions == (0.01, 0.02)


def test_missing_lists_the_bins_without_a_result(tmp_path):
    cell = Cell(tmp_path, AgentSpec("random"), PROTOCOL)
    cell.append(BinResult(1, 1, 1, 9.0))
    assert cell.missing() == [0, 2]


def test_a_line_cut_short_by_a_kill_is_skipped_and_the_next_bin_kept(tmp_path):
    cell = Cell(tmp_path, AgentSpec("random"), PROTOCOL)
    cell.append(BinResult(0, 1, 1, 9.0))
    with open(cell.path, "a") as f:
        f.write('{"index": 1, "attem')
    cell.append(BinResult(2, 1, 0, 9.0))
    assert sorted(cell.read()) == [0, 2]


def test_a_checkpoint_is_known_by_its_content_not_its_path(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"first")
    first = agent_key(AgentSpec("fcn", {"checkpoint": str(path)}))
    path.write_bytes(b"second")
    assert agent_key(AgentSpec("fcn", {"checkpoint": str(path)})) != first


def test_options_change_the_agent_key():
    a = agent_key(AgentSpec("fcn", {"selection": "application"}))
    assert a != agent_key(AgentSpec("fcn", {"selection": "maximum"}))


def test_what_decides_the_bins_changes_the_protocol_key():
    spec = EnvSpec(m=1)
    key = protocol_key(PROTOCOL, spec)
    assert protocol_key(replace(PROTOCOL, seed=5), spec) != key
    assert protocol_key(replace(PROTOCOL, object_set="cubes"), spec) != key


def test_more_runs_reuse_the_stored_bins():
    spec = EnvSpec(m=1)
    assert protocol_key(replace(PROTOCOL, runs=100), spec) == protocol_key(PROTOCOL, spec)
