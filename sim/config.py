"""The twin's whole configuration in one frozen dataclass.

:class:`TwinConfig` gathers the cell layout (shared with the real cell) and the twin's own
models: physics settings, gripper, arm, camera, bins, objects and the timing model. It can be
read from YAML with :func:`grasp_env.config.from_dict`, like every other config.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from grasp_env.config import CellLayout
from grasp_env.errors import ConfigError
from sim.bins import BinSpec
from sim.camera import CameraSpec
from sim.gripper import GripperSpec
from sim.objects import ObjectSpec, listed_objects
from sim.robot import RobotSpec
from sim.timing import MotionTiming
from sim.world import PhysicsSettings

#: The most objects a bin is filled with.
MAX_OBJECTS = 30


@dataclass(frozen=True)
class TwinConfig:
    """Everything the twin decides.

    Attributes:
        object_set: "cylinders", "cubes", "train", "novel", or your own objects: the path of
            a YAML file listing URDF files, or a packaged one by name ("pybullet"); see
            :mod:`sim.objects` and :mod:`grasp_env.object_sets`.
        objects: objects dropped into the grasp bin when the scene is rebuilt, 1 to 30.
        artefacts: False switches every stereo artefact of the camera off.
        layout: bins and photo height, shared with the real cell.
        aoi_margin: the camera renders the bin plus this margin around its walls, metres;
            it must cover the height image (default image: 0.11 m from the bin centre).
        render_size: columns and rows of :meth:`TwinCell.render` pictures.
        physics: solver settings and settle bounds.
        gripper: the WSG 50 model.
        robot: the arm and its motions.
        camera: the depth camera.
        bins: wall and floor thickness, friction.
        parts: object sizes, masses and the filling procedure.
        timing: the motion timing model behind the cell's clock.
    """

    object_set: str = "cylinders"
    objects: int = 20
    artefacts: bool = True
    layout: CellLayout = CellLayout()
    aoi_margin: float = 0.01
    render_size: tuple[int, int] = (480, 360)
    physics: PhysicsSettings = field(default_factory=PhysicsSettings)
    gripper: GripperSpec = field(default_factory=GripperSpec)
    robot: RobotSpec = field(default_factory=RobotSpec)
    camera: CameraSpec = field(default_factory=CameraSpec)
    bins: BinSpec = field(default_factory=BinSpec)
    parts: ObjectSpec = field(default_factory=ObjectSpec)
    timing: MotionTiming = field(default_factory=MotionTiming)

    def __post_init__(self) -> None:
        listed_objects(self.object_set)
        if not 1 <= self.objects <= MAX_OBJECTS:
            raise ConfigError(f"objects must be in [1, {MAX_OBJECTS}], got {self.objects}")

    @property
    def camera_spec(self) -> CameraSpec:
        """The camera as configured, with every artefact off when ``artefacts`` is False."""
        if self.artefacts:
            return self.camera
        return replace(self.camera, occlusion=False, steep=False, noise=False)
