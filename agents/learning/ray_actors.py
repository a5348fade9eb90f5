"""K actors as Ray actors across a cluster, beside the one writer in this (the driver's) process.

``grasp learn --ray auto|ADDRESS`` collects with :class:`RayActorPool`: actor k owns the
lanes ``{l : l % K == k}`` (:mod:`.lanes`) as with processes (:mod:`.actors`), but runs as a
Ray actor (one CPU, spread over the nodes) that builds its lanes' twins itself and runs
:func:`~agents.learning.acting.run_actor` in a thread. Its models come from the model board
(:mod:`.ray_board`), since it cannot read the run directory; its results wait in a
:class:`RayResults` until the driver collects them. The driver keeps one
:meth:`LaneActor.exchange` call in flight per actor: the call brings the committed count
(the admission of :class:`RayResults` holds an attempt back while it is ``ahead`` or more
past it, as with processes) and returns what finished meanwhile, which the pool hands to
the :class:`~agents.learning.commit.Committer`. The dataset writer stays in the driver's
process and node, where the run directory is; the trainer is a Ray actor of its own
(:mod:`.ray_trainer`).

**No deadlock**, by the argument of :mod:`.actors`: the committed count an actor sees is at
most the writer's, so it is held back at most as long, and the lowest uncommitted attempt is
never held.

**A dead actor** (``ray.kill``, a lost node: ``RayActorError`` from its call) is replaced
by a new Ray actor for the same lanes, from their first uncommitted attempts
(:class:`~agents.learning.lanes.LaneHistory`); its uncommitted attempts are dropped, and
what it handed over before is identical to what the replacement computes (attempt i is a
function of (config, seed, i)). So nothing committed is lost or repeated, and the digests
are those of a run without Ray. The live actors' names are in ``ray_actors.txt`` of the run
directory, one a line (``ray.get_actor(name)`` finds one).
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from agents.learning.acting import run_actor
from agents.learning.actor import Actor, ModelSource, Outcome, Stopwatch, lane_env
from agents.learning.actors import AHEAD_PER_LANE, POLL_SECONDS, ActorPool, _Slot
from agents.learning.commit import Committer
from agents.learning.config import LearnConfig, config_from_mapping, config_to_dict
from agents.learning.lanes import LaneStart
from agents.learning.ray_board import BoardCheckpoints, ModelBoard, Publisher
from agents.learning.rundir import write_atomic
from agents.raycluster import cluster_cpus, import_ray
from grasp_env.errors import ConfigError

RAY_ACTORS = "ray_actors.txt"
#: How long an exchange waits for a result before it returns empty (the driver's heartbeat).
EXCHANGE_SECONDS = 0.5


class RayResults:
    """A Ray actor's finished attempts, kept until the driver's next exchange (thread-safe).

    Args:
        ahead: attempts the actor may run past the committed count it was last told.
        clock: the actor's part times; each outcome carries what they grew by since the last.
    """

    def __init__(self, ahead: int, clock: Stopwatch) -> None:
        self.ahead, self.clock = ahead, clock
        self.changed = threading.Condition()
        self.committed = 0
        self.messages: list[tuple] = []
        self.sent: dict[str, float] = {}

    def restored(self, lane: int, differ: int) -> None:
        """Tell the writer at the next exchange."""
        self._say(("restored", lane, differ))

    def admit(self, index: int) -> None:
        """Wait while ``index`` is ``ahead`` or more past the committed count."""
        with self.changed:
            if index - self.committed < self.ahead:
                return
            start = time.perf_counter()
            self.changed.wait_for(lambda: index - self.committed < self.ahead)
        self.clock.add("waiting for the writer (actors ahead)", start)

    def put(self, outcome: Outcome) -> bool:
        """Keep the attempt and the part times since the last one."""
        now = dict(self.clock.seconds)
        grown = {k: v - self.sent.get(k, 0.0) for k, v in now.items()}
        self.sent = now
        self._say(("outcome", outcome, grown))
        return True

    def ended(self, failure: str | None) -> None:
        """The actor's loop is over: ``("done",)``, or ``("failed", traceback)``."""
        self._say(("done",) if failure is None else ("failed", failure))

    def exchange(self, committed: int, wait_seconds: float) -> list[tuple]:
        """Note the writer's count; the messages so far, waiting up to ``wait_seconds`` for one."""
        with self.changed:
            self.committed = max(self.committed, committed)
            self.changed.notify_all()
            self.changed.wait_for(lambda: bool(self.messages), timeout=wait_seconds)
            out, self.messages = self.messages, []
        return out

    def _say(self, message: tuple) -> None:
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()


