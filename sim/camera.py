"""The flange-mounted depth camera of the twin, shaped like an Ensenso N10.

The camera renders a depth buffer with pybullet's ``ER_TINY_RENDERER`` (no GUI), turns it into
a point map, applies the stereo artefacts of :mod:`sim.stereo` (each switchable off), and
returns the measured points in the robot's base frame, like the Ensenso's point map after the
hand-eye transform. Its pose is the robot's current TCP pose times a fixed hand-eye offset.

Geometry: 58 x 52 deg field of view over a 752 x 480 sensor and a 100 mm baseline. The twin
renders on a coarser grid (default 376 x 332, square pixels of about 1.6 mm on the bin floor
from the photo pose, finer than the 2 mm of the height image) and, like the Ensenso's area of
interest, only the window of that grid set in :attr:`TwinCamera.aoi`, which the cell sets to
the part of the image that sees the bin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet

from grasp_env.geometry import Pose
from sim.robot import TwinRobot
from sim.stereo import add_depth_noise, occlusion_mask, steep_mask
from sim.timing import MotionTiming, SimClock
from sim.world import World

#: From the optical frame (x right, y down, z forward) to OpenGL's (x right, y up, z back).
_GL_FROM_OPTICAL = np.diag([1.0, -1.0, -1.0, 1.0])


@dataclass(frozen=True)
class CameraSpec:
    """The camera's optics, mounting and artefacts.

    Attributes:
        fov: horizontal and vertical field of view, degrees.
        native: the sensor's columns and rows (sets the disparity noise's pixel size).
        resolution: the rendered grid's columns and rows.
        baseline: distance between the two cameras, metres, along the image rows.
        near: closest measurable distance, metres. far: farthest, metres.
        mount: the camera's optical centre in the TCP frame, metres; its optical axis is the
            TCP's z (along the fingers) and its rows run along the TCP's x.
        occlusion: drop points the second camera cannot see.
        steep: drop points on surfaces steeper than ``max_incidence`` to the view ray.
        noise: add depth noise.
        max_incidence: degrees.
        disparity_noise: std of the disparity, native pixels.
        occlusion_tolerance: rendered pixels of slack in the occlusion test.
    """

    fov: tuple[float, float] = (58.0, 52.0)
    native: tuple[int, int] = (752, 480)
    resolution: tuple[int, int] = (376, 332)
    baseline: float = 0.100
    near: float = 0.25
    far: float = 1.6
    mount: tuple[float, float, float] = (0.0, 0.065, -0.13)
    occlusion: bool = True
    steep: bool = True
    noise: bool = True
    max_incidence: float = 78.0
    disparity_noise: float = 0.1
    occlusion_tolerance: float = 0.5

    @property
    def focal(self) -> tuple[float, float]:
        """Focal lengths (fx, fy) on the rendered grid, pixels."""
        cols, rows = self.resolution
        return (
            cols / 2.0 / math.tan(math.radians(self.fov[0]) / 2.0),
            rows / 2.0 / math.tan(math.radians(self.fov[1]) / 2.0),
        )

    @property
    def depth_sigma_at_1m(self) -> float:
        """Depth noise std at 1 m, metres: disparity noise over focal length times baseline."""
        fx_native = self.native[0] / 2.0 / math.tan(math.radians(self.fov[0]) / 2.0)
        return self.disparity_noise / (fx_native * self.baseline)


class TwinCamera:
    """The depth camera; implements :class:`grasp_env.cell.DepthCamera`.

    Args:
        world: the simulation.
        robot: whose TCP pose carries the camera.
        spec: optics, mounting and artefacts.
        timing: the timing model (capture time).
        clock: the cell's clock.
        rng: the generator all depth noise comes from.

    Attributes:
        rng: the noise generator; the cell replaces it when it rebuilds the scene.
        aoi: the rendered window (col0, row0, col1, row1) of the grid, or None for all of it.
    """

    def __init__(
        self,
        world: World,
        robot: TwinRobot,
        spec: CameraSpec,
        timing: MotionTiming,
        clock: SimClock,
        rng: np.random.Generator,
    ) -> None:
        self.world = world
        self.robot = robot
        self.spec = spec
        self.timing = timing
        self.clock = clock
        self.rng = rng
        self.aoi: tuple[int, int, int, int] | None = None
        self.mount = Pose(np.array(spec.mount, dtype=np.float64), np.eye(3))

    def pose(self) -> Pose:
        """The optical frame in the base frame, now."""
        return self.robot.pose() @ self.mount

    def window_seeing(self, points: np.ndarray, margin_px: int = 2) -> tuple[int, int, int, int]:
        """The smallest window of the grid that sees ``points`` given in the camera frame.

        Args:
            points: (N, 3) points in the optical frame, in front of the camera.
            margin_px: extra pixels on every side.
        """
        fx, fy = self.spec.focal
        cols, rows = self.spec.resolution
        u = fx * points[:, 0] / points[:, 2] + cols / 2.0
        v = fy * points[:, 1] / points[:, 2] + rows / 2.0
        c0 = int(np.clip(np.floor(u.min()) - margin_px, 0, cols - 1))
        r0 = int(np.clip(np.floor(v.min()) - margin_px, 0, rows - 1))
        c1 = int(np.clip(np.ceil(u.max()) + margin_px, c0 + 1, cols))
        r1 = int(np.clip(np.ceil(v.max()) + margin_px, r0 + 1, rows))
        return c0, r0, c1, r1

    def point_map(self) -> tuple[np.ndarray, np.ndarray]:
        """Render the window: the (H, W, 3) point map in the optical frame and column grid.

        Pixels that see nothing within the working range are NaN.
        """
        s = self.spec
        cols, rows = s.resolution
        c0, r0, c1, r1 = self.aoi if self.aoi is not None else (0, 0, cols, rows)
        width, height = c1 - c0, r1 - r0
        fx, fy = s.focal
        cx, cy = cols / 2.0, rows / 2.0
        c = self.world.client
        view = np.linalg.inv(self.pose().matrix @ _GL_FROM_OPTICAL)
        projection = c.computeProjectionMatrix(
            s.near * (c0 - cx) / fx,
            s.near * (c1 - cx) / fx,
            s.near * (cy - r1) / fy,
            s.near * (cy - r0) / fy,
            s.near,
            s.far,
        )
        _, _, _, buffer, _ = c.getCameraImage(
            width,
            height,
            viewMatrix=view.T.ravel().tolist(),
            projectionMatrix=projection,
            renderer=pybullet.ER_TINY_RENDERER,
            flags=pybullet.ER_NO_SEGMENTATION_MASK,
            shadow=0,
        )
        buffer = np.asarray(buffer, dtype=np.float64).reshape(height, width)
        z = s.far * s.near / (s.far - (s.far - s.near) * buffer)
        z[buffer >= 1.0 - 1e-7] = np.nan
        u = np.arange(c0, c1, dtype=np.float64) + 0.5
        v = np.arange(r0, r1, dtype=np.float64) + 0.5
        columns = np.broadcast_to(u[None, :], z.shape)
        x = (columns - cx) / fx * z
        y = ((v[:, None] - cy) / fy) * z
        return np.stack([x, y, z], axis=2), columns

    def capture(self) -> np.ndarray:
        """A float64 array (N, 3) of measured points, metres, base frame; no NaN rows."""
        s = self.spec
        points, columns = self.point_map()
        missing = ~np.isfinite(points[..., 2])
        if s.occlusion:
            missing |= occlusion_mask(
                columns, points[..., 2], s.focal[0], s.baseline, s.occlusion_tolerance
            )
        if s.steep:
            missing |= steep_mask(points, math.radians(s.max_incidence))
        measured = points[~missing]
        if s.noise:
            measured = add_depth_noise(measured, s.depth_sigma_at_1m, self.rng)
        self.clock.advance(self.timing.capture_time)
        return self.pose().apply(measured)
