"""``grasp bench inference`` smoke test: it runs and prints one JSON object with its figures."""

from __future__ import annotations

import argparse
import json

import pytest

from grasp_toolkit.scripts import bench_inference


def parse(argv):
    parser = argparse.ArgumentParser(prog="grasp bench")
    bench_inference.register(parser.add_subparsers(dest="bench", required=True))
    return parser.parse_args(argv)


def test_bench_prints_json(capsys):
    args = parse(["inference", "--json", "--repeats", "1", "--no-naive", "--train-attempts", "8"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["parameters"] == 445_673
    assert out["fcn_ms"] > 0
    assert out["train_windows_per_s"] > 0
    assert out["train_deterministic_slowdown"] > 0
    assert out["device"].startswith("cpu")


@pytest.mark.slow
def test_bench_naive_agrees_and_is_much_slower(capsys):
    args = parse(["inference", "--json", "--repeats", "5", "--train-attempts", "0"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["naive_max_abs_diff"] < 1e-4
    assert out["speedup"] > 10


def test_bench_times_the_onnx_backend_beside_torch(capsys):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    args = parse(["inference", "--json", "--repeats", "1", "--no-naive", "--train-attempts", "0"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fcn_onnx_ms"] > 0
    assert out["onnx_max_abs_diff"] < 1e-4
    assert out["onnx_speedup"] == pytest.approx(out["fcn_ms"] / out["fcn_onnx_ms"])
    assert out["default_backend"] == "onnx"
    args = parse(["inference", "--json", "--repeats", "1", "--no-naive", "--train-attempts", "0",
                  "--no-onnx"])  # fmt: skip
    assert args.func(args) == 0
    assert "fcn_onnx_ms" not in json.loads(capsys.readouterr().out)
