"""The Weiss WSG 50 parallel gripper of the twin: its generated URDF and its behaviour.

The model follows bullet3's advice for stable grasps: box collision shapes only, two fingers
on prismatic joints coupled by a gear constraint (so a part touched by one finger first is
pushed to the centre, as the WSG's belt drive does), force-limited closing, lateral finger
friction of 1.0 and a little torsional friction.

:class:`TwinGripper` implements :class:`grasp_env.cell.Gripper`. Finger motions that touch
nothing are teleported after a swept collision test; the last millimetres before a contact
and everything after it run in the physics with the motor force limited to the grasp force.
``holding`` follows the WSG's own rule: after a grasp, the fingers stopped short of closed
(width above ``hold_threshold``); a part lost later lets the fingers close and ``holding``
turns False.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet

from grasp_env.cell import GripperState
from grasp_env.clearance import FingerFootprint
from sim.timing import MotionTiming, SimClock
from sim.world import World

GRIPPER = "gripper"
LEFT, RIGHT = 0, 1


@dataclass(frozen=True)
class GripperSpec:
    """Geometry, masses, friction and control settings of the WSG 50 model.

    Attributes:
        palm_size: the gripper body's box (x along the closing direction, y, z along the
            fingers), metres; WSG 50 body about 146 x 51 x 72 mm.
        finger_size: one finger's box (thickness along x, width along y, length along z), m.
            The length must exceed the bin's wall height plus the floor clearance, or the
            146 mm palm lands on the wall tops in floor-level grasps near a wall. Its
            footprint is :class:`grasp_env.clearance.FingerFootprint`'s, which the agents'
            wall mask keeps inside the bin.
        stroke: the largest opening, metres (WSG 50: 110 mm).
        palm_mass: kg. finger_mass: kg, each.
        finger_friction: lateral friction coefficient of the finger pads.
        finger_spinning_friction: torsional friction of the finger pads, metres.
        hold_threshold: after a grasp, a width above this (m) reports a part held.
        position_force: finger force limit of pre-positioning moves, N.
        finger_speed: finger speed in the physics near and in contact, m/s of width.
        sweep_step: spacing of the swept test's samples, metres of finger travel; it must
            stay below the finger thickness.
        backoff: teleported fingers stop this far (m of finger travel) short of a predicted
            contact, and the physics takes over from there.
        stop_speed: fingers slower than this (m/s) have stopped.
        arrive_tolerance: fingers this close (m of width) to their target have arrived.
        max_steps: the most physics steps one finger motion may take.
    """

    palm_size: tuple[float, float, float] = (0.146, 0.051, 0.072)
    finger_size: tuple[float, float, float] = (
        FingerFootprint().thickness,
        FingerFootprint().width,
        0.105,
    )
    stroke: float = 0.110
    palm_mass: float = 1.0
    finger_mass: float = 0.05
    finger_friction: float = 1.0
    finger_spinning_friction: float = 0.002
    hold_threshold: float = 0.002
    position_force: float = 40.0
    finger_speed: float = 0.2
    sweep_step: float = 0.008
    backoff: float = 0.0015
    stop_speed: float = 0.002
    arrive_tolerance: float = 0.0005
    max_steps: int = 120

    @property
    def tcp_offset(self) -> float:
        """Distance from the palm's centre to the fingertips along the fingers, metres."""
        return self.palm_size[2] / 2.0 + self.finger_size[2]


def _box_inertia(mass: float, size: tuple[float, float, float]) -> str:
    x, y, z = size
    ixx, iyy, izz = (mass * (a * a + b * b) / 12.0 for a, b in ((y, z), (x, z), (x, y)))
    return f'<inertia ixx="{ixx:.8g}" ixy="0" ixz="0" iyy="{iyy:.8g}" iyz="0" izz="{izz:.8g}"/>'


