"""The actor: grasp attempt after grasp attempt, through the agents a user would act with.

Attempt i is decided by (seed, i) and the model the schedule gives it (:mod:`.rounds`): the
attempt's generator picks the selection function (:mod:`.schedule`), and a
:class:`~agents.policies.random.RandomAgent` or an
:class:`~agents.policies.fcn.FCNAgent` with that selection chooses the grasp. It is grasped
in its lane's bin (:mod:`.lanes`), whose scene is rebuilt from
:func:`~agents.learning.schedule.scene_seed` every ``rebuild_every`` attempts of the lane;
between rebuilds the bin empties as it would on the cell. An actor that starts on a lane
mid-segment rebuilds the segment's scene and replays its committed actions
(:meth:`Actor.restore`), which the twin's deterministic physics turns into the very state
the bin had. With ``failure_memory`` in the config each lane remembers its scene's failed
grasps (:mod:`agents.fcn.failure_memory`), from the replayed attempts too, and the model's
selections avoid them.

An :class:`Actor` owns one or more lanes' envs and returns each attempt as an
:class:`Outcome`; the one writer (:mod:`.commit`) stamps and records it. The
:class:`ModelSource` loads each attempt's model from :class:`Checkpoints`: the run's
checkpoint files (:class:`RunDirCheckpoints`), so actors in other processes act on the same
models (:mod:`.actors`), or another store of them, e.g. the model board of actors on other
machines (:mod:`.ray_board`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from agents.fcn.failure_memory import FailureMemory
from agents.learning.config import LearnConfig
from agents.learning.lanes import LaneStart, lane_of, starts_segment
from agents.learning.rounds import RoundSchedule
from agents.learning.rundir import CHECKPOINTS, checkpoint_name, read_latest
from agents.learning.schedule import attempt_rng, choose_selection, scene_seed
from grasp_env.errors import GraspError
from grasp_env.geometry import HeightImage

WAIT_POLL_SECONDS = 0.02


class LearningError(GraspError, RuntimeError):
    """The learning loop cannot go on (e.g. its trainer process died)."""


@dataclass
class Stopwatch:
    """Wall time by part of the loop, summed over the run: where an attempt's time goes."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, part: str, since: float) -> float:
        """Add the time from ``since`` (``time.perf_counter()``) to ``part``; return now."""
        now = time.perf_counter()
        self.seconds[part] = self.seconds.get(part, 0.0) + now - since
        return now


class Checkpoints(Protocol):
    """Where the trainer's model versions can be read."""

    def latest(self) -> int:
        """The newest version written (0: none yet)."""

    def read(self, version: int) -> Any:
        """Model ``version``; FileNotFoundError when it is gone (pruned)."""


class RunDirCheckpoints:
    """The checkpoint files of a run directory, found through ``checkpoints/latest.json``."""

    def __init__(self, run_dir: Path, grid: Any) -> None:
        self.run_dir, self.grid = run_dir, grid

    def latest(self) -> int:
        """The pointer's version."""
        return read_latest(self.run_dir).version

    def read(self, version: int) -> Any:
        """The model of ``checkpoints/model_<version>.pt``."""
        from agents.fcn.checkpoint import load_checkpoint

        return load_checkpoint(self.run_dir / CHECKPOINTS / checkpoint_name(version), self.grid)[0]


