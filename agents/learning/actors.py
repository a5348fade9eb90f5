"""K actor processes beside the one writer: collection on K cores, the same records for any K.

:class:`ActorPool` starts ``config.actors`` processes (spawn context, like the trainer; one
torch and onnx thread each). Actor k owns the lanes ``{l : l % K == k}`` (:mod:`.lanes`),
one twin env each, and runs :func:`~agents.learning.acting.run_actor` over them: their
attempts in increasing index, each model loaded from the run's checkpoints
(:class:`~agents.learning.actor.ModelSource`), each finished attempt sent to this process
over the actor's own pipe (:class:`PipeResults`). The pool hands them to the
:class:`~agents.learning.commit.Committer`, which commits in attempt order. A pipe per actor,
not one shared queue: a process killed while writing to a shared queue would leave it
corrupt (or its lock held) for every other actor.

**No deadlock.** Attempt i waits only for (a) its model, trained on the records below
``i - lag`` (:mod:`.rounds`), and (b) :meth:`PipeResults.admit`, which holds an actor back
while i is ``ahead`` or more attempts past the committed count. Both point to lower indices.
Take the lowest uncommitted attempt i*: every attempt below it is committed, so its model's
records exist and the trainer (whose rounds need fewer records still) can write it, and
``i* - committed = 0 < ahead``. Its actor runs its attempts in increasing order, so it is
at i* and nothing holds it: i* finishes, and by induction every attempt does.

**Crash safety.** An actor that dies (SIGKILL, out of memory) closes its pipe; the pool
drops its uncommitted attempts and starts a new process for the same lanes from their first
uncommitted attempts, each lane restored from the committed actions the writer kept
(:class:`~agents.learning.lanes.LaneHistory`). An actor that fails with an error reports it
and the session ends with it. The actors die with this process (``die_with_parent``, as
the trainer): a SIGKILLed writer leaves the committed records, and the same command resumes
from their count. At most the attempts in flight are lost, none is committed twice, and the
records are those of an uninterrupted run.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from agents.learning.acting import run_actor
from agents.learning.actor import (
    Actor,
    LearningError,
    ModelSource,
    Outcome,
    Stopwatch,
    lane_env,
)
from agents.learning.commit import Committer
from agents.learning.config import LearnConfig, config_from_mapping, config_to_dict
from agents.learning.lanes import LaneStart, lanes_of_actor
from agents.learning.rundir import ACTORS_PID, write_atomic

#: How many attempts per lane an actor may run ahead of the committed count: enough to ride
#: out uneven attempt times, few enough to bound the buffered (and the lost) attempts.
AHEAD_PER_LANE = 8
#: How often one actor slot may be replaced in a session before the run gives up.
MAX_RESTARTS = 10
POLL_SECONDS = 0.05
ADMIT_POLL_SECONDS = 0.005


class PipeResults:
    """An actor process's results: sent to the writer over its pipe (the actor's side).

    Args:
        conn: the sending end of the actor's pipe.
        committed: the writer's committed count (a shared ``RawValue``: lock-free, so a
            killed actor cannot leave a lock held).
        ahead: attempts the actor may run past the committed count.
        clock: the actor's part times; each message carries what they grew by since the last.
        parent_pid: the writer's process; the actor ends when it is gone.
    """

    def __init__(
        self, conn: Any, committed: Any, *, ahead: int, clock: Stopwatch, parent_pid: int
    ) -> None:
        self.conn, self.committed, self.ahead = conn, committed, ahead
        self.clock, self.parent_pid = clock, parent_pid
        self.sent: dict[str, float] = {}

    def restored(self, lane: int, differ: int) -> None:
        """Tell the writer."""
        self.conn.send(("restored", lane, differ))

    def admit(self, index: int) -> None:
        """Wait while ``index`` is ``ahead`` or more past the committed count."""
        if index - self.committed.value < self.ahead:
            return
        start = time.perf_counter()
        while index - self.committed.value >= self.ahead:
            if os.getppid() != self.parent_pid:
                os._exit(0)
            time.sleep(ADMIT_POLL_SECONDS)
        self.clock.add("waiting for the writer (actors ahead)", start)

    def put(self, outcome: Outcome) -> bool:
        """Send the attempt and the part times since the last message."""
        now = dict(self.clock.seconds)
        grown = {k: v - self.sent.get(k, 0.0) for k, v in now.items()}
        self.sent = now
        self.conn.send(("outcome", outcome, grown))
        return True


def actor_main(
    run_dir: str,
    config_data: dict,
    starts: list[LaneStart],
    conn: Any,
    shared: tuple[Any, Any],
    parent_pid: int,
) -> None:
    """An actor process's body: restore ``starts``' lanes and run their attempts.

    Args:
        run_dir: the run directory (models come from its checkpoints).
        config_data: the resolved LearnConfig as plain data (picklable under spawn).
        starts: where each of the actor's lanes picks up.
        conn: the sending end of its pipe to the writer.
        shared: the writer's committed count and its trainer-is-gone flag (``RawValue``s).
        parent_pid: the writer's pid; the actor dies with it.
    """
    from agents.child_process import die_with_parent

    die_with_parent(parent_pid)
    import torch

    torch.set_num_threads(1)
    config = config_from_mapping(config_data)
    committed, trainer_gone = shared
    clock = Stopwatch()
    envs: dict[int, Any] = {}
    try:
        envs = {start.lane: lane_env(config) for start in starts}

        def trainer_alive() -> bool:
            return not trainer_gone.value and os.getppid() == parent_pid

        models = ModelSource(Path(run_dir), config, trainer_alive, clock)
        results = PipeResults(conn, committed, ahead=AHEAD_PER_LANE * config.lanes,
                              clock=clock, parent_pid=parent_pid)  # fmt: skip
        run_actor(Actor(config, envs, models, clock), starts, results, config.target_attempts)
        conn.send(("done",))
    except (KeyboardInterrupt, BrokenPipeError):
        pass  # the writer is ending the run
    except BaseException:
        conn.send(("failed", traceback.format_exc()))
        raise
    finally:
        for env in envs.values():
            env.close()
        conn.close()


@dataclass
class _Slot:
    """Actor ``number``: its lanes, its process and pipe (None when gone), its restarts."""

    number: int
    lanes: tuple[int, ...]
    process: Any = None
    conn: Any = None
    restarts: int = 0
    finished: bool = False


class ActorPool:
    """``config.actors`` actor processes feeding one :class:`Committer`; see the module.

    Args:
        config: the run's config.
        run_dir: the run directory.
        committer: the writer's side.
        trainer_alive: whether the trainer process still runs.
        clock: where the actors' part times and the writer's waits are summed.
    """

    def __init__(
        self,
        config: LearnConfig,
        run_dir: Path,
        committer: Committer,
        trainer_alive: Callable[[], bool],
        clock: Stopwatch,
    ) -> None:
        self.config, self.run_dir, self.committer = config, run_dir, committer
        self.trainer_alive, self.clock = trainer_alive, clock
        self.ctx = mp.get_context("spawn")
        self.committed = self.ctx.RawValue("q", committer.count)
        self.trainer_gone = self.ctx.RawValue("b", 0)
        k, lanes = config.actors, config.lanes
        self.slots = [_Slot(n, lanes_of_actor(n, k, lanes)) for n in range(k)]

    @property
    def restarts(self) -> int:
        """Actors replaced in this session."""
        return sum(slot.restarts for slot in self.slots)

    def collect(self) -> None:
        """Start the actors and commit their attempts until the committer is done."""
        try:
            for slot in self.slots:
                self._start(slot)
            while not self.committer.done and any(s.conn is not None for s in self.slots):
                self._poll()
        finally:
            self.close()

    def close(self) -> None:
        """Stop every actor (what they have in flight is not committed)."""
        for slot in self.slots:
            if slot.process is not None and slot.process.is_alive():
                slot.process.kill()
            if slot.process is not None:
                slot.process.join(5.0)
            if slot.conn is not None:
                slot.conn.close()
            slot.process = slot.conn = None

    def _start(self, slot: _Slot) -> None:
        starts = [self.committer.start(lane) for lane in slot.lanes]
        if all(start.first >= self.config.target_attempts for start in starts):
            slot.finished = True
            return
        slot.finished = False
        reader, writer = self.ctx.Pipe(duplex=False)
        slot.process = self.ctx.Process(
            target=actor_main,
            args=(str(self.run_dir), config_to_dict(self.config), starts, writer,
                  (self.committed, self.trainer_gone), os.getpid()),
            name=f"grasp-actor-{slot.number}",
            daemon=True,
        )  # fmt: skip
        slot.process.start()
        writer.close()  # the child holds the only sending end: its death reads as EOF here
        slot.conn = reader
        pids = [str(s.process.pid) for s in self.slots if s.conn is not None]
        write_atomic(self.run_dir / ACTORS_PID, "\n".join(pids) + "\n")

    def _poll(self) -> None:
        live = [slot for slot in self.slots if slot.conn is not None]
        start = time.perf_counter()
        wait([slot.conn for slot in live], timeout=POLL_SECONDS)
        self.clock.add("writer waiting for the actors", start)
        if not self.trainer_alive():
            self.trainer_gone.value = 1
        for slot in live:
            if not self.committer.done:
                self._drain(slot)

    def _drain(self, slot: _Slot) -> None:
        """Handle what ``slot``'s actor sent; replace it when its pipe ends before "done"."""
        try:
            while not self.committer.done and slot.conn.poll():
                self._handle(slot, slot.conn.recv())
        except (EOFError, OSError):
            self._ended(slot)

    def _handle(self, slot: _Slot, message: tuple) -> None:
        kind = message[0]
        if kind == "outcome":
            for part, seconds in message[2].items():
                self.clock.seconds[part] = self.clock.seconds.get(part, 0.0) + seconds
            self.committer.offer(message[1])
            self.committed.value = self.committer.count
        elif kind == "restored":
            self.committer.restored(message[1], message[2])
        elif kind == "done":
            slot.finished = True
        else:
            raise LearningError(f"actor {slot.number} (lanes {list(slot.lanes)}) failed:\n"
                                f"{message[1]}")  # fmt: skip

    def _ended(self, slot: _Slot) -> None:
        slot.process.join(5.0)
        code = slot.process.exitcode
        slot.conn.close()
        slot.process = slot.conn = None
        if not slot.finished:
            self._replace(slot, f"last exit code {code}")

    def _replace(self, slot: _Slot, last: str) -> None:
        """Start a new actor for ``slot``'s lanes, from their first uncommitted attempts."""
        slot.restarts += 1
        if slot.restarts > MAX_RESTARTS:
            raise LearningError(
                f"actor {slot.number} (lanes {list(slot.lanes)}) died {slot.restarts} times in"
                f" this session ({last}); expected at most {MAX_RESTARTS}"
            )
        self.committer.drop(slot.lanes)
        self._start(slot)


__all__ = ["AHEAD_PER_LANE", "MAX_RESTARTS", "ActorPool", "PipeResults", "actor_main"]
