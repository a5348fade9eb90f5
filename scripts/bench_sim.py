"""``grasp bench sim``: the twin's speed, its random grasp rate, the heuristic, and a soak.

Figures:
    * random_grasp_rate: uniformly random grasps over the discrete grid (paper III-D a) in a
      bin of ``--objects`` objects; the bin is rebuilt after every success so that every
      attempt faces a full bin (the paper measured about 3 %).
    * attempts_per_s: grasp attempts per second of wall time in that loop, camera on, one
      process (so one core); also the median and slowest attempt in milliseconds.
    * heuristic: the geometric heuristic's ``--n`` out of ``--objects`` grasp rate.
    * soak: ``--soak`` attempts without rebuilding, every tenth by the heuristic (so parts
      get filed and the bins swap) and the rest uniformly random: non-finite
      observations, objects that left the bins, the slowest attempt in wall time and in
      simulated seconds.
    * carry check (``--carry-check K``): the heuristic's first grasp in K fresh scenes, once
      with the physical carry to the filing bin and once with the kinematic one
      (:class:`sim.robot.RobotSpec`): how often the rewards agree, both grasp rates, and the
      median wall time of a successful and of a failed attempt in each mode.
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from agents.evaluation import evaluate
from agents.policies.heuristic import HeuristicAgent
from grasp_env import factory
from grasp_env.config import EnvConfig
from grasp_env.wrappers import DiscreteGraspWrapper

NO_SWAP = EnvConfig(swap_after_failures=None)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp bench sim``."""
    p = subparsers.add_parser("sim", help="twin speed, random grasp rate, heuristic, soak")
    p.add_argument("--attempts", type=int, default=2000, help="random grasps to measure")
    p.add_argument("--objects", type=int, default=20, help="objects in the grasp bin")
    p.add_argument("--object-set", default="cylinders", help="cylinders, cubes, train, novel")
    p.add_argument("--n", type=int, default=10, help="heuristic picks per run (n of objects)")
    p.add_argument("--runs", type=int, default=10, help="heuristic runs (0 to skip)")
    p.add_argument("--soak", type=int, default=0, help="soak attempts (0 to skip)")
    p.add_argument(
        "--carry-check", type=int, default=0, help="scenes grasped with both carries (0: skip)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def make_env(objects: int, object_set: str) -> gym.Env:
    """The twin with ``objects`` objects of ``object_set``, unwrapped of Gymnasium's checks."""
    return factory.make_env("SimBinGrasp-v0", NO_SWAP, objects, object_set).unwrapped


def random_rate(env: gym.Env, attempts: int, seed: int, quiet: bool) -> dict:
    """Uniformly random grid grasps, each on a full bin; rate and wall-time speed."""
    rng = np.random.default_rng(seed)
    grid_env = DiscreteGraspWrapper(env)
    grid_shape = np.array(grid_env.grid.shape)
    env.reset(seed=seed)
    durations, successes, rebuilds = [], 0, 0
    start = time.perf_counter()
    for _ in tqdm(range(attempts), desc="random grasps", disable=quiet):
        t = time.perf_counter()
        _, reward, _, _, _ = grid_env.step(rng.integers(0, grid_shape))
        if reward > 0:
            successes += 1
            rebuilds += 1
            env.reset(seed=seed + rebuilds)
        durations.append(time.perf_counter() - t)
    wall = time.perf_counter() - start
    rate = successes / attempts
    return {
        "random_grasp_rate": rate,
        "random_grasp_rate_stderr": float(np.sqrt(rate * (1 - rate) / attempts)),
        "random_attempts": attempts,
        "attempts_per_s": attempts / wall,
        "attempt_ms_median": float(np.median(durations) * 1e3),
        "attempt_ms_max": float(np.max(durations) * 1e3),
    }


def soak(env: gym.Env, attempts: int, seed: int, quiet: bool) -> dict:
    """A long run without rebuilds: look for NaN, lost objects and runaway steps."""
    rng = np.random.default_rng(seed)
    agent = HeuristicAgent(env.config.image, rng)
    obs, _ = env.reset(seed=seed)
    non_finite, lost, slowest, slowest_sim, successes = 0, 0, 0.0, 0.0, 0
    for k in tqdm(range(attempts), desc="soak", disable=quiet):
        action = agent.act(obs) if k % 10 == 0 else env.action_space.sample()
        t = time.perf_counter()
        obs, reward, _, _, info = env.step(action)
        slowest = max(slowest, time.perf_counter() - t)
        slowest_sim = max(slowest_sim, info["cycle_time"])
        agent.observe(reward)
        successes += int(reward > 0)
        non_finite += int(not np.isfinite(obs["height"]).all())
        lost += int(info.get("objects_lost", 0))
    return {
        "soak_attempts": attempts,
        "soak_successes": successes,
        "soak_non_finite_observations": non_finite,
        "soak_objects_lost_and_handled": lost,
        "soak_slowest_step_ms": slowest * 1e3,
        "soak_slowest_cycle_s": slowest_sim,
    }


def carry_check(scenes: int, objects: int, object_set: str, seed: int, quiet: bool) -> dict:
    """The same first grasps with the physical and the kinematic carry: agreement and cost."""
    from sim.config import TwinConfig
    from sim.robot import CARRY_MODES, RobotSpec
    from sim.sim_env import SimBinGraspEnv

    envs = {
        mode: SimBinGraspEnv(object_set, objects, config=NO_SWAP,
                             twin=TwinConfig(robot=RobotSpec(carry=mode)))
        for mode in CARRY_MODES
    }  # fmt: skip
    rewards: dict[str, list[float]] = {mode: [] for mode in CARRY_MODES}
    wall: dict[tuple[str, bool], list[float]] = {}
    for k in tqdm(range(scenes), desc="carry check", disable=quiet):
        for mode, env in envs.items():
            obs, _ = env.reset(seed=seed + k)
            agent = HeuristicAgent(env.config.image, np.random.default_rng(seed + k))
            t = time.perf_counter()
            _, reward, _, _, _ = env.step(agent.act(obs))
            wall.setdefault((mode, reward > 0), []).append(time.perf_counter() - t)
            rewards[mode].append(float(reward))
    for env in envs.values():
        env.close()
    a, b = (np.array(rewards[m]) for m in CARRY_MODES)
    out: dict = {"carry_scenes": scenes, "carry_agreement": float(np.mean(a == b))}
    for mode in CARRY_MODES:
        out[f"carry_{mode}_grasp_rate"] = float(np.mean(rewards[mode]))
        for success, label in ((True, "success"), (False, "failure")):
            times = wall.get((mode, success), [])
            out[f"carry_{mode}_{label}_ms_median"] = (
                float(np.median(times) * 1e3) if times else None
            )
    return out


def run(args: argparse.Namespace) -> int:
    """Measure and print."""
    quiet = args.json
    env = make_env(args.objects, args.object_set)
    env.action_space.seed(args.seed)
    figures: dict = {"objects": args.objects, "object_set": args.object_set}
    figures.update(random_rate(env, args.attempts, args.seed, quiet))
    if args.runs > 0:
        agent = HeuristicAgent(env.config.image, np.random.default_rng(args.seed))
        result = evaluate(env, agent, n=args.n, m=args.objects, runs=args.runs, seed=args.seed)
        figures.update(
            heuristic_grasp_rate=result.grasp_rate,
            heuristic_stderr=result.stderr,
            heuristic_pph=result.pph,
            heuristic_protocol=f"{args.n} out of {args.objects}, {args.runs} runs",
        )
    if args.soak > 0:
        figures.update(soak(env, args.soak, args.seed, quiet))
    if args.carry_check > 0:
        figures.update(
            carry_check(args.carry_check, args.objects, args.object_set, args.seed, quiet)
        )
    env.close()
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:32s} {value:.4g}" if isinstance(value, float) else f"{key:32s} {value}")
    return 0
