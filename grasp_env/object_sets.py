"""Your own objects: an object set given as a YAML file that lists URDF files.

Wherever a twin's ``object_set`` is accepted (``SimBinGraspEnv``, ``gymnasium.make``,
:func:`grasp_env.factory.make_env`, ``grasp evaluate --object-set``, the learn config), it may
name a built-in set (``"cylinders"``, ...), a packaged set of :data:`PACKAGED_OBJECT_SETS`
(``"pybullet"``), or be the path of a YAML file (``.yaml`` or ``.yml``) in this format::

    objects:
      - urdf: parts/bracket.urdf     # path relative to this YAML file (required)
        scale: 1.0                   # optional, global scaling passed to pybullet.loadURDF
        mass: 0.05                   # optional, kg, overrides the URDF's base mass
        friction: 0.8                # optional, lateral friction (default: the twin's parts)
        weight: 2                    # optional, relative weight in the mix (default 1)

A ``urdf`` that starts with ``pybullet_data/`` names a file inside the ``pybullet_data``
package (``pybullet_data.getDataPath()``); any other relative path is relative to the YAML
file's folder. Each dropped object is drawn from the entries with probability proportional to
their weights, from the generator that fills the bin, so a seeded reset stays reproducible.

This module reads and checks the file itself (keys, types, ranges, that each URDF file
exists); it needs only the core. The twin (:mod:`sim.listed_objects`) checks, when the
environment is built, that pybullet can load each URDF, that its base link has a mass, and
that the object fits between the open fingers and in the bin. Every error is an
:class:`ObjectSetError` naming the file, the entry and the field, e.g.
``my_parts.yaml, objects[2].urdf: expected a URDF file pybullet can load, got 'x.urdf' (...)``.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from grasp_env.errors import ConfigError
from grasp_env.extras import install_hint
from grasp_env.factory import find_config

#: Object sets shipped with the package, by name: the file in the packaged configs.
PACKAGED_OBJECT_SETS = {"pybullet": "objects_pybullet.yaml"}

#: The file name endings that make an ``object_set`` a path.
YAML_SUFFIXES = (".yaml", ".yml")

#: A ``urdf`` starting with this lies inside the pybullet_data package.
PYBULLET_DATA = "pybullet_data/"

#: The keys of one entry.
ENTRY_KEYS = ("urdf", "scale", "mass", "friction", "weight")


class ObjectSetError(ConfigError):
    """An object set file that cannot be used; the message names file, entry and field.

    Attributes:
        source: the YAML file.
        index: the entry (``objects[index]``), or None for the file as a whole.
        field: the entry's key, or None.
    """

    def __init__(
        self, source: Path, expected: str, got: str, index: int | None = None, field: str = ""
    ) -> None:
        where = str(source)
        if index is not None:
            where += f", objects[{index}]" + (f".{field}" if field else "")
        super().__init__(f"{where}: expected {expected}, got {got}")
        self.source = source
        self.index = index
        self.field = field or None
        self._parts = (source, expected, got, index, field)

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        # Built again from its parts, so that it reaches an evaluation's parent process.
        return (type(self), self._parts)


@dataclass(frozen=True)
class ObjectEntry:
    """One entry of an object set file.

    Attributes:
        urdf: the ``urdf`` value as written (for messages).
        path: the URDF file it names.
        scale: global scaling of the URDF.
        mass: kg, the base mass; None keeps the URDF's.
        friction: lateral friction; None keeps the twin's default for parts.
        weight: relative weight in the mix, > 0.
    """

    urdf: str
    path: Path
    scale: float = 1.0
    mass: float | None = None
    friction: float | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class ObjectSetFile:
    """An object set read from a YAML file.

    Attributes:
        source: the YAML file.
        entries: its objects, at least one.
    """

    source: Path
    entries: tuple[ObjectEntry, ...]

    @property
    def probabilities(self) -> np.ndarray:
        """Each entry's chance to be drawn: the weights, normalised."""
        weights = np.array([e.weight for e in self.entries], dtype=np.float64)
        return weights / weights.sum()

    def draw(self, rng: np.random.Generator) -> int:
        """The index of a randomly drawn entry, by weight (one draw from ``rng``)."""
        return int(rng.choice(len(self.entries), p=self.probabilities))

    def error(self, index: int, field: str, expected: str, got: str) -> ObjectSetError:
        """The error for entry ``index``'s ``field``."""
        return ObjectSetError(self.source, expected, got, index, field)


def names_file(object_set: str) -> bool:
    """Whether ``object_set`` is a file (a YAML path or a packaged name), not a built-in set."""
    return object_set in PACKAGED_OBJECT_SETS or object_set.endswith(YAML_SUFFIXES)