def wsg50_urdf(spec: GripperSpec) -> str:
    """The URDF text of the gripper.

    The base link is the palm, its frame at the palm's centre with z pointing along the
    fingers and x along the closing direction, so the TCP sits at ``(0, 0, tcp_offset)``.
    Each finger's joint coordinate is the distance of its inner face from the centre line,
    in [0, stroke / 2].
    """
    px, py, pz = spec.palm_size
    fx, fy, fz = spec.finger_size
    palm = (
        '  <link name="palm">\n'
        f'    <inertial><mass value="{spec.palm_mass}"/>'
        f"{_box_inertia(spec.palm_mass, spec.palm_size)}</inertial>\n"
        f'    <visual><geometry><box size="{px} {py} {pz}"/></geometry>'
        '<material name="steel"><color rgba="0.6 0.6 0.65 1"/></material></visual>\n'
        f'    <collision><geometry><box size="{px} {py} {pz}"/></geometry></collision>\n'
        "  </link>\n"
    )
    fingers = ""
    for name, sign in (("left", -1.0), ("right", 1.0)):
        centre = f"{sign * fx / 2.0:.6g} 0 {fz / 2.0:.6g}"
        fingers += (
            f'  <link name="finger_{name}">\n'
            f'    <inertial><origin xyz="{centre}"/><mass value="{spec.finger_mass}"/>'
            f"{_box_inertia(spec.finger_mass, spec.finger_size)}</inertial>\n"
            f'    <visual><origin xyz="{centre}"/><geometry><box size="{fx} {fy} {fz}"/>'
            '</geometry><material name="pad"><color rgba="0.15 0.15 0.15 1"/></material>'
            "</visual>\n"
            f'    <collision><origin xyz="{centre}"/><geometry><box size="{fx} {fy} {fz}"/>'
            "</geometry></collision>\n"
            "  </link>\n"
            f'  <joint name="finger_{name}_joint" type="prismatic">\n'
            f'    <parent link="palm"/><child link="finger_{name}"/>\n'
            f'    <origin xyz="0 0 {pz / 2.0:.6g}"/><axis xyz="{sign:g} 0 0"/>\n'
            f'    <limit lower="0" upper="{spec.stroke / 2.0:.6g}" effort="100" velocity="1"/>\n'
            "  </joint>\n"
        )
    return f'<?xml version="1.0"?>\n<robot name="wsg50">\n{palm}{fingers}</robot>\n'


