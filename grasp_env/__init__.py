"""Gymnasium environments of a planar bin-picking cell: the PyBullet twin and the real cell.

Importing this package registers the environments by string entry point, so no simulator or
hardware library is imported until an environment is made.
"""

from __future__ import annotations

from gymnasium.envs.registration import register

__version__ = "0.1.0"

#: The twins' registered ids and the object set each one drops into its grasp bin.
TWIN_OBJECT_SETS = {
    "SimBinGrasp-v0": "cylinders",
    "SimBinGraspCubes-v0": "cubes",
    "SimBinGraspNovel-v0": "novel",
}
ENV_IDS = tuple(TWIN_OBJECT_SETS)

for _env_id, _object_set in TWIN_OBJECT_SETS.items():
    register(
        id=_env_id, entry_point="sim.sim_env:SimBinGraspEnv", kwargs={"object_set": _object_set}
    )
# The real cell (needs the hardware, or sim.emulators on loopback); not in ENV_IDS. The
# factory reads its YAML cell config (cell_config=PATH) into a RealCellConfig.
register(id="RealBinGrasp-v0", entry_point="grasp_env.factory:make_real_env")
