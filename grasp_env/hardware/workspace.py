"""The arm driver's software guard: workspace box, tool tilt, speed and joint limits.

Every target is checked here *before* a byte goes to the controller. A refusal raises
:class:`grasp_env.errors.UnreachablePose` (or its subclass
:class:`grasp_env.hardware.faults.SpeedLimitExceeded`) naming the target and the limit. This
is the third layer of hardware.md section 4: the controller's own safety configuration and
its torque break conditions stay authoritative; this layer rejects, it never clamps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from grasp_env.errors import ConfigError, UnreachablePose
from grasp_env.geometry import Pose
from grasp_env.hardware.faults import SpeedLimitExceeded

#: LBR iiwa 7 R800 joint ranges, rad (hardware.md section 2.5).
IIWA7_JOINT_LIMITS = tuple(math.radians(d) for d in (170, 120, 170, 120, 170, 120, 175))


@dataclass(frozen=True)
class WorkspaceBox:
    """An axis-aligned box in the robot's base frame that every TCP target must lie in.

    Attributes:
        lower: (x, y, z) lower corner, metres.
        upper: (x, y, z) upper corner, metres.
    """

    lower: tuple[float, float, float] = (0.25, -0.45, -0.02)
    upper: tuple[float, float, float] = (0.85, 0.45, 0.70)

    def __post_init__(self) -> None:
        if len(self.lower) != 3 or len(self.upper) != 3:
            raise ConfigError(f"workspace corners need 3 values, got {self.lower}, {self.upper}")
        if not all(lo < hi for lo, hi in zip(self.lower, self.upper, strict=True)):
            raise ConfigError(f"workspace needs lower < upper, got {self.lower}, {self.upper}")

    def contains(self, point: ArrayLike) -> bool:
        """Whether ``point`` (x, y, z, metres) lies in the box, faces included."""
        p = np.asarray(point, dtype=float)
        return bool(np.all(p >= np.asarray(self.lower)) and np.all(p <= np.asarray(self.upper)))

    def __str__(self) -> str:
        axes = ("x", "y", "z")
        spans = (
            f"{a} [{lo:.3f}, {hi:.3f}]"
            for a, lo, hi in zip(axes, self.lower, self.upper, strict=True)
        )
        return "workspace box " + ", ".join(spans) + " m"


@dataclass(frozen=True)
class MotionLimits:
    """What the guard allows.

    Attributes:
        workspace: the box every TCP target must lie in.
        max_tilt: largest angle between the tool's z axis and straight down, rad.
        max_cartesian_speed: fastest TCP speed of a linear motion, m/s (ISO 10218 reduced
            speed is 0.25).
        max_joint_velocity: largest relative joint velocity of a joint-space PTP, (0, 1].
        max_contact_force: largest contact force an approach may use as its threshold, N.
        joint_margin: kept clear of each joint's range, rad.
    """

    workspace: WorkspaceBox = WorkspaceBox()
    max_tilt: float = 0.35
    max_cartesian_speed: float = 0.25
    max_joint_velocity: float = 0.5
    max_contact_force: float = 40.0
    joint_margin: float = math.radians(5.0)

    def __post_init__(self) -> None:
        if not 0 < self.max_cartesian_speed:
            raise ConfigError(f"max_cartesian_speed must be > 0, got {self.max_cartesian_speed}")
        if not 0 < self.max_joint_velocity <= 1:
            raise ConfigError(
                f"max_joint_velocity must be in (0, 1], got {self.max_joint_velocity}"
            )
        if not 0 <= self.max_tilt <= math.pi:
            raise ConfigError(f"max_tilt must be in [0, pi] rad, got {self.max_tilt}")


class MotionGuard:
    """Checks targets against :class:`MotionLimits`; raises before anything is sent.

    Args:
        limits: what is allowed.
        device: the arm's name, for messages.
    """

    def __init__(self, limits: MotionLimits, device: str) -> None:
        self.limits = limits
        self.device = device

    def check_pose(self, target: Pose, what: str = "target") -> None:
        """Refuse a TCP pose outside the box, tilted too far, or not a proper pose."""
        p = np.asarray(target.position, dtype=float)
        r = np.asarray(target.rotation, dtype=float)
        if (
            p.shape != (3,)
            or r.shape != (3, 3)
            or not (np.isfinite(p).all() and np.isfinite(r).all())
        ):
            raise UnreachablePose(f"{self.device}: {what} is not a finite pose: {target!r}")
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-6) or np.linalg.det(r) < 0:
            raise UnreachablePose(f"{self.device}: {what} rotation is not a rotation: {r.tolist()}")
        box = self.limits.workspace
        if not box.contains(p):
            raise UnreachablePose(
                f"{self.device}: TCP {what} ({p[0]:.4f}, {p[1]:.4f}, {p[2]:.4f}) m is outside the"
                f" {box}; refused before sending"
            )
        tilt = math.acos(float(np.clip(-r[2, 2], -1.0, 1.0)))
        if tilt > self.limits.max_tilt:
            raise UnreachablePose(
                f"{self.device}: TCP {what} at ({p[0]:.4f}, {p[1]:.4f}, {p[2]:.4f}) m points"
                f" {tilt:.3f} rad away from straight down, more than max_tilt"
                f" {self.limits.max_tilt:.3f} rad; refused before sending"
            )

    def check_speed(self, speed: float) -> None:
        """Refuse a Cartesian speed (m/s) that is not in (0, max_cartesian_speed]."""
        high = self.limits.max_cartesian_speed
        if not (math.isfinite(speed) and 0.0 < speed <= high):
            raise SpeedLimitExceeded(
                f"{self.device}: TCP speed {speed!r} m/s is outside (0, {high}] m/s;"
                " refused before sending"
            )

    def check_joint_velocity(self, velocity: float) -> None:
        """Refuse a relative joint velocity not in (0, max_joint_velocity]."""
        high = self.limits.max_joint_velocity
        if not (math.isfinite(velocity) and 0.0 < velocity <= high):
            raise SpeedLimitExceeded(
                f"{self.device}: relative joint velocity {velocity!r} is outside (0, {high}];"
                " refused before sending"
            )

    def check_contact_force(self, force: float) -> None:
        """Refuse a contact threshold (N) not in (0, max_contact_force]."""
        high = self.limits.max_contact_force
        if not (math.isfinite(force) and 0.0 < force <= high):
            raise SpeedLimitExceeded(
                f"{self.device}: contact force {force!r} N is outside (0, {high}] N;"
                " refused before sending"
            )

    def check_joints(self, joints: Sequence[float]) -> None:
        """Refuse a joint target outside the iiwa 7's ranges less the margin."""
        q = np.asarray(joints, dtype=float)
        if q.shape != (7,) or not np.isfinite(q).all():
            raise UnreachablePose(f"{self.device}: expected 7 finite joint angles, got {joints!r}")
        for i, (v, lim) in enumerate(zip(q, IIWA7_JOINT_LIMITS, strict=True)):
            bound = lim - self.limits.joint_margin
            if abs(v) > bound:
                raise UnreachablePose(
                    f"{self.device}: joint A{i + 1} target {v:.4f} rad is outside"
                    f" [-{bound:.4f}, {bound:.4f}] rad (range less margin); refused before sending"
                )


__all__ = ["IIWA7_JOINT_LIMITS", "MotionGuard", "MotionLimits", "WorkspaceBox"]
