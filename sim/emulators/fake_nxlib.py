"""A stand-in for the Ensenso ``nxlib`` Python API: the subset the camera driver uses.

It holds the NxLib tree in memory and implements ``NxLibItem`` (path indexing with strings
and integers, assignment, ``set_t``, ``set_json``, ``as_int/as_double/as_string``,
``exists``, ``count``, ``get_binary_data``), ``NxLibCommand`` (``parameters()``,
``execute(wait=...)``, ``finished()``, ``successful()``, ``result()``), ``NxLibException``
(``get_error_text()``) and ``api.initialize()/finalize()``. Commands
and their parameters are validated: an unknown command, an unknown parameter, an unknown or
unopened camera, or a step out of order (point map before disparity map, ...) fails as NxLib
does, with ``ErrorSymbol`` and ``ErrorText`` in the result and an exception when waited for.

The point map is drawn by a pluggable renderer, ``renderer(camera_pose, (rows, cols))``
returning base-frame points (rows, cols, 3) in metres with NaN where there is no depth,
for the camera's *true* pose: ``flange_pose() @ hand_eye`` (the twin's flange, the camera's
true mounting). NxLib returns them, in millimetres, in the frame the tree's links define:
the camera's ``Link`` chained to the global link it targets. So a driver that writes the
right flange pose gets base-frame points, and one that forgets gets camera-frame points,
as with the real camera.

Use one :class:`FakeNxLib` per test; pass it where the driver expects the ``nxlib`` module.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from grasp_env.geometry import Pose
from grasp_env.hardware.ensenso import pose_from_nx, pose_to_nx

Renderer = Callable[[Pose, tuple[int, int]], np.ndarray]

NXLIB_ITEM_INEXISTENT = 3
NXLIB_BAD_REQUEST = 11
NXLIB_ITEM_TYPE_NOT_COMPATIBLE = 13
NXLIB_EXECUTION_FAILED = 17

#: The commands the fake knows, and the parameters each accepts.
COMMANDS: dict[str, frozenset[str]] = {
    "Open": frozenset({"Cameras"}),
    "Close": frozenset({"Cameras"}),
    "Capture": frozenset({"Cameras", "Timeout"}),
    "RectifyImages": frozenset({"Cameras"}),
    "ComputeDisparityMap": frozenset({"Cameras"}),
    "ComputePointMap": frozenset({"Cameras"}),
}


class NxLibException(Exception):
    """An NxLib API error: a path and an error code, as the real package reports them."""

    def __init__(self, path: str, error_code: int, text: str = "") -> None:
        super().__init__(f"NxLibException at {path!r}: code {error_code} {text}".strip())
        self.path = path
        self.error_code = error_code
        self.text = text or f"error {error_code} at {path}"

    def get_error_text(self) -> str:
        """A readable description."""
        return self.text


_MISSING = object()


class _Item:
    _lib: FakeNxLib

    def __init__(self, path: tuple = ()) -> None:
        self._path = tuple(path)

    @property
    def path(self) -> str:
        return "/" + "/".join(str(p) for p in self._path)

    def __getitem__(self, key: str | int) -> _Item:
        if not isinstance(key, str | int) or isinstance(key, bool):
            raise NxLibException(self.path, NXLIB_BAD_REQUEST, f"bad index {key!r}")
        return type(self)((*self._path, key))

    def __setitem__(self, key: str | int, value: Any) -> None:
        self[key].set_t(value)

    # writing
    def set_t(self, value: Any) -> None:
        if isinstance(value, np.ndarray) or not isinstance(
            value, str | int | float | bool | list | dict | type(None)
        ):
            raise NxLibException(self.path, NXLIB_ITEM_TYPE_NOT_COMPATIBLE, f"{value!r}")
        self._lib._write(self._path, copy.deepcopy(value))

    def set_json(self, value: str, only_writable_nodes: bool = False) -> None:
        try:
            data = json.loads(value)
        except (TypeError, ValueError) as exc:
            raise NxLibException(self.path, NXLIB_BAD_REQUEST, f"bad JSON: {exc}") from exc
        self._lib._write(self._path, data)

    # reading
    def _get(self) -> Any:
        value = self._lib._read(self._path)
        if value is _MISSING:
            raise NxLibException(self.path, NXLIB_ITEM_INEXISTENT, "item does not exist")
        return value

    def exists(self) -> bool:
        return self._lib._read(self._path) is not _MISSING

    def count(self) -> int:
        value = self._get()
        if not isinstance(value, dict | list):
            raise NxLibException(self.path, NXLIB_ITEM_TYPE_NOT_COMPATIBLE, "not a container")
        return len(value)

    def _typed(self, kinds: tuple, name: str) -> Any:
        value = self._get()
        if isinstance(value, bool) and bool not in kinds:
            raise NxLibException(self.path, NXLIB_ITEM_TYPE_NOT_COMPATIBLE, f"not {name}")
        if not isinstance(value, kinds):
            raise NxLibException(self.path, NXLIB_ITEM_TYPE_NOT_COMPATIBLE, f"not {name}")
        return value

    def as_int(self) -> int:
        return int(self._typed((int, float), "a number"))

    def as_double(self) -> float:
        return float(self._typed((int, float), "a number"))

    def as_string(self) -> str:
        return self._typed((str,), "a string")

    def get_binary_data(self) -> np.ndarray:
        value = self._get()
        if not isinstance(value, np.ndarray):
            raise NxLibException(self.path, NXLIB_ITEM_TYPE_NOT_COMPATIBLE, "not a binary node")
        return value.copy()


class _Command:
    _lib: FakeNxLib

    def __init__(self, command_name: str, node_name: str | None = None) -> None:
        self.command_name = command_name
        self._slot = self._lib._new_slot(node_name)
        self._finished = True

    def _node(self) -> _Item:
        return self._lib.NxLibItem()["Execute"][self._slot]

    def parameters(self) -> _Item:
        return self._node()["Parameters"]

    def result(self) -> _Item:
        return self._node()["Result"]

    def execute(self, command_name: str | None = None, wait: bool = True) -> None:
        name = command_name or self.command_name
        self._node()["Result"].set_json("{}")
        params = self._lib._read((*self._node()._path, "Parameters"))
        params = {} if params is _MISSING else params
        self._finished = not self._lib._take_hang(name)
        error = self._lib._execute(name, params) if self._finished else None
        if error is not None:
            symbol, text = error
            self.result().set_json(json.dumps({"ErrorSymbol": symbol, "ErrorText": text}))
            if wait:
                raise NxLibException(self._node().path, NXLIB_EXECUTION_FAILED, f"{symbol}: {text}")

    def finished(self) -> bool:
        return self._finished

    def successful(self) -> bool:
        return not self.result()["ErrorSymbol"].exists()


class _Api:
    def __init__(self, lib: FakeNxLib) -> None:
        self._lib = lib

    def initialize(self, wait_for_initial_camera_refresh: bool = True) -> None:
        self._lib.initialized = True

    def finalize(self) -> None:
        self._lib.initialized = False


class FakeNxLib:
    """An in-memory NxLib with one stereo camera whose point map a renderer draws.

    Args:
        renderer: ``renderer(camera_pose, (rows, cols))`` -> base-frame points, metres.
        flange_pose: the robot flange's true pose in the base frame (the twin's).
        hand_eye: the camera's true pose in the flange frame; also what the camera's stored
            ``Link`` says (its EEPROM hand-eye calibration).
        serial: the camera's serial number.
        shape: (rows, cols) of the point map.

    Attributes:
        NxLibItem, NxLibCommand, NxLibException, api: the module-level names of ``nxlib``.
        executed: the (command, parameters) executed so far.
    """

    def __init__(
        self,
        renderer: Renderer,
        flange_pose: Callable[[], Pose],
        hand_eye: Pose,
        serial: str = "N10-FAKE",
        shape: tuple[int, int] = (48, 64),
    ) -> None:
        self.renderer = renderer
        self.flange_pose = flange_pose
        self.hand_eye = hand_eye
        self.serial = serial
        self.shape = shape
        self.initialized = False
        self.executed: list[tuple[str, dict]] = []
        self._slots = 0
        self._hang: set[str] = set()
        self._fail: dict[str, tuple[str, str]] = {}
        self._tree: dict = {
            "Cameras": {serial: {"Status": {"Open": False}, "Link": pose_to_nx(hand_eye)}},
            "Links": {},
            "Execute": {},
        }
        self._stage = 0  # 0 nothing, 1 captured, 2 disparity, 3 point map
        lib = self
        self.NxLibItem = type("NxLibItem", (_Item,), {"_lib": lib})
        self.NxLibCommand = type("NxLibCommand", (_Command,), {"_lib": lib})
        self.NxLibException = NxLibException
        self.api = _Api(lib)

    # --- fault injection ----------------------------------------------------------------

    def hang_next(self, command: str) -> None:
        """The next ``command`` never finishes."""
        self._hang.add(command)

    def fail_next(self, command: str, symbol: str = "CaptureTimeout", text: str = "") -> None:
        """The next ``command`` fails with ``symbol`` and ``text``."""
        self._fail[command] = (symbol, text or f"{command} failed (injected)")

    def _take_hang(self, name: str) -> bool:
        if name in self._hang:
            self._hang.discard(name)
            return True
        return False

    # --- the tree -----------------------------------------------------------------------

    def _read(self, path: tuple) -> Any:
        node: Any = self._tree
        for key in path:
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                node = node[key]
            else:
                return _MISSING
        return node

    def _write(self, path: tuple, value: Any) -> None:
        if not path:
            raise NxLibException("/", NXLIB_BAD_REQUEST, "cannot overwrite the root")
        node = self._tree
        for key in path[:-1]:
            child = node.get(key) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
        node[path[-1]] = value

    def _new_slot(self, node_name: str | None) -> str:
        self._slots += 1
        return node_name or f"Temporary_{self._slots}"

    # --- commands -----------------------------------------------------------------------

    def _execute(self, name: str, params: dict) -> tuple[str, str] | None:
        """Run command ``name``; None on success, else (ErrorSymbol, ErrorText)."""
        self.executed.append((name, copy.deepcopy(params)))
        refused = self._refuse(name, params)
        if refused is not None:
            return refused
        status = self._tree["Cameras"][self.serial]["Status"]
        if name == "Open":
            status["Open"] = True
            return None
        if not status["Open"]:
            return "CameraNotOpen", f"camera {self.serial} is not open"
        run = {
            "Close": self._close,
            "Capture": self._capture,
            "RectifyImages": self._rectify,
            "ComputeDisparityMap": self._compute_disparity,
            "ComputePointMap": self._compute_point_map,
        }[name]
        return run(params)

    def _refuse(self, name: str, params: dict) -> tuple[str, str] | None:
        """The error of a command that cannot run at all (or an injected failure), else None."""
        if not self.initialized:
            return "NotInitialized", "api.initialize() was not called"
        if name not in COMMANDS:
            return "InvalidCommand", f"unknown command {name!r}"
        unknown = sorted(set(params) - COMMANDS[name])
        if unknown:
            return "InvalidParameter", f"{name} takes no parameter(s) {unknown}"
        if name in self._fail:
            return self._fail.pop(name)
        cameras = params.get("Cameras", self.serial)
        cameras = cameras if isinstance(cameras, list) else [cameras]
        if cameras != [self.serial]:
            return "CameraNotFound", f"no camera {cameras}; available: [{self.serial!r}]"
        return None

    # the open camera's commands; _stage: 0 nothing, 1 captured, 2 disparity, 3 point map

    def _close(self, params: dict) -> tuple[str, str] | None:
        self._tree["Cameras"][self.serial]["Status"]["Open"] = False
        self._stage = 0
        return None

    def _capture(self, params: dict) -> tuple[str, str] | None:
        timeout = params.get("Timeout", 1000)
        if not isinstance(timeout, int | float) or timeout <= 0:
            return "InvalidParameter", f"Timeout must be positive ms, got {timeout!r}"
        self._stage = 1
        return None

    def _rectify(self, params: dict) -> tuple[str, str] | None:
        return None if self._stage >= 1 else ("NoImages", "capture first")

    def _compute_disparity(self, params: dict) -> tuple[str, str] | None:
        if self._stage < 1:
            return "NoImages", "capture before computing a disparity map"
        self._stage = 2
        return None

    def _compute_point_map(self, params: dict) -> tuple[str, str] | None:
        if self._stage < 2:
            return "NoDisparityMap", "compute the disparity map before the point map"
        self._tree["Cameras"][self.serial].setdefault("Images", {})["PointMap"] = self._render()
        self._stage = 3
        return None

    def camera_pose(self) -> Pose:
        """The camera's true pose in the base frame."""
        return self.flange_pose() @ self.hand_eye

    def output_frame(self) -> Pose:
        """Where the tree's links say the camera is: the frame of the points NxLib returns."""
        camera = self._tree["Cameras"][self.serial]
        link = camera.get("Link", {})
        pose = pose_from_nx(link)
        target = link.get("Target", "")
        if target:
            global_link = self._tree["Links"].get(target)
            if global_link is None:
                return pose  # a target that does not exist: NxLib falls back to the link alone
            pose = pose_from_nx(global_link) @ pose
        return pose

    def _render(self) -> np.ndarray:
        base_points = np.asarray(self.renderer(self.camera_pose(), self.shape), dtype=np.float64)
        if base_points.shape != (*self.shape, 3):
            raise ValueError(f"renderer gave {base_points.shape}, expected {(*self.shape, 3)}")
        # base -> true camera frame -> the frame the links define; NaN rows stay NaN
        to_output = self.output_frame() @ self.camera_pose().inverse()
        flat = to_output.apply(base_points.reshape(-1, 3))
        return (flat.reshape(base_points.shape) * 1000.0).astype(np.float32)


__all__ = ["COMMANDS", "FakeNxLib", "NxLibException"]
