"""Each ``grasp`` subcommand runs end to end with a tiny budget and prints what it promises."""

import json

import pytest

from grasp_toolkit.scripts.cli import main


def run_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_evaluate_prints_the_table_i_figures(capsys):
    result = run_json(
        capsys, "evaluate", "--agent", "heuristic", "--n", "1", "--m", "3", "--runs", "2", "--json"
    )
    assert {"grasp_rate", "stderr", "pph", "attempts"} <= result.keys()
    assert result["runs"] == 2
    assert result["m"] == 3
    assert 0.0 <= result["grasp_rate"] <= 1.0


def test_evaluate_human_report_names_the_protocol(capsys):
    assert main(["evaluate", "--agent", "random", "--n", "1", "--m", "2", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 out of 2, 1 runs" in out
    assert "picks per hour" in out


def test_bench_sim_prints_speed_rate_heuristic_and_soak(capsys):
    figures = run_json(
        capsys,
        "bench",
        "sim",
        "--attempts",
        "6",
        "--objects",
        "4",
        "--n",
        "1",
        "--runs",
        "1",
        "--soak",
        "6",
        "--json",
    )
    for key in (
        "attempts_per_s",
        "random_grasp_rate",
        "heuristic_grasp_rate",
        "soak_slowest_step_ms",
        "soak_non_finite_observations",
    ):
        assert key in figures
    assert figures["attempts_per_s"] > 0
    assert figures["soak_non_finite_observations"] == 0


def test_unknown_agent_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="expected an agent name in"):
        main(["evaluate", "--agent", "nobody", "--n", "1", "--m", "2", "--runs", "1"])
