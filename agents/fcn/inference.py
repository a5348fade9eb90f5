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
what ``cv2`` produces anyway), all rotations go through in one batch, and the pass runs under
``torch.inference_mode``.
``precision="bfloat16"`` halves the time on CPUs with native bf16 (AVX512-BF16 / AMX) and on
CUDA, at about 1e-2 absolute error on the values.

This is the ``"torch"`` backend; what is shared with the ``"onnx"`` backend (the config, the
turned images, the sigmoid) lives in :mod:`agents.fcn.scoring`, which does not import torch.
"""

from __future__ import annotations

import numpy as np
import torch

from agents.fcn.model import ValueModel, fuse_for_inference
from agents.fcn.scoring import (
    PRECISIONS,
    InferenceConfig,
    Scorer,
    check_config_fits_grid,
)
from grasp_env.grasp_grid import GraspGrid


def check_model_fits_grid(model: ValueModel, grid: GraspGrid) -> None:
    """Refuse a model whose window, stride or widths differ from the grid's.

    Raises:
        ConfigError: naming the grid's value and the model's.
    """
    check_config_fits_grid(model.config, grid)


class GraspScorer(Scorer):
    """Values of every grasp of the grid for one observation, with torch.

    Args:
        model: the trained value model; a fused, eval-only copy is taken, so later training
            of ``model`` does not change this scorer (call :meth:`set_model` to update).
        grid: the discrete grasp space.
        config: device, precision and threading (its backend is not consulted: this is the
            torch backend; :func:`agents.fcn.scoring.make_scorer` picks one).
    """

    backend = "torch"

    def __init__(
        self, model: ValueModel, grid: GraspGrid, config: InferenceConfig | None = None
    ) -> None:
        super().__init__(grid, model.config.in_channels)
        self.config = config if config is not None else InferenceConfig()
        self.device = torch.device(self.config.device)
        self.dtype = torch.bfloat16 if self.config.precision == "bfloat16" else torch.float32
        if self.config.threads is not None:
            torch.set_num_threads(self.config.threads)
        self.set_model(model)

    def set_model(self, model: ValueModel) -> None:
        """Score with ``model`` from now on (a fused copy of it)."""
        check_model_fits_grid(model, self.grid)
        self.channels = model.config.in_channels
        fused = fuse_for_inference(model).to(self.device, self.dtype)
        if self.config.channels_last:
            fused = fused.to(memory_format=torch.channels_last)
        self._net = fused

    def forward(self, turned: np.ndarray) -> np.ndarray:
        """Logits of the turned images (rotations, H, W, C): (rotations, rows, cols, widths)."""
        batch = torch.from_numpy(turned).permute(0, 3, 1, 2)
        if not self.config.channels_last:
            batch = batch.contiguous()
        with torch.inference_mode():
            x = batch.to(self.device, self.dtype, non_blocking=True)
            out = self._net(x)
            out = out.permute(0, 2, 3, 1).float().cpu()
        return out.numpy()


__all__ = ["PRECISIONS", "GraspScorer", "InferenceConfig", "check_model_fits_grid"]
