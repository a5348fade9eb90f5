"""The self-supervised learning loop: the actor collects grasps, a trainer process retrains.

:func:`run_learning` is the actor. It opens (creates or resumes) the run's grasp dataset; its
committed count *is* the attempt counter, so a loop killed at any moment and started again
goes on from the next attempt, never losing or repeating a recorded one. It starts the
trainer (:mod:`agents.learning.trainer`) in a spawned process and then, per attempt i:

1. rebuilds the scene from :func:`~agents.learning.schedule.scene_seed` (seed, i) when i is
   a multiple of ``rebuild_every`` or the first attempt of this session (a resume);
2. stats ``checkpoints/latest.json`` and loads a newer model version if there is one;
3. picks the selection function of attempt i (:func:`~agents.learning.schedule.choose_selection`,
   generator from (seed, i)), scores the grasp space with the newest model (not needed for
   random grasps) and acts in the environment (mode "train", the lower clamping force);
4. appends the record (image, action, grid index, reward, method, predicted value, a strictly
   increasing timestamp) to the dataset;
5. draws the TensorBoard charts and the progress line; evaluates the learning-curve points
   that are due (:mod:`agents.learning.curve`).

At the target it stops the trainer, evaluates the newest model once more with
``evaluation.final_runs`` runs and writes ``report.json`` and ``report.md``.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import shutil
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.learning.config import LearnConfig, config_to_dict
from agents.learning.curve import (
    append_point,
    attempts_to_reach,
    curve_table,
    evaluate_model,
    make_eval_env,
    read_curve,
)
from agents.learning.rundir import (
    CHECKPOINTS,
    CURVE_FILE,
    DATASET_FILE,
    FINAL_MODEL,
    REPORT_JSON,
    REPORT_MD,
    TB_DIR,
    TRAINER_PID,
    Latest,
    checkpoint_name,
    read_latest,
    read_progress,
    write_atomic,
    write_latest,
    write_progress,
)
from agents.learning.schedule import attempt_rng, choose_selection, scene_seed
from grasp_env.config import to_dict
from grasp_env.factory import make_env

METHODS = ("random", "probabilistic", "uncertain", "maximum")


class _ModelWatch:
    """Loads the newest model when ``latest.json`` changes (one ``stat`` per check)."""

    def __init__(self, run_dir: Path, config: LearnConfig) -> None:
        self.run_dir = run_dir
        self.grid = config.env.grid
        self.pointer = run_dir / CHECKPOINTS / "latest.json"
        self.stamp: int | None = None
        self.version = 0
        self.model = None

    def check(self) -> bool:
        """Load a newer version if the pointer changed; True when the model changed."""
        from agents.fcn.checkpoint import load_checkpoint

        try:
            stamp = os.stat(self.pointer).st_mtime_ns
        except FileNotFoundError:
            return False
        if stamp == self.stamp:
            return False
        self.stamp = stamp
        latest = read_latest(self.run_dir)
        if latest.version <= self.version:
            return False
        try:
            model, _ = load_checkpoint(self.run_dir / CHECKPOINTS / latest.path, self.grid)
        except FileNotFoundError:  # pruned between the read and the load: next check
            self.stamp = None
            return False
        self.model, self.version = model, latest.version
        return True


def _start_trainer(run_dir: Path, config: LearnConfig) -> tuple[Any, Any]:
    from agents.learning.trainer import trainer_main

    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    process = ctx.Process(
        target=trainer_main,
        args=(str(run_dir), config_to_dict(config), os.getpid(), stop),
        name="grasp-trainer",
        daemon=True,
    )
    process.start()
    write_atomic(run_dir / TRAINER_PID, str(process.pid))
    return process, stop


def _stop_trainer(process: Any, stop: Any, timeout: float = 60.0) -> None:
    stop.set()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join(5.0)


def _method_kind(method: str) -> str:
    return "maximum" if method.startswith("maximum") else method


def run_learning(
    config: LearnConfig,
    run_dir: Path,
    progress: bool = True,
    max_attempts_this_session: int | None = None,
) -> dict[str, Any]:
    """Collect, retrain and evaluate until the dataset holds ``target_attempts``.

    Args:
        config: the resolved config.
        run_dir: the run directory (from :func:`~agents.learning.rundir.resolve_run_dir`).
        progress: show the live progress line.
        max_attempts_this_session: stop (without the final report) after this many attempts
            of this session; None runs to the target.

    Returns:
        The report (also in ``report.json``), or ``{"finished": False, ...}`` when stopped
        early.
    """
    from torch.utils.tensorboard import SummaryWriter

    from agents.data import GraspDataset, GraspDatasetWriter, GraspRecord
    from agents.fcn.inference import GraspScorer, InferenceConfig

    report_path = run_dir / REPORT_JSON
    if report_path.exists():
        return json.loads(report_path.read_text())
    grid = config.env.grid
    stored = {**config_to_dict(config), "grid": to_dict(grid)}
    meta = {"env_id": config.env_id, "objects": config.objects, "object_set": config.object_set}
    dataset_writer = GraspDatasetWriter.open(
        run_dir / DATASET_FILE, image=grid.image, config=stored, meta=meta
    )
    count = dataset_writer.count
    recent: deque[tuple[float, str]] = deque(maxlen=100)
    last_time = 0.0
    if count:
        with GraspDataset(run_dir / DATASET_FILE) as ds:
            lo = max(0, count - 100)
            rewards, methods = (
                ds.column("reward", slice(lo, count)),
                ds.column("method", slice(lo, count)),
            )
            recent.extend(zip(rewards.tolist(), methods.tolist(), strict=True))
            last_time = float(ds.column("timestamp", slice(count - 1, count))[0])
    env = make_env(
        config.env_id, config.env, config.objects, config.object_set or None, config.cell_config
    )
    eval_env = None
    writer = SummaryWriter(str(run_dir / TB_DIR), filename_suffix=".actor")
    watch = _ModelWatch(run_dir, config)
    scorer: GraspScorer | None = None
    inference = InferenceConfig(precision=config.inference_precision)
    if config.init_model and read_latest(run_dir).version == 0:
        _start_from(run_dir, config)
    process, stop = _start_trainer(run_dir, config)
    session_start = time.monotonic()
    wall_before = float(read_progress(run_dir).get("wall_seconds", 0.0))
    curve_path = run_dir / CURVE_FILE
    done_points = {int(p["attempts"]) for p in read_curve(curve_path)}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=config.target_attempts, initial=count, unit="grasp", dynamic_ncols=True)
    session = 0
    obs = None
    scene = 0
    waited_for_model = False
    try:
        while count < config.target_attempts:
            if max_attempts_this_session is not None and session >= max_attempts_this_session:
                break
            if obs is None or count % config.rebuild_every == 0:
                scene = scene_seed(config.seed, count)
                obs, _ = env.reset(seed=scene)
            if watch.check():
                scorer = (
                    GraspScorer(watch.model, grid, inference)
                    if scorer is None
                    else (scorer.set_model(watch.model) or scorer)
                )
            rng = attempt_rng(config.seed, count)
            selection = choose_selection(config, count, rng)
            if (
                scorer is None
                and selection.name != "random"
                and not waited_for_model
                and config.wait_for_model > 0
            ):
                waited_for_model = True
                scorer = _wait_for_model(watch, grid, inference, config.wait_for_model, process)
            if selection.name == "random" or scorer is None:
                from agents.fcn.selection import RandomSelection

                chosen = RandomSelection()(np.zeros(grid.shape, np.float32), rng)
                value = math.nan
            else:
                values = scorer.score(obs)
                chosen = selection(values, rng)
                value = chosen.value
            index = tuple(int(v) for v in chosen.index)
            action = grid.index_to_action(index)
            _, reward, _, _, info = env.step(action)
            stamp = max(time.time(), np.nextafter(last_time, np.inf))
            record = GraspRecord.from_step(
                obs, action, reward, info, method=chosen.method, timestamp=stamp,
                value=value, index=np.asarray(index), object_set=config.object_set,
                env_id=config.env_id, seed=scene,
                force=config.env.force,
            )  # fmt: skip
            count = dataset_writer.append(record)
            last_time = stamp
            session += 1
            obs, _ = env.reset()
            recent.append((float(reward), chosen.method))
            if count % config.log_every == 0 or count == config.target_attempts:
                _chart(writer, recent, count, watch.version)
                write_progress(
                    run_dir, {"wall_seconds": wall_before + time.monotonic() - session_start,
                              "attempts": count}
                )  # fmt: skip
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(_postfix(recent, watch.version), refresh=False)
            for point in config.evaluation.at:
                if point == count and point not in done_points and point < config.target_attempts:
                    eval_env = eval_env or make_eval_env(config)
                    watch.check()
                    _curve_point(eval_env, watch, config, point, curve_path, writer)
                    done_points.add(point)
        if count < config.target_attempts:
            return {"finished": False, "attempts": count}
        _stop_trainer(process, stop)
        watch.check()
        eval_env = eval_env or make_eval_env(config)
        final = _final(eval_env, watch, config, run_dir, curve_path, writer, done_points)
        wall = wall_before + time.monotonic() - session_start
        write_progress(run_dir, {"wall_seconds": wall, "attempts": count})
        return _report(run_dir, config, final, wall)
    finally:
        if bar is not None:
            bar.close()
        _stop_trainer(process, stop, timeout=10.0)
        writer.close()
        dataset_writer.close()
        env.close()
        if eval_env is not None:
            eval_env.close()


def _start_from(run_dir: Path, config: LearnConfig) -> None:
    """Make ``config.init_model`` the run's version 1, so actor and trainer start from it."""
    from agents.fcn.checkpoint import load_checkpoint, save_checkpoint
    from agents.pretrained import pretrained_path

    source = pretrained_path() if config.init_model == "pretrained" else Path(config.init_model)
    model, card = load_checkpoint(source, config.env.grid)
    name = checkpoint_name(1)
    (run_dir / CHECKPOINTS).mkdir(exist_ok=True)
    facts = {"init_model": str(source), "source_card": card.get("training", {})}
    save_checkpoint(run_dir / CHECKPOINTS / name, model, config.env.grid, facts)
    write_latest(run_dir, Latest(1, name, 0, {}))