class ModelSource:
    """The model each attempt acts on, loaded from the run's checkpoints.

    Args:
        run_dir: the run directory.
        config: the run's config.
        trainer_alive: whether the trainer process still runs (a wait ends if it died).
        clock: where loading and waiting time is summed.
        checkpoints: where the versions are read (default: ``run_dir``'s files).
    """

    def __init__(
        self,
        run_dir: Path,
        config: LearnConfig,
        trainer_alive: Any,
        clock: Stopwatch,
        *,
        checkpoints: Checkpoints | None = None,
    ) -> None:
        self.run_dir, self.config, self.trainer_alive, self.clock = (
            run_dir, config, trainer_alive, clock
        )  # fmt: skip
        self.checkpoints = checkpoints or RunDirCheckpoints(run_dir, config.env.grid)
        self.rounds = RoundSchedule.of(config)
        self.version = 0
        self.model: Any = None
        self.waited_for_first = False

    def for_attempt(self, index: int, needs_model: bool) -> tuple[Any, int]:
        """(model or None, version) for attempt ``index``.

        A random attempt (``needs_model`` False) never waits: under lockstep it gets the
        schedule's version number without the model being loaded.
        """
        if self.config.schedule != "lockstep":
            self._newest(needs_model)
            return self.model, self.version
        want = self.rounds.acting_version(index)
        if needs_model and want != self.version:
            self.load(want, wait_seconds=math.inf)
        return self.model, want

    def _newest(self, needs_model: bool) -> None:
        """Timed schedule: the newest model; once, wait a bounded time for the first."""
        latest = self.checkpoints.latest()
        if latest > self.version:
            self.load(latest, wait_seconds=0.0)
        elif needs_model and self.model is None and not self.waited_for_first:
            self.waited_for_first = True
            self.load(1, wait_seconds=self.config.wait_for_model)

    def load(self, version: int, wait_seconds: float) -> None:
        """Load ``version`` once the trainer has written it, waiting at most ``wait_seconds``."""
        start = time.perf_counter()
        deadline = time.monotonic() + wait_seconds
        while self.checkpoints.latest() < version:
            if not self.trainer_alive():
                raise LearningError(f"the trainer died before model version {version}")
            if time.monotonic() >= deadline:
                self.clock.add("waiting for the model", start)
                return
            time.sleep(WAIT_POLL_SECONDS)
        start = self.clock.add("waiting for the model", start)
        if version:
            try:
                self.model = self.checkpoints.read(version)
            except FileNotFoundError:  # timed: pruned since the pointer moved; next attempt
                return
        self.version = version
        self.clock.add("model loads", start)


@dataclass(frozen=True)
class Outcome:
    """One executed attempt, as an actor hands it to the writer (it may cross processes).

    The writer stamps it and turns it into the dataset's record
    (:meth:`agents.learning.commit.Committer.record`).

    Attributes:
        index: the attempt's index.
        observation: the image the action was chosen on.
        action: the executed metric action.
        reward: 1 for a held object, else 0.
        info: the environment's ``info`` of the step.
        method: the selection method that chose it.
        value: the predicted value (NaN for none).
        grid_index: the grid index of the action.
        model_version: the model version it acted on (0: none).
        scene: the reset seed of the scene it was grasped in.
    """

    index: int
    observation: dict[str, np.ndarray] = field(repr=False)
    action: np.ndarray
    reward: float
    info: dict[str, Any] = field(repr=False)
    method: str
    value: float
    grid_index: np.ndarray
    model_version: int
    scene: int


def lane_env(config: LearnConfig) -> Any:
    """A new learning environment for one lane of ``config``'s run."""
    from grasp_env.factory import make_env

    return make_env(config.env_id, config.env, config.objects, config.object_set or None,
                    config.cell_config)  # fmt: skip


@dataclass
class _Lane:
    """One learning bin of an actor: its env, current image, scene seed and failed grasps."""

    env: Any
    memory: FailureMemory | None
    observation: Any = None
    scene: int = 0

    def step(self, action: np.ndarray) -> tuple[float, dict[str, Any]]:
        """Grasp ``action`` in this bin: its reward and info; the next image is taken."""
        before = self.observation
        _, reward, _, _, info = self.env.step(action)
        self.observation, _ = self.env.reset()
        if self.memory is not None:
            self.memory.note(HeightImage(before["height"], before["valid"]), action, reward)
        return float(reward), info


