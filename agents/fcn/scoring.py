"""What every grasp-space scorer shares, without torch: the config, the turned images, sigmoid.

A scorer gives the value of every grasp of the grid for one observation, shape (rotations,
rows, cols, widths). Two backends run the network:

* ``"torch"``: :class:`agents.fcn.inference.GraspScorer`, the fused model in torch;
* ``"onnx"``: :class:`agents.fcn.onnx.OnnxScorer`, the same network in onnxruntime (the
  ``onnx`` extra), from an exported ``.onnx`` file or from a model exported in memory. It
  runs without torch, e.g. on a robot PC.

``backend="auto"`` (the default) is :data:`AUTO_ORDER`'s first backend that is installed and
fits the config. :func:`make_scorer` builds the scorer of a model or a model file. Both
backends share :class:`Scorer`: checking and encoding the observation, turning it by each
grid angle, and the sigmoid, so they differ only in the network pass.

Threads: ``InferenceConfig.num_threads``, else the process default set with
:func:`set_default_threads` (one per evaluation worker), else the backend's own default.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.fcn.crop import warp
from agents.fcn.model_config import ModelConfig
from agents.fcn.observation import check_observation, encode
from grasp_env.errors import ConfigError
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid

PRECISIONS = ("float32", "bfloat16")
BACKENDS = ("auto", "torch", "onnx")

#: The order in which ``backend="auto"`` tries the backends: the fastest measured first
#: (``grasp bench inference``: onnxruntime's pass is a little faster per thread than
#: torch's, and degrades less on a loaded machine).
AUTO_ORDER = ("onnx", "torch")

_default_threads: int | None = None


def set_default_threads(threads: int | None) -> int | None:
    """Threads for scorers whose config leaves ``num_threads`` unset; returns the previous.

    Raises:
        ConfigError: ``threads`` below 1.
    """
    global _default_threads
    if threads is not None and threads < 1:
        raise ConfigError(f"expected threads >= 1 or None, got {threads}")
    previous, _default_threads = _default_threads, threads
    return previous


def default_threads() -> int | None:
    """The process default of :func:`set_default_threads` (None: the backend's own)."""
    return _default_threads


def onnx_available() -> bool:
    """Whether onnxruntime and onnx (the ``onnx`` extra) are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def onnxruntime_available() -> bool:
    """Whether onnxruntime is installed (enough to run an exported file)."""
    return importlib.util.find_spec("onnxruntime") is not None


@dataclass(frozen=True)
class InferenceConfig:
    """How a scorer runs the network.

    Attributes:
        device: a torch device string, e.g. "cpu" or "cuda" (the onnx backend runs on the CPU).
        precision: "float32" (values match the training crops to float rounding) or
            "bfloat16" (torch only; about twice as fast where the hardware supports it).
        num_threads: threads of the pass; torch: ``torch.set_num_threads`` (process-wide);
            onnx: the session's intra-op threads. None: :func:`default_threads`.
        channels_last: torch: run the convolutions in NHWC layout (faster with oneDNN).
        backend: "torch", "onnx" or "auto" (see :func:`resolve_backend`).
    """

    device: str = "cpu"
    precision: str = "float32"
    num_threads: int | None = None
    channels_last: bool = True
    backend: str = "auto"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.num_threads is not None and self.num_threads < 1:
            raise ConfigError(f"num_threads must be >= 1, got {self.num_threads}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.backend == "onnx" and (self.precision != "float32" or self.device != "cpu"):
            raise ConfigError(
                "the onnx backend runs float32 on the CPU; expected precision 'float32' and"
                f" device 'cpu', got {self.precision!r} on {self.device!r}"
            )

    @property
    def threads(self) -> int | None:
        """``num_threads``, else the process default."""
        return self.num_threads if self.num_threads is not None else _default_threads


def resolve_backend(config: InferenceConfig) -> str:
    """The backend that ``config`` runs for a torch model.

    Its own, or for "auto" the first of :data:`AUTO_ORDER` that fits: onnx where the
    ``onnx`` extra is installed and the config asks for float32 on the CPU, else torch.
    """
    if config.backend != "auto":
        return config.backend
    for backend in AUTO_ORDER:
        if backend == "onnx" and not (
            config.precision == "float32" and config.device == "cpu" and onnx_available()
        ):
            continue
        return backend
    return "torch"


def check_config_fits_grid(config: ModelConfig, grid: GraspGrid, source: str = "model") -> None:
    """Refuse a network shape whose window, stride, widths or output size differ from the grid's.

    Raises:
        ConfigError: naming the grid's value and the model's.
    """
    pairs = (
        ("window_px", grid.window_px, config.window_px),
        ("stride_px", grid.stride_px, config.stride),
        ("widths", len(grid.widths), config.widths),
    )
    for name, expected, got in pairs:
        if expected != got:
            raise ConfigError(f"{source} does not fit the grasp grid: {name} {expected}, got {got}")
    rows = config.output_size(grid.image.rows)
    cols = config.output_size(grid.image.cols)
    if (rows, cols) != grid.shape[1:3]:
        raise ConfigError(
            f"{source} output {rows} x {cols} does not fit the grid's {grid.shape[1]} x"
            f" {grid.shape[2]}"
        )


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits, computed in float64, returned as float32."""
    return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)