class LaneActor:
    """The body of one Ray actor: its lanes' twins and the actor loop, in a thread.

    Args:
        config_data: the resolved LearnConfig as plain data.
        starts: where each of its lanes picks up.
        board: the :class:`~agents.learning.ray_board.ModelBoard` actor.
    """

    def __init__(self, config_data: dict, starts: list[LaneStart], board: Any) -> None:
        import ray

        config = config_from_mapping(config_data)
        self.clock = Stopwatch()
        self.results = RayResults(AHEAD_PER_LANE * config.lanes, self.clock)
        checkpoints = BoardCheckpoints(ray, board, config.env.grid)
        self.models = ModelSource(Path(), config, checkpoints.trainer_alive, self.clock,
                                  checkpoints=checkpoints)  # fmt: skip
        self.thread = threading.Thread(target=self._run, args=(config, starts), daemon=True)
        self.thread.start()

    def _run(self, config: LearnConfig, starts: list[LaneStart]) -> None:
        import torch

        torch.set_num_threads(1)
        envs: dict[int, Any] = {}
        try:  # the twins are built here, so that a failure is reported, not a dead actor
            envs = {start.lane: lane_env(config) for start in starts}
            actor = Actor(config, envs, self.models, self.clock)
            run_actor(actor, starts, self.results, config.target_attempts)
            self.results.ended(None)
        except BaseException:
            self.results.ended(traceback.format_exc())
        finally:
            for env in envs.values():
                env.close()

    def exchange(self, committed: int, wait_seconds: float) -> list[tuple]:
        """See :meth:`RayResults.exchange`."""
        return self.results.exchange(committed, wait_seconds)


class RayActorPool(ActorPool):
    """``config.actors`` Ray actors feeding one :class:`Committer`; see the module.

    The arguments, slots, restarts and message handling are
    :class:`~agents.learning.actors.ActorPool`'s; a slot's ``process`` is its Ray actor here,
    and its ``conn`` the exchange in flight.
    """

    def __init__(
        self,
        config: LearnConfig,
        run_dir: Path,
        committer: Committer,
        trainer_alive: Any,
        clock: Stopwatch,
    ) -> None:
        super().__init__(config, run_dir, committer, trainer_alive, clock)
        self.ray = ray = import_ray()
        cpus = cluster_cpus(ray)
        if cpus < config.actors:  # the actors beyond would wait for a CPU for ever
            raise ConfigError(
                f"actors: expected at most the Ray cluster's {cpus} CPUs, got {config.actors}"
            )
        self.board = ray.remote(num_cpus=0)(ModelBoard).remote()
        self.publisher = Publisher(ray, self.board, run_dir, config)
        self.remote_actor = ray.remote(num_cpus=1, max_restarts=0)(LaneActor)
        self.tag = uuid.uuid4().hex[:8]
        self.names: dict[int, str] = {}

    def close(self) -> None:
        """Stop every actor and the board (what the actors have in flight is not committed)."""
        for slot in self.slots:
            if slot.process is not None:
                self.ray.kill(slot.process)
            slot.process = slot.conn = None
        self.ray.kill(self.board)

    def _start(self, slot: _Slot) -> None:
        starts = [self.committer.start(lane) for lane in slot.lanes]
        if all(start.first >= self.config.target_attempts for start in starts):
            slot.finished = True
            return
        slot.finished = False
        self.publisher.publish_new(self.committer.count)
        name = f"grasp-actor-{self.tag}-{slot.number}-{slot.restarts}"
        slot.process = self.remote_actor.options(name=name, scheduling_strategy="SPREAD").remote(
            config_to_dict(self.config), starts, self.board
        )
        slot.conn = slot.process.exchange.remote(self.committer.count, EXCHANGE_SECONDS)
        self.names[slot.number] = name
        live = [self.names[s.number] for s in self.slots if s.conn is not None]
        write_atomic(self.run_dir / RAY_ACTORS, "\n".join(live) + "\n")

    def _poll(self) -> None:
        live = {slot.conn: slot for slot in self.slots if slot.conn is not None}
        start = time.perf_counter()
        ready, _ = self.ray.wait(list(live), num_returns=1, timeout=POLL_SECONDS)
        self.clock.add("writer waiting for the actors", start)
        self.publisher.publish_new(self.committer.count)
        if not self.trainer_alive():
            self.publisher.trainer_gone()
        for ref in ready:
            self._drain(live[ref])

    def _drain(self, slot: _Slot) -> None:
        """Handle what ``slot``'s actor returned; replace it when it died."""
        try:
            messages = self.ray.get(slot.conn)
        except self.ray.exceptions.RayActorError as exc:
            # dead, or unreachable for now (ActorUnavailableError): either way it is let go,
            # so that no two actors ever run the same lanes
            self.ray.kill(slot.process)
            slot.process = slot.conn = None
            self._replace(slot, type(exc).__name__)
            return
        for message in messages:
            if not self.committer.done:
                self._handle(slot, message)
        if slot.finished:
            self.ray.kill(slot.process)
            slot.process = slot.conn = None
        elif not self.committer.done:
            slot.conn = slot.process.exchange.remote(self.committer.count, EXCHANGE_SECONDS)


__all__ = ["EXCHANGE_SECONDS", "RAY_ACTORS", "LaneActor", "RayActorPool", "RayResults"]
