"""The trainer as a Ray actor for ``grasp learn --ray``: on a GPU when the cluster has one.

The trainer reads the committed records and writes checkpoints, but a Ray actor on another
machine has no run directory. So the Ray actor (:class:`TrainerHost`) runs the same
:class:`~agents.learning.trainer.Trainer` on a scratch run directory of its own, and the
driver's :class:`RayTrainer` keeps the two in step:
- at the start it sends the run's ``checkpoints/`` files (a resumed run's versions) and the
  files of the config's ``datasets``;
- a thread then sends each committed record once, read back from the dataset file, as
  :class:`~agents.data.reader.GraspArrays` (:class:`ShippedRecords` holds them there);
- the same thread brings back every file the trainer wrote or changed under
  ``checkpoints/`` and ``tb/``, writes each into the run directory through a temporary file,
  ``latest.json`` last (an actor never sees a version whose file is not there yet), and
  deletes the checkpoints the trainer pruned.

The rounds are those of the local trainer. On a CPU they give the same weights bit for bit,
so a run's digests are those of a run without Ray. On a GPU (the actor then asks Ray for one
and trains on ``cuda`` with torch's deterministic algorithms) the weights repeat from run to
run on the same GPU and libraries, but differ from the CPU's: such a run has digests of its
own. ``progress.json``'s session says which (``trainer``: ``cpu`` or ``cuda``). Without a
GPU the actor reserves no CPU, as the local trainer process reserves none, and prefers the
driver's machine.

A trainer that dies (killed, its machine lost) is replaced, up to :data:`MAX_RESTARTS` times
a session (``trainer_restarts`` in the session): the new one starts from the versions
brought back and is sent the records again, and a round that was in flight is trained again
to the same weights. A round that fails with an error ends the run with that error.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
import threading
import traceback
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from agents.data.reader import GraspArrays
from agents.learning.config import LearnConfig, config_from_mapping, config_to_dict
from agents.learning.rundir import CHECKPOINTS, DATASET_FILE, LATEST, TB_DIR, write_atomic
from agents.raycluster import import_ray
from grasp_env.errors import GraspError

#: Records per shipment, so that one message stays small (about 36 kB a record, decoded).
CHUNK = 256
#: Dead trainers replaced in one session before the run gives up.
MAX_RESTARTS = 3
#: The folders of the trainer's output, brought back into the run directory.
OUTPUTS = (CHECKPOINTS, TB_DIR)
#: The pointer to the newest version, as a path relative to the run directory.
POINTER = f"{CHECKPOINTS}/{LATEST}"
PRIORS = "datasets"
#: The Ray trainer's actor name (``ray.get_actor(name)`` finds it), in the run directory.
RAY_TRAINER = "ray_trainer.txt"

log = logging.getLogger(__name__)


class TrainerGone(GraspError):
    """The Ray trainer died or failed; the run cannot get its next model."""


def _part(arrays: GraspArrays, lo: int, hi: int) -> GraspArrays:
    return GraspArrays(
        **{f.name: getattr(arrays, f.name)[lo:hi] for f in dataclasses.fields(GraspArrays)}
    )


def _joined(parts: list[GraspArrays]) -> GraspArrays:
    return GraspArrays(
        **{
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in dataclasses.fields(GraspArrays)
        }
    )


class ShippedRecords:
    """The records sent so far, read in order as from a dataset (thread-safe).

    Like the trainer's dataset reader: :meth:`refresh` gives the count, :meth:`read` the
    records from the first not yet read, which are then let go (the trainer keeps its own
    samples of them).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting: list[GraspArrays] = []
        self.count = 0
        self.consumed = 0

    def add(self, arrays: GraspArrays) -> None:
        """Append the next records."""
        with self.lock:
            self.waiting.append(arrays)
            self.count += len(arrays)

    def refresh(self) -> int:
        """The records received."""
        with self.lock:
            return self.count

    def read(self, indices: slice) -> GraspArrays:
        """Records ``indices`` (from the first not yet read, up to at most the count)."""
        with self.lock:
            if indices.start != self.consumed or not indices.stop <= self.count:
                raise ValueError(
                    f"expected a slice from record {self.consumed} to at most {self.count},"
                    f" got {indices.start} to {indices.stop}"
                )
            joined = _joined(self.waiting)
            taken = indices.stop - self.consumed
            rest = _part(joined, taken, len(joined))
            self.waiting = [rest] if len(rest) else []
            self.consumed = indices.stop
            return _part(joined, 0, taken)

    def close(self) -> None:
        """Nothing to close."""


