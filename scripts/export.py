"""``grasp export --onnx PATH``: the value model as an ONNX file, for a robot PC without torch.

The file holds the fused network (batch norms folded in) and, in its metadata, the model card:
the image and grid geometry, normalisation, input channels and training facts of the
checkpoint (:mod:`agents.fcn.onnx`). Run it with the FCN agent, e.g.
``grasp evaluate --agent fcn --model model.onnx`` or
``registry.make("fcn", grid, rng, checkpoint="model.onnx")``; that needs onnxruntime, numpy and
OpenCV, not torch. After writing, the command scores a random scene with both the checkpoint
and the file and reports the largest difference of the values (onnxruntime needed).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from grasp_env.config import EnvConfig
from grasp_env.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp export``."""
    p = subparsers.add_parser(
        "export",
        help="write the value model as an ONNX file (runs without torch)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--onnx", required=True, metavar="PATH", help="the .onnx file to write")
    p.add_argument(
        "--model",
        default="pretrained",
        help="checkpoint path, or a shipped model: 'pretrained' (the default) or 'general'",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def random_scene(grid, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A cluttered random observation of ``grid``'s image."""
    g = grid.image
    height = np.zeros(g.shape, np.float32)
    for _ in range(15):
        r, c = rng.integers(0, g.rows - 10), rng.integers(0, g.cols - 10)
        h, w = rng.integers(4, 25, 2)
        height[r : r + h, c : c + w] += rng.uniform(0.01, 0.05)
    valid = (rng.random(g.shape) > 0.03).astype(np.uint8)
    return {"height": (height * valid).astype(np.float32), "valid": valid}


def run(args: argparse.Namespace) -> int:
    """Export, check and print.

    Raises:
        ConfigError: the target is not a ``.onnx`` path or its folder is missing, or the
            checkpoint does not fit the environment's grid.
    """
    from agents.fcn.checkpoint import load_checkpoint
    from agents.fcn.inference import GraspScorer
    from agents.fcn.onnx import export_onnx
    from agents.fcn.scoring import onnxruntime_available
    from agents.pretrained import resolve_model

    target = Path(args.onnx)
    if target.suffix.lower() != ".onnx":
        raise ConfigError(f"expected an output path ending in .onnx, got {args.onnx!r}")
    if not target.parent.is_dir():
        raise ConfigError(f"expected an existing folder for {target}, got none at {target.parent}")
    grid = EnvConfig().grid
    source = resolve_model(args.model)
    model, card = load_checkpoint(source, grid)
    export_onnx(target, model, grid, card)
    out: dict = {
        "onnx": str(target),
        "model": source,
        "bytes": target.stat().st_size,
        "image_shape": [grid.image.rows, grid.image.cols, model.config.in_channels],
        "grid_shape": list(grid.shape),
        "parameters": card.get("parameter_count"),
    }
    if onnxruntime_available():
        from agents.fcn.onnx import OnnxScorer

        scene = random_scene(grid, np.random.default_rng(0))
        want = GraspScorer(model, grid).score(scene)
        got = OnnxScorer.from_file(target, grid).score(scene)
        out["max_abs_diff"] = float(np.abs(want - got).max())
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"wrote {target} ({out['bytes']:,} bytes) from {source}")
    print(f"input (rotations, {', '.join(map(str, out['image_shape']))}) float32 NHWC;")
    print(f"grid {' x '.join(map(str, out['grid_shape']))} grasps; card in the file's metadata")
    if "max_abs_diff" in out:
        print(f"values agree with the checkpoint to {out['max_abs_diff']:.2g} (random scene)")
    else:
        print("onnxruntime is not installed here: the file was not run")
    return 0
