"""Models shipped with the package.

``fcn_cylinders.pt``: the value model learned by ``grasp learn --config configs/learn.yaml``
in the PyBullet twin with 20 wooden cylinders (see docs/results.md for its learning curve and
grasp rate), saved with its model card (:mod:`agents.fcn.checkpoint`). ``grasp evaluate --agent
fcn --model pretrained`` loads it through :func:`pretrained_path`.
"""

from __future__ import annotations

from pathlib import Path

from grasp_env.errors import ConfigError

PRETRAINED = "fcn_cylinders.pt"


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


__all__ = ["PRETRAINED", "pretrained_path"]
