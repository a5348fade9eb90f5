"""The twin's motion timing model and its simulated clock.

The physics of the twin runs only where it matters (contacts, carrying a part); free-space
motions are teleported. The cell's clock therefore does not count physics steps: every command
advances a :class:`SimClock` by the time the real cell would need, computed by
:class:`MotionTiming`. With the defaults one grasp attempt, from one image to the next, takes
about 8-9 s of simulated time, in line with the paper's "around 10 s" an attempt and its
367-428 picks per hour (which include the learning loop's own pauses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def trapezoid_time(distance: float, speed: float, acceleration: float) -> float:
    """Time to cover ``distance`` from rest to rest with a trapezoidal velocity profile.

    Args:
        distance: path length (m or rad), >= 0.
        speed: cruise speed limit.
        acceleration: acceleration and deceleration limit.
    """
    distance = abs(float(distance))
    if distance <= speed * speed / acceleration:
        return 2.0 * float(np.sqrt(distance / acceleration))
    return distance / speed + speed / acceleration


def trapezoid_fraction(t: float, duration: float) -> float:
    """Fraction of the path covered at time ``t`` of a symmetric profile lasting ``duration``.

    The profile accelerates for the first quarter, cruises, and decelerates for the last
    quarter (a smooth enough stand-in for the controller's own profile); exact at both ends.
    """
    if duration <= 0.0 or t >= duration:
        return 1.0
    u = max(t, 0.0) / duration
    peak = 1.0 / 0.75
    if u < 0.25:
        return 0.5 * peak / 0.25 * u * u
    if u <= 0.75:
        return 0.5 * peak * 0.25 + peak * (u - 0.25)
    r = 1.0 - u
    return 1.0 - 0.5 * peak / 0.25 * r * r


@dataclass(frozen=True)
class MotionTiming:
    """How long the real cell takes for each command.

    Attributes:
        joint_speed: the LBR iiwa 7 R800's rated axis speeds A1..A7, rad/s
            (98, 98, 100, 130, 140, 180, 180 deg/s).
        speed_override: fraction of the rated axis speeds used for point-to-point moves (the
            real cell runs below full speed; this sets most of the cycle time).
        joint_acceleration: axis acceleration limit for point-to-point moves, rad/s^2.
        linear_speed: Cartesian speed of linear moves (retract, lift), m/s.
        linear_acceleration: Cartesian acceleration of linear moves, m/s^2.
        approach_speed: Cartesian speed of the contact-guarded approach, m/s (slow, so that
            the torque sensing stops the arm within a few millimetres).
        command_latency: controller overhead per motion command (planning, handshake,
            settling in position), s.
        gripper_speed: WSG 50 finger opening speed, m/s of width.
        gripper_acceleration: WSG 50 finger acceleration, m/s^2.
        grasp_settle: time for the WSG 50 to build up the grasp force and report the grip
            state once the fingers stopped, s.
        capture_time: Ensenso N10 exposure, transfer and stereo matching, s.
    """

    joint_speed: tuple[float, ...] = tuple(
        float(v) for v in np.deg2rad([98.0, 98.0, 100.0, 130.0, 140.0, 180.0, 180.0])
    )
    speed_override: float = 0.5
    joint_acceleration: float = 3.0
    linear_speed: float = 0.3
    linear_acceleration: float = 1.0
    approach_speed: float = 0.1
    command_latency: float = 0.15
    gripper_speed: float = 0.1
    gripper_acceleration: float = 0.8
    grasp_settle: float = 0.3
    capture_time: float = 0.3

    def ptp(self, q_from: np.ndarray, q_to: np.ndarray) -> float:
        """Motion time of a synchronised point-to-point move between two joint vectors, s.

        Like every motion time here, it leaves out the ``command_latency`` that the robot
        adds once per command.
        """
        delta = np.abs(np.asarray(q_to, dtype=float) - np.asarray(q_from, dtype=float))
        speeds = np.asarray(self.joint_speed) * self.speed_override
        times = [
            trapezoid_time(d, v, self.joint_acceleration)
            for d, v in zip(delta, speeds, strict=True)
        ]
        return max(times, default=0.0)

    def linear(self, distance: float) -> float:
        """Motion time of a linear move of ``distance`` metres, s."""
        return trapezoid_time(distance, self.linear_speed, self.linear_acceleration)

    def approach(self, distance: float) -> float:
        """Motion time of a guarded approach over ``distance`` metres, s."""
        return trapezoid_time(distance, self.approach_speed, self.linear_acceleration)

    def gripper(self, width_change: float) -> float:
        """Duration of a finger motion changing the opening by ``width_change`` metres, s."""
        return trapezoid_time(width_change, self.gripper_speed, self.gripper_acceleration)


#: The clock's resolution, s: a power of two, so that every reading is exactly representable
#: and the difference of two readings is exact. Cycle times then come out bit-identical for
#: identical attempts, whatever the clock showed when they started.
TICK = 2.0**-20


class SimClock:
    """The twin's clock: simulated seconds, advanced by the timing model in ticks of ``TICK``."""

    def __init__(self) -> None:
        self._ticks = 0

    def now(self) -> float:
        """Seconds since the cell was made."""
        return self._ticks * TICK

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass (rounded to the nearest tick)."""
        if not seconds >= 0.0:
            raise ValueError(f"time only runs forward, got {seconds} s")
        self._ticks += round(seconds / TICK)
