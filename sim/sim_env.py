"""SimBinGrasp: the bin-grasping environment on the PyBullet twin of the cell."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from grasp_env.config import EnvConfig, from_dict, to_dict
from grasp_env.env import BinGraspEnv
from grasp_env.extras import needs_extras

# The twin ids' entry point: without pybullet, gymnasium.make names the extra to install.
with needs_extras("the PyBullet twin"):
    from sim.bins import BinSpec
    from sim.cell import TwinCell
    from sim.config import TwinConfig


class SimBinGraspEnv(BinGraspEnv):
    """The bin-picking cell of Berscheid et al. (ICRA 2019) as a PyBullet twin.

    ## Description

    A KUKA LBR iiwa 7 R800 with a Weiss WSG 50 gripper and a flange-mounted, Ensenso
    N10-like depth camera picks parts from one of two storage bins and files them into the
    other, one single-shot planar grasp per episode (paper section III-A). The twin is a
    :class:`sim.cell.TwinCell` behind the same :class:`grasp_env.env.BinGraspEnv` contract
    as the real cell: the environment code cannot tell them apart. Default parts are the
    paper's wooden cylinders (15 mm x 60 mm, about 7 g), 20 of them dropped at random into
    bin 0.

    ## Action Space

    As :class:`grasp_env.env.BinGraspEnv` (its table): ``Box(4,) float32``, the metric grasp
    (x, y, a, d) in the grasp bin's frame, validated and never clipped.
    :class:`grasp_env.wrappers.DiscreteGraspWrapper` offers the FCN's grid.

    ## Observation Space

    As :class:`grasp_env.env.BinGraspEnv` (its table): the ``height`` and ``valid`` images
    of the grasp bin, here rendered from the twin's point cloud by
    :meth:`grasp_env.geometry.ImageGeometry.render`. With ``artefacts=True``, depth
    is missing where the camera's second view is occluded and on steep surfaces, and depth
    noise grows with the square of the distance (about 0.3 mm at the bin floor).

    ## Rewards

    As :class:`grasp_env.env.BinGraspEnv`, from the twin's WSG 50 fingers above the filing
    bin. Uniformly random grasps on the discrete grid succeed about 4 % of the time with 20
    cylinders (the paper measured about 3 % on the real cell).

    ## Starting State

    ``reset(seed=s)`` rebuilds the scene from ``s``: the simulation is reset and reloaded and
    ``objects`` parts of ``object_set`` are dropped into bin 0 from just above it, so the same
    seed gives a bit-identical bin. ``reset()`` without a seed keeps the bins as they are.

    ## Episode End

    As :class:`grasp_env.env.BinGraspEnv`: every grasp terminates its episode.

    ## Info

    As :class:`grasp_env.env.BinGraspEnv`, plus the twin's report: ``grasped_object`` (the
    name of the part that reached the filing bin, e.g. ``"cylinder_07"``),
    ``objects_lost`` and ``objects_diverged`` (parts that left both bins or went unstable in
    this attempt, removed from the scene), ``objects_filed`` and ``objects_in_bins``.
    ``cycle_time`` is simulated seconds from the twin's motion timing model (about 8-9 s an
    attempt, see :mod:`sim.timing`).

    ## Arguments

    | name | default | meaning |
    |------|---------|---------|
    | object_set | "cylinders" | "cylinders", "cubes", "train" or "novel" (held-out shapes), |
    |  |  | or your own: a YAML file listing URDF files (:mod:`grasp_env.object_sets`; |
    |  |  | checked when the env is built), or a packaged one by name ("pybullet") |
    | objects | 20 | parts dropped into the grasp bin on a rebuild, 1 to 30 |
    | artefacts | True | stereo artefacts (occlusion, steep surfaces, noise) on or off |
    | render_mode | None | None or "rgb_array" (a picture of the cell) |
    | config | EnvConfig() | :class:`grasp_env.config.EnvConfig`: grid, primitive, mode |
    | twin | TwinConfig() | :class:`sim.config.TwinConfig`: physics, models, timing; its |
    |  |  | object_set, objects and artefacts are replaced by the arguments above |
    | bins | None | fields of :class:`sim.bins.BinSpec` over the twin's: ``floor_tilt`` (a |
    |  |  | ramp over the floor, radians; ``SimBinGraspTilted-v0`` has 10 degrees) or |
    |  |  | ``walls`` (False: a plate without walls, ``SimBinGraspTable-v0``) |

    ## Version History

    * v0: first version.
    """

    def __init__(
        self,
        object_set: str = "cylinders",
        objects: int = 20,
        artefacts: bool = True,
        render_mode: str | None = None,
        config: EnvConfig | None = None,
        twin: TwinConfig | None = None,
        bins: Mapping[str, Any] | None = None,
    ) -> None:
        base = twin if twin is not None else TwinConfig()
        if bins:
            base = replace(base, bins=from_dict(BinSpec, {**to_dict(base.bins), **bins}, "bins"))
        self.twin_config = replace(
            base, object_set=object_set, objects=objects, artefacts=artefacts
        )
        super().__init__(
            TwinCell(self.twin_config),
            config=config,
            render_mode=render_mode,
        )