def _wait_for_model(
    watch: _ModelWatch, grid: Any, inference: Any, seconds: float, process: Any
) -> Any:
    """Wait (bounded) for the trainer's first model after the random attempts."""
    from agents.fcn.inference import GraspScorer

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.is_alive():
        if watch.check():
            return GraspScorer(watch.model, grid, inference)
        time.sleep(0.2)
    return None


def _chart(writer: Any, recent: deque, count: int, version: int) -> None:
    rewards = [r for r, _ in recent]
    rate = float(np.mean(rewards)) if rewards else 0.0
    writer.add_scalar("charts/grasp_rate_last100", rate, count)
    writer.add_scalar("charts/model_version", version, count)
    kinds = Counter(_method_kind(m) for _, m in recent)
    for kind in METHODS:
        writer.add_scalar(f"charts/selection_{kind}", kinds[kind] / max(1, len(recent)), count)


def _postfix(recent: deque, version: int) -> str:
    rewards = [r for r, _ in recent]
    kinds = Counter(_method_kind(m) for _, m in recent)
    mix = " ".join(f"{k[:4]} {kinds[k]}" for k in METHODS if kinds[k])
    rate = 100 * float(np.mean(rewards)) if rewards else 0.0
    return f"rate100 {rate:.0f}% | {mix} | model v{version}"


