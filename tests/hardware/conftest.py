"""Kinematic fake backends for the device emulators, and fixtures that serve them.

The fakes implement the cell interfaces the emulators drive (a Gripper and a Robot) with no
physics: the gripper stops on a part of a configured width, the arm stops on a configured
contact height. The integrator plugs the twin's gripper and robot in the same way.
"""

from __future__ import annotations

import numpy as np
import pytest

from grasp_env.cell import ApproachResult, GripperState
from grasp_env.geometry import Pose


class KinematicGripper:
    """A gripper whose fingers stop on a part of width ``part_width`` (None: no part)."""

    def __init__(self, width: float = 0.11, part_width: float | None = None) -> None:
        self.stroke = 0.11
        self.width = width
        self.part_width = part_width
        self.holding = False
        self.obstacle: float | None = None
        self.calls: list[tuple[str, float]] = []

    def move(self, width: float) -> None:
        self.calls.append(("move", width))
        target = min(max(width, 0.0), self.stroke)
        if self.obstacle is not None and target < self.obstacle < self.width:
            target = self.obstacle
        if target > self.width:
            self.holding = False
        self.width = target

    def grasp(self, force: float) -> GripperState:
        self.calls.append(("grasp", force))
        if self.part_width is not None and self.part_width < self.width:
            self.width, self.holding = self.part_width, True
        else:
            self.width, self.holding = 0.0, False
        return self.state()

    def release(self, width: float) -> None:
        self.calls.append(("release", width))
        self.holding = False
        self.width = min(max(width, 0.0), self.stroke)

    def state(self) -> GripperState:
        return GripperState(width=self.width, holding=self.holding)

    def lose_part(self) -> None:
        self.holding = False
        self.width = 0.0


class KinematicArm:
    """An arm that goes where it is told, and whose approach stops at TCP z = ``contact_z``."""

    def __init__(self, start: Pose | None = None, contact_z: float | None = None) -> None:
        self.current = start or Pose.tool_down(0.5, 0.0, 0.4, 0.0)
        self.contact_z = contact_z
        self.calls: list[tuple[str, Pose]] = []
        self.collide_next = False

    def pose(self) -> Pose:
        return self.current

    def _go(self, name: str, target: Pose) -> None:
        self.calls.append((name, target))
        if self.collide_next:
            self.collide_next = False
            raise RuntimeError("collision")
        self.current = target

    def move_ptp(self, target: Pose) -> None:
        self._go("ptp", target)

    def move_linear(self, target: Pose) -> None:
        self._go("lin", target)

    def approach(self, target: Pose, contact_force: float) -> ApproachResult:
        self.calls.append(("approach", target))
        start = self.current.position
        end = np.asarray(target.position, dtype=float)
        if self.contact_z is not None and end[2] < self.contact_z <= start[2]:
            s = (start[2] - self.contact_z) / (start[2] - end[2])
            stop = start + s * (end - start)
            self.current = Pose(stop, target.rotation)
            return ApproachResult(contact=True, pose=self.current)
        self.current = Pose(end, target.rotation)
        return ApproachResult(contact=False, pose=self.current)


@pytest.fixture
def gripper_backend() -> KinematicGripper:
    return KinematicGripper(part_width=0.03)


@pytest.fixture
def arm_backend() -> KinematicArm:
    return KinematicArm(contact_z=0.05)


@pytest.fixture
def fakes():
    """The fake classes, for tests that build their own."""

    class Fakes:
        Gripper = KinematicGripper
        Arm = KinematicArm

    return Fakes
