"""Learning agents for the benchmark: trained from nothing in the twin for attempt budgets.

A learner turns (budgets, seed, object set, a folder) into one agent per budget, each trained
on that many grasp attempts, and says how long the training took:

* ``fcn``: the paper's self-supervised loop (:func:`agents.learning.run_learning`) with a
  learn config (option ``config``, default ``configs/learn.yaml``), run once to the largest
  budget under the lockstep schedule; the agent of a budget is the model trained on the most
  attempts up to it (the learning curve's checkpoint), with the application rule.
* any learner of :mod:`agents.baselines.learners` (the Stable-Baselines3 baselines
  ``sb3_ppo_grid`` and ``sb3_ppo_box``, the ``baselines`` extra, or your own registered
  there), trained from nothing once per budget.

A learner's folder holds its runs; a finished budget is recorded in ``learned.json`` and not
trained again, so a killed benchmark resumes where it stopped. An option naming a file in the
learner's folder (a checkpoint, a saved policy) is recorded relative to that folder, as
``{"in_folder": path}``, so the benchmark resumes from any working directory and after its
folder moved.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from agents.baselines.learners import Learned
from agents.evaluation import AgentSpec
from grasp_env.errors import ConfigError

LEARNED = "learned.json"

MultiLearner = Callable[..., dict[int, Learned]]


def learn_fcn(
    *, budgets: tuple[int, ...], seed: int, object_set: str, out_dir: Path, config: str = ""
) -> dict[int, Learned]:
    """The paper's loop to the largest budget; the curve's model of each budget."""
    from agents.learning import load_config, resolve_run_dir, run_learning
    from agents.learning.rundir import CHECKPOINTS, read_curve_models
    from grasp_env.factory import find_config

    source = config or "configs/learn.yaml"
    path = find_config(source)
    if path is None:
        raise ConfigError(f"learner fcn: expected a learn config file, got missing {source!r}")
    base = load_config(path)
    # the loop's own curve evaluation is reduced to one attempt a point: the benchmark
    # evaluates each budget's model on its own protocol
    tiny_eval = dataclasses.replace(
        base.evaluation, at=tuple(budgets), n=1, m=1, runs=1, final_runs=1, workers=1
    )
    run_config = dataclasses.replace(
        base, name="run", seed=seed, object_set=object_set, target_attempts=max(budgets),
        evaluation=tiny_eval,
    )  # fmt: skip
    run_dir = resolve_run_dir(out_dir, run_config)
    start = time.perf_counter()
    report = run_learning(run_config, run_dir, progress=False)
    seconds = float(report.get("wall_seconds", time.perf_counter() - start))
    models = read_curve_models(run_dir)
    learned = {}
    for budget in budgets:
        ref = models[budget]
        options = {"selection": "application"}
        if ref.version:
            options["checkpoint"] = str(run_dir / CHECKPOINTS / ref.path)
        agent = AgentSpec("fcn", options) if ref.version else AgentSpec("random")
        learned[budget] = Learned(agent, budget, seconds)
    return learned


def learn_each(
    name: str, *, budgets: tuple[int, ...], seed: int, object_set: str, out_dir: Path
) -> dict[int, Learned]:
    """A learner of :mod:`agents.baselines.learners`, trained from nothing once per budget."""
    from agents.baselines import learn

    return {
        b: learn(name, attempts=b, seed=seed, object_set=object_set, out_dir=out_dir / f"b{b}")
        for b in budgets
    }


def learner(name: str) -> MultiLearner:
    """The learner called ``name``: "fcn" or one of :func:`agents.baselines.available`."""
    from agents.baselines import available

    if name == "fcn":
        return learn_fcn
    if name in available():
        return partial(learn_each, name)
    raise ConfigError(f"expected a learner in {['fcn', *available()]}, got {name!r}")


def learn_once(
    name: str,
    options: dict[str, Any],
    *,
    budgets: tuple[int, ...],
    seed: int,
    object_set: str,
    out_dir: Path,
) -> dict[int, Learned]:
    """The learner's agents for ``budgets``, trained now or read from ``learned.json``."""
    marker = out_dir / LEARNED
    done = read_learned(marker)
    if all(b in done for b in budgets):
        return {b: done[b] for b in budgets}
    out_dir.mkdir(parents=True, exist_ok=True)
    trained = learner(name)(budgets=tuple(budgets), seed=seed, object_set=object_set,
                            out_dir=out_dir, **options)  # fmt: skip
    done.update(trained)
    _write_learned(marker, done)
    return {b: done[b] for b in budgets}


def read_learned(path: Path) -> dict[int, Learned]:
    """The budgets a learner has finished, from its ``learned.json`` (none: empty)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {
        int(b): Learned(
            AgentSpec(v["agent"], _from_folder(v["options"], path.parent)), int(b),
            float(v["seconds"]),
        )
        for b, v in data.items()
    }  # fmt: skip


def _in_folder(options: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``options`` with each file inside ``folder`` as ``{"in_folder": relative path}``."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        out[key] = value
        if isinstance(value, str) and Path(value).exists():
            path = Path(value).resolve()
            if path.is_relative_to(folder.resolve()):
                out[key] = {"in_folder": str(path.relative_to(folder.resolve()))}
    return out


def _from_folder(options: dict[str, Any], folder: Path) -> dict[str, Any]:
    out = {}
    for key, value in options.items():
        out[key] = value
        if isinstance(value, dict):
            out[key] = str(folder / value["in_folder"])
            if not Path(out[key]).exists():
                raise ConfigError(
                    f"{folder / LEARNED}: the learner's file {value['in_folder']!r} is missing;"
                    f" delete {folder} to train it again"
                )
    return out


def _write_learned(path: Path, learned: dict[int, Learned]) -> None:
    data = {
        str(b): {"agent": v.agent.name, "options": _in_folder(dict(v.agent.options), path.parent),
                 "seconds": v.seconds}
        for b, v in sorted(learned.items())
    }  # fmt: skip
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


__all__ = ["LEARNED", "learn_each", "learn_fcn", "learn_once", "learner", "read_learned"]
