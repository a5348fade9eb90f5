"""The value-based grasp agent: score the whole grasp space with the FCN, select, act.

Each :meth:`FCNAgent.act` checks the observation, scores all grasps with one batched pass of
the network over the turned images (a scorer of :mod:`agents.fcn.scoring`: torch, or
onnxruntime for an exported ``.onnx`` file), lets the selection function pick an index, and
returns that index's metric action. The selection can be any of :mod:`agents.fcn.selection`;
the default is the paper's application rule (maximum(1), then maximum(5) after a failure),
which :meth:`FCNAgent.observe` keeps informed and :meth:`FCNAgent.reset` resets for a new bin.
With a :class:`~agents.fcn.failure_memory.FailureMemory` the agent also does not repeat a
failed grasp of the bin while the bin around it is unchanged; with a ``walls`` mask
(:func:`grasp_env.clearance.inside_walls`) it never chooses a grasp whose fingers would land
on a wall.

An agent from an ONNX file (:meth:`FCNAgent.from_checkpoint` with a ``.onnx`` path) does not
import torch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.base import DecidingAgent, Decision
from agents.fcn.failure_memory import FailureMemory
from agents.fcn.observation import check_observation
from agents.fcn.scoring import InferenceConfig, Scorer, is_onnx_path, make_scorer
from agents.fcn.selection import ApplicationRule, SelectionFunction, make_selection
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid

if TYPE_CHECKING:
    from agents.fcn.model import ValueModel


class FCNAgent(DecidingAgent):
    """Grasps by scoring the grid with the value model and a selection function.

    Args:
        model: the value model (a fused copy is used; see :meth:`set_model`), or a ready
            :class:`agents.fcn.scoring.Scorer` (e.g. of an ONNX file).
        selection: a selection function, e.g. ``ApplicationRule()`` or
            ``ProbabilisticSelection()``, or its name for
            :func:`agents.fcn.selection.make_selection`.
        grid: the discrete grasp space the model serves.
        rng: the generator of every random choice of the selection.
        inference: device, precision, threads and backend of the scoring.
        memory: the failed grasps to avoid (None: none); :meth:`observe` tells it each
            reward and :meth:`reset` empties it.
        walls: the grasps allowed, a boolean array of ``grid.shape`` (None: all); the others
            get the value 0 before the selection sees them.

    Attributes:
        last_decision: the :class:`Decision` of the last :meth:`act`, or None.
        last_values: the value array of the last :meth:`act`, (rotations, rows, cols, widths).
    """

    def __init__(
        self,
        model: ValueModel | Scorer,
        selection: SelectionFunction | str,
        grid: GraspGrid,
        rng: np.random.Generator,
        inference: InferenceConfig | None = None,
        memory: FailureMemory | None = None,
        walls: np.ndarray | None = None,
    ) -> None:
        self.grid = grid
        self.memory = memory
        self.walls = walls
        self._last_image: HeightImage | None = None
        self.rng = rng
        self.selection = make_selection(selection) if isinstance(selection, str) else selection
        self.scorer = model if isinstance(model, Scorer) else make_scorer(model, grid, inference)
        self.last_decision: Decision | None = None
        self.last_values: np.ndarray | None = None

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike,
        grid: GraspGrid,
        rng: np.random.Generator,
        selection: SelectionFunction | str = "application",
        inference: InferenceConfig | None = None,
    ) -> FCNAgent:
        """An agent with the model saved at ``path`` (its card checked against ``grid``).

        ``path`` is a torch checkpoint, or an ONNX file (``.onnx``, see ``grasp export``)
        that runs with onnxruntime and without torch.

        Raises:
            ConfigError: the file's card or shapes do not fit ``grid``.
        """
        if is_onnx_path(path):
            return cls(make_scorer(path, grid, inference), selection, grid, rng, inference)
        from agents.fcn.checkpoint import load_checkpoint

        device = inference.device if inference is not None else "cpu"
        model, _ = load_checkpoint(path, grid, device)
        return cls(model, selection, grid, rng, inference)

    def set_model(self, model: ValueModel) -> None:
        """Score with ``model`` from the next action on (e.g. the newest trained model)."""
        self.scorer.set_model(model)

    def decide(self, observation: Mapping[str, np.ndarray] | HeightImage) -> Decision:
        """Score the grasp space of ``observation`` and choose one grasp.

        Raises:
            InvalidObservation: the observation's arrays have the wrong shape or dtype.
        """
        start = time.perf_counter()
        values = self.scorer.score(observation)
        self._last_image = check_observation(observation, self.grid.image)
        chosen = self.selection(self._suppressed(values), self.rng)
        index = tuple(int(v) for v in chosen.index)
        action = self.grid.index_to_action(index)
        decision = Decision(
            action, index, chosen.method, chosen.value, time.perf_counter() - start
        )  # fmt: skip
        self.last_values = values
        self.last_decision = decision
        return decision

    def _suppressed(self, values: np.ndarray) -> np.ndarray:
        """``values`` with the grasps into a wall and the memory's failed grasps at 0."""
        if self.walls is not None:
            values = np.where(self.walls, values, np.zeros((), values.dtype))
        if self.memory is None or self._last_image is None:
            return values
        return self.memory.suppress(values, self._last_image)

    def observe(self, reward: float) -> None:
        """Be told the reward of the last action (the application rule and the memory listen)."""
        if (
            self.memory is not None
            and self.last_decision is not None
            and self._last_image is not None
        ):
            self.memory.note(self._last_image, self.last_decision.action, reward)
        observe = getattr(self.selection, "observe", None)
        if observe is not None:
            observe(reward)

    def reset(self, rng: np.random.Generator | None = None) -> None:
        """Start a new bin: forget the last reward and, if given, draw from ``rng`` from now on.

        Resets the selection's state (the application rule's "after a failure", also inside
        a mixed selection), the memory and the last decision.
        """
        if rng is not None:
            self.rng = rng
        _reset_selection(self.selection)
        if self.memory is not None:
            self.memory.forget()
        self._last_image = None
        self.last_decision = None
        self.last_values = None


def _reset_selection(selection: Any) -> None:
    reset = getattr(selection, "reset", None)
    if callable(reset):
        reset()
    for member in getattr(selection, "selections", ()):
        _reset_selection(member)


__all__ = ["ApplicationRule", "FCNAgent"]
