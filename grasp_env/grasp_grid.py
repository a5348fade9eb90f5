"""The discrete grasp space of the FCN agent (paper III-C): rotations x rows x cols x widths.

An index (r, i, j, k) names the grasp whose window is the (i, j)-th ``window_px`` window,
stepped by ``stride_px``, of the height image turned by angle ``angles[r]``, with gripper
opening ``widths[k]``. Its metric action (x, y, a, d) is found through
:meth:`ImageGeometry.window_affine`, so the grid, the training crops and the FCN's output
cells describe the same grasps. With the default 110 x 110 image at 2 mm, a 32 px window and a
stride of 2 px, the grid is 20 x 40 x 40 x 3 = 96,000 grasps, about 4 mm apart and < 9 deg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grasp_env.errors import ConfigError, InvalidAction
from grasp_env.geometry import ImageGeometry


@dataclass(frozen=True)
class GraspGrid:
    """The discrete grasp space over one image geometry.

    Attributes:
        image: the height image the grid lies on.
        rotations: number of gripper angles, spread evenly over [-max_angle, max_angle].
        max_angle: the largest |a|, radians (a parallel gripper repeats after pi).
        window_px: edge of the square window one grasp sees, pixels.
        stride_px: step between neighbouring windows, pixels (the FCN's total stride).
        widths: the gripper openings d, metres.
    """

    image: ImageGeometry = ImageGeometry()
    rotations: int = 20
    max_angle: float = float(np.deg2rad(85.0))
    window_px: int = 32
    stride_px: int = 2
    widths: tuple[float, ...] = (0.03, 0.05, 0.07)

    def __post_init__(self) -> None:
        if self.rotations < 1:
            raise ConfigError(f"rotations must be >= 1, got {self.rotations}")
        if self.window_px > min(self.image.rows, self.image.cols):
            raise ConfigError(
                f"window_px must fit the image ({self.image.rows} x {self.image.cols}),"
                f" got {self.window_px}"
            )
        if self.stride_px < 1:
            raise ConfigError(f"stride_px must be >= 1, got {self.stride_px}")
        if not self.widths or any(w <= 0 for w in self.widths):
            raise ConfigError(f"widths must be positive metres, got {self.widths}")

    @property
    def angles(self) -> np.ndarray:
        """The gripper angles a, radians, shape (rotations,)."""
        if self.rotations == 1:
            return np.zeros(1)
        return np.linspace(-self.max_angle, self.max_angle, self.rotations)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(rotations, rows, cols, widths) of the grasp space."""
        rows = (self.image.rows - self.window_px) // self.stride_px + 1
        cols = (self.image.cols - self.window_px) // self.stride_px + 1
        return (self.rotations, rows, cols, len(self.widths))

    @property
    def size(self) -> int:
        """The number of discrete grasps."""
        return int(np.prod(self.shape))

    def cell_offset(self, i: np.ndarray | int, j: np.ndarray | int) -> tuple:
        """Window (i, j)'s centre in the turned image, metres from the image centre (qx, qy)."""
        r0, c0 = self.image.centre
        half = (self.window_px - 1) / 2.0
        qx = (np.asarray(j) * self.stride_px + half - c0) * self.image.pixel_size
        qy = (r0 - (np.asarray(i) * self.stride_px + half)) * self.image.pixel_size
        return qx, qy

    def cell_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """The task (x, y) of every grasp centre, metres, each (rotations, rows, cols)."""
        _, rows, cols, _ = self.shape
        qx, qy = self.cell_offset(*np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij"))
        ca = np.cos(self.angles)[:, None, None]
        sa = np.sin(self.angles)[:, None, None]
        return ca * qx - sa * qy, sa * qx + ca * qy

    def validate_index(self, index: np.ndarray | tuple) -> tuple[int, int, int, int]:
        """Check a grid index (4 integers within the grid); return it as Python ints.

        Raises:
            InvalidAction: naming the expected shape, dtype or range and what came.
        """
        arr = np.asarray(index)
        if arr.shape != (4,) or arr.dtype.kind not in "iu":
            raise InvalidAction(
                f"expected 4 integers (rotation, row, col, width) for a grid of shape"
                f" {self.shape}, got shape {arr.shape} and dtype {arr.dtype}"
            )
        r, i, j, k = (int(v) for v in arr)
        names = ("rotation", "row", "col", "width")
        for name, value, n in zip(names, (r, i, j, k), self.shape, strict=True):
            if not 0 <= value < n:
                raise InvalidAction(f"{name} index must be in [0, {n - 1}], got {value}")
        return r, i, j, k

    def index_to_action(self, index: np.ndarray | tuple) -> np.ndarray:
        """Grid index (r, i, j, k) to the metric action (x, y, a, d) as float32.

        Raises:
            InvalidAction: for an index that is not on the grid (see :meth:`validate_index`).
        """
        r, i, j, k = self.validate_index(index)
        a = float(self.angles[r])
        qx, qy = self.cell_offset(i, j)
        ca, sa = np.cos(a), np.sin(a)
        x, y = ca * qx - sa * qy, sa * qx + ca * qy
        return np.array([x, y, a, self.widths[k]], dtype=np.float32)

    def nearest_index(self, action: np.ndarray) -> tuple[int, int, int, int]:
        """The grid grasp nearest the metric action (x, y, a, d), for an agent off the grid.

        The angle is taken modulo pi (a parallel gripper repeats) and clamped to
        ``max_angle``; the window centre is the nearest one of that angle, clamped to the
        grid; the opening is the nearest width.

        Raises:
            InvalidAction: ``action`` is not 4 finite numbers.
        """
        arr = np.asarray(action, dtype=np.float64)
        if arr.shape != (4,) or not np.isfinite(arr).all():
            raise InvalidAction(f"expected 4 finite numbers (x, y, a, d), got {arr!r}")
        x, y, a, d = arr
        a = (a + np.pi / 2) % np.pi - np.pi / 2
        r = int(np.argmin(np.abs(self.angles - a)))
        ca, sa = np.cos(self.angles[r]), np.sin(self.angles[r])
        qx, qy = ca * x + sa * y, -sa * x + ca * y  # into the turned image's frame
        r0, c0 = self.image.centre
        half = (self.window_px - 1) / 2.0
        _, rows, cols, _ = self.shape
        j = (qx / self.image.pixel_size + c0 - half) / self.stride_px
        i = (r0 - qy / self.image.pixel_size - half) / self.stride_px
        i, j = (int(np.clip(np.rint(v), 0, n - 1)) for v, n in ((i, rows), (j, cols)))
        k = int(np.argmin(np.abs(np.asarray(self.widths) - d)))
        return r, i, j, k