class Scorer:
    """Values of every grasp of the grid for one observation; subclasses run the network.

    Args:
        grid: the discrete grasp space (its image must be square).
        channels: the network's input channels (1 or 2).

    Subclasses implement :meth:`forward`: a batch of turned images, float32 (rotations, H,
    W, C), to logits, float32 (rotations, rows, cols, widths).
    """

    backend = "none"

    def __init__(self, grid: GraspGrid, channels: int) -> None:
        g = grid.image
        if g.rows != g.cols:
            raise ConfigError(f"expected a square image, got {g.rows} x {g.cols}")
        self.grid = grid
        self.channels = channels
        self._matrices = [g.window_affine(0.0, 0.0, float(a), g.rows) for a in grid.angles]

    def turned_images(self, image: HeightImage) -> np.ndarray:
        """The encoded image turned by each grid angle, float32 (rotations, H, W, C)."""
        g = self.grid.image
        encoded = encode(image.height, image.valid, g, self.channels)
        out = np.empty((len(self._matrices), g.rows, g.cols, self.channels), np.float32)
        for r, matrix in enumerate(self._matrices):
            out[r] = warp(encoded, matrix, g.rows)
        return out

    def forward(self, turned: np.ndarray) -> np.ndarray:
        """Logits of the turned images (see the class docstring)."""
        raise NotImplementedError

    def logits(self, observation: Mapping[str, np.ndarray] | HeightImage) -> np.ndarray:
        """Logits of every grasp, float32 (rotations, rows, cols, widths)."""
        image = check_observation(observation, self.grid.image)
        return self.forward(self.turned_images(image))

    def score(self, observation: Mapping[str, np.ndarray] | HeightImage) -> np.ndarray:
        """Grasp success probability of every grasp, float32 (rotations, rows, cols, widths).

        Cell (r, i, j, k) is the grasp ``grid.index_to_action((r, i, j, k))``.

        Raises:
            InvalidObservation: the observation's arrays have the wrong shape or dtype.
        """
        return sigmoid(self.logits(observation))

    def set_model(self, model: Any) -> None:
        """Score with ``model`` (a :class:`agents.fcn.model.ValueModel`) from now on."""
        raise ConfigError(f"a {type(self).__name__} cannot take a new model")


def is_onnx_path(source: Any) -> bool:
    """Whether ``source`` names an ONNX file (by its ``.onnx`` suffix)."""
    return isinstance(source, str | os.PathLike) and os.fspath(source).lower().endswith(".onnx")


def make_scorer(source: Any, grid: GraspGrid, config: InferenceConfig | None = None) -> Scorer:
    """The scorer of ``source`` for ``grid``.

    Args:
        source: a :class:`agents.fcn.model.ValueModel` (run by the config's backend), or the
            path of an exported ``.onnx`` file (run by onnxruntime, torch is not imported).
        grid: the grasp space; a file made for another grid or image is refused.
        config: device, precision, threads, backend.

    Raises:
        ConfigError: the file or model does not fit the grid, or the backend's extra is
            missing, naming what was expected and what came.
    """
    config = config if config is not None else InferenceConfig()
    if is_onnx_path(source):
        if config.backend == "torch":
            raise ConfigError(
                f"expected a torch checkpoint for backend 'torch', got the ONNX file {source}"
            )
        from agents.fcn.onnx import OnnxScorer

        return OnnxScorer.from_file(source, grid, config)
    backend = resolve_backend(config)
    if backend == "onnx":
        from agents.fcn.onnx import OnnxScorer

        return OnnxScorer.from_model(source, grid, config)
    from agents.fcn.inference import GraspScorer

    return GraspScorer(source, grid, config)


__all__ = [
    "AUTO_ORDER",
    "BACKENDS",
    "PRECISIONS",
    "InferenceConfig",
    "Scorer",
    "check_config_fits_grid",
    "default_threads",
    "is_onnx_path",
    "make_scorer",
    "onnx_available",
    "onnxruntime_available",
    "resolve_backend",
    "set_default_threads",
    "sigmoid",
]
