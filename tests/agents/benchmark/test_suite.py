"""Filling a benchmark: only missing bins run, a report is drawn from the cache alone."""

from __future__ import annotations

import json

import pytest

from agents.benchmark import load_benchmark, run_benchmark, suite, write_report
from agents.benchmark.cells import Cell, agent_spec
from agents.benchmark.plot import plot_report
from agents.benchmark.report import REPORT_MD

from .conftest import TINY, write_config


@pytest.fixture
def bins_run(monkeypatch):
    """Every (agent, bin indices) that goes to the evaluation."""
    calls = []
    real = suite.run_bins

    def spy(env_spec, agent, **kwargs):
        calls.append((agent.name, list(kwargs["indices"])))
        return real(env_spec, agent, **kwargs)

    monkeypatch.setattr(suite, "run_bins", spy)
    return calls


def test_a_benchmark_fills_one_cell_per_agent_and_protocol(tiny_config, tmp_path, bins_run):
    config = load_benchmark(tiny_config)
    run_benchmark(config, tmp_path / "out", workers=1)
    assert bins_run == [("random", [0, 1]), ("heuristic", [0, 1])]


def test_a_second_run_runs_nothing(tiny_config, tmp_path, bins_run):
    config = load_benchmark(tiny_config)
    run_benchmark(config, tmp_path / "out", workers=1)
    bins_run.clear()
    run_benchmark(config, tmp_path / "out", workers=1)
    assert bins_run == []


def test_adding_an_agent_runs_only_that_agent(tiny_config, tmp_path, bins_run):
    run_benchmark(load_benchmark(tiny_config), tmp_path / "out", workers=1)
    bins_run.clear()
    more = {
        **TINY,
        "agents": [
            *TINY["agents"],
            {"name": "fcn", "agent": "fcn", "options": {"checkpoint": "pretrained"}},
        ],
    }
    run_benchmark(load_benchmark(write_config(tmp_path, more)), tmp_path / "out", workers=1)
    assert bins_run == [("fcn", [0, 1])]


def test_a_killed_benchmark_resumes_with_the_bins_it_lacks(tiny_config, tmp_path, bins_run):
    config = load_benchmark(tiny_config)
    root = tmp_path / "out"
    suite.fill_cell(
        root, agent_spec(config.agents[0]), config.protocols[0], label="random", workers=1
    )
    cell = Cell(root, agent_spec(config.agents[0]), config.protocols[0])
    lines = cell.path.read_text().splitlines()
    cell.path.write_text(lines[0] + "\n" + lines[1][:10])  # bin 1 cut short by the kill
    bins_run.clear()
    run_benchmark(config, root, workers=1)
    assert bins_run == [("random", [1]), ("heuristic", [0, 1])]


def test_the_report_has_every_agent_and_protocol_and_a_figure(tiny_config, tmp_path):
    config = load_benchmark(tiny_config)
    root = tmp_path / "out"
    run_benchmark(config, root, workers=1)
    report = write_report(config, root, "grasp benchmark --config bench.yaml")
    assert set(report["agents"]) == {"random", "heuristic"}
    assert report["agents"]["heuristic"]["1of1"]["bins"] == 2
    assert "vs_reference" in report["agents"]["heuristic"]["1of1"]
    assert report["same_scenes"] == {"1of1": True}  # paired: both agents met the same scenes
    assert "| heuristic |" in (root / REPORT_MD).read_text()
    assert json.loads((root / "report.json").read_text())["name"] == "tiny"
    assert plot_report(report, root / "report.png").stat().st_size > 0


def test_the_same_bins_in_two_workers_give_the_same_report(tiny_config, tmp_path):
    config = load_benchmark(tiny_config)
    run_benchmark(config, tmp_path / "one", workers=1)
    run_benchmark(config, tmp_path / "two", workers=2)
    one = write_report(config, tmp_path / "one")["agents"]
    two = write_report(config, tmp_path / "two")["agents"]
    for agent in one:
        for key in ("grasp_rate", "attempts", "pph"):
            assert one[agent]["1of1"][key] == two[agent]["1of1"][key]