class Actor:
    """Decides and executes the attempts of its lanes (:mod:`.lanes`), one env each.

    Args:
        config: the run's config.
        envs: the learning environment (mode "train") of each lane this actor owns.
        models: where each attempt's model comes from.
        clock: where the time of each part is summed.
    """

    def __init__(
        self, config: LearnConfig, envs: dict[int, Any], models: ModelSource, clock: Stopwatch
    ) -> None:
        from agents.fcn.inference import InferenceConfig
        from agents.policies.random import RandomAgent

        self.config, self.models, self.clock = config, models, clock
        self.grid = config.env.grid
        self.lanes = {lane: _Lane(env, self._memory()) for lane, env in envs.items()}
        self.inference = InferenceConfig(
            precision=config.inference_precision,
            num_threads=1,
            backend=config.inference_backend,
        )
        self.walls = self._walls()
        self.random_agent = RandomAgent(self.grid, np.random.default_rng(0), self.walls)
        self.fcn_agent: Any = None
        self.heuristic_agent: Any = None
        self.fcn_version = 0

    def _walls(self) -> np.ndarray | None:
        from grasp_env.clearance import inside_walls

        return None if self.config.walls is None else inside_walls(self.grid, self.config.walls)

    def _memory(self) -> FailureMemory | None:
        if self.config.failure_memory is None:
            return None
        return FailureMemory(self.grid, self.config.failure_memory)

    def restore(self, start: LaneStart) -> int:
        """Bring ``start``'s lane to where its first attempt begins; the replays that differ.

        Rebuilds the lane's current segment and replays its committed actions (none on a
        fresh run or at a segment's start).
        """
        lane = self._rebuild(start.scene_index)
        differ = 0
        for action, reward in zip(start.actions, start.rewards, strict=True):
            replayed, _ = lane.step(action)
            differ += int(replayed != float(reward))
        return differ

    def _rebuild(self, index: int) -> _Lane:
        """A new scene in ``index``'s lane, from the seed of attempt ``index``."""
        lane = self.lanes[lane_of(index, self.config.lanes)]
        lane.scene = scene_seed(self.config.seed, index)
        lane.observation, _ = lane.env.reset(seed=lane.scene)
        if lane.memory is not None:
            lane.memory.forget()
        return lane

    def attempt(self, index: int) -> Outcome:
        """Decide and execute attempt ``index`` in its lane (the writer stamps and commits it)."""
        config = self.config
        if index >= config.lanes and starts_segment(index, config.lanes, config.rebuild_every):
            self._rebuild(index)
        lane = self.lanes[lane_of(index, config.lanes)]
        start = time.perf_counter()
        decision, version = self._decide(index, lane)
        start = self.clock.add("deciding (scoring the grasp space)", start)
        observation = lane.observation
        reward, info = lane.step(decision.action)
        self.clock.add("executing (env.step and the next image)", start)
        value = math.nan if decision.value is None else decision.value
        return Outcome(
            index=index, observation=observation, action=decision.action, reward=reward,
            info=info, method=decision.method, value=value,
            grid_index=np.asarray(decision.index), model_version=version, scene=lane.scene,
        )  # fmt: skip

    def _decide(self, index: int, lane: _Lane) -> tuple[Any, int]:
        rng = attempt_rng(self.config.seed, index)
        selection = choose_selection(self.config, index, rng)
        free = selection.name in ("random", "heuristic")
        model, version = self.models.for_attempt(index, needs_model=not free)
        if selection.name == "heuristic":
            return self._heuristic(lane.observation, rng), version
        if free or model is None:
            self.random_agent.rng = rng
            return self.random_agent.decide(lane.observation), version
        agent = self._fcn(model, version)
        agent.selection, agent.rng, agent.memory = selection, rng, lane.memory
        return agent.decide(lane.observation), version

    def _heuristic(self, observation: Any, rng: np.random.Generator) -> Any:
        """One of the heuristic's best few grasps, drawn by ``rng``, as the grid grasp nearest it.

        A draw among the best few, not its best alone, so that a lane does not repeat a
        failed grasp in a bin that did not change; with ``walls``, among those of them clear
        of the walls.
        """
        from agents.base import Decision
        from agents.policies.heuristic import HeuristicAgent

        start = time.perf_counter()
        if self.heuristic_agent is None:
            self.heuristic_agent = HeuristicAgent(
                self.grid.image, rng, primitive=self.config.env.primitive
            )
        grasps = self.heuristic_agent.grasps(observation, self.heuristic_agent.config.retry_top)
        indices = [self.grid.nearest_index(g) for g in grasps]
        if self.walls is not None:  # those clear of the walls, where there are any
            indices = [i for i in indices if self.walls[i]] or indices
        index = indices[int(rng.integers(len(indices)))]
        action = self.grid.index_to_action(index)
        return Decision(action, index, "heuristic", None, time.perf_counter() - start)

    def _fcn(self, model: Any, version: int) -> Any:
        """The FCN agent, scoring with model ``version``."""
        from agents.policies.fcn import FCNAgent

        if self.fcn_agent is None:
            self.fcn_agent = FCNAgent(model, "application", self.grid, np.random.default_rng(0),
                                      self.inference, walls=self.walls)  # fmt: skip
        elif version != self.fcn_version:
            self.fcn_agent.set_model(model)
        self.fcn_version = version
        return self.fcn_agent


__all__ = [
    "Actor",
    "Checkpoints",
    "LearningError",
    "ModelSource",
    "Outcome",
    "RunDirCheckpoints",
    "Stopwatch",
    "lane_env",
]
