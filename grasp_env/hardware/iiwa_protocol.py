"""The KST / iiwaPy3 line protocol of the ``MatlabToolboxServer`` app on a KUKA Sunrise cabinet.

Reference: hardware.md section 2.2 (from ``Modi1987/KST-Kuka-Sunrise-Toolbox`` and
``Modi1987/iiwaPy3``). US-ASCII lines ended by LF; fields separated by ``_``; plain decimal
numbers. Cartesian positions are millimetres in the robot base frame; orientations are KUKA
A, B, C angles in **radians** (A about z, B about y, C about x: R = Rz(A) Ry(B) Rx(C));
joints in radians; torques in Nm. Replies: ``done`` (acknowledged / motion finished),
``nak`` (an exception on the server), ``interrupted`` (a torque condition stopped a guarded
motion), or values ``v1_v2_..._vn_``. A motion trigger is acknowledged with ``done`` at once
and answered again (``done`` or ``interrupted``) when it ends.

This module only formats and parses lines (wire units); :mod:`grasp_env.hardware.iiwa`
speaks them over TCP in SI units.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grasp_env.geometry import Pose

DONE = "done"
NAK = "nak"
INTERRUPTED = "interrupted"

#: Triggers of the motions to the stored target (each answered twice).
DO_PTP_JOINTS = "doPTPinJS"
DO_LIN = "doPTPinCS"
DO_LIN_REL_BASE = "doPTPinCSRelBase"
DO_LIN_REL_TOOL = "doPTPinCSRelEEF"
DO_GUARDED_LIN = "doPTP!inCS"
DO_GUARDED_JOINTS = "doPTP!inJS"

#: Getters (answered with one line of values).
EEF_POS = "Eef_pos"
EEF_FORCE = "Eef_force"
EEF_MOMENT = "Eef_moment"
GET_JOINTS = "getJointsPositions"
TORQUES_EXTERNAL = "Torques_ext_J"
TORQUES_MEASURED = "Torques_m_J"

#: Ends the server application (no reply; the connection closes).
END = "end"


def number(value: float) -> str:
    """A finite number as the server parses it (``Double.parseDouble``), e.g. ``500.0``.

    Rounded to 9 decimals (nanometres in mm, nanoradians), so float noise such as
    ``300.00000000000006`` does not reach the wire.
    """
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"KST numbers must be finite, got {value!r}")
    return repr(round(v, 9) + 0.0)  # + 0.0 turns -0.0 into 0.0


def _join(values: Sequence[float]) -> str:
    return "_".join(number(v) for v in values)


def tool_line(frame: Sequence[float]) -> str:
    """``TFtrans_x_y_z_a_b_c``: mount a TCP frame offset from the flange (mm, rad)."""
    _check_len(frame, 6, "tool frame")
    return "TFtrans_" + _join(frame)


def velocity_line(value: float) -> str:
    """``jRelVel_v_``: relative joint velocity for PTP in joint space, mm/s for LIN motions."""
    return f"jRelVel_{number(value)}_"


def joints_line(joints: Sequence[float]) -> str:
    """``jp_q1_..._q7_``: store the joint target, rad."""
    _check_len(joints, 7, "joint target")
    return f"jp_{_join(joints)}_"


def cartesian_line(frame: Sequence[float]) -> str:
    """``cArtixanPosition_x_y_z_a_b_c_`` (sic): store the Cartesian target (mm, rad).

    Also the offset (x, y, z; zero angles) of the relative motions.
    """
    _check_len(frame, 6, "Cartesian target")
    return f"cArtixanPosition_{_join(frame)}_"


@dataclass(frozen=True)
class TorqueWindow:
    """A break condition: the motion stops when joint ``joint``'s torque leaves [low, high].

    Attributes:
        joint: zero-based joint index, 0..6 (A1..A7).
        low: lower torque bound, Nm.
        high: upper torque bound, Nm.
    """

    joint: int
    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 <= self.joint <= 6:
            raise ValueError(f"joint index must be 0..6, got {self.joint}")
        if not self.low < self.high:
            raise ValueError(f"torque window needs low < high, got [{self.low}, {self.high}]")


def guarded_line(windows: Sequence[TorqueWindow], joint_space: bool = False) -> str:
    """``doPTP!inCS_j_min_max[_j_min_max...]``: move to the stored target until a window breaks.

    The windows are OR-combined by the server (any one breaking stops the motion).
    """
    if not 1 <= len(windows) <= 7:
        raise ValueError(f"1 to 7 torque windows, got {len(windows)}")
    head = DO_GUARDED_JOINTS if joint_space else DO_GUARDED_LIN
    fields = [f"{w.joint}_{number(w.low)}_{number(w.high)}" for w in windows]
    return head + "_" + "_".join(fields)


def parse_guarded(line: str) -> list[TorqueWindow]:
    """The torque windows of a ``doPTP!in..`` line (as the server reads them)."""
    tokens = [t for t in line.split("_")[1:] if t]
    if len(tokens) % 3 or not tokens:
        raise ValueError(f"expected joint_min_max triples after the command, got {line!r}")
    return [
        TorqueWindow(int(float(tokens[i])), float(tokens[i + 1]), float(tokens[i + 2]))
        for i in range(0, len(tokens), 3)
    ]


def parse_values(line: str, count: int | None = None) -> tuple[float, ...]:
    """The numbers of a ``v1_v2_..._vn_`` reply (or of a command's fields after its name).

    Raises:
        ValueError: a field is not a number, or there are not ``count`` of them.
    """
    fields = [t for t in line.strip().split("_") if t]
    values = tuple(float(t) for t in fields)
    if count is not None and len(values) != count:
        raise ValueError(f"expected {count} values, got {len(values)} in {line!r}")
    return values


def format_values(values: Sequence[float]) -> str:
    """A getter's reply line (without LF), e.g. ``500.0_0.0_300.0_3.14159_0.0_3.14159_``."""
    return _join(values) + "_"


def _check_len(values: Sequence[float], count: int, what: str) -> None:
    if len(values) != count:
        raise ValueError(f"{what}: expected {count} values, got {len(values)}")


# --- KUKA A-B-C angles and frames ------------------------------------------------------------


def rotation_from_abc(a: float, b: float, c: float) -> np.ndarray:
    """R = Rz(a) Ry(b) Rx(c), KUKA's A-B-C convention, radians."""
    ca, sa, cb, sb, cc, sc = (f(v) for v in (a, b, c) for f in (np.cos, np.sin))
    rz = np.array([[ca, -sa, 0.0], [sa, ca, 0.0], [0.0, 0.0, 1.0]])
    ry = np.array([[cb, 0.0, sb], [0.0, 1.0, 0.0], [-sb, 0.0, cb]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cc, -sc], [0.0, sc, cc]])
    return rz @ ry @ rx


