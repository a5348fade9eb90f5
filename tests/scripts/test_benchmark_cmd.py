"""``grasp benchmark``: one command, one report; bad input named."""

from __future__ import annotations

import json

import pytest
import yaml

from grasp_toolkit.scripts import cli

TINY = {
    "name": "tiny",
    "agents": [{"name": "random", "agent": "random"}],
    "protocols": [{"name": "1of1", "n": 1, "m": 1, "runs": 1}],
}


def test_a_benchmark_writes_its_report_and_prints_it_as_json(tmp_path, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    out = tmp_path / "benchmarks"
    code = cli.main(["benchmark", "--config", str(config), "--out", str(out), "--workers", "1",
                     "--json"])  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["agents"]["random"]["1of1"]["bins"] == 1
    for name in ("report.md", "report.json", "report.png"):
        assert (out / "tiny" / name).is_file()


def test_a_missing_config_is_named(tmp_path, capsys):
    code = cli.main(["benchmark", "--config", str(tmp_path / "nope.yaml")])
    assert code == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_workers_below_one_are_refused(tmp_path, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    assert cli.main(["benchmark", "--config", str(config), "--workers", "0"]) == 2
    assert "workers" in capsys.readouterr().err


@pytest.mark.slow
def test_the_quick_suite_runs_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["benchmark", "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["name"] == "quick"
    assert report["learning"]["fcn_loop"]["0"]
