"""The actor: grasp attempt after grasp attempt, through the agents a user would act with.

Attempt i is decided by (seed, i) and the model the schedule gives it (:mod:`.rounds`): the
attempt's generator picks the selection function (:mod:`.schedule`), and a
:class:`~agents.policies.random.RandomAgent` or an
:class:`~agents.policies.fcn.FCNAgent` with that selection chooses the grasp. The scene is
rebuilt from :func:`~agents.learning.schedule.scene_seed` every ``rebuild_every`` attempts;
between rebuilds the bin empties as it would on the cell. A resumed run rebuilds the scene
of its segment and replays the segment's recorded actions (:meth:`Actor.restore`), which
the twin's deterministic physics turns into the very state the killed run had.

Records are stamped on the recording clock: under lockstep the cell's clock, the cycle
times summed from the run's start (so the timestamp-hash split, and with it the training,
is a function of the config), under the timed schedule the wall clock.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents.learning.config import LearnConfig
from agents.learning.rounds import RoundSchedule
from agents.learning.rundir import CHECKPOINTS, checkpoint_name, read_latest
from agents.learning.schedule import attempt_rng, choose_selection, scene_seed
from grasp_env.errors import GraspError

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


class ModelSource:
    """The model each attempt acts on, loaded from the run's checkpoints.

    Args:
        run_dir: the run directory.
        config: the run's config.
        trainer_alive: whether the trainer process still runs (a wait ends if it died).
        clock: where loading and waiting time is summed.
    """

    def __init__(
        self, run_dir: Path, config: LearnConfig, trainer_alive: Any, clock: Stopwatch
    ) -> None:
        self.run_dir, self.config, self.trainer_alive, self.clock = (
            run_dir, config, trainer_alive, clock
        )  # fmt: skip
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
        latest = read_latest(self.run_dir).version
        if latest > self.version:
            self.load(latest, wait_seconds=0.0)
        elif needs_model and self.model is None and not self.waited_for_first:
            self.waited_for_first = True
            self.load(1, wait_seconds=self.config.wait_for_model)

    def load(self, version: int, wait_seconds: float) -> None:
        """Load ``version`` once the trainer has written it, waiting at most ``wait_seconds``."""
        from agents.fcn.checkpoint import load_checkpoint

        start = time.perf_counter()
        deadline = time.monotonic() + wait_seconds
        while read_latest(self.run_dir).version < version:
            if not self.trainer_alive():
                raise LearningError(f"the trainer process died before model version {version}")
            if time.monotonic() >= deadline:
                self.clock.add("waiting for the model", start)
                return
            time.sleep(WAIT_POLL_SECONDS)
        start = self.clock.add("waiting for the model", start)
        if version:
            path = self.run_dir / CHECKPOINTS / checkpoint_name(version)
            try:
                self.model = load_checkpoint(path, self.config.env.grid)[0]
            except FileNotFoundError:  # timed: pruned since the pointer moved; next attempt
                return
        self.version = version
        self.clock.add("model loads", start)


@dataclass(frozen=True)
class Step:
    """One executed attempt: the decision, its outcome and the record to commit."""

    reward: float
    method: str
    model_version: int
    info: dict[str, Any]
    record: Any


class Actor:
    """Decides, executes and records the run's attempts on one environment.

    Args:
        config: the run's config.
        env: the learning environment (mode "train").
        models: where each attempt's model comes from.
        clock: where the time of each part is summed.
    """

    def __init__(self, config: LearnConfig, env: Any, models: ModelSource, clock: Stopwatch):
        from agents.fcn.inference import InferenceConfig
        from agents.policies.random import RandomAgent

        self.config, self.env, self.models, self.clock = config, env, models, clock
        self.grid = config.env.grid
        self.inference = InferenceConfig(
            precision=config.inference_precision,
            num_threads=1,
            backend=config.inference_backend,
        )
        self.random_agent = RandomAgent(self.grid, np.random.default_rng(0))
        self.fcn_agent: Any = None
        self.fcn_version = 0
        self.observation: Any = None
        self.scene = 0
        self.timestamp = 0.0

    def restore(self, count: int, dataset: Any) -> int:
        """Bring the scene to where attempt ``count`` starts; the replayed rewards that differ.

        Rebuilds the scene of ``count``'s segment and replays the segment's recorded actions
        (none on a fresh run or at a segment's start).
        """
        every = self.config.rebuild_every
        base = count - count % every
        self.rebuild(base)
        if not count:
            return 0
        self.timestamp = float(dataset.column("timestamp", slice(count - 1, count))[0])
        actions = dataset.column("action", slice(base, count))
        rewards = dataset.column("reward", slice(base, count))
        differ = 0
        for action, reward in zip(actions, rewards, strict=True):
            _, replayed, _, _, _ = self.env.step(action)
            differ += int(float(replayed) != float(reward))
            self.observation, _ = self.env.reset()
        return differ

    def rebuild(self, index: int) -> None:
        """A new scene from the seed of attempt ``index``."""
        self.scene = scene_seed(self.config.seed, index)
        self.observation, _ = self.env.reset(seed=self.scene)

    def attempt(self, index: int) -> Step:
        """Decide, execute and stamp attempt ``index`` (the caller commits the record)."""
        from agents.data import GraspRecord

        if index % self.config.rebuild_every == 0 and index:
            self.rebuild(index)
        start = time.perf_counter()
        decision, version = self._decide(index)
        start = self.clock.add("deciding (scoring the grasp space)", start)
        obs = self.observation
        _, reward, _, _, info = self.env.step(decision.action)
        self.observation, _ = self.env.reset()
        self.clock.add("executing (env.step and the next image)", start)
        self.timestamp = self._stamp(info)
        value = math.nan if decision.value is None else decision.value
        record = GraspRecord.from_step(
            obs, decision.action, reward, info, method=decision.method,
            timestamp=self.timestamp, value=value, index=np.asarray(decision.index),
            object_set=self.config.object_set, env_id=self.config.env_id, seed=self.scene,
            force=self.config.env.force,
        )  # fmt: skip
        return Step(float(reward), decision.method, version, info, record)

    def _decide(self, index: int) -> tuple[Any, int]:
        rng = attempt_rng(self.config.seed, index)
        selection = choose_selection(self.config, index, rng)
        random = selection.name == "random"
        model, version = self.models.for_attempt(index, needs_model=not random)
        if random or model is None:
            self.random_agent.rng = rng
            return self.random_agent.decide(self.observation), version
        agent = self._fcn(model, version)
        agent.selection, agent.rng = selection, rng
        return agent.decide(self.observation), version

    def _fcn(self, model: Any, version: int) -> Any:
        """The FCN agent, scoring with model ``version``."""
        from agents.policies.fcn import FCNAgent

        if self.fcn_agent is None:
            self.fcn_agent = FCNAgent(model, "application", self.grid, np.random.default_rng(0),
                                      self.inference)  # fmt: skip
        elif version != self.fcn_version:
            self.fcn_agent.set_model(model)
        self.fcn_version = version
        return self.fcn_agent

    def _stamp(self, info: dict[str, Any]) -> float:
        """The next record's timestamp, strictly after the last one."""
        after = float(np.nextafter(self.timestamp, np.inf))
        if self.config.schedule == "lockstep":
            return max(self.timestamp + float(info["cycle_time"]), after)
        return max(time.time(), after)


__all__ = ["Actor", "LearningError", "ModelSource", "Step", "Stopwatch"]