def _curve_point(
    eval_env: gym.Env,
    watch: _ModelWatch,
    config: LearnConfig,
    point: int,
    curve_path: Path,
    writer: Any,
    runs: int | None = None,
) -> dict[str, Any]:
    start = time.monotonic()
    runs = runs if runs is not None else config.evaluation.runs
    result = evaluate_model(eval_env, watch.model, config, runs, point)
    entry = {
        **result.as_dict(),
        "eval_attempts": result.attempts,
        "attempts": point,  # the dataset size: the learning curve's x
        "model_version": watch.version,
        "seconds": time.monotonic() - start,
    }
    append_point(curve_path, entry)
    writer.add_scalar("eval/grasp_rate", result.grasp_rate, point)
    writer.add_scalar("eval/grasp_rate_stderr", result.stderr, point)
    writer.add_scalar("eval/pph", result.pph, point)
    writer.flush()
    return entry


def _final(
    eval_env: gym.Env,
    watch: _ModelWatch,
    config: LearnConfig,
    run_dir: Path,
    curve_path: Path,
    writer: Any,
    done_points: set[int],
) -> dict[str, Any] | None:
    if watch.version:
        latest = read_latest(run_dir)
        shutil.copyfile(run_dir / CHECKPOINTS / latest.path, run_dir / FINAL_MODEL)
    point = config.target_attempts
    if point in done_points:
        return next(p for p in read_curve(curve_path) if p["attempts"] == point)
    runs = max(config.evaluation.final_runs, config.evaluation.runs)
    return _curve_point(eval_env, watch, config, point, curve_path, writer, runs)


