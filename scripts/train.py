"""``grasp train DATASET [DATASET ...]``: train the value model on grasp dataset files.

Several datasets train as one, in the order given (paper Fig. 7: a small dataset of a new
object type combined with the previous one); their grids must agree. Each record keeps its
dataset's timestamp-hash split into training and test attempts (paper III-F).
By default the model is trained with w_i = 1 and then retrained with the weighted retraining
weights (paper III-E; ``--no-retrain`` for one plain training). ``--sizes 1000,2000,...``
trains once on each prefix of the dataset (in record order) to chart the test figures against
the dataset size (paper Fig. 6); the last model is the one saved.

Everything goes into a new run directory (``--runs``/``train-<time>``, never overwritten):
``config.json`` (the resolved settings, the grid and the dataset), ``model.pt`` (the
checkpoint with its model card; ``first_model.pt`` before retraining), ``result.json`` (the
figures) and the TensorBoard events. The grasp grid is read from the dataset's stored config
when it has one, else the default grid on the dataset's image geometry.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from grasp_env.config import to_dict
from grasp_env.errors import ConfigError, GraspError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp train``."""
    p = subparsers.add_parser(
        "train",
        help="train the FCN value model on a grasp dataset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dataset", nargs="+", help="grasp dataset files (.h5), trained as one")
    p.add_argument("--runs", default="runs", help="folder of run directories (default runs)")
    p.add_argument("--name", default="train", help="run directory prefix (default train)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's initial learning rate")
    p.add_argument("--lr-decay", type=float, default=0.95, help="per-epoch factor")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="L2 on the kernels")
    p.add_argument("--fp-factor", type=float, default=1.5, help="weight of failures over successes")
    p.add_argument("--no-balance", action="store_true", help="no class balancing")
    p.add_argument("--no-retrain", action="store_true", help="skip weighted retraining")
    p.add_argument("--mirror", action="store_true", help="also mirror windows at random")
    p.add_argument("--sizes", default="", help="comma-separated dataset sizes to chart")
    p.add_argument("--init", default=None, help="checkpoint to continue training from")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.add_argument("--deterministic", action="store_true", help="deterministic algorithms")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def new_run_dir(root: str | Path, prefix: str) -> Path:
    """A fresh directory ``root/prefix-YYYYmmdd-HHMMSS[-n]``; an existing one is never reused."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = root / (f"{prefix}-{stamp}" if n == 0 else f"{prefix}-{stamp}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise ConfigError(f"expected a free run directory name under {root}, got 1000 taken")


def run(args: argparse.Namespace) -> int:
    """Train, save the checkpoint and the figures in a new run directory; exit status."""
    try:
        return _run(args)
    except (GraspError, FileNotFoundError) as exc:
        print(f"grasp train: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from torch.utils.tensorboard import SummaryWriter

    from agents.fcn.checkpoint import load_checkpoint, save_checkpoint
    from agents.training.logger import TrainingLogger
    from agents.training.offline import load_datasets, train_sizes

    data = load_datasets(args.dataset)
    grid = data.grid

    def start() -> Any:
        return load_checkpoint(args.init, grid, args.device)[0] if args.init else None

    config = _train_config(args, start())
    sizes = _sizes(args.sizes, len(data.samples))
    run_dir = new_run_dir(args.runs, args.name)
    dataset_path = ",".join(data.sources)
    resolved = {
        "dataset": dataset_path, "records": len(data.samples),
        "train_records": len(data.train_index), "test_records": len(data.test_index),
        "sizes": sizes, "retrain": not args.no_retrain, "seed": args.seed, "init": args.init,
        "train_config": to_dict(config), "grid": to_dict(grid),
    }  # fmt: skip
    (run_dir / "config.json").write_text(json.dumps(resolved, indent=2))
    print(f"run directory: {run_dir}")
    writer = SummaryWriter(str(run_dir))
    done = train_sizes(
        data, config=config, sizes=sizes, rng=np.random.default_rng(args.seed),
        retrain=not args.no_retrain, start=start, logger=TrainingLogger(writer),
        progress=not args.quiet, report=lambda size, r: print(f"[{size} records] {r.message}"),
    )  # fmt: skip
    writer.close()
    result, first = done.result, done.first
    if not result.trained:
        (run_dir / "result.json").write_text(
            json.dumps({"trained": False, "message": result.message})
        )
        print(f"grasp train: {result.message}", file=sys.stderr)
        return 1
    facts = {**result.facts, "dataset": dataset_path, "seed": args.seed, "run_dir": str(run_dir)}
    if first is not None and first.trained:
        save_checkpoint(run_dir / "first_model.pt", first.model, grid, first.facts, False)
    save_checkpoint(run_dir / "model.pt", result.model, grid, facts, overwrite=False)
    (run_dir / "result.json").write_text(
        json.dumps({"trained": True, "figures": done.figures, "facts": facts}, indent=2)
    )
    print(f"model: {run_dir / 'model.pt'}")
    return 0


def _train_config(args: argparse.Namespace, init: Any) -> Any:
    """The TrainConfig of the command line (the network's shape from ``--init`` if given)."""
    from agents.fcn.model_config import ModelConfig
    from agents.training.config import TrainConfig

    return TrainConfig(
        model=init.config if init is not None else ModelConfig(),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        lr_decay=args.lr_decay,
        weight_decay=args.weight_decay,
        false_positive_factor=args.fp_factor,
        balance_classes=not args.no_balance,
        augment_mirror=args.mirror,
        device=args.device,
        deterministic=args.deterministic,
        num_threads=args.threads,
    )


def _sizes(text: str, total: int) -> list[int]:
    if not text.strip():
        return [total]
    try:
        sizes = sorted({min(int(s), total) for s in text.split(",") if s.strip()})
    except ValueError as exc:
        raise ConfigError(f"--sizes: expected comma-separated integers, got {text!r}") from exc
    if not sizes or sizes[0] < 1:
        raise ConfigError(f"--sizes: expected sizes >= 1, got {text!r}")
    return sizes
