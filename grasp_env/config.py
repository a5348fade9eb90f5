"""Typed configuration of the cell layout, the grasp primitive and the environment.

Library code takes these frozen dataclasses; YAML files are read once at the edge by
:func:`from_dict`, which rejects unknown keys. Units are SI throughout.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import yaml

from grasp_env.errors import ConfigError
from grasp_env.geometry import ImageGeometry, Pose
from grasp_env.grasp_grid import GraspGrid

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True)
class BinPlacement:
    """Where a bin stands: the centre of its inner floor in the robot's base frame."""

    x: float
    y: float
    z: float = 0.0
    yaw: float = 0.0

    @property
    def pose(self) -> Pose:
        """The bin's frame (task frame when it is the grasp bin) in the base frame."""
        return Pose.from_xyz_yaw(self.x, self.y, self.z, self.yaw)


@dataclass(frozen=True)
class CellLayout:
    """The fixed geometry of a cell, shared by the twin and the real cell.

    Attributes:
        bins: the two bins; each takes turns as grasp bin and filing bin.
        bin_inner: inner floor size (x, y) of a bin, metres.
        wall_height: inner wall height above the bin floor, metres.
        photo_height: TCP height above the grasp bin's floor when the image is taken, metres.
    """

    bins: tuple[BinPlacement, BinPlacement] = (
        BinPlacement(0.55, 0.17, 0.0),
        BinPlacement(0.55, -0.17, 0.0),
    )
    bin_inner: tuple[float, float] = (0.20, 0.20)
    wall_height: float = 0.08
    photo_height: float = 0.40


@dataclass(frozen=True)
class PrimitiveConfig:
    """The single-shot grasp of paper III-A.

    Attributes:
        force_train: clamping force while learning, N (lower, paper III-F).
        force_apply: clamping force in application, N.
        grasp_depth: the fingertips go this far below the height read at (x, y), metres.
        floor_clearance: the fingertips never aim lower than this above the bin floor, metres.
        approach_height: the guarded approach starts this far above the grasp pose, metres.
        contact_force: force on the tool that ends the approach (the torque break), N.
        retract: distance moved back up after a contact, metres.
        lift_height: TCP height above the grasp bin's floor after lifting, metres.
        drop_height: TCP height above the filing bin's floor where the part is let go, metres.
        release_width: opening that lets go of any part, metres.
    """

    force_train: float = 10.0
    force_apply: float = 20.0
    grasp_depth: float = 0.018
    floor_clearance: float = 0.004
    approach_height: float = 0.10
    contact_force: float = 8.0
    retract: float = 0.004
    lift_height: float = 0.20
    drop_height: float = 0.18
    release_width: float = 0.10


@dataclass(frozen=True)
class EnvConfig:
    """Everything the environment itself decides.

    Attributes:
        grid: the discrete grasp space, and through it the image geometry.
        primitive: the grasp primitive.
        mode: "train" or "apply"; picks the clamping force.
        swap_after_failures: swap the bins' roles after this many failures in a row (None:
            never for failures, only when the grasp bin looks empty).
        empty_height: a pixel above this height (m) inside the bin counts as an object.
        empty_pixels: fewer such pixels than this and the grasp bin counts as empty.
        empty_margin: pixels this close (m) to the bin walls are ignored for emptiness.
    """

    grid: GraspGrid = GraspGrid()
    primitive: PrimitiveConfig = PrimitiveConfig()
    mode: str = "train"
    swap_after_failures: int | None = 10
    empty_height: float = 0.008
    empty_pixels: int = 25
    empty_margin: float = 0.012

    def __post_init__(self) -> None:
        if self.mode not in ("train", "apply"):
            raise ConfigError(f"mode must be 'train' or 'apply', got {self.mode!r}")
        if self.swap_after_failures is not None and self.swap_after_failures < 1:
            raise ConfigError(f"swap_after_failures must be >= 1, got {self.swap_after_failures}")

    @property
    def image(self) -> ImageGeometry:
        """The observation's geometry."""
        return self.grid.image

    @property
    def force(self) -> float:
        """The clamping force of the current mode, N."""
        return self.primitive.force_train if self.mode == "train" else self.primitive.force_apply


