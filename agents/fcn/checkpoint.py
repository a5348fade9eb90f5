"""Saving and loading a value model together with the card that says what it was trained for.

A checkpoint is one ``torch.save`` file holding ``{"state_dict": ..., "card": ...}``. The card
is plain data (readable with ``torch.load(weights_only=True)``): the image geometry (pixel
size, image size, height range), the grasp grid (window, stride, widths, rotations, angles),
the input channels and their normalisation, the crop interpolation, the model's shape and
parameter count, the library version, and the training facts.

:func:`load_checkpoint` compares the card with the grid it is asked to serve and refuses any
mismatch in what decides the meaning of the network's inputs and outputs, naming the field,
the checkpoint's value and the grid's. A different library version only warns. Saving writes
to a temporary file and renames it, so a reader (the actor loading the newest model) never
sees half a file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import time
import warnings
from pathlib import Path

import torch

import grasp_env
from agents.fcn.card import check_geometry, geometry_fields
from agents.fcn.crop import INTERPOLATION_NAME
from agents.fcn.model import ModelConfig, ValueModel, parameter_count
from agents.fcn.observation import CHANNEL_NAMES, NORMALISATION
from grasp_env.config import to_dict
from grasp_env.errors import ConfigError
from grasp_env.grasp_grid import GraspGrid

CARD_FORMAT = "grasp-value-model"
CARD_VERSION = 1


def model_card(model: ValueModel, grid: GraspGrid, training: dict | None = None) -> dict:
    """The card of ``model`` serving ``grid``: plain data, JSON-compatible."""
    return {
        "format": CARD_FORMAT,
        "format_version": CARD_VERSION,
        "library_version": grasp_env.__version__,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **geometry_fields(grid),
        "normalisation": NORMALISATION,
        "input_channels": list(CHANNEL_NAMES[: model.config.in_channels]),
        "interpolation": INTERPOLATION_NAME,
        "model_config": to_dict(model.config),
        "parameter_count": parameter_count(model),
        "output": "logits of grasp success per width; sigmoid gives the probability",
        "training": to_dict(training) if training is not None else {},
    }


def save_checkpoint(
    path: str | os.PathLike,
    model: ValueModel,
    grid: GraspGrid,
    training: dict | None = None,
    overwrite: bool = True,
) -> Path:
    """Write ``model`` and its card to ``path`` atomically; returns the path.

    Args:
        path: the file to write (its folder must exist).
        model: the model to save (its state dict, moved to the CPU).
        grid: the grasp space it serves, recorded in the card.
        training: plain data about the training (sizes, epochs, figures) for the card.
        overwrite: if False, refuse to replace an existing file.

    Raises:
        ConfigError: the file exists and ``overwrite`` is False.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise ConfigError(f"expected a new checkpoint path, got existing file {path}")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {"state_dict": state, "card": model_card(model, grid, training)}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def model_digest(model: ValueModel) -> str:
    """The hex SHA-256 of the weights: every state-dict entry's name, dtype, shape and bytes.

    Equal for two models exactly when they compute the same function bit for bit (the card
    and the file's layout do not enter), so two lockstep runs of one config can compare it.
    """
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        values = tensor.detach().cpu().contiguous()
        h.update(f"{name} {values.dtype} {tuple(values.shape)}\n".encode())
        h.update(values.numpy().tobytes())
    return h.hexdigest()


def read_card(path: str | os.PathLike) -> dict:
    """The card of the checkpoint at ``path``, without building the model."""
    return _read(path)["card"]


def check_card(card: dict, grid: GraspGrid, source: str = "checkpoint") -> None:
    """Refuse a card that does not describe a model for ``grid`` and this code's inputs.

    Raises:
        ConfigError: naming the first mismatched field, the card's value and the expected one.
    """
    if card.get("format") != CARD_FORMAT:
        raise ConfigError(
            f"{source}: expected a card of format {CARD_FORMAT!r}, got {card.get('format')!r}"
        )
    check_geometry(card, grid, source, "retrain it for this geometry or use the matching grid")
    version = card.get("library_version")
    if version != grasp_env.__version__:
        warnings.warn(
            f"{source}: saved by grasp_env {version}, loading with {grasp_env.__version__}",
            stacklevel=2,
        )


def load_checkpoint(
    path: str | os.PathLike, grid: GraspGrid, device: str = "cpu"
) -> tuple[ValueModel, dict]:
    """The model and card saved at ``path``, checked against ``grid``; the model in eval mode.

    The model has no dropout generator; set one with ``model.set_generator`` to train it.

    Raises:
        ConfigError: the file is not a checkpoint, or its card does not fit ``grid``.
    """
    payload = _read(path)
    card = payload["card"]
    check_card(card, grid, source=str(path))
    config = _model_config(card["model_config"], str(path))
    model = ValueModel(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise ConfigError(f"{path}: the weights do not fit the card's model_config: {exc}") from exc
    return model.to(device).eval(), card


def _read(path: str | os.PathLike) -> dict:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch's messages run over many lines: keep the first
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ConfigError(
            f"{path}: expected a value-model checkpoint, got a file torch cannot load"
            f" ({type(exc).__name__}: {first})"
        ) from exc
    if not isinstance(payload, dict) or "state_dict" not in payload or "card" not in payload:
        raise ConfigError(
            f"{path}: expected a dict with 'state_dict' and 'card', got"
            f" {sorted(payload) if isinstance(payload, dict) else type(payload).__name__}"
        )
    return payload


def _model_config(data: dict, source: str) -> ModelConfig:
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise ConfigError(f"{source}: unknown model_config keys {unknown}; known {sorted(fields)}")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return ModelConfig(**kwargs)


__all__ = [
    "CARD_FORMAT",
    "check_card",
    "load_checkpoint",
    "model_card",
    "model_digest",
    "read_card",
    "save_checkpoint",
]
