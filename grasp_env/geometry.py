"""The task frame, the height image's pixel grid, and every mapping between them.

This is the only module that knows the pixel size and how a point in the grasp bin's frame
lands on a pixel. The real cell and the twin both turn their camera's point cloud into the
observation with :meth:`ImageGeometry.render`, and the agent's crops and the discrete action
grid are built from :meth:`ImageGeometry.window_affine`, so all of them agree by construction.

Conventions:
    * Task frame: the grasp bin's frame, origin at the centre of its inner floor, z up, metres.
    * Image: row 0 is the largest y, column 0 the smallest x; the centre of the image is the
      task frame's origin. Pixel centres sit at integer (row, col).
    * Angle ``a``: the gripper's yaw about z; at ``a = 0`` the fingers close along task x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grasp_env.errors import ConfigError


def rot_z(angle: float) -> np.ndarray:
    """The 3x3 rotation matrix about z by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Pose:
    """A rigid transform: ``position`` (m) and a 3x3 ``rotation`` matrix, parent <- child."""

    position: np.ndarray
    rotation: np.ndarray

    @classmethod
    def identity(cls) -> Pose:
        """The identity transform."""
        return cls(np.zeros(3), np.eye(3))

    @classmethod
    def from_xyz_yaw(cls, x: float, y: float, z: float, yaw: float = 0.0) -> Pose:
        """A pose at (x, y, z) rotated by ``yaw`` about z."""
        return cls(np.array([x, y, z], dtype=float), rot_z(yaw))

    @classmethod
    def tool_down(cls, x: float, y: float, z: float, a: float) -> Pose:
        """A tool pose pointing down (tool z = -z), fingers closing along (cos a, sin a, 0)."""
        flip = np.diag([1.0, -1.0, -1.0])
        return cls(np.array([x, y, z], dtype=float), rot_z(a) @ flip)

    @property
    def matrix(self) -> np.ndarray:
        """The 4x4 homogeneous matrix."""
        m = np.eye(4)
        m[:3, :3] = self.rotation
        m[:3, 3] = self.position
        return m

    @property
    def yaw(self) -> float:
        """The rotation's angle about z of its x axis, in radians."""
        return float(np.arctan2(self.rotation[1, 0], self.rotation[0, 0]))

    def __matmul__(self, other: Pose) -> Pose:
        """Compose: ``(A @ B)`` maps B's child frame into A's parent frame."""
        return Pose(self.rotation @ other.position + self.position, self.rotation @ other.rotation)

    def inverse(self) -> Pose:
        """The inverse transform."""
        rt = self.rotation.T
        return Pose(-rt @ self.position, rt)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Transform points of shape (N, 3) from the child frame into the parent frame."""
        return points @ self.rotation.T + self.position


@dataclass(frozen=True)
class HeightImage:
    """An orthographic height image of the grasp bin.

    Attributes:
        height: float32 (H, W), metres above the bin floor; 0 where depth is missing.
        valid: uint8 (H, W), 1 where a measured point fell in the pixel, 0 where depth is missing.
    """

    height: np.ndarray
    valid: np.ndarray


@dataclass(frozen=True)
class ImageGeometry:
    """The orthographic height image: its size, pixel size and height range.

    Attributes:
        pixel_size: edge of one square pixel in the task's x-y plane, metres.
        rows: image height in pixels.
        cols: image width in pixels.
        max_height: heights are clipped to [0, max_height] metres above the bin floor.
    """

    pixel_size: float = 0.002
    rows: int = 110
    cols: int = 110
    max_height: float = 0.15

    def __post_init__(self) -> None:
        if not self.pixel_size > 0:
            raise ConfigError(f"pixel_size must be > 0 m, got {self.pixel_size!r}")
        if self.rows < 1 or self.cols < 1:
            raise ConfigError(f"image size must be positive, got {self.rows} x {self.cols}")
        if not self.max_height > 0:
            raise ConfigError(f"max_height must be > 0 m, got {self.max_height!r}")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return (self.rows, self.cols)

    @property
    def centre(self) -> tuple[float, float]:
        """The (row, col) of the task frame's origin, at the image centre."""
        return ((self.rows - 1) / 2.0, (self.cols - 1) / 2.0)

    @property
    def half_extent(self) -> tuple[float, float]:
        """Half the image's size in x and y, metres, out to the outer pixel edges."""
        return (self.cols * self.pixel_size / 2.0, self.rows * self.pixel_size / 2.0)

    def task_to_pixel(self, x: np.ndarray | float, y: np.ndarray | float) -> tuple:
        """Task (x, y) in metres to fractional pixel (row, col)."""
        r0, c0 = self.centre
        return (r0 - np.asarray(y) / self.pixel_size, c0 + np.asarray(x) / self.pixel_size)

    def pixel_to_task(self, row: np.ndarray | float, col: np.ndarray | float) -> tuple:
        """Pixel (row, col), fractional allowed, to task (x, y) in metres."""
        r0, c0 = self.centre
        return ((np.asarray(col) - c0) * self.pixel_size, (r0 - np.asarray(row)) * self.pixel_size)

    def render(self, points: np.ndarray) -> HeightImage:
        """Reproject a point cloud in the task frame to the orthographic height image.

        Each pixel takes the highest point that falls inside it (a z-buffer seen from above);
        a pixel no point falls in is marked missing. Non-finite points are ignored.

        Args:
            points: float array (N, 3) in the task frame, metres.
        """
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        pts = pts[np.isfinite(pts).all(axis=1)]
        rows, cols = self.task_to_pixel(pts[:, 0], pts[:, 1])
        r = np.floor(rows + 0.5).astype(np.int64)
        c = np.floor(cols + 0.5).astype(np.int64)
        inside = (r >= 0) & (r < self.rows) & (c >= 0) & (c < self.cols)
        flat = r[inside] * self.cols + c[inside]
        z = np.clip(pts[inside, 2], 0.0, self.max_height)
        order = np.lexsort((z, flat))
        flat, z = flat[order], z[order]
        last = np.ones(flat.size, dtype=bool)
        last[:-1] = flat[1:] != flat[:-1]
        height = np.zeros(self.rows * self.cols, dtype=np.float32)
        valid = np.zeros(self.rows * self.cols, dtype=np.uint8)
        height[flat[last]] = z[last]
        valid[flat[last]] = 1
        return HeightImage(height.reshape(self.shape), valid.reshape(self.shape))

    def height_at(self, image: HeightImage, x: float, y: float, radius_px: int = 2) -> float:
        """The height under task point (x, y), as the grasp primitive reads it (paper III-A).

        The pixel's own value when it is measured; otherwise the median of the measured pixels
        within ``radius_px``; otherwise 0 (the bin floor).
        """
        row, col = self.task_to_pixel(x, y)
        r = int(np.clip(np.floor(row + 0.5), 0, self.rows - 1))
        c = int(np.clip(np.floor(col + 0.5), 0, self.cols - 1))
        if image.valid[r, c]:
            return float(image.height[r, c])
        r0, r1 = max(r - radius_px, 0), min(r + radius_px + 1, self.rows)
        c0, c1 = max(c - radius_px, 0), min(c + radius_px + 1, self.cols)
        patch = image.height[r0:r1, c0:c1][image.valid[r0:r1, c0:c1] > 0]
        return float(np.median(patch)) if patch.size else 0.0

    def window_affine(self, x: float, y: float, a: float, size: int) -> np.ndarray:
        """The 2x3 affine that maps a window's pixels to this image's pixels.

        The window is ``size`` x ``size`` pixels at this image's pixel size, centred on task
        point (x, y) and turned by ``a`` so that the gripper's closing direction runs along the
        window's columns (paper III-C, the affine R_a T_xy followed by a crop about the centre).
        Both the training crop and the whole-image rotation of inference use this matrix, with
        ``cv2.warpAffine(..., flags=cv2.WARP_INVERSE_MAP)``; coordinates are cv2's (col, row).
        """
        half = (size - 1) / 2.0
        r0, c0 = self.centre
        ca, sa = np.cos(a), np.sin(a)
        # window (col, row) -> metric offset q in the turned frame, shifted so its centre is
        # at R(-a)(x, y); then p = R(a) q is the task point; then task -> image (col, row).
        win_to_q = np.array(
            [
                [self.pixel_size, 0.0, -half * self.pixel_size],
                [0.0, -self.pixel_size, half * self.pixel_size],
                [0.0, 0.0, 1.0],
            ]
        )
        qx, qy = ca * x + sa * y, -sa * x + ca * y
        win_to_q[0, 2] += qx
        win_to_q[1, 2] += qy
        q_to_p = np.array([[ca, -sa, 0.0], [sa, ca, 0.0], [0.0, 0.0, 1.0]])
        p_to_img = np.array(
            [[1.0 / self.pixel_size, 0.0, c0], [0.0, -1.0 / self.pixel_size, r0], [0.0, 0.0, 1.0]]
        )
        return (p_to_img @ q_to_p @ win_to_q)[:2]
