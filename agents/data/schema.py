"""The grasp dataset's on-disk schema (versions 1 and 2), its record type and its checks.

One HDF5 file holds every grasp attempt; :mod:`agents.data` describes the layout in full.
This module is the single place that knows the field names, dtypes, units and the file
attributes; the writer, the reader and the checker all take them from here.

Schema 2 (:data:`FIELDS`, written by every new file) differs from schema 1
(:data:`FIELDS_V1`) in the two images alone: ``height`` is stored as uint16 codes of 0.1 mm
and ``valid`` as bits packed along each row (:mod:`agents.data.codec`), about 9 kB instead of
36 kB per 110 x 110 record. Readers decode both, so every version reads as the same float32
heights and uint8 mask.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import h5py
import numpy as np

from agents.data.codec import HEIGHT_CODES, PACKED_ROWS, ImageCodec
from agents.data.errors import DatasetError, InvalidRecord, SchemaVersionError
from grasp_env.config import to_dict
from grasp_env.errors import GraspError
from grasp_env.geometry import ImageGeometry

SCHEMA_VERSION = 2
"""The layout this library writes into new files."""

FORMAT = "grasp-toolkit/grasp-dataset"
"""The value of the ``format`` file attribute that marks a file as ours."""

COMMITTED = "committed"
"""The (1,) int64 dataset holding the number of complete records; readers trust only it."""

METHOD_BYTES = 32
"""Fixed length of the ``method`` string (UTF-8 bytes)."""

NAME_BYTES = 64
"""Fixed length of the ``object_set``, ``env_id`` and ``grasped`` strings (UTF-8 bytes)."""


@dataclass(frozen=True)
class FieldSpec:
    """One per-record dataset of the file.

    Attributes:
        name: the dataset's name in the file, and the :class:`GraspRecord` attribute.
        plural: the :class:`~agents.data.reader.GraspArrays` attribute.
        dtype: the stored numpy dtype.
        shape: the stored per-record shape; ``"H"`` and ``"W"`` stand for the image's rows
            and columns, ``"W/8"`` for ceil(W / 8), the bytes of a row of packed bits.
        units: the unit of the values, or a note on their coding.
        description: what the field means.
        codec: how an image field is encoded for storage; None when stored as it is.
    """

    name: str
    plural: str
    dtype: str
    shape: tuple[Any, ...]
    units: str
    description: str
    codec: ImageCodec | None = None

    @property
    def is_image(self) -> bool:
        """True for the per-pixel image fields."""
        return self.shape[:1] == ("H",)

    @property
    def is_string(self) -> bool:
        """True for the fixed-length UTF-8 string fields."""
        return self.dtype.startswith("S")

    def record_shape(self, image_shape: tuple[int, int]) -> tuple[int, ...]:
        """The stored per-record shape with the image shape filled in."""
        rows, cols = image_shape
        sizes = {"H": rows, "W": cols, "W/8": -(-cols // 8)}
        return tuple(sizes.get(d, d) for d in self.shape)


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("height", "heights", "uint16", ("H", "W"), "0.1 mm",
              "observation: height above the grasp bin floor as codes q, metres = q * 1e-4 + 0,"
              " within [0, max_height]; 0 where depth is missing", HEIGHT_CODES),
    FieldSpec("valid", "valid", "uint8", ("H", "W/8"), "bits",
              "observation: 1 where the pixel holds a measured height, 0 where missing; as"
              " bits, numpy.packbits along each row (bitorder big, rows padded with 0s)",
              PACKED_ROWS),
    FieldSpec("action", "actions", "float32", (4,), "m, m, rad, m",
              "executed action (x, y, a, d) in the grasp bin's frame"),
    FieldSpec("index", "indices", "int16", (4,), "index",
              "grasp grid index (r, i, j, k); -1 in all four when not on the grid"),
    FieldSpec("reward", "rewards", "float32", (), "1",
              "reward: 1 when an object was held after lifting, else 0"),
    FieldSpec("method", "methods", f"S{METHOD_BYTES}", (), "utf-8",
              "selection method that chose the action, e.g. 'random', 'max', 'prob'"),
    FieldSpec("value", "values", "float32", (), "1",
              "the model's predicted value of the action; NaN when none was predicted"),
    FieldSpec("timestamp", "timestamps", "float64", (), "s",
              "time of the attempt on the recording clock: s since the Unix epoch, or since"
              " the run's start on the cell's clock (lockstep learning); keys the split"),
    FieldSpec("object_set", "object_sets", f"S{NAME_BYTES}", (), "utf-8",
              "the object set in the bin; '' when unknown"),
    FieldSpec("env_id", "env_ids", f"S{NAME_BYTES}", (), "utf-8",
              "the environment id (e.g. a Gymnasium id, or the real cell's name)"),
    FieldSpec("seed", "seeds", "int64", (), "1", "the episode's reset seed; -1 when none"),
    FieldSpec("z", "z", "float32", (), "m",
              "aimed fingertip height above the bin floor; NaN when unknown"),
    FieldSpec("reached_z", "reached_z", "float32", (), "m",
              "fingertip height where the approach ended; NaN when unknown"),
    FieldSpec("contact", "contacts", "int8", (), "1",
              "1 when contact ended the approach early, 0 when not, -1 when unknown"),
    FieldSpec("width", "widths", "float32", (), "m",
              "finger opening measured after lifting; NaN when unknown"),
    FieldSpec("force", "forces", "float32", (), "N", "clamping force; NaN when unknown"),
    FieldSpec("cycle_time", "cycle_times", "float32", (), "s",
              "duration of the attempt; NaN when unknown"),
    FieldSpec("grasp_bin", "grasp_bins", "int8", (), "index",
              "which bin was the grasp bin (0 or 1); -1 when unknown"),
    FieldSpec("grasped", "grasped", f"S{NAME_BYTES}", (), "utf-8",
              "name of the object held, as the cell reports it; '' when none or unknown"),
)  # fmt: skip
"""Every per-record dataset of schema 2, in the order the writer writes them."""

_V1_IMAGES: dict[str, dict[str, Any]] = {
    "height": {"dtype": "float32", "units": "m",
               "description": "observation: height above the grasp bin floor; 0 where depth"
                              " is missing"},
    "valid": {"dtype": "uint8", "shape": ("H", "W"), "units": "1",
              "description": "observation: 1 where the pixel holds a measured height, 0 where"
                             " missing"},
}  # fmt: skip

FIELDS_V1: tuple[FieldSpec, ...] = tuple(
    replace(f, codec=None, **_V1_IMAGES[f.name]) if f.name in _V1_IMAGES else f for f in FIELDS
)
"""Schema 1's fields: schema 2's, but for the images, stored as plain float32 and uint8."""

FIELDS_BY_VERSION: dict[int, tuple[FieldSpec, ...]] = {1: FIELDS_V1, 2: FIELDS}
"""The fields of every schema version this library reads."""

FIELD_BY_NAME: dict[str, FieldSpec] = {f.name: f for f in FIELDS}


def field_table(fields: tuple[FieldSpec, ...] = FIELDS) -> str:
    """``fields`` as a markdown table: name, stored dtype, per-record shape, units, meaning."""
    rows = ["| field | dtype | shape | units | meaning |", "|---|---|---|---|---|"]
    for f in fields:
        shape = f"({', '.join(f.shape)})" if f.is_image else str(tuple(f.shape))
        rows.append(f"| {f.name} | {f.dtype} | {shape} | {f.units} | {f.description} |")
    return "\n".join(rows)


ROOT_ATTRIBUTES: dict[str, str] = {
    "format": f"always {FORMAT!r}; marks the file as a grasp dataset",
    "schema_version": f"int; this library writes {SCHEMA_VERSION} and reads"
    f" {' and '.join(map(str, FIELDS_BY_VERSION))}",
    "pixel_size": "float, metres: edge of one square image pixel",
    "image_shape": "int (2,): rows, cols of the height image",
    "max_height": "float, metres: heights are clipped to [0, max_height], the range schema 2"
    " stores",
    "units": "JSON: field name -> unit",
    "fields": "JSON: field name -> description",
    "config": "JSON: the resolved configuration the data was collected with",
    "meta": "JSON: caller-supplied reproduction metadata (git commit, versions, env kwargs)",
    "library_version": "grasp_env.__version__ of the writer that created the file",
    "h5py_version": "h5py version of the writer that created the file",
    "hdf5_version": "HDF5 library version of the writer that created the file",
    "created": "float, seconds since the Unix epoch",
    "created_iso": "the same moment as ISO 8601 UTC",
    "recoveries": "JSON list: one entry per resume after a crashed writer",
}
"""The file attributes, written once before the file is published."""


def _finite(name: str, value: Any, *, nan_ok: bool = False) -> float:
    try:
        if isinstance(value, str | bytes):
            raise TypeError(value)
        out = float(value)
    except (TypeError, ValueError):
        raise InvalidRecord(f"{name} must be a real number, got {value!r}") from None
    if math.isnan(out) and nan_ok:
        return out
    if not math.isfinite(out):
        allowed = "a finite number or NaN" if nan_ok else "a finite number"
        raise InvalidRecord(f"{name} must be {allowed}, got {out!r}")
    return out


def _text(name: str, value: Any, limit: int, *, empty_ok: bool) -> str:
    if not isinstance(value, str):
        raise InvalidRecord(f"{name} must be a str, got {type(value).__name__} {value!r}")
    size = len(value.encode("utf-8"))
    if size > limit or (size == 0 and not empty_ok) or "\x00" in value:
        need = f"1..{limit}" if not empty_ok else f"at most {limit}"
        raise InvalidRecord(
            f"{name} must be {need} UTF-8 bytes without NUL, got {size} bytes: {value!r}"
        )
    return value


def _array(name: str, value: Any, dtype: str, shape: tuple[int, ...] | None) -> np.ndarray:
    arr = np.asarray(value)
    if shape is not None and arr.shape != shape:
        raise InvalidRecord(f"{name} must have shape {shape}, got {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise InvalidRecord(f"{name} must be numeric ({dtype}), got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and np.dtype(dtype).kind != "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise InvalidRecord(f"{name} must hold integers ({dtype}), got {arr.ravel()[:8]}")
    out = arr.astype(dtype)
    if np.dtype(dtype).kind == "f":
        bad = np.argwhere(~np.isfinite(out))
        if bad.size:
            raise InvalidRecord(f"{name} must be finite, got NaN or inf at {bad[:3].tolist()}")
    elif not np.array_equal(out, arr):
        span = f", range [{arr.min()}, {arr.max()}]" if arr.size else ""
        raise InvalidRecord(f"{name} does not fit {dtype} without loss, got {arr.dtype}{span}")
    return out


@dataclass(frozen=True, eq=False)
class GraspRecord:
    """One grasp attempt, as the dataset records it. Units are SI.

    Arrays are converted to the stored dtypes on construction and checked; a value that does
    not fit raises :class:`InvalidRecord` naming the field, what was expected and what came.
    The images are those of schema 1; a schema 2 file encodes them when the writer appends
    (heights to 0.1 mm, refusing any outside the file's ``[0, max_height]``), and its reader
    decodes them back to float32 metres and a uint8 mask.

    Attributes:
        height: float32 (H, W), metres above the bin floor: the image the action was chosen on.
        valid: uint8 (H, W), 1 where the height is measured, 0 where missing.
        action: float32 (4,), the executed (x, y, a, d): metres, metres, radians, metres.
        reward: 1.0 for a held object, else 0.0 (any finite float is stored).
        method: the selection method, 1..32 UTF-8 bytes, e.g. ``"random"`` or ``"max"``.
        timestamp: seconds since the Unix epoch (float64); keys the train/test split.
        index: int16 (4,) grid index (r, i, j, k), or None (stored as four -1s) when the
            action was not on the grid.
        value: the predicted value of the action; NaN when none.
        object_set: the object set in the bin, at most 64 UTF-8 bytes.
        env_id: the environment id, at most 64 UTF-8 bytes.
        seed: the episode's reset seed (>= 0), or None (stored as -1).
        z: aimed fingertip height above the bin floor, metres; NaN when unknown.
        reached_z: fingertip height where the approach ended, metres; NaN when unknown.
        contact: True when contact ended the approach early; None when unknown.
        width: finger opening measured after lifting, metres; NaN when unknown.
        force: clamping force, newtons; NaN when unknown.
        cycle_time: duration of the attempt, seconds; NaN when unknown.
        grasp_bin: which bin (0 or 1) was the grasp bin, or None when unknown.
        grasped: the name of the object held, '' when none or unknown.
    """

    height: np.ndarray = field(repr=False)
    valid: np.ndarray = field(repr=False)
    action: np.ndarray
    reward: float
    method: str
    timestamp: float
    index: np.ndarray | None = None
    value: float = math.nan
    object_set: str = ""
    env_id: str = ""
    seed: int | None = None
    z: float = math.nan
    reached_z: float = math.nan
    contact: bool | None = None
    width: float = math.nan
    force: float = math.nan
    cycle_time: float = math.nan
    grasp_bin: int | None = None
    grasped: str = ""
    _stored: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        height = _array("height", self.height, "float32", None)
        if height.ndim != 2:
            raise InvalidRecord(f"height must be a 2-D (H, W) image, got shape {height.shape}")
        valid = _array("valid", self.valid, "uint8", height.shape)
        if np.any(valid > 1):
            raise InvalidRecord(f"valid must hold only 0 and 1, got values {np.unique(valid)}")
        index = self.index
        index = np.full(4, -1, np.int16) if index is None else _array("index", index, "int16", (4,))
        if not (np.all(index == -1) or np.all(index >= 0)):
            raise InvalidRecord(f"index must be four values >= 0 or four -1s, got {index}")
        seed = -1 if self.seed is None else int(self.seed)
        if self.seed is not None and (seed < 0 or seed != self.seed):
            raise InvalidRecord(f"seed must be an int >= 0 or None, got {self.seed!r}")
        if self.contact not in (None, True, False):
            raise InvalidRecord(f"contact must be True, False or None, got {self.contact!r}")
        if self.grasp_bin not in (None, 0, 1):
            raise InvalidRecord(f"grasp_bin must be 0, 1 or None, got {self.grasp_bin!r}")
        stored = {
            "height": height,
            "valid": valid,
            "action": _array("action", self.action, "float32", (4,)),
            "index": index,
            "reward": _finite("reward", self.reward),
            "method": _text("method", self.method, METHOD_BYTES, empty_ok=False),
            "value": _finite("value", self.value, nan_ok=True),
            "timestamp": _finite("timestamp", self.timestamp),
            "object_set": _text("object_set", self.object_set, NAME_BYTES, empty_ok=True),
            "env_id": _text("env_id", self.env_id, NAME_BYTES, empty_ok=True),
            "seed": seed,
            "z": _finite("z", self.z, nan_ok=True),
            "reached_z": _finite("reached_z", self.reached_z, nan_ok=True),
            "contact": -1 if self.contact is None else int(self.contact),
            "width": _finite("width", self.width, nan_ok=True),
            "force": _finite("force", self.force, nan_ok=True),
            "cycle_time": _finite("cycle_time", self.cycle_time, nan_ok=True),
            "grasp_bin": -1 if self.grasp_bin is None else int(self.grasp_bin),
            "grasped": _text("grasped", self.grasped, NAME_BYTES, empty_ok=True),
        }
        for spec in FIELDS:
            value = stored[spec.name]
            if isinstance(value, float):
                # round to the stored precision, so a record equals itself read back
                value = stored[spec.name] = np.dtype(spec.dtype).type(value).item()
            if isinstance(value, np.ndarray | float):
                object.__setattr__(self, spec.name, value)
        self._stored.update(stored)

    @classmethod
    def from_step(
        cls,
        observation: Mapping[str, np.ndarray],
        action: Any,
        reward: float,
        info: Mapping[str, Any],
        *,
        method: str,
        timestamp: float,
        index: Any = None,
        value: float = math.nan,
        object_set: str = "",
        env_id: str = "",
        seed: int | None = None,
        force: float = math.nan,
    ) -> GraspRecord:
        """A record from one ``step``: the observation the action was chosen on, and its info.

        Reads ``pose["z"]``, ``reached_z``, ``contact``, ``gripper_width``, ``cycle_time``,
        ``grasp_bin`` and ``grasped_object`` from ``info`` where present (the keys
        :class:`grasp_env.env.BinGraspEnv` reports); a missing key is stored as unknown.
        """
        pose = info.get("pose") or {}
        grasped = info.get("grasped_object")
        contact = info.get("contact")
        grasp_bin = info.get("grasp_bin")
        return cls(
            height=observation["height"],
            valid=observation["valid"],
            action=action,
            reward=reward,
            method=method,
            timestamp=timestamp,
            index=index,
            value=value,
            object_set=object_set,
            env_id=env_id,
            seed=seed,
            z=pose.get("z", math.nan),
            reached_z=info.get("reached_z", math.nan),
            contact=None if contact is None else bool(contact),
            width=info.get("gripper_width", math.nan),
            force=force,
            cycle_time=info.get("cycle_time", math.nan),
            grasp_bin=None if grasp_bin is None else int(grasp_bin),
            grasped="" if grasped is None else str(grasped)[:NAME_BYTES],
        )

    def __eq__(self, other: object) -> bool:
        """Equal when every stored field is equal (NaN equals NaN; dtypes as stored)."""
        if not isinstance(other, GraspRecord):
            return NotImplemented
        for spec in FIELDS:
            a, b = self._stored[spec.name], other._stored[spec.name]
            if isinstance(a, np.ndarray):
                if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                    return False
            elif a != b and not (isinstance(a, float) and math.isnan(a) and math.isnan(b)):
                return False
        return True

    def stored(self, name: str) -> Any:
        """The value of field ``name`` as it is written (e.g. ``contact`` as -1, 0 or 1)."""
        value = self._stored[name]
        if FIELD_BY_NAME[name].is_string:
            return value.encode("utf-8")
        return value


def config_json(config: Any) -> str:
    """A config (dataclass, mapping or None) as canonical JSON (sorted keys).

    Raises:
        DatasetError: when a value cannot be written as JSON.
    """

    def default(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if hasattr(obj, "__fspath__"):
            return str(obj)
        raise TypeError(f"{type(obj).__name__} {obj!r}")

    try:
        return json.dumps(to_dict(config), sort_keys=True, default=default)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"config must be JSON-serialisable plain data, got {exc}") from exc


def read_attr(f: h5py.File, name: str, path: str) -> Any:
    """A root attribute of ``f``; a missing one raises :class:`DatasetError`."""
    if name not in f.attrs:
        raise DatasetError(f"{path}: corrupt grasp dataset: the file attribute {name!r} is missing")
    value = f.attrs[name]
    return value.decode("utf-8") if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Layout:
    """What :func:`check_layout` found in a dataset file.

    Attributes:
        version: the schema version.
        image: the image geometry of every record.
        count: the committed records.
    """

    version: int
    image: ImageGeometry
    count: int

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        """The per-record datasets of this schema version."""
        return FIELDS_BY_VERSION[self.version]


def _schema_version(f: h5py.File, path: str) -> int:
    if f.attrs.get("format") is None:
        keys = sorted(f.keys())[:8]
        raise DatasetError(
            f"{path}: not a grasp dataset: expected the file attribute format={FORMAT!r},"
            f" found an HDF5 file without it (top-level objects: {keys})"
        )
    fmt = read_attr(f, "format", path)
    if fmt != FORMAT:
        raise DatasetError(f"{path}: not a grasp dataset: expected format={FORMAT!r}, got {fmt!r}")
    version = read_attr(f, "schema_version", path)
    if not isinstance(version, int | np.integer) or int(version) not in FIELDS_BY_VERSION:
        shown = int(version) if isinstance(version, int | np.integer) else repr(version)
        known = " and ".join(map(str, FIELDS_BY_VERSION))
        raise SchemaVersionError(
            f"{path}: grasp dataset schema version {shown} is not supported: this library"
            f" reads schema versions {known} and writes {SCHEMA_VERSION}"
        )
    return int(version)


def _image_geometry(f: h5py.File, path: str) -> ImageGeometry:
    try:
        rows, cols = (int(v) for v in read_attr(f, "image_shape", path))
        return ImageGeometry(
            pixel_size=float(read_attr(f, "pixel_size", path)),
            rows=rows,
            cols=cols,
            max_height=float(read_attr(f, "max_height", path)),
        )
    except (TypeError, ValueError, GraspError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"{path}: corrupt grasp dataset: bad image attributes: {exc}") from exc


def check_layout(f: h5py.File, path: str) -> Layout:
    """Check that ``f`` is a grasp dataset of a schema version this library reads.

    Raises:
        DatasetError: a foreign HDF5 file, or one with missing or malformed parts.
        SchemaVersionError: a grasp dataset of another schema version.
    """
    version = _schema_version(f, path)
    image = _image_geometry(f, path)
    for spec in FIELDS_BY_VERSION[version]:
        ds = f.get(spec.name)
        want = spec.record_shape(image.shape)
        if not isinstance(ds, h5py.Dataset):
            raise DatasetError(f"{path}: corrupt grasp dataset: dataset {spec.name!r} is missing")
        if ds.dtype != np.dtype(spec.dtype) or ds.shape[1:] != want:
            raise DatasetError(
                f"{path}: corrupt grasp dataset: {spec.name!r} of schema {version} should be"
                f" {spec.dtype} (N, *{want}), got {ds.dtype} {ds.shape}"
            )
    committed = f.get(COMMITTED)
    if not isinstance(committed, h5py.Dataset) or committed.shape != (1,):
        raise DatasetError(f"{path}: corrupt grasp dataset: the dataset {COMMITTED!r} is missing")
    return Layout(version, image, int(committed[0]))
