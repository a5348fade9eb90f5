"""Conversions between the project's :class:`Pose` and pybullet's (position, quaternion) pairs.

pybullet speaks lists and ``[x, y, z, w]`` quaternions; the rest of the project speaks
:class:`grasp_env.geometry.Pose` with rotation matrices. These helpers are pure numpy, so they
need no simulator client and are exact to floating point.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grasp_env.geometry import Pose


def quaternion_from_matrix(rotation: np.ndarray) -> np.ndarray:
    """The unit quaternion ``[x, y, z, w]`` (w >= 0) of a 3x3 rotation matrix.

    Args:
        rotation: a proper rotation matrix.
    """
    m = np.asarray(rotation, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0.0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s]
    quat = np.array(q)
    quat /= np.linalg.norm(quat)
    return -quat if quat[3] < 0 else quat


def matrix_from_quaternion(quaternion: np.ndarray) -> np.ndarray:
    """The 3x3 rotation matrix of a quaternion ``[x, y, z, w]`` (normalised first)."""
    x, y, z, w = np.asarray(quaternion, dtype=np.float64) / np.linalg.norm(quaternion)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def to_bullet(pose: Pose) -> tuple[list[float], list[float]]:
    """A pose as pybullet's ``(position, quaternion)`` lists."""
    return [float(v) for v in pose.position], [
        float(v) for v in quaternion_from_matrix(pose.rotation)
    ]


def from_bullet(position: Sequence[float], quaternion: Sequence[float]) -> Pose:
    """A :class:`Pose` from pybullet's ``(position, quaternion)``."""
    rotation = matrix_from_quaternion(np.asarray(quaternion, dtype=np.float64))
    return Pose(np.array(position, dtype=np.float64), rotation)


class Segment:
    """The straight motion from one pose to another: linear in position, slerp in rotation.

    Args:
        start: the pose at fraction 0.
        end: the pose at fraction 1.
    """

    def __init__(self, start: Pose, end: Pose) -> None:
        self.start = start
        self.end = end
        self._q0 = quaternion_from_matrix(start.rotation)
        q1 = quaternion_from_matrix(end.rotation)
        self._dot = float(np.dot(self._q0, q1))
        self._q1 = -q1 if self._dot < 0.0 else q1
        self._dot = abs(self._dot)
        self._theta = float(np.arccos(min(self._dot, 1.0)))

    @property
    def length(self) -> float:
        """The distance the position travels, metres."""
        return float(np.linalg.norm(self.end.position - self.start.position))

    @property
    def angle(self) -> float:
        """The angle the rotation turns through, radians."""
        return 2.0 * self._theta

    def at(self, s: float) -> Pose:
        """The pose a fraction ``s`` in [0, 1] of the way."""
        position = (1.0 - s) * self.start.position + s * self.end.position
        if self._dot > 1.0 - 1e-12:
            return Pose(position, self.start.rotation)
        if self._dot > 0.9995:
            q = self._q0 + s * (self._q1 - self._q0)
        else:
            sin = np.sin(self._theta)
            q = np.sin((1.0 - s) * self._theta) * self._q0 + np.sin(s * self._theta) * self._q1
            q = q / sin
        return Pose(position, matrix_from_quaternion(q))


def rotation_angle(a: Pose, b: Pose) -> float:
    """The angle of the rotation that takes ``a``'s orientation to ``b``'s, radians."""
    relative = a.rotation.T @ b.rotation
    return float(np.arccos(np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0)))
