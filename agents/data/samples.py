"""Grasp attempts as the arrays the trainer learns from.

:class:`GraspSamples` holds N recorded attempts: the observation's height and valid images,
the metric action, the index of the gripper width that was used, the reward and an optional
per-attempt weight (the weighted retraining's w_i). The dataset module reads its file into
these arrays; tests build them by hand. The train/test split is the caller's (the dataset's
timestamp hash); this module only checks shapes and takes subsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grasp_env.errors import InvalidObservation
from grasp_env.geometry import ImageGeometry

_ARRAYS = ("heights", "valid", "actions", "widths", "rewards")


@dataclass(frozen=True)
class GraspSamples:
    """N grasp attempts.

    Attributes:
        heights: float32 (N, H, W), metres above the bin floor, 0 where missing.
        valid: uint8 (N, H, W), 1 where measured.
        actions: float32 (N, 4), metric (x, y, a, d) in the grasp bin's frame.
        widths: int (N,), the index k of the gripper width used (the output trained).
        rewards: float32 (N,), 1 for success, 0 for failure.
        weights: float32 (N,) per-attempt weights, or None for all ones.
    """

    heights: np.ndarray
    valid: np.ndarray
    actions: np.ndarray
    widths: np.ndarray
    rewards: np.ndarray
    weights: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.rewards)
        expected = {
            "heights": (self.heights, 3),
            "valid": (self.valid, 3),
            "actions": (self.actions, 2),
            "widths": (self.widths, 1),
            "rewards": (self.rewards, 1),
        }
        if self.weights is not None:
            expected["weights"] = (self.weights, 1)
        for name, (array, ndim) in expected.items():
            if not isinstance(array, np.ndarray) or array.ndim != ndim or len(array) != n:
                got = getattr(array, "shape", type(array).__name__)
                raise InvalidObservation(
                    f"expected {name} as an array of {ndim} dims with {n} rows (as rewards),"
                    f" got {got}"
                )
        if self.actions.shape[1] != 4:
            raise InvalidObservation(f"expected actions (N, 4), got {self.actions.shape}")
        if self.heights.shape != self.valid.shape:
            raise InvalidObservation(
                f"expected valid of the heights' shape {self.heights.shape}, got {self.valid.shape}"
            )
        if n and not np.isfinite(self.rewards).all():
            raise InvalidObservation("expected finite rewards, got NaN or inf")
        if n and ((self.rewards < 0).any() or (self.rewards > 1).any()):
            raise InvalidObservation(
                f"expected rewards in [0, 1], got values from {self.rewards.min()}"
                f" to {self.rewards.max()}"
            )
        if self.weights is not None and n and (self.weights < 0).any():
            raise InvalidObservation("expected weights >= 0, got a negative weight")

    def __len__(self) -> int:
        return len(self.rewards)

    def check_geometry(self, geometry: ImageGeometry, widths: int) -> None:
        """Refuse images of another size than ``geometry`` or width indices out of range.

        Raises:
            InvalidObservation: naming the expected and the found shape or range.
        """
        if len(self) == 0:
            return
        if self.heights.shape[1:] != geometry.shape:
            raise InvalidObservation(
                f"expected images of shape {geometry.shape}, got {self.heights.shape[1:]}"
            )
        if self.widths.min() < 0 or self.widths.max() >= widths:
            raise InvalidObservation(
                f"expected width indices in [0, {widths - 1}], got values from"
                f" {self.widths.min()} to {self.widths.max()}"
            )

    def subset(self, index: np.ndarray) -> GraspSamples:
        """The attempts at ``index`` (an integer or boolean array)."""
        return GraspSamples(
            self.heights[index],
            self.valid[index],
            self.actions[index],
            self.widths[index],
            self.rewards[index],
            None if self.weights is None else self.weights[index],
        )

    def with_weights(self, weights: np.ndarray | None) -> GraspSamples:
        """The same attempts with per-attempt ``weights`` (None for all ones)."""
        w = None if weights is None else np.asarray(weights, dtype=np.float32)
        return GraspSamples(self.heights, self.valid, self.actions, self.widths, self.rewards, w)

    @classmethod
    def concatenate(cls, parts: list[GraspSamples]) -> GraspSamples:
        """The attempts of ``parts`` one after the other; weights must be on all or none."""
        if not parts:
            raise InvalidObservation("expected at least one GraspSamples to concatenate, got 0")
        has_weights = [p.weights is not None for p in parts]
        if any(has_weights) and not all(has_weights):
            raise InvalidObservation(
                "expected weights on all parts or none,"
                f" got them on {sum(has_weights)} of {len(parts)}"
            )
        return cls(
            *(np.concatenate([getattr(p, k) for p in parts]) for k in _ARRAYS),
            np.concatenate([p.weights for p in parts]) if all(has_weights) else None,
        )

    @classmethod
    def empty(cls, geometry: ImageGeometry) -> GraspSamples:
        """No attempts, with the right trailing shapes."""
        return cls(
            np.zeros((0, *geometry.shape), np.float32),
            np.zeros((0, *geometry.shape), np.uint8),
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.int64),
            np.zeros(0, np.float32),
        )


def width_indices(
    indices: np.ndarray, actions: np.ndarray, widths: tuple[float, ...]
) -> np.ndarray:
    """The gripper width index k of each attempt, int64 (N,).

    The grid index's k where the attempt was on the grid (k >= 0), else the grid width
    nearest the action's opening d.
    """
    indices = np.asarray(indices).reshape(-1, 4)
    nearest = np.abs(np.asarray(actions)[:, 3:4] - np.asarray(widths)[None, :]).argmin(axis=1)
    k = indices[:, 3].astype(np.int64)
    return np.where(k >= 0, k, nearest).astype(np.int64)


def samples_from_arrays(arrays: Any, widths: tuple[float, ...]) -> GraspSamples:
    """Training arrays from the dataset reader's records (:class:`GraspArrays`).

    Args:
        arrays: anything with ``heights``, ``valid``, ``actions``, ``indices`` and ``rewards``
            arrays (the grasp dataset's ``GraspArrays``).
        widths: the grid's gripper widths, metres, to place attempts that were off the grid.
    """
    return GraspSamples(
        np.asarray(arrays.heights, np.float32),
        np.asarray(arrays.valid, np.uint8),
        np.asarray(arrays.actions, np.float32),
        width_indices(arrays.indices, arrays.actions, widths),
        np.asarray(arrays.rewards, np.float32),
    )


__all__ = ["GraspSamples", "samples_from_arrays", "width_indices"]
