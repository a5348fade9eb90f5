"""The bin-grasping environment contract, shared by the PyBullet twin and the real cell.

`BinGraspEnv` drives any :class:`grasp_env.cell.Cell`; `SimBinGraspEnv` (in ``sim/``) and
`RealBinGraspEnv` (in ``grasp_env/real_env.py``) only choose the cell. The environment code
cannot tell them apart: there is no simulator branch in here.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from grasp_env.cell import Cell
from grasp_env.config import EnvConfig
from grasp_env.errors import InvalidAction, ResetNeeded
from grasp_env.geometry import HeightImage, Pose
from grasp_env.grasp_grid import GraspGrid
from grasp_env.primitive import execute_grasp, grasp_z

#: The WSG 50's stroke, metres: the widest opening an action may ask for.
MAX_OPENING = 0.110

ACTION_NAMES = ("x", "y", "a", "d")
ACTION_UNITS = ("m", "m", "rad", "m")


def grid_reach(grid: GraspGrid) -> float:
    """The largest |x| or |y| of any grasp on ``grid``, metres, rounded up to the millimetre."""
    _, rows, cols, _ = grid.shape
    qx, qy = grid.cell_offset(np.array([0, rows - 1]), np.array([0, cols - 1]))
    return float(np.ceil(np.hypot(np.abs(qx).max(), np.abs(qy).max()) * 1000.0) / 1000.0)


def metric_action_space(grid: GraspGrid) -> spaces.Box:
    """The metric action space (x, y, a, d) of an environment on ``grid`` (class docstring).

    A function of the grid alone, so that an agent can map onto it without an environment.
    """
    reach = grid_reach(grid)
    return spaces.Box(
        low=np.array([-reach, -reach, -np.pi / 2, 0.0], dtype=np.float32),
        high=np.array([reach, reach, np.pi / 2, MAX_OPENING], dtype=np.float32),
        dtype=np.float32,
    )


class BinGraspEnv(gym.Env[dict[str, Any], np.ndarray]):
    """A bin-picking cell as a Gymnasium environment: one single-shot grasp per episode.

    ## Description

    One episode is one single-shot planar grasp (Berscheid et al., ICRA 2019, section III-A):
    the cell looks into the grasp bin, the agent picks a grasp (x, y, a, d), the robot opens
    the gripper to d, approaches along the fingers (retracting a few millimetres on contact),
    closes with force f, lifts and carries to the filing bin. Grasped parts land in the filing
    bin. The bins swap roles when the grasp bin looks empty or after a run of failures, so
    collection goes on without a person.

    ## Action Space

    ``Box(4,) float32``, metric, in the grasp bin's frame (origin at the centre of its inner
    floor, z up):

    | index | name | unit | range |
    |-------|------|------|-------|
    | 0 | x: grasp centre | m | [-L, L], L = reach of the discrete grid (0.110 by default) |
    | 1 | y: grasp centre | m | [-L, L] |
    | 2 | a: gripper yaw; fingers close along (cos a, sin a) | rad | [-pi/2, pi/2] |
    | 3 | d: opening before the approach | m | [0, 0.110] |

    A malformed action (wrong shape, non-numeric, NaN or inf, outside the bounds) raises
    :class:`grasp_env.errors.InvalidAction` (a ``ValueError``) naming what was expected and
    what came; nothing moves and the environment keeps working. Actions are never clipped.
    :class:`grasp_env.wrappers.DiscreteGraspWrapper` offers the FCN agent's grid instead.

    ## Observation Space

    ``Dict`` of the orthographic, undistorted height image of the grasp bin (paper Fig. 2):

    | key | dtype | shape | unit | meaning |
    |-----|-------|-------|------|---------|
    | height | float32 | (rows, cols) | m | above the bin floor, [0, max_height]; 0 if missing |
    | valid | uint8 | (rows, cols) | - | 1 where depth was measured, 0 where it is missing |

    Row 0 is the largest y, column 0 the smallest x; the image centre is the bin centre.
    Default: 110 x 110 pixels of 2 mm, heights up to 0.15 m.

    ## Rewards

    1.0 when the gripper still holds a part above the filing bin (force feedback: the fingers
    stopped short of closed), else 0.0. A Python ``float``.

    ## Starting State

    ``reset(seed=s)`` rebuilds the scene reproducibly from ``s`` (the twin drops new objects
    into bin 0; a real cell keeps its bins). ``reset()`` without a seed keeps the bins as they
    are, so bin clearing works; the very first reset builds the scene. ``options={"rebuild":
    True}`` rebuilds from the current generator without reseeding.

    ## Episode End

    ``terminated=True`` after every grasp; ``truncated`` is always False. Stepping again
    without a reset continues on the same bins.

    ## Vector Environments

    ``gymnasium.make_vec(id, num_envs=N, vectorization_mode="async", ...)`` works. Pass
    ``vector_kwargs={"autoreset_mode": gymnasium.vector.AutoresetMode.SAME_STEP}``: under the
    default ``NEXT_STEP`` every second step of a sub-env only resets it and grasps nothing.
    Under ``SAME_STEP`` the sub-env's unseeded reset inside the step keeps the bins, so the
    observation returned is the image after the grasp; the grasp's info is in ``final_info``.

    ## Info

    ``step`` returns: ``pose`` (x, y, z, a, d executed, in the grasp bin's frame; z is the
    aimed fingertip height), ``reached_z``, ``contact`` (contact stopped the approach),
    ``gripper_width`` (m, above the filing bin), ``grasped_object`` (label or None),
    ``cycle_time`` (s on the cell's clock, including the next image), ``grasp_bin`` (the bin
    grasped from), ``bins_swapped``, ``failures_in_a_row``, and the cell's own report.

    ## Arguments

    | name | meaning |
    |------|---------|
    | cell | the :class:`grasp_env.cell.Cell` to drive |
    | config | :class:`grasp_env.config.EnvConfig`: grid/image, primitive, mode, swap rule |
    | render_mode | None or "rgb_array" (a picture of the cell) |

    An environment made by ``gymnasium.make`` knows its registered id as ``self.spec.id``.

    ## Version History

    * v0: first version.
    """

    # gymnasium.Env declares metadata an instance attribute, so this one is not a ClassVar.
    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 4}  # noqa: RUF012
    observation_space: spaces.Dict
    action_space: spaces.Box

    def __init__(
        self,
        cell: Cell,
        config: EnvConfig | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None,"
                f" got {render_mode!r}"
            )
        self.cell = cell
        self.config = config if config is not None else EnvConfig()
        self.render_mode = render_mode
        image = self.config.image
        self.observation_space = spaces.Dict(
            {
                "height": spaces.Box(0.0, image.max_height, image.shape, np.float32),
                "valid": spaces.Box(0, 1, image.shape, np.uint8),
            }
        )
        self.action_space = metric_action_space(self.config.grid)
        self._interior = self._bin_interior()
        self._image: HeightImage | None = None
        self._grasp_bin = 0
        self._failures = 0
        self._closed = False

    @property
    def grid_reach(self) -> float:
        """The largest |x| or |y| of any grasp on the discrete grid, metres."""
        return grid_reach(self.config.grid)

    @property
    def grasp_bin(self) -> int:
        """Which bin (0 or 1) is the grasp bin now."""
        return self._grasp_bin

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start an episode; see the class docstring for what happens to the bins."""
        super().reset(seed=seed)
        options = dict(options or {})
        rebuild = bool(options.pop("rebuild", False))
        if options:
            raise ValueError(f"reset options may only hold 'rebuild', got {sorted(options)}")
        swapped = False
        if seed is not None or rebuild or self._image is None:
            self._grasp_bin = 0
            self._failures = 0
            self.cell.prepare(self.np_random, self._grasp_bin)
            swapped = self._observe()
        else:
            self.cell.prepare(None, self._grasp_bin)
        return self._observation(), {"grasp_bin": self._grasp_bin, "bins_swapped": swapped}

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Execute one single-shot grasp; the episode terminates after it."""
        if self._image is None:
            raise ResetNeeded("call reset() before step(): the environment has no observation yet")
        x, y, a, d = self.validate_action(action)
        layout = self.cell.layout
        grasp_bin = self._grasp_bin
        start = self.cell.clock()
        z = grasp_z(self._image, self.config.image, x, y, self.config.primitive)
        outcome = execute_grasp(
            self.cell,
            layout.bins[grasp_bin].pose,
            layout.bins[1 - grasp_bin].pose,
            (x, y, a, d),
            z,
            self.config.force,
            self.config.primitive,
        )
        self._failures = 0 if outcome.reward > 0 else self._failures + 1
        report = self.cell.report()
        swapped = self._observe()
        info = {
            "pose": {"x": x, "y": y, "z": outcome.z, "a": a, "d": d},
            "reached_z": outcome.reached_z,
            "contact": bool(outcome.contact),
            "gripper_width": float(outcome.width),
            "grasped_object": report.grasped,
            # rounded to the microsecond: the difference of two large clock readings would
            # otherwise vary in its last bit with the clock's absolute value.
            "cycle_time": round(float(self.cell.clock() - start), 6),
            "grasp_bin": grasp_bin,
            "bins_swapped": swapped,
            "failures_in_a_row": self._failures,
            **report.extra,
        }
        return self._observation(), float(outcome.reward), True, False, info

    def validate_action(self, action: Any) -> tuple[float, float, float, float]:
        """Check a metric action against the contract; return it as Python floats.

        Raises:
            InvalidAction: naming the expected shape, dtype or range and what came.
        """
        try:
            arr = np.asarray(action)
        except (TypeError, ValueError) as exc:
            raise InvalidAction(f"expected a float array of shape (4,), got {action!r}") from exc
        if arr.dtype.kind not in "fiu":
            raise InvalidAction(
                f"expected a numeric action of shape (4,) (x, y, a, d), got dtype {arr.dtype}"
            )
        if arr.shape != (4,):
            raise InvalidAction(
                f"expected an action of shape (4,) (x, y, a, d), got shape {arr.shape}"
            )
        values = arr.astype(np.float64)
        low, high = self.action_space.low, self.action_space.high
        for k, (name, unit) in enumerate(zip(ACTION_NAMES, ACTION_UNITS, strict=True)):
            v = values[k]
            if not np.isfinite(v):
                raise InvalidAction(f"{name} must be a finite number of {unit}, got {v}")
            if not low[k] <= np.float32(v) <= high[k]:
                raise InvalidAction(
                    f"{name} must be in [{low[k]:.4f}, {high[k]:.4f}] {unit}, got {v:.4f}"
                )
        x, y, a, d = (float(v) for v in values)
        return x, y, a, d

    def render(self) -> np.ndarray | None:
        """An RGB picture of the cell in ``rgb_array`` mode, else None."""
        if self.render_mode == "rgb_array":
            return self.cell.render()
        return None

    def close(self) -> None:
        """Release the cell; calling it twice is harmless."""
        if not self._closed:
            self._closed = True
            self.cell.close()

    def bin_is_empty(self, image: HeightImage) -> bool:
        """Whether the grasp bin looks empty in ``image`` (same rule on twin and real cell)."""
        occupied = self._interior & (image.valid > 0) & (image.height > self.config.empty_height)
        return int(occupied.sum()) < self.config.empty_pixels

    def _bin_interior(self) -> np.ndarray:
        """The pixels that lie inside the bin, away from its walls."""
        geometry = self.config.image
        half_x, half_y = (s / 2.0 - self.config.empty_margin for s in self.cell.layout.bin_inner)
        x, y = geometry.pixel_to_task(*np.indices(geometry.shape))
        return (np.abs(x) <= half_x) & (np.abs(y) <= half_y)

    def _capture(self) -> HeightImage:
        bin_pose = self.cell.layout.bins[self._grasp_bin].pose
        photo = Pose.tool_down(0.0, 0.0, self.cell.layout.photo_height, 0.0)
        self.cell.robot.move_ptp(bin_pose @ photo)
        points = self.cell.camera.capture()
        return self.config.image.render(bin_pose.inverse().apply(points))

    def _observe(self) -> bool:
        """Take the next image; swap the bins when the rule says so. True if they swapped."""
        self._image = self._capture()
        limit = self.config.swap_after_failures
        if (limit is not None and self._failures >= limit) or self.bin_is_empty(self._image):
            self._grasp_bin = 1 - self._grasp_bin
            self._failures = 0
            self._image = self._capture()
            return True
        return False

    def _observation(self) -> dict[str, np.ndarray]:
        assert self._image is not None
        return {"height": self._image.height.copy(), "valid": self._image.valid.copy()}
