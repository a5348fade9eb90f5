"""Fixtures for the twin's tests: small cells with scripted scenes."""

from __future__ import annotations

import numpy as np
import pytest

from grasp_env.config import PrimitiveConfig
from grasp_env.geometry import Pose, rot_z
from grasp_env.primitive import GraspOutcome, execute_grasp
from sim.cell import TwinCell
from sim.config import TwinConfig

#: A cylinder lying on its side, its axis along x before any yaw.
LYING = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])


class Scene:
    """A twin cell with helpers that script what lies in bin 0 and grasp from it."""

    primitive = PrimitiveConfig()

    def __init__(self, cell: TwinCell) -> None:
        self.cell = cell
        self.grasp_bin = cell.layout.bins[0].pose
        self.filing_bin = cell.layout.bins[1].pose

    def place(self, x: float, y: float, z: float, rotation: np.ndarray) -> str:
        """An object of the cell's set at (x, y, z) in bin 0, settled."""
        name = self.cell.add_object(self.grasp_bin @ Pose(np.array([x, y, z]), rotation))
        self.cell.prepare(None, 0)
        return name

    def upright(self, x: float, y: float) -> str:
        """An upright cylinder standing in bin 0 at (x, y)."""
        return self.place(x, y, 0.030, np.eye(3))

    def lying(self, x: float, y: float, yaw: float) -> str:
        """A cylinder lying in bin 0 at (x, y), its axis at ``yaw``."""
        return self.place(x, y, 0.0075, rot_z(yaw) @ LYING)

    def grasp(self, x: float, y: float, a: float, d: float, z: float, force: float = 10.0):
        """Run the primitive on bin 0 and file into bin 1."""
        action = (x, y, a, d)
        outcome: GraspOutcome = execute_grasp(
            self.cell, self.grasp_bin, self.filing_bin, action, z, force, self.primitive
        )
        return outcome

    def in_bin(self, pose: Pose) -> Pose:
        """A base-frame pose in bin 0's frame."""
        return self.grasp_bin.inverse() @ pose


@pytest.fixture
def scene():
    """A cylinder cell with the camera's artefacts off and nothing in the bins yet."""
    cell = TwinCell(TwinConfig(objects=1, artefacts=False))
    yield Scene(cell)
    cell.close()


@pytest.fixture
def cube_scene():
    """A cube cell with the camera's artefacts off and nothing in the bins yet."""
    cell = TwinCell(TwinConfig(object_set="cubes", objects=1, artefacts=False))
    yield Scene(cell)
    cell.close()
