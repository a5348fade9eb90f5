"""``grasp bench actors``: one collection per K, attempts per second and their ratio."""

from __future__ import annotations

import json

import pytest

from grasp_toolkit.scripts.cli import main as grasp

SMOKE = "configs/learn_smoke.yaml"


@pytest.mark.slow
def test_the_bench_measures_every_k_and_the_records_agree(capsys) -> None:
    argv = ["bench", "actors", "--config", SMOKE, "--random", "60", "--attempts", "4", "--json"]
    assert grasp(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["lanes"], out["random_attempts"], out["model_attempts"]) == (2, 60, 4)
    assert [run["actors"] for run in out["runs"]] == [1, 2]
    assert all(run["attempts"] == 64 and run["attempts_per_s"] > 0 for run in out["runs"])
    assert out["runs"][0]["ratio"] == 1.0
    assert out["runs"][1]["model_ratio"] > 0
    assert "deciding (scoring the grasp space)" in out["runs"][1]["seconds"]
    assert out["same_dataset_digest"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--actors", "one"], "--actors: expected comma-separated integers, got 'one'"),
        (["--attempts", "0"], "--attempts: expected >= 1 model-driven attempts, got 0"),
        (["--actors", "3", "--lanes", "2"], "actors: expected 1 <= K <= lanes (2), got 3"),
    ],
)
def test_bad_options_are_named(capsys, option, message) -> None:
    assert grasp(["bench", "actors", "--config", SMOKE, *option]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_the_bench_collects_on_ray_with_the_records_of_processes(capsys, local_ray) -> None:
    argv = ["bench", "actors", "--config", SMOKE, "--random", "60", "--attempts", "4", "--json"]
    assert grasp(argv) == 0
    processes = json.loads(capsys.readouterr().out)
    assert grasp([*argv, "--ray", "auto"]) == 0
    on_ray = json.loads(capsys.readouterr().out)
    assert on_ray["ray"] == "auto"
    assert on_ray["same_dataset_digest"]
    assert on_ray["runs"][0]["dataset_digest"] == processes["runs"][0]["dataset_digest"]
