"""``grasp bench inference``: how fast the agent scores the grasp space, and how fast it trains.

Figures:
    * fcn_ms: median wall time to score all grasps of one 110 x 110 observation (20 x 40 x
      40 x 3 = 96,000 by default) with :class:`agents.fcn.inference.GraspScorer`: checking and
      encoding the image, turning it 20 times, one batched pass of the fused FCN, sigmoid.
    * fcn_onnx_ms: the same with the onnx backend (onnxruntime, the ``onnx`` extra; the model
      exported in memory, :mod:`agents.fcn.onnx`), where installed (else absent);
      onnx_max_abs_diff: its largest difference to fcn's values; onnx_speedup: fcn_ms /
      fcn_onnx_ms. fcn_1thread_ms and fcn_onnx_1thread_ms: both with one thread (as in an
      evaluation worker or the learning loop's actor). These passes are timed in turns,
      one of each per round, so that the load of a shared machine falls on all of them
      alike: compare them as ratios within one run. default_backend: what
      ``InferenceConfig()`` runs here.
    * fcn_bf16_ms: the same in bfloat16, where the device supports it (else absent).
    * naive_ms: the same values the naive way, for comparison: crop each of the 32,000
      windows with the training crop and run the same network on the crops in batches.
    * speedup: naive_ms / fcn_ms; naive_max_abs_diff: the largest difference between the two
      value arrays (they must agree).
    * train_windows_per_s: training throughput of the full model on synthetic windows
      (forward, backward and Adam step, batch ``--train-batch``, with augmentation);
      train_deterministic_slowdown: how much slower one epoch runs with torch's
      deterministic algorithms, as the lockstep trainer runs them (median of 3, in turns).
    * parameters: the model's trainable parameter count; device: what ran it;
      load_avg_1min: the machine's load when the run ended, load_avg_1min_start when it
      began (other work skews the times; the *_min_ms figures are the fastest passes).

The model has random weights (speed does not depend on them) unless ``--checkpoint`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import torch

from agents.data.synthetic import bar_scenes
from agents.fcn.checkpoint import load_checkpoint
from agents.fcn.crop import crop_window
from agents.fcn.inference import GraspScorer, InferenceConfig
from agents.fcn.model import (
    ModelConfig,
    ValueModel,
    build_model,
    fuse_for_inference,
    parameter_count,
)
from agents.fcn.observation import encode
from agents.fcn.scoring import Scorer, make_scorer, onnx_available, resolve_backend
from agents.training.config import TrainConfig
from agents.training.fit import torch_generator, train
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp bench inference``."""
    p = subparsers.add_parser(
        "inference",
        help="grasp-space scoring time (FCN vs naive crops) and training throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--repeats", type=int, default=30, help="timed FCN passes (median)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    p.add_argument("--naive-batch", type=int, default=512, help="crops per naive forward")
    p.add_argument("--no-naive", action="store_true", help="skip the naive measurement")
    p.add_argument("--no-onnx", action="store_true", help="skip the onnx backend")
    p.add_argument("--train-attempts", type=int, default=1024, help="0 skips training")
    p.add_argument("--train-batch", type=int, default=64)
    p.add_argument("--checkpoint", default=None, help="a trained model instead of random")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def device_name(device: str) -> str:
    """A readable name of the device, with the thread count on a CPU."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(dev)}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"cpu:{cpu}, {torch.get_num_threads()} threads"


def bf16_supported(device: str) -> bool:
    """Whether bfloat16 convolutions run natively on ``device``."""
    if torch.device(device).type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(
        torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


def scene(grid: GraspGrid, rng: np.random.Generator) -> HeightImage:
    """A cluttered test scene (the speed does not depend on its content)."""
    g = grid.image
    height = np.zeros(g.shape, np.float32)
    for _ in range(15):
        r, c = rng.integers(0, g.rows - 10, 2)
        h, w = rng.integers(4, 20, 2)
        height[r : r + h, c : c + w] += rng.uniform(0.01, 0.04)
    valid = (rng.random(g.shape) > 0.03).astype(np.uint8)
    return HeightImage((height * valid).astype(np.float32), valid)


def time_fcn(
    scorer: GraspScorer, image: HeightImage, repeats: int
) -> tuple[float, float, np.ndarray]:
    """Median and fastest milliseconds of ``scorer.score``, and the values."""
    for _ in range(3):
        values = scorer.score(image)
    if scorer.device.type == "cuda":
        torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        values = scorer.score(image)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0, min(times) * 1000.0, values


def time_in_turns(
    variants: dict[str, tuple[Scorer, int | None]], image: HeightImage, repeats: int
) -> dict[str, tuple[float, float, np.ndarray]]:
    """Median and fastest milliseconds of each scorer, and its values, timed in turns.

    Args:
        variants: name -> (scorer, torch threads while it runs, or None to leave them).
        image: the scene to score.
        repeats: timed rounds; each round times every scorer once, in order.
    """
    default = torch.get_num_threads()

    def once(scorer: Scorer, threads: int | None) -> tuple[float, np.ndarray]:
        torch.set_num_threads(threads if threads is not None else default)
        start = time.perf_counter()
        values = scorer.score(image)
        return time.perf_counter() - start, values

    try:
        for _ in range(3):
            for scorer, threads in variants.values():
                once(scorer, threads)
        times: dict[str, list[float]] = {name: [] for name in variants}
        values: dict[str, np.ndarray] = {}
        for _ in range(repeats):
            for name, (scorer, threads) in variants.items():
                seconds, values[name] = once(scorer, threads)
                times[name].append(seconds)
    finally:
        torch.set_num_threads(default)
    return {
        name: (statistics.median(t) * 1000.0, min(t) * 1000.0, values[name])
        for name, t in times.items()
    }


def float32_figures(
    model: ValueModel, grid: GraspGrid, image: HeightImage, args: argparse.Namespace
) -> tuple[dict, np.ndarray]:
    """The float32 passes of every backend, timed in turns, and the torch path's values."""
    config = InferenceConfig(device=args.device, backend="torch")
    variants: dict[str, tuple[Scorer, int | None]] = {
        "fcn": (GraspScorer(model, grid, config), None)
    }
    on_cpu = torch.device(args.device).type == "cpu"
    onnx = on_cpu and not args.no_onnx and onnx_available()
    if onnx:
        threads = torch.get_num_threads()
        with_threads = InferenceConfig(backend="onnx", num_threads=threads)
        variants["fcn_onnx"] = (make_scorer(model, grid, with_threads), None)
    if on_cpu and torch.get_num_threads() > 1:
        variants["fcn_1thread"] = (variants["fcn"][0], 1)
        if onnx:
            one = InferenceConfig(backend="onnx", num_threads=1)
            variants["fcn_onnx_1thread"] = (make_scorer(model, grid, one), None)
    timed = time_in_turns(variants, image, args.repeats)
    values = timed["fcn"][2]
    out: dict = {}
    for name, (median, fastest, _) in timed.items():
        out[f"{name}_ms"], out[f"{name}_min_ms"] = median, fastest
    if onnx:
        out["onnx_max_abs_diff"] = float(np.abs(timed["fcn_onnx"][2] - values).max())
        out["onnx_speedup"] = out["fcn_ms"] / out["fcn_onnx_ms"]
    out["default_backend"] = resolve_backend(InferenceConfig(device=args.device))
    return out, values


def naive_values(
    net: torch.nn.Module, image: HeightImage, grid: GraspGrid, device: str, batch: int
) -> np.ndarray:
    """Every grasp's value by cropping each window and running the network on the crops."""
    rotations, rows, cols, widths = grid.shape
    encoded = encode(image.height, image.valid, grid.image)
    out = np.empty((rotations * rows * cols, widths), np.float32)
    cells = [(r, i, j) for r in range(rotations) for i in range(rows) for j in range(cols)]
    with torch.inference_mode():
        for s in range(0, len(cells), batch):
            crops = np.stack(
                [
                    crop_window(encoded, grid.image, *grid.index_to_action((r, i, j, 0))[:3], 32)
                    for r, i, j in cells[s : s + batch]
                ]
            )
            logits = net(torch.from_numpy(crops).to(device))[:, :, 0, 0]
            out[s : s + len(crops)] = torch.sigmoid(logits).float().cpu().numpy()
    return out.reshape(rotations, rows, cols, widths)


def training_figures(args: argparse.Namespace, grid: GraspGrid, rng: np.random.Generator) -> dict:
    """Training throughput, and what torch's deterministic algorithms cost it."""
    samples = bar_scenes(args.train_attempts, grid, rng)
    config = TrainConfig(epochs=2, batch_size=args.train_batch, device=args.device)
    result = train(samples, grid=grid, config=config, rng=rng)
    out = {"train_windows_per_s": result.facts["windows_per_s"], "train_batch": args.train_batch}
    speeds: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(3):  # in turns, so the machine's load falls on both alike
        for deterministic in (False, True):
            config = TrainConfig(epochs=1, batch_size=args.train_batch, device=args.device,
                                 deterministic=deterministic)  # fmt: skip
            done = train(samples, grid=grid, config=config, rng=rng)
            speeds[deterministic].append(done.facts["windows_per_s"])
    out["train_deterministic_slowdown"] = float(np.median(speeds[False]) / np.median(speeds[True]))
    return out


def measure(args: argparse.Namespace) -> dict:
    """All figures as a dict."""
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    grid = GraspGrid()
    rng = np.random.default_rng(args.seed)
    if args.checkpoint:
        model, _ = load_checkpoint(args.checkpoint, grid, args.device)
    else:
        model = build_model(ModelConfig(), torch_generator(rng)).eval()
    image = scene(grid, rng)
    out: dict = {"device": device_name(args.device), "parameters": parameter_count(model)}
    out["grasps"] = grid.size
    if hasattr(os, "getloadavg"):
        out["load_avg_1min_start"] = os.getloadavg()[0]
    figures, values = float32_figures(model, grid, image, args)
    out.update(figures)
    if bf16_supported(args.device):
        bf16 = GraspScorer(model, grid, InferenceConfig(device=args.device, precision="bfloat16"))
        out["fcn_bf16_ms"], out["fcn_bf16_min_ms"], bf16_values = time_fcn(
            bf16, image, args.repeats
        )
        out["bf16_max_abs_diff"] = float(np.abs(bf16_values - values).max())
    if not args.no_naive:
        net = fuse_for_inference(model).to(args.device)
        start = time.perf_counter()
        naive = naive_values(net, image, grid, args.device, args.naive_batch)
        out["naive_ms"] = (time.perf_counter() - start) * 1000.0
        out["speedup"] = out["naive_ms"] / out["fcn_ms"]
        out["naive_max_abs_diff"] = float(np.abs(naive - values).max())
        if "fcn_bf16_ms" in out:
            out["speedup_bf16"] = out["naive_ms"] / out["fcn_bf16_ms"]
    if args.train_attempts > 0:
        out.update(training_figures(args, grid, rng))
    out["torch"] = torch.__version__
    if hasattr(os, "getloadavg"):
        out["load_avg_1min"] = os.getloadavg()[0]  # other work on the machine skews times
    return out


def run(args: argparse.Namespace) -> int:
    """Measure and print; exit status 0."""
    out = measure(args)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"device: {out['device']}  (torch {out['torch']})")
    print(f"model: {out['parameters']:,} parameters; grasp space {out['grasps']:,} grasps")
    print(
        f"fcn_ms (float32, median of {args.repeats}): {out['fcn_ms']:.1f}"
        f"  (fastest {out['fcn_min_ms']:.1f})"
    )
    for name, label in (
        ("fcn_onnx", "onnx backend"),
        ("fcn_1thread", "torch, 1 thread"),
        ("fcn_onnx_1thread", "onnx, 1 thread"),
    ):
        if f"{name}_ms" in out:
            median, fastest = out[f"{name}_ms"], out[f"{name}_min_ms"]
            print(f"{name}_ms ({label}): {median:.1f}  (fastest {fastest:.1f})")
    if "onnx_speedup" in out:
        print(
            f"onnx_speedup: {out['onnx_speedup']:.2f}x  (max |diff| {out['onnx_max_abs_diff']:.2g})"
        )
    print(f"default backend: {out['default_backend']}")
    if "fcn_bf16_ms" in out:
        print(f"fcn_bf16_ms: {out['fcn_bf16_ms']:.1f}  (max |diff| {out['bf16_max_abs_diff']:.3g})")
    if "load_avg_1min" in out:
        print(
            f"load average: {out['load_avg_1min_start']:.2f} at the start,"
            f" {out['load_avg_1min']:.2f} at the end (other work skews the times)"
        )
    if "naive_ms" in out:
        print(
            f"naive_ms: {out['naive_ms']:.0f}  speedup: {out['speedup']:.1f}x"
            f"  (max |diff| {out['naive_max_abs_diff']:.2g})"
        )
    if "train_windows_per_s" in out:
        print(f"training: {out['train_windows_per_s']:.0f} windows/s (batch {out['train_batch']})")
    return 0
