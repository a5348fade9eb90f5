"""The cell interfaces: robot, gripper, depth camera, and the cell that holds them.

The twin (`sim/`) and the real cell (`grasp_env/hardware/`) implement these, and the grasp
primitive and the environment are written against them only, so the same code drives both.
All quantities are SI: metres, radians, newtons, seconds. Poses are tool-centre-point (TCP)
poses in the robot's base frame; the TCP sits between the fingertips, its z axis along the
fingers (pointing down for a planar grasp) and its x axis along the closing direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from grasp_env.config import CellLayout
from grasp_env.geometry import Pose


@dataclass(frozen=True)
class ApproachResult:
    """How a guarded approach ended.

    Attributes:
        contact: True when the contact (torque) condition stopped the motion early.
        pose: the TCP pose where the motion stopped.
    """

    contact: bool
    pose: Pose


@dataclass(frozen=True)
class GripperState:
    """What the gripper reports after a grasp or on request.

    Attributes:
        width: the finger opening, metres.
        holding: True when the gripper reports a part held (it stopped short of its target).
    """

    width: float
    holding: bool


@runtime_checkable
class Robot(Protocol):
    """A position-controlled arm with a contact-guarded linear approach."""

    def pose(self) -> Pose:
        """The current TCP pose in the base frame."""

    def move_ptp(self, target: Pose) -> None:
        """Move to ``target`` point-to-point (joint space); raises UnreachablePose before moving."""

    def move_linear(self, target: Pose) -> None:
        """Move the TCP along a straight line to ``target``."""

    def approach(self, target: Pose, contact_force: float) -> ApproachResult:
        """Move linearly towards ``target`` until reached or a contact above ``contact_force`` N."""


@runtime_checkable
class Gripper(Protocol):
    """A parallel gripper with force-limited grasping and position feedback."""

    def move(self, width: float) -> None:
        """Pre-position the fingers to ``width`` metres."""

    def grasp(self, force: float) -> GripperState:
        """Close with at most ``force`` newtons until the fingers stop; report the outcome."""

    def release(self, width: float) -> None:
        """Open to ``width`` metres, letting go of any part."""

    def state(self) -> GripperState:
        """The current opening and whether a part is held."""


@runtime_checkable
class DepthCamera(Protocol):
    """A depth camera that yields a point cloud in the robot's base frame."""

    def capture(self) -> np.ndarray:
        """A float64 array (N, 3) of measured points, metres, base frame; no NaN rows."""


@dataclass
class CellReport:
    """What a cell can tell about the last attempt beyond the gripper's own feedback.

    Attributes:
        grasped: a label of the object that reached the filing bin, when the cell can tell
            (the twin can; a real cell reports None).
        extra: any further cell-specific facts (e.g. objects that left the bins in the twin).
    """

    grasped: str | None = None
    extra: dict = field(default_factory=dict)


@runtime_checkable
class Cell(Protocol):
    """A bin-picking cell: an arm, a gripper, a flange camera, two bins and a clock."""

    # Read-only members, so that a cell may hold its own kinds of device (the twin's, the
    # real cell's guarded drivers) where these protocols are asked for.

    @property
    def robot(self) -> Robot:
        """The arm."""

    @property
    def gripper(self) -> Gripper:
        """The gripper."""

    @property
    def camera(self) -> DepthCamera:
        """The flange camera."""

    @property
    def layout(self) -> CellLayout:
        """Where the two bins stand."""

    def clock(self) -> float:
        """Seconds on the cell's clock (simulated time in the twin, wall time on the real cell)."""

    def prepare(self, rng: np.random.Generator | None, grasp_bin: int) -> None:
        """Get the bins ready for an episode.

        With a generator, the twin rebuilds the scene from it (objects dropped into
        ``grasp_bin``); without one, the scene stays as it is. A real cell ignores the
        generator: its bins are filled by hand.
        """

    def render(self) -> np.ndarray:
        """An RGB picture of the cell for people, uint8 (H, W, 3)."""

    def report(self) -> CellReport:
        """What the cell saw during the last attempt."""

    def close(self) -> None:
        """Release every resource; calling it twice is harmless."""
