"""``grasp evaluate --ray`` and ``grasp benchmark --ray``: the figures of ``--workers 1``.

On a local Ray of two CPUs (``local_ray``, tests/conftest.py); without Ray the tests skip.
"""

from __future__ import annotations

import json

import yaml

from grasp_toolkit.scripts import cli

EVALUATE = ["evaluate", "--agent", "heuristic", "--n", "2", "--m", "4", "--runs", "3", "--json"]
BENCHMARK = {
    "name": "tiny",
    "agents": [{"name": "random", "agent": "random"}, {"name": "heuristic", "agent": "heuristic"}],
    "protocols": [{"name": "2of4", "n": 2, "m": 4, "runs": 3}],
}


def test_evaluate_on_ray_prints_the_figures_of_one_worker(local_ray, capsys):
    assert cli.main([*EVALUATE, "--workers", "1"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert cli.main([*EVALUATE, "--ray", "auto"]) == 0
    assert json.loads(capsys.readouterr().out) == one


def test_benchmark_on_ray_reports_the_figures_of_one_worker(local_ray, tmp_path, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(BENCHMARK))
    reports = []
    for where, options in (("one", ["--workers", "1"]), ("ray", ["--ray", "auto"])):
        argv = ["benchmark", "--config", str(config), "--out", str(tmp_path / where), "--json"]
        assert cli.main([*argv, *options]) == 0
        reports.append(json.loads(capsys.readouterr().out)["agents"])
    for agent in ("random", "heuristic"):
        for key in ("grasp_rate", "stderr", "attempts", "pph"):
            assert reports[1][agent]["2of4"][key] == reports[0][agent]["2of4"][key]
