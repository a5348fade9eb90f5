"""The README's own-agent benchmark runs as printed (on a few bins instead of 100)."""

from __future__ import annotations

import sys

import yaml

from agents.benchmark import load_benchmark, run_benchmark, write_report


def test_the_readme_benchmark_of_an_own_agent_runs(tmp_path, monkeypatch, readme):
    (tmp_path / "my_agents.py").write_text(readme("Benchmarking agents", starts="# my_agents.py"))
    (tmp_path / "mine.yaml").write_text(readme("Benchmarking agents", "yaml", "# mine.yaml"))
    # the printed file, with its protocols cut to two bins of one protocol
    small = {"base": "mine.yaml", "protocols": [{"name": "1of1", "n": 1, "m": 1, "runs": 2}]}
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(small))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_agents", raising=False)
    config = load_benchmark(tmp_path / "small.yaml")
    assert config.name == "mine"
    run_benchmark(config, tmp_path / "out", workers=1)
    report = write_report(config, tmp_path / "out")
    assert report["agents"]["highest"]["1of1"]["bins"] == 2
    assert report["reference"] == "heuristic"
