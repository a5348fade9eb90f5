"""The KUKA LBR iiwa 7 R800 of the twin: reach by inverse kinematics, motion by physics.

Design choice: the arm is kinematic and visual only. It is loaded from pybullet_data's
``kuka_iiwa/model.urdf`` at the base-frame origin with its collisions switched off; its joints
are set from inverse kinematics at every commanded pose, which checks reach (a target the IK
cannot meet raises :class:`grasp_env.errors.UnreachablePose` before anything moves) and gives
the joint motion the timing model needs. What touches the world is the gripper body, held by a
fixed constraint whose pivot is driven along the path with a limited force, so gripper-bin and
gripper-object collisions happen in the physics.

Motions with nothing held are swept for collisions and teleported as far as they are free;
the rest runs in the physics. While the gripper holds a part (``RobotSpec.carry``), the
first ``lift_physical`` metres of the lift run in the physics at the timing model's speed,
where the part leaves the pile and a weak grasp drops it; the rest of the lift and the carry
to the filing bin move the gripper and the held parts rigidly (in free air, motion at
constant speed is physically the same as holding still), and at the filing bin the gripper
holds still in the physics for ``carry_hold`` seconds, so a part that is slipping out still
falls. ``carry="physical"`` simulates all of it, at several times the cost of a failed
attempt; ``grasp bench sim --carry-check`` measures how often the two give the same reward.
The guarded approach stops when the contact force on the gripper exceeds its threshold,
emulating the iiwa's joint torque sensing. Every command advances the cell's clock by the
timing model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet
import pybullet_data

from grasp_env.cell import ApproachResult
from grasp_env.errors import UnreachablePose
from grasp_env.geometry import Pose, rot_z
from sim.gripper import GRIPPER, TwinGripper
from sim.timing import MotionTiming, SimClock, trapezoid_fraction
from sim.transforms import Segment, rotation_angle, to_bullet
from sim.world import World

ARM = "arm"
CARRY_MODES = ("kinematic", "physical")


@dataclass(frozen=True)
class RobotSpec:
    """The arm model and the settings of its motions.

    Attributes:
        urdf: the arm's URDF, relative to pybullet_data.
        flange_link: index of the last link (A7), whose frame the IK places.
        flange_offset: from the A7 link frame to the flange face along its z, metres.
        adapter: from the flange face to the gripper's palm (adapter plate), metres.
        mount_yaw: the gripper's rotation about the flange axis, rad; with pi, a tool yaw
            of 0 puts A7 near the middle of its range, so every yaw in [-pi/2, pi/2] fits.
        rest: the joint configuration IK is pulled towards (elbow up, tool down), rad.
        ik_iterations: iterations of one IK solve.
        ik_refinements: plain IK solves after the first, limit-aware one.
        ik_tolerance: largest position error of a reachable pose, metres.
        ik_angle_tolerance: largest orientation error of a reachable pose, rad.
        mount_force: the most force the arm exerts on the gripper body, N.
        collision_force: an unguarded physical motion stops above this contact force, N
            (the iiwa's collision detection).
        sweep_step: spacing of the swept test's samples, metres (below the finger size).
        backoff: teleported motions stop this far (m) short of a predicted contact, and the
            physics takes over from there.
        catch_up_steps: extra steps after a physical motion for the gripper to reach its
            target.
        freeze_every: while carrying a part, the resting parts are put to sleep every this
            many steps. (Longer steps in free air were tried and rejected: the fingers then
            creep through a light part squeezed with 20 N or more.)
        carry: "kinematic" (the lift is physical for ``lift_physical`` metres, the rest of it
            and the carry move the held parts rigidly with the gripper, then the gripper holds
            still for ``carry_hold``) or "physical" (all of it runs in the physics).
        lift_physical: metres of the lift that run in the physics with the kinematic carry.
        carry_hold: seconds the gripper holds still in the physics after a kinematic carry.
    """

    urdf: str = "kuka_iiwa/model.urdf"
    flange_link: int = 6
    flange_offset: float = 0.045
    adapter: float = 0.02
    mount_yaw: float = math.pi
    rest: tuple[float, ...] = (0.0, 0.4, 0.0, -1.5, 0.0, 1.2, 0.0)
    ik_iterations: int = 100
    ik_refinements: int = 2
    ik_tolerance: float = 1e-3
    ik_angle_tolerance: float = 1e-2
    mount_force: float = 200.0
    collision_force: float = 60.0
    sweep_step: float = 0.008
    backoff: float = 0.0015
    catch_up_steps: int = 6
    freeze_every: int = 8
    carry: str = "kinematic"
    lift_physical: float = 0.08
    carry_hold: float = 0.3

    def __post_init__(self) -> None:
        if self.carry not in CARRY_MODES:
            raise ValueError(f"carry: expected one of {CARRY_MODES}, got {self.carry!r}")
        if self.carry_hold < 0 or self.lift_physical < 0:
            raise ValueError(
                "expected carry_hold >= 0 s and lift_physical >= 0 m, got"
                f" {self.carry_hold} and {self.lift_physical}"
            )


class TwinRobot:
    """The arm and the driven gripper body; implements :class:`grasp_env.cell.Robot`.

    Args:
        world: the simulation.
        gripper: the gripper the arm carries (its body is what moves).
        spec: the arm model and motion settings.
        timing: the timing model that advances ``clock``.
        clock: the cell's clock.
    """

    def __init__(
        self,
        world: World,
        gripper: TwinGripper,
        spec: RobotSpec,
        timing: MotionTiming,
        clock: SimClock,
    ) -> None:
        self.world = world
        self.gripper = gripper
        self.spec = spec
        self.timing = timing
        self.clock = clock
        tcp = gripper.spec.tcp_offset
        palm_top = gripper.spec.palm_size[2] / 2.0
        self._tcp_in_palm = Pose(np.array([0.0, 0.0, tcp]), np.eye(3))
        self._palm_in_tcp = self._tcp_in_palm.inverse()
        tool = np.array([0.0, 0.0, spec.adapter + palm_top + tcp])
        self._tcp_in_flange = Pose(tool, rot_z(spec.mount_yaw))
        flange_in_a7 = Pose(np.array([0.0, 0.0, spec.flange_offset]), np.eye(3))
        self._a7_in_tcp = (flange_in_a7 @ self._tcp_in_flange).inverse()
        self._q = np.array(spec.rest)
        self._mount = -1
        self._lower = self._upper = np.zeros(0)

    @property
    def tool(self) -> Pose:
        """The TCP in the flange frame, at the flange face (the tool frame a controller gets)."""
        return self._tcp_in_flange

    @property
    def joints(self) -> np.ndarray:
        """The arm's joint angles at the last commanded pose, rad."""
        return self._q.copy()

    def build(self, start: Pose) -> None:
        """Load the arm into a freshly reset world and mount the gripper at TCP pose ``start``.

        The gripper must be built first.
        """
        c = self.world.client
        path = f"{pybullet_data.getDataPath()}/{self.spec.urdf}"
        arm = self.world.add(ARM, c.loadURDF(path, useFixedBase=True), ghost=True)
        for link in range(-1, c.getNumJoints(arm)):
            c.setCollisionFilterGroupMask(arm, link, 0, 0)
        info = [c.getJointInfo(arm, j) for j in range(c.getNumJoints(arm))]
        self._lower = np.array([i[8] for i in info])
        self._upper = np.array([i[9] for i in info])
        self._q = np.array(self.spec.rest)
        self._set_arm(self._q)
        base = to_bullet(start @ self._palm_in_tcp)
        self._mount = c.createConstraint(
            self.world.id(GRIPPER), -1, -1, -1, pybullet.JOINT_FIXED, [0, 0, 0], [0, 0, 0], base[0]
        )
        self._teleport(start)
        self._q = self._solve(start)
        self._set_arm(self._q)

    def pose(self) -> Pose:
        """The current TCP pose in the base frame (where the gripper body really is)."""
        return self.world.pose(GRIPPER) @ self._tcp_in_palm

    def move_ptp(self, target: Pose) -> None:
        """Move to ``target`` point-to-point; raises UnreachablePose before moving."""
        q = self._solve(target)
        duration = self.timing.ptp(self._q, q)
        if self.spec.carry == "kinematic" and self.gripper.holding():
            self._carry(target)
        else:
            self._travel(target, duration)
        self._q = q
        self._set_arm(q)
        self.clock.advance(self.timing.command_latency + duration)

    def move_linear(self, target: Pose) -> None:
        """Move the TCP along a straight line to ``target``; raises UnreachablePose first."""
        q = self._solve(target)
        duration = self.timing.linear(float(np.linalg.norm(target.position - self.pose().position)))
        if self.spec.carry == "kinematic" and self.gripper.holding():
            self._lift(target, duration)
        else:
            self._travel(target, duration)
        self._q = q
        self._set_arm(q)
        self.clock.advance(self.timing.command_latency + duration)

    def approach(self, target: Pose, contact_force: float) -> ApproachResult:
        """Move linearly towards ``target`` until reached or a contact above ``contact_force``."""
        q = self._solve(target)
        path = Segment(self.pose(), target)
        free = self._sweep(path)
        contact = False
        if free >= 1.0:
            self._teleport(target)
        else:
            resume = Segment(path.at(self._back_off(path, free)), target)
            self._teleport(resume.start)
            duration = resume.length / self.timing.approach_speed
            contact = self._drive(resume, duration, contact_force, smooth=False)
        reached = self.pose()
        travelled = float(np.linalg.norm(reached.position - path.start.position))
        self._q = q
        self._set_arm(q)
        self.clock.advance(self.timing.command_latency + self.timing.approach(travelled))
        return ApproachResult(contact=contact, pose=reached)

    def _travel(self, target: Pose, duration: float) -> None:
        """Carry out a commanded motion: teleport what is free, simulate the rest."""
        path = Segment(self.pose(), target)
        guard = self.spec.collision_force
        if self.gripper.holding():
            with self.world.grasping():
                self._drive(path, duration, guard, smooth=True, carrying=True)
            return
        free = self._sweep(path)
        if free >= 1.0:
            self._teleport(target)
            return
        resume = self._back_off(path, free)
        self._teleport(path.at(resume))
        self._drive(Segment(path.at(resume), target), duration * (1.0 - resume), guard, True)

    def _lift(self, target: Pose, duration: float) -> None:
        """The first ``lift_physical`` metres in the physics, the rest rigidly (no hold)."""
        path = Segment(self.pose(), target)
        share = min(1.0, self.spec.lift_physical / max(path.length, 1e-9))
        with self.world.grasping():
            end = path.at(share)
            self._drive(Segment(path.start, end), duration * share, self.spec.collision_force,
                        smooth=True, carrying=True)  # fmt: skip
        if share < 1.0:
            self._carry(target, hold=False)

    def _carry(self, target: Pose, hold: bool = True) -> None:
        """Move the gripper and the parts it touches rigidly to ``target``; hold still there."""
        world = self.world
        palm = world.pose(GRIPPER)
        held = {n: palm.inverse() @ world.pose(n) for n in world.touching(world.id(GRIPPER))}
        self._teleport(target)
        palm = world.pose(GRIPPER)
        for name, relative in held.items():
            world.set_pose(name, palm @ relative)
        if not hold:
            return
        steps = max(1, math.ceil(self.spec.carry_hold / world.settings.timestep))
        with world.grasping():
            world.step(steps)

    def _extent(self, path: Segment) -> float:
        """How far any point of the gripper travels along ``path``, at most, metres."""
        return max(path.length, path.angle * self.gripper.spec.palm_size[0] / 2.0)

    def _back_off(self, path: Segment, free: float) -> float:
        """The fraction ``backoff`` metres before the free fraction ``free`` of ``path``."""
        return max(0.0, free - self.spec.backoff / max(self._extent(path), 1e-9))

    def _sweep(self, path: Segment) -> float:
        """The free fraction of ``path``; the gripper is left at its start."""
        samples = max(1, math.ceil(self._extent(path) / self.spec.sweep_step))
        free = self.world.sweep(self.world.id(GRIPPER), lambda s: self._place(path.at(s)), samples)
        self._place(path.start)
        return free

    def _drive(
        self,
        path: Segment,
        duration: float,
        guard: float,
        smooth: bool,
        carrying: bool = False,
    ) -> bool:
        """Drive the gripper body along ``path`` in the physics. True if ``guard`` tripped.

        The pivot follows the path over ``duration`` seconds (trapezoidal when ``smooth``,
        else at constant speed), then holds the end for a few catch-up steps. While
        ``carrying``, the resting parts left behind are put to sleep every few steps, so that
        once the part is clear of the pile only the gripper and the part cost solver time.
        """
        world = self.world
        body = world.id(GRIPPER)
        dt = world.settings.timestep
        steps = max(1, math.ceil(duration / dt))
        for k in range(1, steps + self.spec.catch_up_steps + 1):
            if k <= steps:
                s = trapezoid_fraction(k * dt, duration) if smooth else k / steps
                self._command(path.at(s))
            if carrying and k % self.spec.freeze_every == 1:
                world.freeze_resting(world.movable(), keep=body)
            world.step()
            if np.linalg.norm(world.contact_force(body)) > guard:
                return True
        return False

    def _command(self, tcp: Pose) -> None:
        position, orientation = to_bullet(tcp @ self._palm_in_tcp)
        self.world.client.changeConstraint(
            self._mount,
            jointChildPivot=position,
            jointChildFrameOrientation=orientation,
            maxForce=self.spec.mount_force,
        )

    def _place(self, tcp: Pose) -> None:
        """Put the gripper body at TCP pose ``tcp`` without touching the constraint."""
        c = self.world.client
        c.resetBasePositionAndOrientation(
            self.world.id(GRIPPER), *to_bullet(tcp @ self._palm_in_tcp)
        )

    def _teleport(self, tcp: Pose) -> None:
        """Put the gripper at ``tcp`` at rest, and the constraint's pivot with it."""
        self.world.set_pose(GRIPPER, tcp @ self._palm_in_tcp)
        self._command(tcp)

    def _set_arm(self, q: np.ndarray) -> None:
        c = self.world.client
        arm = self.world.id(ARM)
        for j, angle in enumerate(q):
            c.resetJointState(arm, j, float(angle))

    def _solve(self, tcp: Pose) -> np.ndarray:
        """Joint angles that put the TCP at ``tcp``; raises UnreachablePose when none do."""
        if not (np.isfinite(tcp.position).all() and np.isfinite(tcp.rotation).all()):
            raise UnreachablePose(f"expected a finite TCP pose, got position {tcp.position}")
        c = self.world.client
        arm = self.world.id(ARM)
        a7 = tcp @ self._a7_in_tcp
        position, orientation = to_bullet(a7)
        spec = self.spec
        error = (np.inf, np.inf)
        limits = {
            "lowerLimits": list(self._lower),
            "upperLimits": list(self._upper),
            "jointRanges": list(self._upper - self._lower),
            "restPoses": list(spec.rest),
        }
        refine: list[dict[str, list[float]]] = [{}] * spec.ik_refinements  # plain solves
        # First plain solves from the current configuration (nearby targets converge in one
        # or two); failing that, a limit-aware solve that picks an elbow-up configuration
        # near the rest pose, then plain solves that remove the millimetres it leaves.
        plans = ((self._q, [{}, *refine]), (np.array(spec.rest), [limits, *refine]))
        for seed, solves in plans:
            self._set_arm(seed)
            for extra in solves:
                q = c.calculateInverseKinematics(
                    arm,
                    spec.flange_link,
                    position,
                    orientation,
                    maxNumIterations=spec.ik_iterations,
                    residualThreshold=1e-5 * spec.ik_tolerance,
                    **extra,
                )
                q = np.clip(q[: len(self._lower)], self._lower, self._upper)
                self._set_arm(q)
                link = c.getLinkState(arm, spec.flange_link, computeForwardKinematics=True)
                reached = Pose(np.array(link[4]), _matrix(c.getMatrixFromQuaternion(link[5])))
                error = (
                    float(np.linalg.norm(reached.position - a7.position)),
                    rotation_angle(reached, a7),
                )
                if error[0] < spec.ik_tolerance and error[1] < spec.ik_angle_tolerance:
                    self._set_arm(self._q)
                    return q
        self._set_arm(self._q)
        raise UnreachablePose(
            f"expected a TCP pose within the LBR iiwa's reach, got position "
            f"{np.round(tcp.position, 4).tolist()} m, yaw {math.degrees(tcp.yaw):.1f} deg "
            f"(inverse kinematics misses it by {error[0] * 1000:.1f} mm, "
            f"{math.degrees(error[1]):.1f} deg)"
        )


def _matrix(flat: tuple[float, ...]) -> np.ndarray:
    return np.array(flat, dtype=np.float64).reshape(3, 3)
