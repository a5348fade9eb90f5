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


def test_unknown_agent_is_refused_naming_the_known_ones(capsys):
    assert main(["evaluate", "--agent", "nobody", "--n", "1", "--m", "2", "--runs", "1"]) == 2
    assert "expected an agent name in" in capsys.readouterr().err


def test_evaluate_gives_the_same_figures_in_two_workers_as_in_one(capsys):
    protocol = ("evaluate", "--agent", "heuristic", "--n", "2", "--m", "3", "--runs", "4")
    one = run_json(capsys, *protocol, "--seed", "11", "--workers", "1", "--json")
    two = run_json(capsys, *protocol, "--seed", "11", "--workers", "2", "--json")
    assert two == one
    assert len(one["rates"]) == 4


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_evaluate_refuses_fewer_than_one_worker(monkeypatch, capsys, workers):
    from agents import evaluation

    monkeypatch.setattr(evaluation, "make_eval_env", lambda spec: pytest.fail("env built"))
    assert main(["evaluate", "--agent", "random", "--runs", "2", "--workers", workers]) == 2
    assert f"expected workers >= 1, got {workers}" in capsys.readouterr().err


def test_export_writes_an_onnx_file_the_fcn_agent_evaluates_with(capsys, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    path = tmp_path / "model.onnx"
    exported = run_json(capsys, "export", "--onnx", str(path), "--model", "pretrained", "--json")
    assert path.is_file()
    assert exported["grid_shape"] == [20, 40, 40, 3]
    assert exported["image_shape"] == [110, 110, 2]
    assert exported["max_abs_diff"] < 1e-4
    result = run_json(
        capsys, "evaluate", "--agent", "fcn", "--model", str(path), "--n", "1", "--m", "2",
        "--runs", "1", "--workers", "1", "--json",
    )  # fmt: skip
    assert result["attempts"] >= 1
    assert main(["export", "--onnx", str(tmp_path / "model.pt")]) == 2
    assert "expected an output path ending in .onnx" in capsys.readouterr().err


def test_json_output_is_one_json_object_and_nothing_else_on_stdout():
    import subprocess
    import sys

    command = [
        sys.executable,
        "-m",
        "grasp_toolkit.scripts.cli",
        "evaluate",
        "--agent",
        "heuristic",
        "--n",
        "1",
        "--m",
        "1",
        "--runs",
        "1",
        "--workers",
        "1",
        "--json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(done.stdout)["runs"] == 1  # pybullet's own chatter went to stderr


def test_a_file_that_is_no_checkpoint_is_refused_in_one_line(capsys, tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a model")
    assert main(["evaluate", "--agent", "fcn", "--model", str(path), "--n", "1", "--m", "1",
                 "--runs", "1", "--workers", "1"]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(path) in err[0]


def test_evaluate_with_a_model_and_no_agent_evaluates_the_fcn_agent(capsys):
    result = run_json(capsys, "evaluate", "--model", "pretrained", "--walls", "--n", "1",
                      "--m", "1", "--runs", "1", "--workers", "1", "--json")  # fmt: skip
    assert result["agent"] == "fcn"


def test_model_options_for_the_heuristic_are_refused_naming_them(capsys):
    assert main(["evaluate", "--agent", "heuristic", "--model", "pretrained", "--walls",
                 "--runs", "1"]) == 2  # fmt: skip
    assert "--model, --walls need --agent fcn, got --agent heuristic" in capsys.readouterr().err
