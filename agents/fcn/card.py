"""The model card's geometry, checked against a grid without torch (checkpoints and ONNX).

The fields are those of :func:`agents.fcn.checkpoint.model_card` that decide what the
network's inputs and outputs mean: the image geometry, the grasp grid, the normalisation and
the crop interpolation. :func:`check_geometry` refuses a card made for another grid, naming
the field, the card's value and the grid's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.fcn.crop import INTERPOLATION_NAME
from agents.fcn.observation import CHANNEL_NAMES, NORMALISATION
from grasp_env.errors import ConfigError
from grasp_env.grasp_grid import GraspGrid


def geometry_fields(grid: GraspGrid) -> dict[str, Any]:
    """The grid's facts as a model card records them."""
    g = grid.image
    return {
        "pixel_size": g.pixel_size,
        "image_rows": g.rows,
        "image_cols": g.cols,
        "max_height": g.max_height,
        "window_px": grid.window_px,
        "stride_px": grid.stride_px,
        "widths": [float(w) for w in grid.widths],
        "rotations": grid.rotations,
        "max_angle": grid.max_angle,
        "angles": [float(a) for a in grid.angles],
    }


def same(got: Any, want: Any) -> bool:
    """Equal, with floats and float lists compared to a relative 1e-6."""
    if isinstance(want, float | list):
        try:
            values = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return False
        return values.shape == np.shape(want) and np.allclose(values, want, rtol=1e-6, atol=1e-9)
    return got == want


def check_geometry(
    card: dict,
    grid: GraspGrid,
    source: str,
    remedy: str = "export a model for this geometry or use the matching grid",
) -> None:
    """Refuse a card whose geometry, normalisation, interpolation or channels differ.

    Raises:
        ConfigError: naming the first mismatched field, the card's value and the grid's.
    """
    expected = geometry_fields(grid)
    expected["normalisation"] = NORMALISATION
    expected["interpolation"] = INTERPOLATION_NAME
    for name, want in expected.items():
        if name not in card:
            raise ConfigError(f"{source}: the model card lacks {name!r} (expected {want!r})")
        if not same(card[name], want):
            raise ConfigError(
                f"{source}: the model was made for {name} = {card[name]!r}, but is asked to"
                f" serve {name} = {want!r}; {remedy}"
            )
    in_channels = card.get("model_config", {}).get("in_channels")
    if in_channels not in (1, 2):
        raise ConfigError(f"{source}: expected model_config.in_channels 1 or 2, got {in_channels}")
    channels = list(CHANNEL_NAMES[:in_channels])
    if card.get("input_channels") != channels:
        raise ConfigError(
            f"{source}: expected input_channels {channels}, got {card.get('input_channels')}"
        )


__all__ = ["check_geometry", "geometry_fields", "same"]
