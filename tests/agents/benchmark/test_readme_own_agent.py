"""The README's own-agent benchmark runs as printed (on a few bins instead of 100)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from agents.benchmark import load_benchmark, run_benchmark, write_report

README = Path(__file__).resolve().parents[3] / "README.md"


def _block(language: str, first_line: str) -> str:
    pattern = rf"```{language}\n({re.escape(first_line)}.*?)```"
    match = re.search(pattern, README.read_text(), re.DOTALL)
    assert match is not None, f"README.md has no {language} block starting {first_line!r}"
    return match.group(1)


def test_the_readme_benchmark_of_an_own_agent_runs(tmp_path, monkeypatch):
    (tmp_path / "my_agents.py").write_text(_block("python", "# my_agents.py"))
    (tmp_path / "mine.yaml").write_text(_block("yaml", "# mine.yaml"))
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
