"""Scoring the whole grasp space of one observation with a single batched FCN pass.

For each of the grid's angles a_r the encoded image is turned with
``geometry.window_affine(0, 0, a_r, image size)`` (the same ``cv2.warpAffine`` call that crops
a training window, :func:`agents.fcn.crop.warp`); the batch of all turned images goes through the
fully-convolutional network once, giving values of shape (rotations, rows, cols, widths) =
(20, 40, 40, 3) by default. Output cell (r, i, j, k) is computed from turned-image rows
2i .. 2i + 31 and columns 2j .. 2j + 31, which are, pixel for pixel, the training window of
``grid.index_to_action((r, i, j, k))``: both sample the image at the same points, so the
value here equals the network's value on that crop up to float rounding (tested).

Speed: the batch norms are folded into the convolutions
(:func:`agents.fcn.model.fuse_for_inference`), the input is laid out channels-last (NHWC,
what ``cv2`` produces anyway), and the pass runs under ``torch.inference_mode``.
``precision="bfloat16"`` halves the time on CPUs with native bf16 (AVX512-BF16 / AMX) and on
CUDA, at about 1e-2 absolute error on the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from agents.fcn.crop import warp
from agents.fcn.model import ValueModel, fuse_for_inference
from agents.fcn.observation import check_observation, encode
from grasp_env.errors import ConfigError
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid

PRECISIONS = ("float32", "bfloat16")


@dataclass(frozen=True)
class InferenceConfig:
    """How the scorer runs the network.

    Attributes:
        device: a torch device string, e.g. "cpu" or "cuda".
        precision: "float32" (values match the training crops to float rounding) or
            "bfloat16" (about twice as fast where the hardware supports it).
        num_threads: if set, ``torch.set_num_threads`` is called with it (process-wide).
        channels_last: run the convolutions in NHWC layout (faster with oneDNN and cuDNN).
    """

    device: str = "cpu"
    precision: str = "float32"
    num_threads: int | None = None
    channels_last: bool = True

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.num_threads is not None and self.num_threads < 1:
            raise ConfigError(f"num_threads must be >= 1, got {self.num_threads}")


def check_model_fits_grid(model: ValueModel, grid: GraspGrid) -> None:
    """Refuse a model whose window, stride or widths differ from the grid's.

    Raises:
        ConfigError: naming the grid's value and the model's.
    """
    cfg = model.config
    pairs = (
        ("window_px", grid.window_px, cfg.window_px),
        ("stride_px", grid.stride_px, cfg.stride),
        ("widths", len(grid.widths), cfg.widths),
    )
    for name, expected, got in pairs:
        if expected != got:
            raise ConfigError(f"model does not fit the grasp grid: {name} {expected}, got {got}")
    rows = cfg.output_size(grid.image.rows)
    cols = cfg.output_size(grid.image.cols)
    if (rows, cols) != grid.shape[1:3]:
        raise ConfigError(
            f"model output {rows} x {cols} does not fit the grid's {grid.shape[1]} x"
            f" {grid.shape[2]}"
        )


class GraspScorer:
    """Values of every grasp of the grid for one observation.

    Args:
        model: the trained value model; a fused, eval-only copy is taken, so later training
            of ``model`` does not change this scorer (call :meth:`set_model` to update).
        grid: the discrete grasp space.
        config: device, precision and threading.
    """

    def __init__(
        self, model: ValueModel, grid: GraspGrid, config: InferenceConfig | None = None
    ) -> None:
        self.grid = grid
        self.config = config if config is not None else InferenceConfig()
        self.device = torch.device(self.config.device)
        self.dtype = torch.bfloat16 if self.config.precision == "bfloat16" else torch.float32
        if self.config.num_threads is not None:
            torch.set_num_threads(self.config.num_threads)
        g = grid.image
        if g.rows != g.cols:
            raise ConfigError(f"expected a square image, got {g.rows} x {g.cols}")
        self._matrices = [g.window_affine(0.0, 0.0, float(a), g.rows) for a in grid.angles]
        self.set_model(model)

    def set_model(self, model: ValueModel) -> None:
        """Score with ``model`` from now on (a fused copy of it)."""
        check_model_fits_grid(model, self.grid)
        self.channels = model.config.in_channels
        fused = fuse_for_inference(model).to(self.device, self.dtype)
        if self.config.channels_last:
            fused = fused.to(memory_format=torch.channels_last)
        self._net = fused

    def turned_images(self, image: HeightImage) -> np.ndarray:
        """The encoded image turned by each grid angle, float32 (rotations, H, W, C)."""
        g = self.grid.image
        encoded = encode(image.height, image.valid, g, self.channels)
        out = np.empty((len(self._matrices), g.rows, g.cols, self.channels), np.float32)
        for r, matrix in enumerate(self._matrices):
            out[r] = warp(encoded, matrix, g.rows)
        return out

    def logits(self, observation: Mapping[str, np.ndarray] | HeightImage) -> np.ndarray:
        """Logits of every grasp, float32 (rotations, rows, cols, widths)."""
        image = check_observation(observation, self.grid.image)
        batch = torch.from_numpy(self.turned_images(image)).permute(0, 3, 1, 2)
        if not self.config.channels_last:
            batch = batch.contiguous()
        with torch.inference_mode():
            x = batch.to(self.device, self.dtype, non_blocking=True)
            out = self._net(x)
            out = out.permute(0, 2, 3, 1).float().cpu()
        return out.numpy()

    def score(self, observation: Mapping[str, np.ndarray] | HeightImage) -> np.ndarray:
        """Grasp success probability of every grasp, float32 (rotations, rows, cols, widths).

        Cell (r, i, j, k) is the grasp ``grid.index_to_action((r, i, j, k))``.
        """
        logits = self.logits(observation)
        return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)


__all__ = ["PRECISIONS", "GraspScorer", "InferenceConfig", "check_model_fits_grid"]