def _report(
    run_dir: Path, config: LearnConfig, final: dict[str, Any] | None, wall: float
) -> dict[str, Any]:
    from agents.data import GraspDataset

    with GraspDataset(run_dir / DATASET_FILE) as ds:
        methods = ds.column("method")
        rewards = ds.column("reward")
    points = read_curve(run_dir / CURVE_FILE)
    mix = Counter(_method_kind(str(m)) for m in methods)
    report = {
        "finished": True,
        "name": config.name,
        "attempts": len(rewards),
        "training_grasp_rate": float(np.mean(rewards)) if len(rewards) else 0.0,
        "selection_counts": dict(mix),
        "wall_seconds": wall,
        "attempts_per_second": len(rewards) / wall if wall > 0 else 0.0,
        "model_version": read_latest(run_dir).version,
        "final_model": FINAL_MODEL,
        "final_evaluation": final,
        "attempts_to_90": attempts_to_reach(points, 0.90),
        "attempts_to_95": attempts_to_reach(points, 0.95),
        "curve": points,
        "config": config_to_dict(config),
    }
    write_atomic(run_dir / REPORT_JSON, json.dumps(report, indent=2))
    write_atomic(run_dir / REPORT_MD, report_markdown(report))
    return report


def report_markdown(report: dict[str, Any]) -> str:
    """The report as markdown: the figures, the learning curve table."""
    final = report.get("final_evaluation") or {}
    ev = report["config"]["evaluation"]
    lines = [
        f"# Learning run {report['name']}",
        "",
        f"- attempts: {report['attempts']} (grasp rate while learning"
        f" {100 * report['training_grasp_rate']:.1f} %)",
        f"- selection counts: {report['selection_counts']}",
        f"- wall time: {report['wall_seconds'] / 60:.1f} min"
        f" ({report['attempts_per_second']:.2f} attempts/s, trainer and evaluations included)",
        f"- model version: {report['model_version']}",
        f"- attempts to reach 90 %: {report['attempts_to_90']}, 95 %: {report['attempts_to_95']}",
    ]
    if final:
        lines.append(
            f"- final evaluation, {ev['n']} out of {ev['m']}, {final['runs']} runs:"
            f" {100 * final['grasp_rate']:.1f} % +- {100 * final['stderr']:.1f} % (stderr),"
            f" {final['pph']:.0f} picks per hour (twin clock)"
        )
    lines += ["", "## Learning curve", "", curve_table(report["curve"]), ""]
    return "\n".join(lines)


__all__ = ["report_markdown", "run_learning"]