class TwinGripper:
    """The WSG 50 in the twin; implements :class:`grasp_env.cell.Gripper`.

    Args:
        world: the simulation.
        spec: the model.
        timing: the timing model that advances ``clock``.
        clock: the cell's clock.
        urdf_path: where :meth:`build` writes the generated URDF.
    """

    def __init__(
        self,
        world: World,
        spec: GripperSpec,
        timing: MotionTiming,
        clock: SimClock,
        urdf_path: Path,
    ) -> None:
        self.world = world
        self.spec = spec
        self.timing = timing
        self.clock = clock
        self._urdf_path = urdf_path
        self._grasping = False

    @property
    def body(self) -> int:
        """The gripper's pybullet id."""
        return self.world.id(GRIPPER)

    def build(self) -> None:
        """Load the gripper into a freshly reset world, open to the full stroke."""
        c = self.world.client
        self._urdf_path.write_text(wsg50_urdf(self.spec))
        body = self.world.add(GRIPPER, c.loadURDF(str(self._urdf_path), [0.0, 0.0, 1.0]))
        c.changeDynamics(body, -1, activationState=pybullet.ACTIVATION_STATE_DISABLE_SLEEPING)
        for link in (LEFT, RIGHT):
            c.changeDynamics(
                body,
                link,
                lateralFriction=self.spec.finger_friction,
                spinningFriction=self.spec.finger_spinning_friction,
            )
        gear = c.createConstraint(
            body, LEFT, body, RIGHT, pybullet.JOINT_GEAR, [1, 0, 0], [0, 0, 0], [0, 0, 0]
        )
        c.changeConstraint(gear, gearRatio=-1.0, erp=0.2, maxForce=1000.0)
        self._grasping = False
        self._set_fingers(self.spec.stroke / 2.0)
        self._hold(self.spec.stroke / 2.0, self.spec.position_force)

    def width(self) -> float:
        """The current opening between the finger pads, metres."""
        states = self.world.client.getJointStates(self.body, [LEFT, RIGHT])
        return max(0.0, float(states[0][0] + states[1][0]))

    def holding(self) -> bool:
        """Whether the gripper holds a part by its own feedback (see the module docstring)."""
        return self._grasping and self.width() > self.spec.hold_threshold

    def move(self, width: float) -> None:
        """Pre-position the fingers to ``width`` metres (clipped to the stroke)."""
        self._grasping = False
        start = self.width()
        self._drive(self._clip(width), self.spec.position_force)
        self.clock.advance(self.timing.gripper(abs(self.width() - start)))

    def grasp(self, force: float) -> GripperState:
        """Close with at most ``force`` newtons until the fingers stop; report the outcome."""
        self._grasping = True
        start = self.width()
        self._drive(0.0, float(force))
        self.clock.advance(self.timing.gripper(start - self.width()) + self.timing.grasp_settle)
        return self.state()

    def release(self, width: float) -> None:
        """Open to ``width`` metres, letting go of any part; the part falls when time runs."""
        self._grasping = False
        start = self.width()
        self._drive(self._clip(width), self.spec.position_force)
        self.clock.advance(self.timing.gripper(abs(self.width() - start)))

    def state(self) -> GripperState:
        """The current opening and whether a part is held."""
        return GripperState(width=self.width(), holding=self.holding())

    def _clip(self, width: float) -> float:
        return float(np.clip(width, 0.0, self.spec.stroke))

    def _set_fingers(self, q: float) -> None:
        c = self.world.client
        for link in (LEFT, RIGHT):
            c.resetJointState(self.body, link, q, 0.0)

    def _hold(self, q: float, force: float) -> None:
        self.world.client.setJointMotorControlArray(
            self.body,
            [LEFT, RIGHT],
            pybullet.POSITION_CONTROL,
            targetPositions=[q, q],
            forces=[force, force],
        )

    def _drive(self, width: float, force: float) -> None:
        """Move the fingers to ``width``: teleport through free space, then physics."""
        spec = self.spec
        q0, q1 = self.width() / 2.0, width / 2.0
        travel = abs(q1 - q0)
        if travel < 1e-6:
            self._hold(q1, force)
            return
        samples = max(1, math.ceil(travel / spec.sweep_step))
        free = self.world.sweep(
            self.body,
            lambda s: self._set_fingers(q0 + s * (q1 - q0)),
            samples,
        )
        if free < 1.0:
            free = max(0.0, free - spec.backoff / travel)
        self._set_fingers(q0 + free * (q1 - q0))
        if free >= 1.0:
            self._hold(q1, force)
            return
        c = self.world.client
        c.setJointMotorControlArray(
            self.body,
            [LEFT, RIGHT],
            pybullet.VELOCITY_CONTROL,
            targetVelocities=[np.sign(q1 - q0) * spec.finger_speed / 2.0] * 2,
            forces=[force, force],
        )
        direction = np.sign(q1 - q0)
        still = 0
        with self.world.grasping():
            for _ in range(spec.max_steps):
                self.world.step()
                (qa, va, *_), (qb, vb, *_) = c.getJointStates(self.body, [LEFT, RIGHT])
                if direction * (qa + qb - 2.0 * q1) > -spec.arrive_tolerance:
                    break
                still = still + 1 if max(abs(va), abs(vb)) < spec.stop_speed else 0
                if still >= 3:
                    break
        if q1 > q0 or not self._grasping:
            self._hold(q1, force)
