"""The learning loop's whole configuration, one frozen dataclass read from one YAML file.

:func:`load_config` parses the YAML with :func:`grasp_env.config.from_dict`, so an unknown key
anywhere is a :class:`~grasp_env.errors.ConfigError` naming it. The resolved config (every
default filled in) is what the run directory's ``config.yaml`` and the dataset's ``config``
attribute hold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from agents.fcn.failure_memory import FailureMemoryConfig
from agents.training.config import TrainConfig
from grasp_env.clearance import WallClearance
from grasp_env.config import EnvConfig, from_dict, read_layered, to_dict
from grasp_env.errors import ConfigError
from grasp_env.object_sets import anchored, read_object_set

SCHEDULES = ("lockstep", "timed")

#: Keys that say how a session runs, not what the run records: a run resumes under other
#: values, and the dataset's stored config leaves them out.
SESSION_KEYS = ("actors",)


@dataclass(frozen=True)
class PhaseConfig:
    """The selection mix of the attempts before ``until`` (paper III-D).

    Weights are relative; they are normalised per phase. The attempts after the last phase's
    ``until`` use the last phase.

    Attributes:
        until: this phase covers attempts up to this index (exclusive); None: no end (only
            the last phase).
        random: weight of uniformly random grasps.
        probabilistic: weight of grasps sampled in proportion to their value.
        uncertain: weight of the grasp whose value is nearest 0.5.
        maximum: weight of maximum(N) grasps.
        maximum_n: the N of maximum(N).
    """

    until: int | None = None
    random: float = 0.0
    probabilistic: float = 0.0
    uncertain: float = 0.0
    maximum: float = 0.0
    maximum_n: int = 5

    def __post_init__(self) -> None:
        weights = (self.random, self.probabilistic, self.uncertain, self.maximum)
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ConfigError(
                f"phase until {self.until}: expected weights >= 0 with a positive sum"
            )
        if self.maximum_n < 1:
            raise ConfigError(f"phase until {self.until}: maximum_n must be >= 1")


DEFAULT_PHASES = (
    PhaseConfig(until=2000, random=0.15, probabilistic=0.65, uncertain=0.10, maximum=0.10),
    PhaseConfig(until=3500, random=0.10, probabilistic=0.40, uncertain=0.10, maximum=0.40),
    PhaseConfig(until=None, random=0.05, probabilistic=0.20, uncertain=0.05, maximum=0.70),
)


@dataclass(frozen=True)
class TrainerConfig:
    """The trainer process: retraining while the actor collects.

    Under the lockstep schedule (:mod:`agents.learning.rounds`) round r trains on exactly the
    first ``min_attempts + (r - 1) min_new_attempts`` attempts, and its model acts from
    ``lag`` attempts later on; under the timed schedule a round starts whenever
    ``min_new_attempts`` new attempts have come and trains on all of them.

    Attributes:
        train: the training settings of one round; ``train.epochs`` epochs per round, each
            round continuing from the last round's weights.
        min_attempts: the first round trains on this many committed attempts.
        min_new_attempts: a later round trains on this many more attempts than the last.
        lag: lockstep only: the model of a round trained on the first n attempts acts from
            attempt n + lag on, so the actor collects ``lag`` attempts while it trains.
        weighted_from: weighted retraining (paper III-E) from this attempt count on; 0: only
            when the plateau rule fires.
        plateau_rounds: the plateau rule: weighted retraining starts once the test loss has
            not improved on its best by ``plateau_min_delta`` for this many rounds in a row
            (0 switches the rule off).
        plateau_min_delta: the improvement of the test loss that counts, absolute.
        average_decay: the model a round publishes (for the actors, the curve and the final
            evaluation) is the moving average of the rounds' weights with this decay
            (:mod:`agents.training.averaging`); 0: the round's own weights. Training goes on
            from the round's own weights either way.
        keep_checkpoints: how many of the newest versioned checkpoints to keep.
        poll_seconds: sleep between looks at the dataset while waiting for data.
        max_rounds: an upper bound on the rounds of one trainer process.
    """

    train: TrainConfig = TrainConfig(epochs=3, learning_rate=5e-4, lr_decay=0.9)
    min_attempts: int = 100
    min_new_attempts: int = 25
    lag: int = 25
    weighted_from: int = 0
    plateau_rounds: int = 8
    plateau_min_delta: float = 0.002
    average_decay: float = 0.0
    keep_checkpoints: int = 3
    poll_seconds: float = 0.5
    max_rounds: int = 100_000

    def __post_init__(self) -> None:
        if self.min_attempts < 2 or self.min_new_attempts < 1 or self.keep_checkpoints < 1:
            raise ConfigError(
                "expected min_attempts >= 2, min_new_attempts >= 1 and keep_checkpoints >= 1,"
                f" got {self.min_attempts}, {self.min_new_attempts}, {self.keep_checkpoints}"
            )
        if self.lag < 0:
            raise ConfigError(f"trainer.lag: expected >= 0 attempts, got {self.lag}")
        if not 0.0 <= self.average_decay < 1.0:
            raise ConfigError(
                f"trainer.average_decay: expected 0 <= decay < 1, got {self.average_decay}"
            )
        if self.train.epochs < 1:
            raise ConfigError(f"expected train.epochs >= 1 per round, got {self.train.epochs}")


@dataclass(frozen=True)
class EvalConfig:
    """The learning curve: bin clearing (paper Table I) with the application rule.

    Attributes:
        at: the curve's attempt counts: each evaluates the model trained on the most attempts
            up to that count (kept as ``checkpoints/curve_<count>.pt``).
        n: objects to grasp per run.
        m: objects in the bin at the start of a run.
        runs: runs (bins) per curve point.
        final_runs: runs of the final evaluation (report.json).
        seed: run k of every evaluation resets with seed + k.
        max_attempts: attempt budget per run (None: 3 n + 5).
        workers: evaluation processes (None: one per core); results do not depend on it.
    """

    at: tuple[int, ...] = (250, 500, 750, 1000, 1500, 2000, 3000, 5000)
    n: int = 10
    m: int = 20
    runs: int = 20
    final_runs: int = 100
    seed: int = 100_000
    max_attempts: int | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.n < 1 or self.m < self.n or self.runs < 1 or self.final_runs < 0:
            raise ConfigError(
                f"expected 1 <= n <= m, runs >= 1, final_runs >= 0; got n={self.n}, m={self.m},"
                f" runs={self.runs}, final_runs={self.final_runs}"
            )
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"evaluation.workers: expected >= 1 or null, got {self.workers}")


@dataclass(frozen=True)
class LearnConfig:
    """One self-supervised learning run.

    Attributes:
        name: the run's name (its directory under the runs folder); default the YAML's stem.
        seed: every random choice derives from (seed, attempt index).
        schedule: "lockstep": which model acts on attempt i is a function of the config
            alone (the actor waits for it when it is late), so a run is a pure function of
            its config and seed; "timed": the actor takes the newest model there is and never
            waits (for the real cell, where a waiting robot costs more than a repeatable
            run). See :mod:`agents.learning.rounds`.
        target_attempts: the run ends when the dataset holds this many attempts.
        random_attempts: the first attempts are uniformly random (paper: 1000).
        heuristic_share: the share of the first ``random_attempts`` that the geometric
            heuristic (:mod:`agents.policies.heuristic`) chooses instead, each a grasp drawn
            from its best few and put on the grid: they find parts far more often than random
            grasps do (the paper's loop starts from random grasps alone: 0).
        env_id: the environment to learn in.
        objects: objects in the learning bin.
        object_set: the twin's object set: a name, or a YAML file listing URDF files
            (:mod:`grasp_env.object_sets`), which must exist and parse; :func:`load_config`
            takes a relative path relative to the config file's folder.
        cell_config: the real cell's YAML when ``env_id`` is "RealBinGrasp-v0" (None for its
            packaged default); twins ignore it.
        rebuild_every: a lane's scene is rebuilt (from a seed derived from the attempt
            index) every this many of its attempts, and always when a run resumes.
        lanes: the learning bins the attempts take turns in (:mod:`agents.learning.lanes`):
            attempt i is grasped in bin ``i % lanes``, whose scene depends on that bin's
            earlier attempts only. More lanes let more actors collect at once; they change
            the records (1 is the single bin of earlier runs).
        actors: actor processes that collect at once, each owning the lanes ``l`` with
            ``l % actors == k`` (1 <= actors <= lanes). It changes how fast a run collects,
            never what it records: a session may resume a run with another value
            (:data:`SESSION_KEYS`).
        env: the environment's config; ``mode`` must be "train" (the lower clamping force).
        phases: the selection schedule after the random attempts.
        trainer: the trainer process.
        evaluation: the learning curve and the final evaluation.
        inference_precision: "float32" or "bfloat16" for the actor's scoring.
        inference_backend: "torch" or "onnx" (the ``onnx`` extra) for the actor's scoring;
            named, never "auto", so that a run's records do not depend on what is installed
            (the two differ by about 1e-6 in the values, which can change a selection).
        log_every: TensorBoard charts every this many attempts.
        wait_for_model: timed schedule only: after the random attempts, wait at most this
            many seconds for the first model (random grasps stand in if it does not come).
        datasets: dataset files of earlier runs that every trainer round trains on together
            with this run's records, each record with its own split (paper Fig. 7; see
            :mod:`agents.learning.prior`); paths relative to the working directory.
        datasets_share: the earlier datasets' share of each round's records: the round
            trains on a draw of theirs, its own, as many as makes this share beside the
            run's records (0.5: as many as the run's); None: on all of them.
        failure_memory: each lane remembers its scene's failed grasps while the bin around
            them is unchanged, and the model's selections skip the grasps near them
            (:mod:`agents.fcn.failure_memory`); None: selections see the bare values.
        walls: no attempt (random, heuristic where it has a choice, or the model's) and no
            grasp of the curve's and final evaluation's agent has its open fingers leave
            this bin interior (:mod:`grasp_env.clearance`; ``walls: {}`` for the twin's
            bin). Such a grasp's label says nothing the network can see: the wall lies
            outside its window. None: all grasps.
        init_model: start from this checkpoint (a path, or a shipped model's name:
            "pretrained" or "general") instead of an untrained network: the actor acts on it
            from the first attempt and the trainer continues from its weights (paper Fig. 7:
            adding a small dataset of a new object type).
    """

    name: str = ""
    seed: int = 0
    schedule: str = "lockstep"
    target_attempts: int = 5000
    random_attempts: int = 1000
    heuristic_share: float = 0.0
    env_id: str = "SimBinGrasp-v0"
    objects: int = 20
    object_set: str = "cylinders"
    cell_config: str | None = None
    rebuild_every: int = 500
    lanes: int = 1
    actors: int = 1
    env: EnvConfig = EnvConfig(mode="train")
    phases: tuple[PhaseConfig, ...] = DEFAULT_PHASES
    trainer: TrainerConfig = TrainerConfig()
    evaluation: EvalConfig = EvalConfig()
    inference_precision: str = "float32"
    inference_backend: str = "torch"
    log_every: int = 10
    wait_for_model: float = 120.0
    init_model: str | None = None
    datasets: tuple[str, ...] = ()
    datasets_share: float | None = None
    failure_memory: FailureMemoryConfig | None = None
    walls: WallClearance | None = None

    def __post_init__(self) -> None:
        if self.env.mode != "train":
            raise ConfigError(f"env.mode: the loop learns in mode 'train', got {self.env.mode!r}")
        if self.target_attempts < 1 or self.random_attempts < 0 or self.rebuild_every < 1:
            raise ConfigError(
                "expected target_attempts >= 1, random_attempts >= 0, rebuild_every >= 1; got"
                f" {self.target_attempts}, {self.random_attempts}, {self.rebuild_every}"
            )
        if not 0.0 <= self.heuristic_share <= 1.0:
            raise ConfigError(
                f"heuristic_share: expected a share in [0, 1], got {self.heuristic_share}"
            )
        if self.datasets_share is not None and not 0.0 < self.datasets_share < 1.0:
            raise ConfigError(
                f"datasets_share: expected a share in (0, 1) or null, got {self.datasets_share}"
            )
        if not self.phases:
            raise ConfigError("phases: expected at least one phase")
        ends = [p.until for p in self.phases]
        bounded = [u for u in ends if u is not None]
        if None in ends[:-1] or bounded != sorted(bounded):
            raise ConfigError(
                f"phases: expected ascending 'until' with null (no end) only last, got {ends}"
            )
        if self.inference_backend not in ("torch", "onnx"):
            raise ConfigError(
                f"inference_backend: expected 'torch' or 'onnx', got {self.inference_backend!r}"
            )
        if self.log_every < 1 or self.wait_for_model < 0:
            raise ConfigError("expected log_every >= 1 and wait_for_model >= 0")
        read_object_set(self.object_set)
        self._check_schedule()
        self._check_lanes()

    def _check_lanes(self) -> None:
        if self.lanes < 1:
            raise ConfigError(f"lanes: expected >= 1 learning bins, got {self.lanes}")
        if not 1 <= self.actors <= self.lanes:
            raise ConfigError(f"actors: expected 1 <= K <= lanes ({self.lanes}), got {self.actors}")

    def _check_schedule(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule: expected one of {SCHEDULES}, got {self.schedule!r}")
        first_model = self.trainer.min_attempts + self.trainer.lag
        if (
            self.schedule == "lockstep"
            and not self.init_model
            and self.random_attempts < first_model
        ):
            raise ConfigError(
                "schedule lockstep: the first trained model acts from attempt"
                f" trainer.min_attempts + trainer.lag = {first_model}, so expected"
                f" random_attempts >= {first_model}, got {self.random_attempts}"
            )


def config_from_mapping(
    data: dict | None, name: str = "", where: str = "config", folder: Path | None = None
) -> LearnConfig:
    """A :class:`LearnConfig` from parsed YAML; ``name`` fills an empty ``name``.

    A relative YAML path in ``object_set`` is taken relative to ``folder`` when given (the
    config file's), else to the working directory.
    """
    data = dict(data or {})
    if folder is not None and isinstance(data.get("object_set"), str):
        data["object_set"] = anchored(data["object_set"], folder)
    config = from_dict(LearnConfig, data, where)
    if not config.name:
        config = replace(config, name=name or "learn")
    return config


def load_config(path: str | Path) -> LearnConfig:
    """Read the YAML at ``path``; unknown keys raise ConfigError naming them.

    A file may start from another one: ``base: learn.yaml`` (relative to the file) reads that
    file first and lays this file's keys over it, mapping by mapping; any other value, a list
    of phases included, replaces the base's whole. The run is named after ``path``'s stem. A
    relative ``object_set`` file is relative to ``path``'s folder.
    """
    path = Path(path)
    data = read_layered(path, "a learn config")
    return config_from_mapping(data, path.stem, str(path), folder=path.parent)


def config_to_dict(config: LearnConfig) -> dict:
    """The resolved config as plain data (YAML, JSON, HDF5 attribute)."""
    return to_dict(config)


def records_config(config: LearnConfig) -> dict:
    """The resolved config without its :data:`SESSION_KEYS`: what the records depend on."""
    return {k: v for k, v in config_to_dict(config).items() if k not in SESSION_KEYS}


__all__ = [
    "DEFAULT_PHASES",
    "SCHEDULES",
    "SESSION_KEYS",
    "EvalConfig",
    "LearnConfig",
    "PhaseConfig",
    "TrainerConfig",
    "config_from_mapping",
    "config_to_dict",
    "load_config",
    "records_config",
]