T = TypeVar("T", bound="DataclassInstance")


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "config") -> T:
    """Build dataclass ``cls`` from a plain mapping (parsed YAML), rejecting unknown keys.

    Nested dataclasses are built recursively; lists become tuples where the field is a tuple.
    """
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise ConfigError(
            f"{where}: expected a mapping for {cls.__name__}, got {type(data).__name__}"
        )
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {unknown} for {cls.__name__}; known: {sorted(fields)}"
        )
    kwargs = {name: _coerce(hints[name], value, f"{where}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """``value`` (parsed YAML) as a field of type ``hint``; ConfigError naming ``where``."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_dict(hint, value, where)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is tuple:
        return _coerce_tuple(args, value, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _coerce(next(a for a in args if a is not type(None)), value, where)
    return _check_scalar(hint, value, where)


def _coerce_tuple(args: tuple[Any, ...], value: Any, where: str) -> tuple[Any, ...]:
    """A YAML list as ``tuple[args]``: ``tuple[T, ...]`` or a fixed number of items."""
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{where}: expected a list, got {value!r}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if len(args) != len(value):
        raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
    pairs = enumerate(zip(args, value, strict=True))
    return tuple(_coerce(a, v, f"{where}[{i}]") for i, (a, v) in pairs)


#: The scalar field types: the Python types a YAML value may have, and their name in errors.
#: A YAML boolean is only a ``bool`` (Python's bool is an int, so it is refused explicitly).
_SCALARS: dict[type, tuple[tuple[type, ...], str]] = {
    float: ((int, float), "a number"),
    int: ((int,), "an integer"),
    str: ((str,), "a string"),
    bool: ((bool,), "true or false"),
}


def _check_scalar(hint: Any, value: Any, where: str) -> Any:
    """``value`` checked against a scalar ``hint`` (ints become floats); others pass as is."""
    if hint not in _SCALARS:
        return value
    accepted, name = _SCALARS[hint]
    fits = isinstance(value, accepted) and not (isinstance(value, bool) and hint is not bool)
    if not fits:
        raise ConfigError(f"{where}: expected {name}, got {value!r}")
    return float(value) if hint is float else value


def to_dict(config: Any) -> Any:
    """A dataclass config as plain data (for YAML, JSON and HDF5 attributes)."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, tuple | list):
        return [to_dict(v) for v in config]
    if isinstance(config, np.generic):
        return config.item()
    return config


def read_layered(path: Path, what: str, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The YAML mapping at ``path`` with its ``base`` chain merged under it.

    A file may start from another one: ``base: other.yaml`` (relative to the file, else a
    packaged config such as ``configs/benchmark.yaml``) reads that file first and lays this
    file's keys over it, mapping by mapping; any other value, a list included, replaces the
    base's whole. ``what`` names the kind of file in errors.
    """
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"expected {what} file, got missing {path}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys, got {type(data).__name__}")
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(f"{path}: base: expected a file name, got {base!r}")
    base_path = _base_path(path, base)
    if base_path in seen or base_path == path.resolve():
        raise ConfigError(f"{path}: base: {base} leads back to itself")
    return _merged(read_layered(base_path, what, (*seen, path.resolve())), data)


def _base_path(path: Path, base: str) -> Path:
    """``base`` beside ``path``, else the packaged config of that name, else beside ``path``."""
    from grasp_env.factory import find_config

    beside = (path.parent / base).resolve()
    packaged = None if beside.exists() else find_config(base)
    return packaged.resolve() if packaged is not None else beside


def _merged(under: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` laid over ``under``: mappings merge key by key, other values replace."""
    out = dict(under)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


__all__ = [
    "BinPlacement",
    "CellLayout",
    "EnvConfig",
    "PrimitiveConfig",
    "from_dict",
    "read_layered",
    "to_dict",
]
