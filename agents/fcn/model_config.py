"""The value network's shape as a torch-free dataclass, so configs load without torch."""

from __future__ import annotations

from dataclasses import dataclass

from grasp_env.errors import ConfigError


@dataclass(frozen=True)
class ModelConfig:
    """The value network's shape.

    Attributes:
        in_channels: input channels; 2 = (normalised height, valid mask), 1 = height only.
        channels: output channels of layers 1 to 4 (layer 5 gives one per gripper width).
        kernels: kernel sizes of layers 1 to 5.
        stride: stride of layer 1; every other layer has stride 1.
        widths: number of gripper openings, the output channels of layer 5.
        batch_norm: batch norm after layers 1 to 4 (True per layer).
        dropout: dropout rate after layers 1 to 4 (0 for none).
    """

    in_channels: int = 2
    channels: tuple[int, int, int, int] = (32, 48, 64, 142)
    kernels: tuple[int, int, int, int, int] = (6, 5, 5, 6, 1)
    stride: int = 2
    widths: int = 3
    batch_norm: tuple[bool, bool, bool, bool] = (True, True, True, True)
    dropout: tuple[float, float, float, float] = (0.0, 0.4, 0.4, 0.4)

    def __post_init__(self) -> None:
        if self.in_channels not in (1, 2):
            raise ConfigError(f"in_channels must be 1 or 2, got {self.in_channels}")
        if len(self.channels) != 4 or any(c < 1 for c in self.channels):
            raise ConfigError(f"channels must be 4 positive counts, got {self.channels}")
        if len(self.kernels) != 5 or any(k < 1 for k in self.kernels):
            raise ConfigError(f"kernels must be 5 positive sizes, got {self.kernels}")
        if len(self.batch_norm) != 4 or len(self.dropout) != 4:
            raise ConfigError(
                f"batch_norm and dropout must have 4 entries, got {len(self.batch_norm)}"
                f" and {len(self.dropout)}"
            )
        if any(not 0.0 <= p < 1.0 for p in self.dropout):
            raise ConfigError(f"dropout rates must be in [0, 1), got {self.dropout}")
        if self.stride < 1 or self.widths < 1:
            raise ConfigError(
                f"stride and widths must be >= 1, got stride={self.stride}, widths={self.widths}"
            )

    @property
    def window_px(self) -> int:
        """The receptive field: the window edge that gives a 1 x 1 output, pixels."""
        return self.kernels[0] + self.stride * sum(k - 1 for k in self.kernels[1:])

    def output_size(self, size: int) -> int:
        """The output edge for an input edge of ``size`` pixels (0 if it is too small)."""
        if size < self.window_px:
            return 0
        return (size - self.window_px) // self.stride + 1


__all__ = ["ModelConfig"]
