"""Check a core-only install of grasp-toolkit (``pip install .``, no extras).

Run by .ci/run with the core venv's python, from a folder outside the repository, so that
every import comes from site-packages:

    python .ci/core_check.py REPO

It checks that the core pulled no heavy dependency; that the distribution holds every package
folder of the tree, the shipped configs and model, and no top-level ``scripts`` or
``configs``; that ``import grasp_env`` works and ``gymnasium.make("RealBinGrasp-v0", ...)``
builds the real-cell environment and grasps once against the loopback emulators (whose
kinematic backends are below); and that a twin id and the ``grasp`` command say which extra to
install. Prints what it measured; exits non-zero at the first failed check.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

import grasp_env
from grasp_env.cell import ApproachResult, GripperState
from grasp_env.errors import DependencyNotInstalled
from grasp_env.extras import OPTIONAL_MODULES
from grasp_env.geometry import Pose

#: Repository folders and the package names they install as.
INSTALLED_AS = {
    "grasp_env": "grasp_env",
    "sim": "sim",
    "agents": "agents",
    "scripts": "grasp_toolkit/scripts",
    "configs": "grasp_toolkit/configs",
}


def check(condition: bool, what: str) -> None:
    """Fail the job with ``what`` unless ``condition``."""
    if not condition:
        sys.exit(f"core check FAILED: {what}")
    print(f"ok: {what}")


def check_distribution(repo: Path) -> None:
    """The installed files: every package folder, the configs and the model; no stray names."""
    files = {str(f) for f in importlib.metadata.files("grasp-toolkit") or ()}
    for folder, installed in INSTALLED_AS.items():
        for init in sorted((repo / folder).rglob("__init__.py")):
            relative = init.relative_to(repo / folder).as_posix()
            check(f"{installed}/{relative}" in files, f"{installed}/{relative} is installed")
    for yaml_file in sorted((repo / "configs").glob("*.yaml")):
        name = f"grasp_toolkit/configs/{yaml_file.name}"
        check(name in files, f"{name} is installed")
    check("agents/pretrained/fcn_cylinders.pt" in files, "the shipped model is installed")
    tops = {f.split("/")[0] for f in files if not f.startswith("..")}  # ../bin/grasp
    check(not tops & {"scripts", "configs"}, f"no top-level scripts/configs (top: {sorted(tops)})")
    for name in ("scripts", "configs"):
        check(importlib.util.find_spec(name) is None, f"'import {name}' finds nothing")


class Arm:
    """A kinematic arm that goes where it is told (no contact), as tests/hardware's fake."""

    def __init__(self, start: Pose) -> None:
        self.current = start

    def pose(self) -> Pose:
        """Where the TCP is."""
        return self.current

    def move_ptp(self, target: Pose) -> None:
        """Jump to ``target``."""
        self.current = target

    def move_linear(self, target: Pose) -> None:
        """Jump to ``target``."""
        self.current = target

    def approach(self, target: Pose, contact_force: float) -> ApproachResult:
        """Reach ``target`` without a contact."""
        self.current = target
        return ApproachResult(contact=False, pose=target)


class Gripper:
    """Kinematic fingers that close on a 30 mm part."""

    def __init__(self) -> None:
        self.width, self.holding = 0.11, False

    def move(self, width: float) -> None:
        """Open or close to ``width``."""
        self.width = width

    def grasp(self, force: float) -> GripperState:
        """Close on the part."""
        self.width, self.holding = 0.03, True
        return self.state()

    def release(self, width: float) -> None:
        """Let go, opening to ``width``."""
        self.width, self.holding = width, False

    def state(self) -> GripperState:
        """The opening and whether a part is held."""
        return GripperState(width=self.width, holding=self.holding)


def check_real_env() -> None:
    """RealBinGrasp-v0 made by id from the packaged emulated-cell config; one grasp."""
    from sim.emulators.harness import EmulatedDevices, tool_pose
    from sim.emulators.synthetic_scene import Box, FloorAndBoxes

    scene = FloorAndBoxes([Box((0.55, 0.17), 0.03, 0.05)])
    arm, gripper = Arm(Pose.tool_down(0.55, 0.0, 0.4, 0.0)), Gripper()
    tool = tool_pose((0.0, 0.0, 0.2, 0.0, 0.0, 0.0))
    hand_eye = Pose(np.array([0.06, 0.0, 0.05]), np.eye(3))
    with EmulatedDevices.start(gripper, arm, scene, tool, hand_eye, shape=(200, 260)) as dev:
        env = gym.make("RealBinGrasp-v0", cell_config=dev.config(), nxlib=dev.nxlib)
        try:
            obs, _ = env.reset(seed=0)
            check(obs["height"].shape == (110, 110), "RealBinGrasp-v0 resets (110 x 110 image)")
            action = np.array([0.0, 0.0, 0.0, 0.05], dtype=np.float32)
            _, reward, terminated, _, _ = env.step(action)
            check(reward == 1.0 and terminated, "RealBinGrasp-v0 grasps once on the emulators")
        finally:
            env.close()


def check_missing_extras() -> None:
    """A twin id and the grasp command name the extra they need."""
    try:
        gym.make("SimBinGrasp-v0")
    except DependencyNotInstalled as exc:
        check("pip install grasp-toolkit[sim]" in str(exc), f"a twin id says: {exc}")
    else:
        check(False, "SimBinGrasp-v0 without pybullet raises DependencyNotInstalled")
    grasp = shutil.which("grasp")
    check(grasp is not None, "the grasp command is installed")
    result = subprocess.run([grasp, "--help"], capture_output=True, text=True, check=False)
    check(
        result.returncode == 1
        and "pip install grasp-toolkit[" in result.stderr
        and "grasp-toolkit[all]" in result.stderr
        and "Traceback" not in result.stderr,
        f"grasp --help says: {result.stderr.strip()}",
    )


def main() -> None:
    """Run every check against the repository checkout named on the command line."""
    repo = Path(sys.argv[1]).resolve()
    for name in OPTIONAL_MODULES:  # every module an extra installs
        check(importlib.util.find_spec(name) is None, f"the core did not install {name}")
    check_distribution(repo)
    check(repo not in Path(grasp_env.__file__).resolve().parents, "grasp_env from site-packages")
    timed = "import time; t = time.perf_counter(); import grasp_env; print(time.perf_counter() - t)"
    seconds = float(
        subprocess.run(
            [sys.executable, "-c", timed], capture_output=True, text=True, check=True
        ).stdout
    )
    print(
        f"import grasp_env: {1000 * seconds:.0f} ms in a fresh interpreter"
        f" (grasp-toolkit {grasp_env.__version__})"
    )
    check_real_env()
    check_missing_extras()
    print("core check passed")


if __name__ == "__main__":
    main()
