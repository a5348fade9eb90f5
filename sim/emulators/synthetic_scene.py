"""A synthetic scene for the fake camera: a flat floor with boxes on it, no physics needed.

:class:`FloorAndBoxes` is a renderer for :class:`sim.emulators.fake_nxlib.FakeNxLib`: it casts
one ray per pixel of a pinhole camera (optical z forward, x right, y down) and returns the
base-frame points (rows, cols, 3) in metres where the rays hit the top of a box or the floor,
NaN elsewhere and in a regular pattern of holes (failed stereo matches). Box sides are not
drawn: seen from above, as in bin picking, the tops and the floor are what matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from grasp_env.geometry import Pose


@dataclass
class Box:
    """An axis-aligned box standing on the floor.

    Attributes:
        centre: (x, y) of its footprint, base frame, metres.
        half: half its edge in x and y, metres.
        height: its top above the floor, metres.
    """

    centre: tuple[float, float]
    half: float = 0.03
    height: float = 0.05


@dataclass
class FloorAndBoxes:
    """A renderer: ``scene(camera_pose, (rows, cols))`` -> base-frame points, NaN for none.

    Attributes:
        boxes: the boxes on the floor.
        floor_z: the floor's height, base frame.
        floor_lower: (x, y) lower corner of the visible floor.
        floor_upper: (x, y) upper corner of the visible floor.
        focal: focal length in pixels as a fraction of the image width.
        hole_every: every n-th pixel has no depth (0: none).
    """

    boxes: list[Box] = field(default_factory=list)
    floor_z: float = 0.0
    floor_lower: tuple[float, float] = (0.2, -0.4)
    floor_upper: tuple[float, float] = (0.9, 0.4)
    focal: float = 0.9
    hole_every: int = 7

    def __call__(self, camera: Pose, shape: tuple[int, int]) -> np.ndarray:
        """The base-frame points seen by a camera at ``camera``, (rows, cols, 3), metres."""
        rows, cols = shape
        f = self.focal * cols
        r, c = np.indices(shape, dtype=float)
        rays = np.stack([(c - (cols - 1) / 2) / f, (r - (rows - 1) / 2) / f, np.ones(shape)], -1)
        dirs = rays.reshape(-1, 3) @ np.asarray(camera.rotation).T
        origin = np.asarray(camera.position, dtype=float)
        out = np.full((rows * cols, 3), np.nan)
        best = np.full(rows * cols, np.inf)
        planes = [(self.floor_z + b.height, b) for b in self.boxes] + [(self.floor_z, None)]
        with np.errstate(divide="ignore", invalid="ignore"):
            for z, box in planes:
                t = (z - origin[2]) / dirs[:, 2]
                hit = origin + t[:, None] * dirs
                if box is None:
                    inside = np.all(
                        (hit[:, :2] >= self.floor_lower) & (hit[:, :2] <= self.floor_upper), axis=1
                    )
                else:
                    inside = np.all(np.abs(hit[:, :2] - box.centre) <= box.half, axis=1)
                ok = (t > 0) & inside & (t < best)
                out[ok] = hit[ok]
                best[ok] = t[ok]
        if self.hole_every > 0:
            out[:: self.hole_every] = np.nan
        return out.reshape(rows, cols, 3)


__all__ = ["Box", "FloorAndBoxes"]