def object_set_path(object_set: str) -> Path | None:
    """The YAML file ``object_set`` names, or None when it names no file.

    A packaged name resolves to the packaged file; a relative path to the working directory,
    else to the packaged configs, as ``configs/learn.yaml`` does
    (:func:`grasp_env.factory.find_config`).

    Raises:
        ObjectSetError: it names a YAML file that does not exist.
    """
    if not names_file(object_set):
        return None
    named = PACKAGED_OBJECT_SETS.get(object_set)
    path = find_config(f"configs/{named}" if named else object_set)
    if path is None:
        raise ObjectSetError(Path(object_set), "a YAML file listing objects", "no such file")
    return path


def anchored(object_set: str, folder: Path) -> str:
    """``object_set`` with a relative YAML path taken relative to ``folder`` (made absolute)."""
    path = Path(object_set)
    if not object_set.endswith(YAML_SUFFIXES) or path.is_absolute():
        return object_set
    return str((folder / path).resolve())


def object_set_label(object_set: str) -> str:
    """A short, location-free name of the set for records: a file's name, or the set's name."""
    return Path(object_set).name if names_file(object_set) else object_set


def read_object_set(object_set: str) -> ObjectSetFile | None:
    """The set the YAML file named by ``object_set`` lists; None when it names no file.

    Raises:
        ObjectSetError: a missing or unreadable file, or one that does not fit the format.
    """
    path = object_set_path(object_set)
    return None if path is None else load_object_set(path)


def load_object_set(path: Path) -> ObjectSetFile:
    """Read and check the object set file at ``path``.

    Raises:
        ObjectSetError: unreadable YAML, or anything that does not fit the format.
    """
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ObjectSetError(path, "a readable YAML file listing objects", str(exc)) from exc
    except yaml.YAMLError as exc:
        raise ObjectSetError(path, "valid YAML", str(exc)) from exc
    return parse_object_set(data, path)


def parse_object_set(data: Any, source: Path) -> ObjectSetFile:
    """The set of parsed YAML ``data`` read from ``source`` (relative URDFs: its folder).

    Raises:
        ObjectSetError: naming the entry and field that do not fit the format.
    """
    if not isinstance(data, dict) or list(data) != ["objects"]:
        got = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise ObjectSetError(source, "a mapping with the one key 'objects'", repr(got))
    items = data["objects"]
    if not isinstance(items, list) or not items:
        raise ObjectSetError(source, "'objects' to be a non-empty list of mappings", repr(items))
    entries = tuple(_entry(source, i, item) for i, item in enumerate(items))
    return ObjectSetFile(source, entries)


def _entry(source: Path, index: int, item: Any) -> ObjectEntry:
    if not isinstance(item, dict):
        raise ObjectSetError(source, "a mapping with a 'urdf' key", repr(item), index)
    unknown = sorted(str(k) for k in item if k not in ENTRY_KEYS)
    if unknown:
        raise ObjectSetError(
            source, f"one of the keys {ENTRY_KEYS}", "an unknown key", index, unknown[0]
        )
    if "urdf" not in item:
        raise ObjectSetError(source, "the path of a URDF file", "nothing", index, "urdf")
    numbers = {
        field: _number(source, index, field, item[field]) for field in item if field != "urdf"
    }
    return ObjectEntry(urdf=item["urdf"], path=_urdf_path(source, index, item["urdf"]), **numbers)


def _urdf_path(source: Path, index: int, urdf: Any) -> Path:
    """The file ``urdf`` names: inside pybullet_data, or relative to the YAML's folder."""
    if not isinstance(urdf, str) or not urdf:
        raise ObjectSetError(source, "the path of a URDF file", repr(urdf), index, "urdf")
    if urdf.startswith(PYBULLET_DATA):
        path = _pybullet_data(source, index) / urdf.removeprefix(PYBULLET_DATA)
    else:
        path = source.parent / urdf
    if not path.is_file():
        raise ObjectSetError(
            source,
            "an existing URDF file (relative to the YAML file, or pybullet_data/...)",
            f"{urdf!r} (no file at {path})",
            index,
            "urdf",
        )
    return path


def _pybullet_data(source: Path, index: int) -> Path:
    """The pybullet_data package's folder, found without importing pybullet."""
    spec = importlib.util.find_spec("pybullet_data")
    if spec is None or not spec.submodule_search_locations:
        raise ObjectSetError(
            source,
            f"the pybullet_data package ({install_hint('sim')})",
            "not installed",
            index,
            "urdf",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _number(source: Path, index: int, field: str, value: Any) -> float:
    """``value`` of ``field`` as a finite float, >= 0 for friction and > 0 for the others."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    zero_ok = field == "friction"
    if not number or not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        bound = ">= 0" if zero_ok else "> 0"
        raise ObjectSetError(source, f"a number {bound}", repr(value), index, field)
    return float(value)


__all__ = [
    "ENTRY_KEYS",
    "PACKAGED_OBJECT_SETS",
    "PYBULLET_DATA",
    "YAML_SUFFIXES",
    "ObjectEntry",
    "ObjectSetError",
    "ObjectSetFile",
    "anchored",
    "load_object_set",
    "names_file",
    "object_set_label",
    "object_set_path",
    "parse_object_set",
    "read_object_set",
]
