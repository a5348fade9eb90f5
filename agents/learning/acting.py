"""The actor loop: restore the lanes, then their attempts in increasing order, results out.

:func:`run_actor` is the whole life of one actor, in this process or in its own
(:mod:`.actors`): it takes an :class:`~agents.learning.actor.Actor` (whose
:class:`~agents.learning.actor.ModelSource` says where models come from) and a
:class:`Results` (where finished attempts go), so another placement (a Ray actor) can run
the same loop with its own two ends.

The actor runs its lanes' attempts in increasing index, so each lane's next attempt comes
after that lane's previous one. Attempt i waits for the model the schedule gives it
(:meth:`~agents.learning.rounds.RoundSchedule.acting_version`), trained on records below
``i - lag``, and :meth:`Results.admit` may hold it back until the writer has committed
close enough to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from agents.learning.actor import Actor, Outcome
from agents.learning.commit import Committer
from agents.learning.lanes import LaneStart, lane_of


class Results(Protocol):
    """Where an actor's finished attempts go."""

    def restored(self, lane: int, differ: int) -> None:
        """``lane`` is restored; ``differ`` replayed rewards differed from the record."""

    def admit(self, index: int) -> None:
        """Return when attempt ``index`` may start (the writer is close enough to it)."""

    def put(self, outcome: Outcome) -> bool:
        """Hand over a finished attempt; False ends the actor's loop."""


def lane_attempts(starts: Sequence[LaneStart], lanes: int, target: int) -> Iterator[int]:
    """The attempts below ``target`` of ``starts``' lanes, from each lane's first, in order."""
    firsts = {start.lane: start.first for start in starts}
    for index in range(min(firsts.values(), default=target), target):
        first = firsts.get(lane_of(index, lanes))
        if first is not None and index >= first:
            yield index


def run_actor(actor: Actor, starts: Sequence[LaneStart], results: Results, target: int) -> None:
    """Restore ``starts``' lanes in ``actor``, then run their attempts up to ``target``."""
    for start in starts:
        results.restored(start.lane, actor.restore(start))
    for index in lane_attempts(starts, actor.config.lanes, target):
        results.admit(index)
        if not results.put(actor.attempt(index)):
            return


class DirectResults:
    """Results straight to the writer in this process (one actor owning every lane)."""

    def __init__(self, committer: Committer) -> None:
        self.committer = committer

    def restored(self, lane: int, differ: int) -> None:
        """Warn of differing replays."""
        self.committer.restored(lane, differ)

    def admit(self, index: int) -> None:
        """Always at once: this actor's attempts are the next to commit."""

    def put(self, outcome: Outcome) -> bool:
        """Commit it (and the callbacks see it); False once the session is done."""
        return self.committer.offer(outcome)


__all__ = ["DirectResults", "Results", "lane_attempts", "run_actor"]
