"""The single-shot planar grasp (paper III-A), written once against the cell interfaces.

1. Open the gripper to d.
2. Move above the grasp pose, then approach it along the fingers; on contact, retract a few
   millimetres and go on.
3. Close with force f.
4. Lift, carry to the filing bin; the reward is 1 when the gripper still holds a part there.
5. Let go of the part above the filing bin.

z is read from the height image at (x, y), as in the paper, minus a grasp depth so that the
fingers reach around the top of what lies there.
"""

from __future__ import annotations

from dataclasses import dataclass

from grasp_env.cell import Cell
from grasp_env.config import PrimitiveConfig
from grasp_env.geometry import HeightImage, ImageGeometry, Pose


@dataclass(frozen=True)
class GraspOutcome:
    """What one attempt did, in the grasp bin's (task) frame.

    Attributes:
        reward: 1.0 when the gripper held a part above the filing bin, else 0.0.
        z: the aimed fingertip height above the bin floor, metres.
        reached_z: where the approach ended, metres above the bin floor.
        contact: True when contact ended the approach early.
        width: the finger opening reported above the filing bin, metres.
    """

    reward: float
    z: float
    reached_z: float
    contact: bool
    width: float


def grasp_z(
    image: HeightImage, geometry: ImageGeometry, x: float, y: float, config: PrimitiveConfig
) -> float:
    """The fingertip height the primitive aims at for a grasp at (x, y)."""
    surface = geometry.height_at(image, x, y)
    return max(surface - config.grasp_depth, config.floor_clearance)


def execute_grasp(
    cell: Cell,
    grasp_bin: Pose,
    filing_bin: Pose,
    action: tuple[float, float, float, float],
    z: float,
    force: float,
    config: PrimitiveConfig,
) -> GraspOutcome:
    """Run one grasp attempt on ``cell`` and file what it picks.

    Args:
        cell: the cell to act on.
        grasp_bin: the grasp bin's frame in the base frame (the task frame).
        filing_bin: the filing bin's frame in the base frame.
        action: (x, y, a, d) in the task frame: metres, radians, metres.
        z: the fingertip height to aim at (see :func:`grasp_z`).
        force: clamping force, N.
        config: the primitive's distances and forces.
    """
    x, y, a, d = (float(v) for v in action)
    robot, gripper = cell.robot, cell.gripper
    start = z + config.approach_height
    gripper.move(d)
    robot.move_ptp(grasp_bin @ Pose.tool_down(x, y, start, a))
    approach = robot.approach(grasp_bin @ Pose.tool_down(x, y, z, a), config.contact_force)
    reached_z = float((grasp_bin.inverse() @ approach.pose).position[2])
    if approach.contact:
        robot.move_linear(grasp_bin @ Pose.tool_down(x, y, reached_z + config.retract, a))
    gripper.grasp(force)
    robot.move_linear(grasp_bin @ Pose.tool_down(x, y, config.lift_height, a))
    robot.move_ptp(filing_bin @ Pose.tool_down(0.0, 0.0, config.drop_height, a))
    held = gripper.state()
    gripper.release(config.release_width)
    return GraspOutcome(
        reward=1.0 if held.holding else 0.0,
        z=z,
        reached_z=reached_z,
        contact=approach.contact,
        width=held.width,
    )