def abc_from_rotation(rotation: np.ndarray) -> tuple[float, float, float]:
    """The A, B, C angles (radians) of a rotation matrix; at B = +-pi/2, C is taken as 0."""
    r = np.asarray(rotation, dtype=float)
    b = math.atan2(-r[2, 0], math.hypot(r[0, 0], r[1, 0]))
    if math.hypot(r[0, 0], r[1, 0]) < 1e-9:
        return math.atan2(-r[0, 1], r[1, 1]), b, 0.0
    return math.atan2(r[1, 0], r[0, 0]), b, math.atan2(r[2, 1], r[2, 2])


def pose_to_frame(pose: Pose) -> tuple[float, float, float, float, float, float]:
    """A pose (m) as the wire's (x, y, z in mm; A, B, C in rad)."""
    x, y, z = (float(v) * 1000.0 for v in pose.position)
    return (x, y, z, *abc_from_rotation(pose.rotation))


def frame_to_pose(frame: Sequence[float]) -> Pose:
    """The wire's (x, y, z mm; A, B, C rad) as a pose in metres."""
    _check_len(frame, 6, "frame")
    position = np.array(frame[:3], dtype=float) / 1000.0
    return Pose(position, rotation_from_abc(*frame[3:]))


__all__ = [
    "DONE",
    "DO_GUARDED_LIN",
    "DO_LIN",
    "DO_LIN_REL_BASE",
    "DO_PTP_JOINTS",
    "EEF_POS",
    "END",
    "INTERRUPTED",
    "NAK",
    "TORQUES_EXTERNAL",
    "TorqueWindow",
    "abc_from_rotation",
    "cartesian_line",
    "frame_to_pose",
    "guarded_line",
    "joints_line",
    "parse_guarded",
    "parse_values",
    "pose_to_frame",
    "rotation_from_abc",
    "tool_line",
    "velocity_line",
]
