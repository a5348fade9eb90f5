"""Gymnasium environments of a planar bin-picking cell: the PyBullet twin and the real cell.

Importing this package registers the environments by string entry point, so no simulator or
hardware library is imported until an environment is made.
"""

from __future__ import annotations

import math

from gymnasium.envs.registration import register

__version__ = "0.1.0"

#: The twins' registered ids and their arguments: the object set each one drops into its
#: grasp bin; the paper's IV-C tests change the bins: a ramp of 10 degrees over the floor, or
#: no walls (the parts lie on a plate, as on a table).
TWINS: dict[str, dict[str, object]] = {
    "SimBinGrasp-v0": {"object_set": "cylinders"},
    "SimBinGraspCubes-v0": {"object_set": "cubes"},
    "SimBinGraspNovel-v0": {"object_set": "novel"},
    "SimBinGraspTilted-v0": {"object_set": "cylinders", "bins": {"floor_tilt": math.radians(10.0)}},
    "SimBinGraspTable-v0": {"object_set": "cylinders", "bins": {"walls": False}},
}
ENV_IDS = tuple(TWINS)

for _env_id, _kwargs in TWINS.items():
    register(id=_env_id, entry_point="sim.sim_env:SimBinGraspEnv", kwargs=_kwargs)
# The real cell (needs the hardware, or sim.emulators on loopback); not in ENV_IDS. The
# factory reads its YAML cell config (cell_config=PATH) into a RealCellConfig.
register(id="RealBinGrasp-v0", entry_point="grasp_env.factory:make_real_env")
