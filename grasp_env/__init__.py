"""Gymnasium environments of a planar bin-picking cell: the PyBullet twin and the real cell.

Importing this package registers the environments by string entry point, so no simulator or
hardware library is imported until an environment is made.
"""

from __future__ import annotations

from gymnasium.envs.registration import register

__version__ = "0.1.0"

ENV_IDS = ("SimBinGrasp-v0", "SimBinGraspCubes-v0", "SimBinGraspNovel-v0")

register(id="SimBinGrasp-v0", entry_point="sim.sim_env:SimBinGraspEnv")
register(
    id="SimBinGraspCubes-v0",
    entry_point="sim.sim_env:SimBinGraspEnv",
    kwargs={"object_set": "cubes"},
)
register(
    id="SimBinGraspNovel-v0",
    entry_point="sim.sim_env:SimBinGraspEnv",
    kwargs={"object_set": "novel"},
)
# The real cell (needs the hardware, or sim.emulators on loopback); not in ENV_IDS.
register(id="RealBinGrasp-v0", entry_point="grasp_env.real_env:RealBinGraspEnv")
