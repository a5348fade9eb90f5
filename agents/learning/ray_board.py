"""The model board: the trainer's checkpoints for actors that cannot read the run directory.

Ray actors on other machines (:mod:`.ray_actors`) have no run directory. The driver's
:class:`Publisher` watches ``checkpoints/latest.json`` and, for every new version, puts the
checkpoint file's bytes into Ray's object store once (``ray.put``) and hands the reference
to the :class:`ModelBoard`, a small Ray actor holding version -> reference. An actor's
:class:`BoardCheckpoints` asks the board for the newest version and for the reference of
the one the schedule gives it, and reads the bytes from its own node's object store: one
copy per node, not one per actor. The driver owns the objects, so they live as long as the
run does.

The board also carries whether the trainer is gone, so an actor waiting for a model ends
instead of waiting for ever. Versions no actor can still act on are forgotten: under
lockstep those below the model of the first uncommitted attempt (every attempt left is at
or after it), under the timed schedule all but the newest.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from agents.learning.config import LearnConfig
from agents.learning.rounds import RoundSchedule
from agents.learning.rundir import CHECKPOINTS, checkpoint_name, read_latest


class ModelBoard:
    """Version -> object reference of its checkpoint bytes (the body of a Ray actor)."""

    def __init__(self) -> None:
        self.refs: dict[int, Any] = {}
        self.newest = 0
        self.gone = False

    def publish(self, version: int, wrapped: list[Any]) -> None:
        """Note ``version``; ``wrapped`` holds its reference (a list, so Ray passes it as is)."""
        self.refs[version] = wrapped[0]
        self.newest = max(self.newest, version)

    def forget_below(self, version: int) -> None:
        """Drop the versions below ``version``."""
        for old in [v for v in self.refs if v < version]:
            del self.refs[old]

    def latest(self) -> int:
        """The newest version published (0: none yet)."""
        return self.newest

    def fetch(self, version: int) -> list[Any] | None:
        """``[reference]`` of ``version``, or None when it is not (or no longer) there."""
        ref = self.refs.get(version)
        return None if ref is None else [ref]

    def trainer_gone(self) -> bool:
        """Whether the driver saw its trainer die."""
        return self.gone

    def set_trainer_gone(self) -> None:
        """The trainer died: waits for models end."""
        self.gone = True


class BoardCheckpoints:
    """:class:`~agents.learning.actor.Checkpoints` read from a :class:`ModelBoard` actor."""

    def __init__(self, ray: Any, board: Any, grid: Any) -> None:
        self.ray, self.board, self.grid = ray, board, grid

    def latest(self) -> int:
        """The board's newest version."""
        return int(self.ray.get(self.board.latest.remote()))

    def read(self, version: int) -> Any:
        """The model of ``version``, from this node's object store."""
        from agents.fcn.checkpoint import load_checkpoint

        wrapped = self.ray.get(self.board.fetch.remote(version))
        if wrapped is None:
            raise FileNotFoundError(f"model version {version} is no longer on the board")
        return load_checkpoint(io.BytesIO(self.ray.get(wrapped[0])), self.grid)[0]

    def trainer_alive(self) -> bool:
        """Whether the driver's trainer still runs."""
        return not self.ray.get(self.board.trainer_gone.remote())


class Publisher:
    """The driver's side: every new checkpoint of ``run_dir`` onto the board, once.

    Args:
        ray: the ``ray`` module.
        board: the :class:`ModelBoard` actor.
        run_dir: the run directory the trainer writes.
        config: the run's config (its schedule says which versions are still needed).
    """

    def __init__(self, ray: Any, board: Any, run_dir: Path, config: LearnConfig) -> None:
        self.ray, self.board, self.run_dir, self.config = ray, board, run_dir, config
        self.rounds = RoundSchedule.of(config)
        self.published = 0
        self.refs: dict[int, Any] = {}  # held here: the driver owns the objects
        self.told_gone = False

    def publish_new(self, committed: int) -> None:
        """Publish the versions written since the last call; forget those no longer needed."""
        latest = read_latest(self.run_dir).version
        for version in range(self.published + 1, latest + 1):
            path = self.run_dir / CHECKPOINTS / checkpoint_name(version)
            try:
                data = path.read_bytes()
            except FileNotFoundError:  # pruned by the trainer: no actor can need it
                continue
            self.refs[version] = self.ray.put(data)
            self.board.publish.remote(version, [self.refs[version]])
        self.published = max(self.published, latest)
        self._forget(committed)

    def trainer_gone(self) -> None:
        """Tell the actors, once, that the trainer died."""
        if not self.told_gone:
            self.board.set_trainer_gone.remote()
            self.told_gone = True

    def _forget(self, committed: int) -> None:
        if self.config.schedule == "lockstep":
            needed = self.rounds.acting_version(committed)
        else:
            needed = self.published
        old = [v for v in self.refs if v < needed]
        if old:
            self.board.forget_below.remote(needed)
            for version in old:
                del self.refs[version]


__all__ = ["BoardCheckpoints", "ModelBoard", "Publisher"]
