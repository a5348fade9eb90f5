"""Models shipped with the package.

``fcn_cylinders.pt``: the final model of ``grasp learn --config configs/learn.yaml`` (seed 0,
lockstep schedule, two lanes, dataset schema 2) in the PyBullet twin with 20 wooden
cylinders: 93.0 % +- 0.8 % in 10 out of 20 over 100 bins (docs/results.md has its learning
curve). Its model card
(:mod:`agents.fcn.checkpoint`) names, under ``training.run``, the command, config, seed and
schedule, the run's dataset and model digests and the final evaluation, so a user's own run
of that command can be compared digest for digest. ``grasp evaluate --agent fcn --model
pretrained`` loads it through :func:`pretrained_path`.

``fcn_general.pt`` (``--model general``): the final model of ``grasp learn --config
configs/learn_general.yaml`` (seed 0), learned from nothing on the 900 ``train`` shapes of
pybullet's random objects, never on the ``novel`` ones; the model to try on your own parts.
Its card names its run the same way; ``grasp benchmark --config
configs/benchmark_generalisation.yaml`` measures both models on unseen parts and bins.
"""

from __future__ import annotations

from pathlib import Path

from grasp_env.errors import ConfigError

PRETRAINED = "fcn_cylinders.pt"
#: The shipped models by the names ``--model``, ``init_model`` and a benchmark's
#: ``checkpoint`` take: the cylinder model, and the model for parts it has never seen.
SHIPPED = {"pretrained": PRETRAINED, "general": "fcn_general.pt"}


def pretrained_path(name: str = PRETRAINED) -> Path:
    """The path of the packaged checkpoint ``name``.

    Raises:
        ConfigError: the file is not in the installed package.
    """
    path = Path(__file__).resolve().parent / name
    if not path.is_file():
        raise ConfigError(
            f"expected the packaged model {name} in {path.parent}, got no such file;"
            " reinstall grasp-toolkit or pass --model PATH"
        )
    return path


def resolve_model(model: str) -> str:
    """A checkpoint path: the shipped model's for a name of :data:`SHIPPED`, else ``model``.

    Raises:
        ConfigError: a shipped model is not in the installed package.
    """
    return str(pretrained_path(SHIPPED[model])) if model in SHIPPED else model


__all__ = ["PRETRAINED", "SHIPPED", "pretrained_path", "resolve_model"]
