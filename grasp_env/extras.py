"""Optional dependencies: which extra of grasp-toolkit installs which module.

``pip install grasp-toolkit`` installs the core, what :mod:`grasp_env` needs: numpy,
gymnasium and PyYAML (the environment contract, the real cell's drivers, the loopback
emulators of :mod:`sim.emulators`). The twin, the agents, the dataset and monitoring come
with extras (pyproject.toml). Where a package edge imports them (:mod:`sim.sim_env` for the
twin ids, the ``grasp`` command), :func:`needs_extras` turns the ``ModuleNotFoundError`` of a
missing optional module into :class:`grasp_env.errors.DependencyNotInstalled` that names the
extra to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from grasp_env.errors import DependencyNotInstalled

#: Each optional module (top-level import name): the distribution that provides it and the
#: extra that installs that distribution. tests/env/test_extras.py checks it against
#: pyproject.toml.
OPTIONAL_MODULES: dict[str, tuple[str, str]] = {
    "pybullet": ("pybullet", "sim"),
    "pybullet_data": ("pybullet", "sim"),
    "pybullet_utils": ("pybullet", "sim"),
    "torch": ("torch", "agents"),
    "cv2": ("opencv-python-headless", "agents"),
    "tqdm": ("tqdm", "agents"),
    "tensorboard": ("tensorboard", "agents"),
    "h5py": ("h5py", "dataset"),
    "matplotlib": ("matplotlib", "plot"),
    "onnxruntime": ("onnxruntime", "onnx"),
    "onnx": ("onnx", "onnx"),
    "stable_baselines3": ("stable-baselines3", "baselines"),
    "nxlib": ("nxlib", "ensenso"),
    "ray": ("ray", "ray"),
}


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, e.g. ``pip install grasp-toolkit[sim]``."""
    return f"pip install grasp-toolkit[{extra}]"


@contextmanager
def needs_extras(what: str) -> Iterator[None]:
    """Run the block; a missing optional module raises an error naming its extra.

    Args:
        what: who needs the module, for the message (e.g. "the PyBullet twin").

    Raises:
        DependencyNotInstalled: an optional module of :data:`OPTIONAL_MODULES` is missing
            (the ``ModuleNotFoundError`` is its cause). Any other import error propagates
            unchanged.
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        module = (exc.name or "").partition(".")[0]
        if module not in OPTIONAL_MODULES:
            raise
        distribution, extra = OPTIONAL_MODULES[module]
        raise DependencyNotInstalled(
            f"{what} needs the '{distribution}' package (module {module!r}), which is not"
            f" installed: {install_hint(extra)}"
        ) from exc


__all__ = ["OPTIONAL_MODULES", "install_hint", "needs_extras"]