def _snapshot(root: Path, folders: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """(size, mtime) of each finished file under ``folders`` of ``root``, by relative path."""
    seen = {}
    for folder in folders:
        for path in sorted((root / folder).glob("*")):
            if path.is_file() and not path.name.startswith("."):  # "." : a temporary file
                stat = path.stat()
                seen[f"{folder}/{path.name}"] = (stat.st_size, stat.st_mtime_ns)
    return seen


class TrainerHost:
    """The Ray actor's body: a :class:`Trainer` in a thread on a scratch run directory.

    Args:
        config_data: the run's LearnConfig as plain data.
        files: relative path -> bytes: the run's checkpoints, and the prior datasets under
            ``datasets/`` (``config_data["datasets"]`` names them by these paths).
        device: "cpu" or "cuda".
    """

    def __init__(self, config_data: dict, files: dict[str, bytes], device: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="grasp-trainer-"))
        for folder in (*OUTPUTS, PRIORS):
            (self.dir / folder).mkdir()
        for rel, data in files.items():
            (self.dir / rel).write_bytes(data)
        data = dict(config_data, datasets=[str(self.dir / d) for d in config_data["datasets"]])
        self.config, self.device = config_from_mapping(data), device
        self.records, self.stopping = ShippedRecords(), threading.Event()
        self.sent = _snapshot(self.dir, OUTPUTS)  # the driver has these already
        self.error: str | None = None
        self.thread = threading.Thread(target=self._serve, name="grasp-trainer", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import torch
        from torch.utils.tensorboard import SummaryWriter

        from agents.learning.trainer import Trainer
        from agents.training.logger import TrainingLogger

        torch.set_num_threads(1)
        writer = SummaryWriter(str(self.dir / TB_DIR), filename_suffix=".trainer")
        try:
            trainer = Trainer(self.dir, self.config, TrainingLogger(writer), self.device)
            trainer.serve(self.records, self.stopping, lambda: True)
        except Exception:
            self.error = traceback.format_exc()
        finally:
            writer.close()

    def feed(self, arrays: GraspArrays) -> int:
        """Take the next records; the count received."""
        self.records.add(arrays)
        return self.records.refresh()

    def changes(self) -> tuple[dict[str, bytes], list[str], str | None]:
        """What the driver needs to know now.

        Returns:
            The output files new or changed since the last call, the checkpoints there
            now, and the trainer's error (None while it is well).
        """
        now = _snapshot(self.dir, OUTPUTS)
        changed = {}
        for rel, stamp in now.items():
            if self.sent.get(rel) != stamp:
                try:
                    changed[rel] = (self.dir / rel).read_bytes()
                except FileNotFoundError:  # pruned since the snapshot: the next call says so
                    continue
                self.sent[rel] = stamp
        if POINTER in changed:
            named = f"{CHECKPOINTS}/{json.loads(changed[POINTER])['path']}"
            if named not in now:  # the listing missed the model it points at: next time
                del changed[POINTER]
                self.sent.pop(POINTER)
        present = [rel for rel in now if rel.startswith(f"{CHECKPOINTS}/")]
        return changed, present, self.error

    def finish(self, timeout: float) -> bool:
        """End the trainer after its current round; True once it has ended."""
        self.stopping.set()
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def close(self) -> None:
        """Delete the scratch directory."""
        shutil.rmtree(self.dir, ignore_errors=True)


def starting_files(run_dir: Path, config: LearnConfig) -> tuple[dict, dict[str, bytes]]:
    """The config as the host reads it and the files it starts from."""
    files = {rel: (run_dir / rel).read_bytes() for rel in _snapshot(run_dir, (CHECKPOINTS,))}
    priors = []
    for k, source in enumerate(config.datasets):
        rel = f"{PRIORS}/{k}_{Path(source).name}"
        files[rel] = Path(source).read_bytes()
        priors.append(rel)
    return {**config_to_dict(config), "datasets": priors}, files


class RayTrainer:
    """The driver's side of the Ray trainer: ships records, brings back checkpoints.

    The same two calls as the local trainer process: :meth:`is_alive` and :meth:`stop`.

    Args:
        run_dir: the run directory (on this machine).
        config: the run's config.
    """

    def __init__(self, run_dir: Path, config: LearnConfig) -> None:
        ray = import_ray()
        self.ray, self.run_dir, self.config = ray, run_dir, config
        self.device = "cuda" if ray.cluster_resources().get("GPU", 0) >= 1 else "cpu"
        self.options: dict[str, Any] = {"num_cpus": 0, "max_restarts": 0}
        if self.device == "cuda":
            # deterministic cuBLAS needs a fixed workspace (torch's reproducibility notes)
            workspace = {"CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
            self.options |= {"num_gpus": 1, "runtime_env": {"env_vars": workspace}}
        else:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            here = ray.get_runtime_context().get_node_id()
            self.options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(here, soft=True)
        self.restarts, self.failure = 0, None
        self._start_host()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._link, name="grasp-trainer-link", daemon=True)
        self.thread.start()

    def _start_host(self) -> None:
        """A new Ray trainer from the run directory's checkpoints (its ``restarts``-th)."""
        config_data, files = starting_files(self.run_dir, self.config)
        name = f"grasp-trainer-{uuid.uuid4().hex[:8]}"
        remote = self.ray.remote(TrainerHost).options(name=name, **self.options)
        self.host = remote.remote(config_data, files, self.device)
        write_atomic(self.run_dir / RAY_TRAINER, name)
        self.present = {rel for rel in files if rel.startswith(f"{CHECKPOINTS}/")}

    def is_alive(self) -> bool:
        """Whether the trainer is still there to make models."""
        return self.thread.is_alive() and self.failure is None

    def _link(self) -> None:
        from agents.data import GraspDataset

        try:
            while not (self.run_dir / DATASET_FILE).exists():  # the writer creates it first
                if self.stopping.wait(self.config.trainer.poll_seconds):
                    return
            with GraspDataset(self.run_dir / DATASET_FILE) as dataset:
                sent = 0
                while not self.stopping.is_set():
                    sent = self._step(dataset, sent)
                    self.stopping.wait(self.config.trainer.poll_seconds)
        except Exception as exc:  # a failed round, or no trainer left: the run cannot go on
            self.failure = f"{type(exc).__name__}: {exc}"
            log.error("the Ray trainer is gone: %s", self.failure)

    def _step(self, dataset: Any, sent: int) -> int:
        """Send the new records, bring back the new files; replace a dead trainer."""
        try:
            sent = self._send(dataset, sent)
            self._bring_back()
        except self.ray.exceptions.RayActorError:
            if self.restarts >= MAX_RESTARTS:
                raise
            self.restarts += 1
            log.warning("the Ray trainer died: replacement %d of %d", self.restarts, MAX_RESTARTS)
            self._start_host()  # from the versions brought back; the records go again
            return 0
        return sent

    def _send(self, dataset: Any, sent: int) -> int:
        committed = dataset.refresh()
        while sent < committed:
            hi = min(committed, sent + CHUNK)
            sent = self.ray.get(self.host.feed.remote(dataset.read(slice(sent, hi))))
        return sent

    def _bring_back(self) -> None:
        changed, present, error = self.ray.get(self.host.changes.remote())
        for rel in sorted(changed, key=lambda r: r == POINTER):  # latest.json last
            write_atomic(self.run_dir / rel, changed[rel])
        for rel in self.present - set(present):
            (self.run_dir / rel).unlink(missing_ok=True)
        self.present = set(present)
        if error is not None:
            raise TrainerGone(f"the Ray trainer failed:\n{error}")

    def stop(self, timeout: float = 60.0) -> None:
        """End the trainer after its current round, bring back its last files, let it go."""
        self.stopping.set()
        self.thread.join(timeout)
        try:
            if self.failure is None and self.ray.get(self.host.finish.remote(timeout)):
                self._bring_back()
            self.ray.get(self.host.close.remote())
        except Exception as exc:  # already dead: nothing more to bring back
            self.failure = self.failure or f"{type(exc).__name__}: {exc}"
        finally:
            self.ray.kill(self.host)


__all__ = [
    "RAY_TRAINER",
    "RayTrainer",
    "ShippedRecords",
    "TrainerGone",
    "TrainerHost",
    "starting_files",
]
