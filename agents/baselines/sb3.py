"""Stable-Baselines3 PPO in the twin, and the agent that acts with the trained policy.

Two algorithms, both PPO with a :class:`~agents.baselines.networks.DepthCNN` policy on the
(2, H, W) image of :class:`grasp_env.rl_wrappers.ImageObservation`:

* ``"ppo_grid"``: on the FCN's grasp grid, ``MultiDiscrete(20, 40, 40, 3)``
  (:class:`grasp_env.wrappers.DiscreteGraspWrapper`): every action is a grasp the FCN could
  also choose, so the two compare on the same action set.
* ``"ppo_box"``: on the metric action normalised to ``[-1, 1]^4``
  (:class:`grasp_env.rl_wrappers.NormalizedAction`), what a user of a continuous-control
  library tries first. PPO rather than SAC: the same algorithm and hyperparameters as
  ``ppo_grid`` isolate the choice of action space, and SAC's gradient step after every
  attempt, on a CNN, would cost this CPU more than the twin's attempt itself.

:func:`train_sb3` learns in the twin in the training mode (``EnvConfig(mode="train")``: the
lower clamping force, bin swaps after failures, as :mod:`agents.learning` learns) for exactly
``attempts`` grasp attempts, the scenes rebuilt like the self-supervised loop's
(:class:`~agents.baselines.scenes.SceneSchedule`), and saves the SB3 zip with a JSON card of
the run beside it. SB3's ``seed=`` seeds torch, numpy and the action space, and the first
reset; on this CPU two runs with the same arguments give bit-identical weights
(tests/agents/baselines).

:class:`SB3Agent` is an :class:`agents.base.Agent` of a saved model: it encodes the
observation as the training wrapper did, predicts deterministically and maps the action back
to the metric (x, y, a, d). :func:`make_sb3_agent` is its factory for
:func:`agents.evaluation.evaluate_bins`, by import path :data:`SB3_AGENT`.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agents.base import DecidingAgent, Decision
from agents.baselines.networks import DepthCNN
from agents.baselines.scenes import SceneSchedule
from agents.fcn.observation import check_observation
from grasp_env.config import EnvConfig, to_dict
from grasp_env.env import metric_action_space
from grasp_env.errors import ConfigError
from grasp_env.extras import needs_extras
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid
from grasp_env.rl_wrappers import (
    ImageObservation,
    NormalizedAction,
    encode_image,
    image_space,
    to_metric,
)
from grasp_env.wrappers import DiscreteGraspWrapper

with needs_extras("the Stable-Baselines3 baselines"):
    import stable_baselines3
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

#: The algorithms and their action space: "grid" (MultiDiscrete) or "box" ([-1, 1]^4).
ALGOS = {"ppo_grid": "grid", "ppo_box": "box"}

#: The import path of :func:`make_sb3_agent`, for :class:`agents.evaluation.AgentSpec`.
SB3_AGENT = "agents.baselines.sb3:make_sb3_agent"


@dataclass(frozen=True)
class PPOConfig:
    """PPO's settings for one-step episodes and budgets of 500 to 5,000 attempts.

    A rollout of ``n_steps`` attempts is one policy update; 100 divides the round budgets
    (500, 1,000, 2,000, 5,000) so every attempt is learned from (see :func:`train_sb3`), and
    gives 5 to 50 updates. The discount does not matter: every episode ends after its one
    grasp (``terminated=True``), so the return of an attempt is its reward whatever gamma is;
    SB3's default stays. The learning rate, the entropy weight, the epochs, the clip range and
    GAE are SB3's defaults too.

    Attributes:
        n_steps: attempts per rollout (and per update).
        batch_size: samples per gradient step; ``n_steps`` should be a multiple of it.
        n_epochs: passes over each rollout.
        learning_rate: Adam's step size.
        ent_coef: weight of the entropy bonus.
        features_dim: units of the CNN's output layer.
        channels: output channels of the CNN's convolutions.
        net_arch: hidden units of the policy and value heads after the CNN.
        torch_threads: torch's threads while training. One: the twin runs in the same
            process, and on a busy 2-core machine two threads made the network six times
            slower (they wait on each other), while one thread trains about 1,500 images a
            second and predicts one in about 1 ms.
    """

    n_steps: int = 100
    batch_size: int = 50
    n_epochs: int = 10
    learning_rate: float = 3e-4
    ent_coef: float = 0.0
    features_dim: int = 128
    channels: tuple[int, ...] = (16, 32, 32)
    net_arch: tuple[int, ...] = (64, 64)
    torch_threads: int = 1

    def __post_init__(self) -> None:
        if self.n_steps < 2 or not 2 <= self.batch_size <= self.n_steps or self.n_epochs < 1:
            raise ConfigError(
                "expected n_steps >= 2, 2 <= batch_size <= n_steps and n_epochs >= 1, got"
                f" {self.n_steps}, {self.batch_size}, {self.n_epochs}"
            )
        if self.torch_threads < 1:
            raise ConfigError(f"expected torch_threads >= 1, got {self.torch_threads}")


@dataclass(frozen=True)
class TrainEnvSpec:
    """The twin a baseline learns in.

    Attributes:
        env_id: a twin's registered id.
        objects: objects dropped into the grasp bin on each rebuild.
        object_set: the twin's object set (None: the env id's own).
        config: the environment's config; ``mode`` must be "train".
        rebuild_every: the scene is rebuilt every this many attempts (as the loop's).
    """

    env_id: str = "SimBinGrasp-v0"
    objects: int = 20
    object_set: str | None = None
    config: EnvConfig = field(default_factory=lambda: EnvConfig(mode="train"))
    rebuild_every: int = 500

    def __post_init__(self) -> None:
        if self.config.mode != "train":
            raise ConfigError(f"a baseline learns in mode 'train', got {self.config.mode!r}")
        if self.objects < 1 or self.rebuild_every < 1:
            raise ConfigError(
                f"expected objects >= 1 and rebuild_every >= 1, got {self.objects},"
                f" {self.rebuild_every}"
            )


def check_algo(algo: str) -> str:
    """``algo``'s action space ("grid" or "box"); ConfigError for an unknown one."""
    if algo not in ALGOS:
        raise ConfigError(f"expected an algorithm in {sorted(ALGOS)}, got {algo!r}")
    return ALGOS[algo]


def wrap_for(algo: str, env: gym.Env) -> gym.Env:
    """``env`` with the observation and action wrappers of ``algo``."""
    image = ImageObservation(env)
    if check_algo(algo) == "grid":
        return DiscreteGraspWrapper(image)
    return NormalizedAction(image)


def make_train_env(algo: str, spec: TrainEnvSpec, seed: int) -> gym.Env:
    """The training environment of ``algo``: the twin, its scene schedule and the wrappers."""
    from grasp_env.factory import make_env

    env = make_env(spec.env_id, spec.config, spec.objects, spec.object_set)
    return wrap_for(algo, SceneSchedule(env, seed, spec.rebuild_every))


class AttemptBudget(BaseCallback):
    """Stop collecting after exactly ``attempts`` env steps.

    SB3 collects whole rollouts, so it would overshoot a budget that ``n_steps`` does not
    divide; this stops in the middle of the last rollout instead (which is then not learned
    from), and lets a rollout that ends exactly on the budget be learned from.
    """

    def __init__(self, attempts: int) -> None:
        super().__init__()
        self.attempts = attempts

    def _on_step(self) -> bool:
        buffer = self.model.rollout_buffer
        return self.num_timesteps < self.attempts or buffer.pos + 1 == buffer.buffer_size


def model_path(out_dir: Path, algo: str, attempts: int, seed: int) -> Path:
    """Where :func:`train_sb3` saves the model of (algo, attempts, seed)."""
    return Path(out_dir) / f"sb3_{algo}_{attempts}_seed{seed}.zip"


def train_sb3(
    algo: str,
    *,
    attempts: int,
    seed: int,
    out_dir: Path,
    env_spec: TrainEnvSpec | None = None,
    ppo: PPOConfig | None = None,
) -> Path:
    """Train ``algo`` in the twin for exactly ``attempts`` grasp attempts; the saved zip.

    Beside the zip, a JSON card of the same name holds the arguments, the attempts learned
    from (all of them when ``ppo.n_steps`` divides ``attempts``, else all but the last
    ``attempts % n_steps``), the wall time and the library versions.

    Raises:
        ConfigError: an unknown ``algo``, ``attempts`` < 1 or a negative ``seed``.
        FileExistsError: the model of (algo, attempts, seed) is already in ``out_dir``
            (runs are never overwritten).
    """
    check_algo(algo)
    if attempts < 1 or seed < 0:
        raise ConfigError(f"expected attempts >= 1 and seed >= 0, got {attempts} and {seed}")
    spec, ppo = env_spec or TrainEnvSpec(), ppo or PPOConfig()
    path = model_path(out_dir, algo, attempts, seed)
    if path.exists():
        raise FileExistsError(f"expected no model at {path} (runs are never overwritten)")
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    train_env = make_train_env(algo, spec, seed)
    try:
        with _torch_threads(ppo.torch_threads):
            model = _ppo(train_env, ppo, seed)
            model.learn(total_timesteps=attempts, callback=AttemptBudget(attempts))
        model.save(path)
    finally:
        train_env.close()
    card = _card(algo, attempts, seed, spec, ppo, time.perf_counter() - start)
    path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return path


@contextlib.contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, restoring the count after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _ppo(env: gym.Env, ppo: PPOConfig, seed: int) -> Any:
    """The untrained PPO of ``ppo`` on ``env``, on the CPU, seeded."""
    return PPO(
        "CnnPolicy",
        env,
        n_steps=ppo.n_steps,
        batch_size=ppo.batch_size,
        n_epochs=ppo.n_epochs,
        learning_rate=ppo.learning_rate,
        ent_coef=ppo.ent_coef,
        policy_kwargs={
            "features_extractor_class": DepthCNN,
            "features_extractor_kwargs": {
                "features_dim": ppo.features_dim,
                "channels": ppo.channels,
            },
            "net_arch": list(ppo.net_arch),
        },
        seed=seed,
        device="cpu",
        verbose=0,
    )


def _card(
    algo: str, attempts: int, seed: int, env: TrainEnvSpec, ppo: PPOConfig, seconds: float
) -> dict[str, Any]:
    """The facts of a training run, as plain data."""
    return {
        "algo": algo,
        "attempts": attempts,
        "learned_from": attempts - attempts % ppo.n_steps,
        "seed": seed,
        "env": to_dict(env),
        "ppo": asdict(ppo),
        "seconds": round(seconds, 3),
        "stable_baselines3": stable_baselines3.__version__,
        "torch": torch.__version__,
    }


class SB3Agent(DecidingAgent):
    """Acts with a trained SB3 policy: encode, predict deterministically, map to metric.

    Args:
        model: the SB3 model (its spaces must be those of ``algo`` on ``grid``).
        algo: a name of :data:`ALGOS`.
        grid: the env's grasp grid: the image geometry, the grid of ``ppo_grid``, and the
            metric bounds of ``ppo_box``.
        rng: kept for the protocol; a deterministic policy draws nothing.

    Attributes:
        last_decision: the :class:`Decision` of the last :meth:`act`, or None.
    """

    def __init__(self, model: Any, algo: str, grid: GraspGrid, rng: np.random.Generator) -> None:
        self.kind = check_algo(algo)
        self.algo = algo
        self.model = model
        self.grid = grid
        self.rng = rng
        self.metric_space = metric_action_space(grid)
        self.last_decision: Decision | None = None
        _check_spaces(model, self.kind, grid)

    def decide(self, observation: Mapping[str, np.ndarray] | HeightImage) -> Decision:
        """The grasp the policy predicts for ``observation``."""
        start = time.perf_counter()
        image = check_observation(observation, self.grid.image)
        encoded = encode_image(image.height, image.valid, self.grid.image.max_height)
        predicted, _ = self.model.predict(encoded, deterministic=True)
        index: tuple[int, int, int, int] | None = None
        if self.kind == "grid":
            index = self.grid.validate_index(np.asarray(predicted, dtype=np.int64))
            action = self.grid.index_to_action(index)
        else:
            action = to_metric(predicted, self.metric_space)
        decision = Decision(action, index, f"sb3 {self.algo}", None, time.perf_counter() - start)
        self.last_decision = decision
        return decision


def _check_spaces(model: Any, kind: str, grid: GraspGrid) -> None:
    """Refuse a model whose spaces are not those of ``kind`` on ``grid``."""
    wanted_obs = image_space(grid.image.shape)
    if kind == "grid":
        wanted_act: gym.Space = gym.spaces.MultiDiscrete(np.array(grid.shape, dtype=np.int64))
    else:
        wanted_act = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    if model.observation_space != wanted_obs or model.action_space != wanted_act:
        raise ConfigError(
            f"expected a model with observation space {wanted_obs} and action space"
            f" {wanted_act}, got {model.observation_space} and {model.action_space}"
        )


def make_sb3_agent(grid: GraspGrid, rng: np.random.Generator, *, model: str, algo: str) -> SB3Agent:
    """The :class:`SB3Agent` of the saved ``model`` (a zip of :func:`train_sb3`) for ``grid``.

    Raises:
        ConfigError: an unknown ``algo``, no file at ``model``, or a model that does not fit.
    """
    check_algo(algo)
    if not Path(model).is_file():
        raise ConfigError(f"expected a saved SB3 model at {model!r}, found no file")
    return SB3Agent(PPO.load(model, device="cpu"), algo, grid, rng)


__all__ = [
    "ALGOS",
    "SB3_AGENT",
    "AttemptBudget",
    "PPOConfig",
    "SB3Agent",
    "TrainEnvSpec",
    "check_algo",
    "make_sb3_agent",
    "make_train_env",
    "model_path",
    "train_sb3",
    "wrap_for",
]
