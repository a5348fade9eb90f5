"""Failed grasps an agent remembers while the bin around them is unchanged, not to repeat them.

A failed grasp mostly leaves the bin as it was: the fingers close on nothing, or stop on a
wall or a neighbour, and the parts lie where they lay. The next image then gives the same
values, so a model's maximum(N) picks the same failing grasp again, in the twin until the
trainer's next round has learned from it (40 attempts, half of them in the same bin with two
lanes). A young model thus fills the dataset with copies of one negative and stalls.

:class:`FailureMemory` keeps each failed grasp with the image it was tried on. Before a
selection, :meth:`FailureMemory.suppress` forgets the failures whose surroundings (the
grid's window around the grasp centre) have changed since, because a part moved there, and
sets to 0 the values of the grasps near each one still remembered: centres within
``radius`` and angles within ``angle`` (modulo pi), at any width. 0 is the value of a grasp
known to fail, so no selection function picks it (maximum, probabilistic) or takes it for
uncertain. :meth:`FailureMemory.forget` empties it for a new bin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grasp_env.errors import ConfigError
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid


@dataclass(frozen=True)
class FailureMemoryConfig:
    """What counts as near a failed grasp, and as a changed bin around it.

    Attributes:
        radius: grasp centres within this distance of a failure's are suppressed, metres
            (the grid's centres are 4 mm apart) ...
        angle: ... if their angle is within this of the failure's (modulo pi), radians.
        moved: a pixel of the failure's window has changed when its height differs from
            the failure's image by more than this, metres (the twin's noise is 0.3 mm), or
            it is measured in one image only ...
        moved_fraction: ... and the window has changed when more than this fraction of its
            pixels have.
    """

    radius: float = 0.010
    angle: float = float(np.deg2rad(10.0))
    moved: float = 0.003
    moved_fraction: float = 0.02

    def __post_init__(self) -> None:
        if self.radius < 0 or self.angle < 0 or self.moved <= 0:
            raise ConfigError(
                "failure memory: expected radius >= 0 m, angle >= 0 rad and moved > 0 m, got"
                f" {self.radius}, {self.angle}, {self.moved}"
            )
        if not 0 <= self.moved_fraction < 1:
            raise ConfigError(
                f"failure memory: expected 0 <= moved_fraction < 1, got {self.moved_fraction}"
            )


@dataclass(frozen=True)
class _Failure:
    """A failed grasp's centre, angle, and the image of its window when it was tried."""

    x: float
    y: float
    a: float
    window: tuple[slice, slice]
    height: np.ndarray
    valid: np.ndarray


class FailureMemory:
    """The failed grasps of the current bin whose surroundings have not changed.

    Args:
        grid: the grasp space whose values :meth:`suppress` takes.
        config: what counts as near, and as changed.
    """

    def __init__(self, grid: GraspGrid, config: FailureMemoryConfig | None = None) -> None:
        self.grid = grid
        self.config = config or FailureMemoryConfig()
        self._x, self._y = grid.cell_positions()
        self._failures: list[_Failure] = []

    def __len__(self) -> int:
        return len(self._failures)

    def forget(self) -> None:
        """Forget every failure (a new bin)."""
        self._failures.clear()

    def note(self, image: HeightImage, action: np.ndarray, reward: float) -> None:
        """Be told that ``action`` (x, y, a, d) on ``image`` earned ``reward``; keep a failure."""
        if reward > 0:
            return
        x, y, a = (float(v) for v in np.asarray(action)[:3])
        window = self._window(x, y)
        self._failures.append(
            _Failure(x, y, a, window, image.height[window].copy(), image.valid[window].copy())
        )

    def suppress(self, values: np.ndarray, image: HeightImage) -> np.ndarray:
        """``values`` (rotations, rows, cols, widths) with 0 near each failure still valid.

        Failures whose window has changed on ``image`` are forgotten first. ``values`` itself
        is not changed.
        """
        self._failures = [f for f in self._failures if not self._moved(f, image)]
        if not self._failures:
            return values
        near = np.zeros(self._x.shape, dtype=bool)
        angles = self.grid.angles
        for failure in self._failures:
            turn = np.abs((angles - failure.a + np.pi / 2) % np.pi - np.pi / 2)
            close = np.hypot(self._x - failure.x, self._y - failure.y) <= self.config.radius
            near |= close & (turn <= self.config.angle + 1e-9)[:, None, None]
        suppressed = values.copy()
        suppressed[near] = 0.0
        return suppressed

    def _window(self, x: float, y: float) -> tuple[slice, slice]:
        """The pixels of the grid's window centred on task point (x, y), clipped to the image."""
        geometry = self.grid.image
        row, col = geometry.task_to_pixel(x, y)
        half = self.grid.window_px // 2
        r, c = round(float(row)), round(float(col))
        rows = slice(max(r - half, 0), min(r + half, geometry.rows))
        cols = slice(max(c - half, 0), min(c + half, geometry.cols))
        return rows, cols

    def _moved(self, failure: _Failure, image: HeightImage) -> bool:
        """Whether the bin changed in ``failure``'s window since it was tried.

        A pixel has changed when it is measured in one image and not in the other, or its
        height differs by more than ``moved``.
        """
        valid = image.valid[failure.window] > 0
        then = failure.valid > 0
        step = np.abs(image.height[failure.window] - failure.height) > self.config.moved
        changed = (valid != then) | (valid & then & step)
        return bool(changed.mean() > self.config.moved_fraction)


__all__ = ["FailureMemory", "FailureMemoryConfig"]
