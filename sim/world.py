"""The simulator facade: one pybullet client, bodies addressed by name, bounded stepping.

Everything in the twin talks to pybullet through a :class:`World`. It owns a private
``BulletClient`` in DIRECT mode (never the global client), applies deterministic settings
(``deterministicOverlappingPairs=1``, fixed timestep and solver iterations), and offers the few
queries the cell needs: poses by name, bounded settle loops that count physics steps, contact
forces, and a swept collision test that lets free-space motions be teleported safely.

A scene is rebuilt with :meth:`World.reset` (``resetSimulation`` and reload), which is what
makes rebuilds bit-identical; there is no save/restore, so sleeping bodies are allowed and are
used to keep resting objects cheap.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pybullet
from pybullet_utils.bullet_client import BulletClient

from grasp_env.geometry import Pose
from sim.transforms import from_bullet, to_bullet


@dataclass(frozen=True)
class PhysicsSettings:
    """Solver settings and the bounds of every settle loop.

    Attributes:
        timestep: physics step, s. 1/240 s keeps the 15 mm cylinders from tunnelling at the
            speeds of a drop from the spawn height.
        solver_iterations: constraint solver iterations per step for everything but
            grasping. Fewer leave contact forces unconverged, so guarded approaches push
            into the pile before they stop: with 20 and 30 iterations random grasps succeeded
            12 % and 7 % of the time, with 50 and 80 both 4 %.
        contact_erp: contact error reduction (penetration recovery per step) outside grasps.
        grasp_solver_iterations: solver iterations while the fingers squeeze or carry a part
            (bullet3's grasping advice: more iterations for stable grasps; a 7 g cylinder
            squeezed with 10-40 N needs about 100 at 240 Hz, or the fingers creep through it).
        grasp_contact_erp: contact error reduction while grasping.
        gravity: m/s^2, along -z of the base frame.
        settle_steps: the most steps a settle loop may take.
        settle_speed: bodies slower than this (m/s) count as resting.
        settle_spin: bodies turning slower than this (rad/s) count as resting.
        settle_check_every: steps between two resting checks.
        diverged_speed: a body faster than this (m/s) or with a non-finite pose has diverged.
    """

    timestep: float = 1.0 / 240.0
    solver_iterations: int = 50
    contact_erp: float = 0.2
    grasp_solver_iterations: int = 100
    grasp_contact_erp: float = 0.8
    gravity: float = 9.81
    settle_steps: int = 480
    settle_speed: float = 0.02
    settle_spin: float = 1.0
    settle_check_every: int = 4
    diverged_speed: float = 20.0


@contextmanager
def c_stdout_to_stderr() -> Iterator[None]:
    """Send what C code prints to file descriptor 1 inside the block to descriptor 2.

    pybullet prints ``argv[0]=`` to the process's stdout when it connects. A command's stdout
    must hold only what the command prints (``--json``: one JSON object), so that chatter
    goes to stderr. C's own buffer is flushed before the descriptor is restored.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


class World:
    """One pybullet simulation with named bodies.

    Args:
        settings: solver settings and settle bounds.
    """

    def __init__(self, settings: PhysicsSettings | None = None) -> None:
        self.settings = settings if settings is not None else PhysicsSettings()
        with c_stdout_to_stderr():
            self._client: BulletClient | None = BulletClient(connection_mode=pybullet.DIRECT)
        self._bodies: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._ghosts: set[int] = set()
        self._movable: dict[str, int] = {}
        self._hidden: dict[int, list[tuple[int, list[float]]]] = {}
        self.steps = 0
        self.reset()

    @property
    def client(self) -> BulletClient:
        """The pybullet client; only ``sim`` modules use it directly."""
        if self._client is None:
            raise RuntimeError("the simulation is closed")
        return self._client

    def reset(self) -> None:
        """Empty the simulation and apply the deterministic settings again."""
        c = self.client
        c.resetSimulation()
        c.setPhysicsEngineParameter(
            fixedTimeStep=self.settings.timestep, deterministicOverlappingPairs=1
        )
        self._solver(grasping=False)
        c.setGravity(0.0, 0.0, -self.settings.gravity)
        self._bodies.clear()
        self._names.clear()
        self._ghosts.clear()
        self._movable.clear()
        self._hidden.clear()

    @contextmanager
    def grasping(self) -> Iterator[None]:
        """Use the grasp solver settings for the steps taken inside the ``with`` block."""
        self._solver(grasping=True)
        try:
            yield
        finally:
            self._solver(grasping=False)

    def _solver(self, grasping: bool) -> None:
        s = self.settings
        self.client.setPhysicsEngineParameter(
            numSolverIterations=s.grasp_solver_iterations if grasping else s.solver_iterations,
            contactERP=s.grasp_contact_erp if grasping else s.contact_erp,
        )

    def close(self) -> None:
        """Disconnect the client; calling it twice is harmless."""
        if self._client is not None:
            self._client.disconnect()
            self._client = None

    def add(self, name: str, body: int, ghost: bool = False, movable: bool = False) -> int:
        """Register ``body`` under ``name`` and return it.

        Args:
            name: the body's name.
            body: its pybullet id.
            ghost: True for a body without collisions (the kinematic arm); the world's
                collision queries skip it.
            movable: True for a loose part (see :meth:`movable`).
        """
        if name in self._bodies:
            raise ValueError(f"a body named {name!r} exists already")
        self._bodies[name] = body
        self._names[body] = name
        if ghost:
            self._ghosts.add(body)
        if movable:
            self._movable[name] = body
        return body

    def movable(self) -> list[str]:
        """Names of the loose parts, in the order they were added."""
        return list(self._movable)

    def touching(self, body: int) -> list[str]:
        """Names of the loose parts in contact with ``body``, in the order they were added."""
        ids = {p[2] for p in self.client.getContactPoints(bodyA=body)}
        return [n for n, b in self._movable.items() if b in ids]

    def remove(self, name: str) -> None:
        """Delete the body called ``name`` from the simulation."""
        body = self._bodies.pop(name)
        del self._names[body]
        self._ghosts.discard(body)
        self._movable.pop(name, None)
        self.client.removeBody(body)

    def id(self, name: str) -> int:
        """The pybullet id of the body called ``name``."""
        try:
            return self._bodies[name]
        except KeyError:
            raise KeyError(f"no body named {name!r}; known: {sorted(self._bodies)}") from None

    def pose(self, name: str) -> Pose:
        """The base pose of a body (its base inertial frame) in the world frame."""
        return from_bullet(*self.client.getBasePositionAndOrientation(self.id(name)))

    def set_pose(self, name: str, pose: Pose) -> None:
        """Teleport a body to ``pose`` and stop it."""
        body = self.id(name)
        self.client.resetBasePositionAndOrientation(body, *to_bullet(pose))
        self.client.resetBaseVelocity(body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])

    def hide(self, name: str) -> None:
        """Make a body invisible to cameras (fully transparent; the tiny renderer skips it)."""
        body = self.id(name)
        if body in self._hidden:
            return
        c = self.client
        colours = [(shape[1], list(shape[7])) for shape in c.getVisualShapeData(body)]
        for link, rgba in colours:
            c.changeVisualShape(body, link, rgbaColor=[*rgba[:3], 0.0])
        self._hidden[body] = colours

    def show(self, name: str) -> None:
        """Undo :meth:`hide`."""
        body = self.id(name)
        for link, rgba in self._hidden.pop(body, []):
            self.client.changeVisualShape(body, link, rgbaColor=rgba)

    def position(self, name: str) -> np.ndarray:
        """The base position of a body, metres."""
        return np.array(self.client.getBasePositionAndOrientation(self.id(name))[0])

    def speeds(self, names: Iterable[str]) -> np.ndarray:
        """(N, 2) linear (m/s) and angular (rad/s) speeds of the named bodies."""
        c = self.client
        out = [
            (np.linalg.norm(lin), np.linalg.norm(ang))
            for lin, ang in (c.getBaseVelocity(self._bodies[n]) for n in names)
        ]
        return np.array(out, dtype=np.float64).reshape(-1, 2)

    def step(self, count: int = 1) -> None:
        """Advance the physics by ``count`` steps."""
        c = self.client
        for _ in range(count):
            c.stepSimulation()
        self.steps += count

    def settle(self, names: list[str], max_steps: int | None = None) -> bool:
        """Step until the named bodies rest, at most ``max_steps`` steps.

        Steps come in chunks of ``settle_check_every`` and the first chunk is always taken,
        so a body just let go gets the time to start falling.

        Returns:
            True when they came to rest within the bound.
        """
        s = self.settings
        budget = s.settle_steps if max_steps is None else max_steps
        taken = 0
        while taken < budget:
            chunk = min(s.settle_check_every, budget - taken)
            self.step(chunk)
            taken += chunk
            speeds = self.speeds(names)
            if (speeds[:, 0] < s.settle_speed).all() and (speeds[:, 1] < s.settle_spin).all():
                return True
        return False

    def freeze_resting(self, names: list[str], keep: int | None = None) -> None:
        """Stop the resting ones of the named bodies and put them to sleep.

        A sleeping body costs nothing in a step until an active body touches it and wakes
        it. Bodies still faster than the settle thresholds, and bodies touching ``keep``,
        are left alone.
        """
        s = self.settings
        c = self.client
        touching = {p[2] for p in c.getContactPoints(bodyA=keep)} if keep is not None else set()
        for n, (speed, spin) in zip(names, self.speeds(names), strict=True):
            body = self._bodies[n]
            if speed < s.settle_speed and spin < s.settle_spin and body not in touching:
                c.resetBaseVelocity(body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
                c.changeDynamics(body, -1, activationState=pybullet.ACTIVATION_STATE_SLEEP)

    def wake(self, names: Iterable[str]) -> None:
        """Wake sleeping bodies (after their support changed)."""
        c = self.client
        for n in names:
            c.changeDynamics(self._bodies[n], -1, activationState=pybullet.ACTIVATION_STATE_WAKE_UP)

    def aabb(self, body: int) -> tuple[np.ndarray, np.ndarray]:
        """The world axis-aligned box around every link of ``body``."""
        c = self.client
        boxes = [c.getAABB(body, link) for link in range(-1, c.getNumJoints(body))]
        lo = np.min([b[0] for b in boxes], axis=0)
        hi = np.max([b[1] for b in boxes], axis=0)
        return lo, hi

    def bodies_in_box(self, lo: np.ndarray, hi: np.ndarray) -> list[int]:
        """Ids of the named, colliding bodies whose bounding boxes overlap ``lo``..``hi``."""
        found = self.client.getOverlappingObjects(list(map(float, lo)), list(map(float, hi)))
        ids = sorted({body for body, _ in found or ()})
        return [b for b in ids if b in self._names and b not in self._ghosts]

    def distances(self, body: int, others: Iterable[int], reach: float) -> dict[int, float]:
        """The smallest signed distance from ``body`` to each of ``others`` within ``reach``.

        Bodies farther than ``reach`` are left out; negative distances mean penetration.
        """
        c = self.client
        out = {}
        for other in others:
            points = c.getClosestPoints(body, other, reach)
            if points:
                out[other] = min(p[8] for p in points)
        return out

    def contact_force(self, body: int) -> np.ndarray:
        """The vector sum (N) of the contact normal forces that other bodies exert on ``body``.

        Internal forces, such as the two fingers squeezing a held part, cancel in the sum, so
        this is what a wrist force sensor or the iiwa's joint torque estimate would see.
        """
        points = self.client.getContactPoints(bodyA=body)
        if not points:
            return np.zeros(3)
        return np.sum([np.multiply(p[7], p[9]) for p in points], axis=0)

    def sweep(
        self,
        body: int,
        place: Callable[[float], None],
        samples: int,
        refine: int = 4,
    ) -> float:
        """How far a motion of ``body`` may go before it runs into anything new.

        ``place(s)`` teleports the body to the fraction ``s`` in [0, 1] of the motion. The
        motion is sampled at ``samples`` evenly spaced points (their spacing must be below the
        body's own extent along the motion, so that no obstacle slips between samples), then
        the first blocked interval is bisected ``refine`` times. A sample is blocked when it
        interpenetrates some obstacle *more* than the start did, so sliding along or moving
        away from a touching part is free. The body is left wherever the last sample put it;
        the caller places it.

        Returns:
            The largest fraction known to be free, in [0, 1].
        """
        place(0.0)
        lo0, hi0 = self.aabb(body)
        place(1.0)
        lo1, hi1 = self.aabb(body)
        candidates = [
            b for b in self.bodies_in_box(np.minimum(lo0, lo1), np.maximum(hi0, hi1)) if b != body
        ]
        if not candidates:
            return 1.0
        place(0.0)
        start = self.distances(body, candidates, 0.0)

        def blocked(s: float) -> bool:
            place(s)
            now = self.distances(body, candidates, 0.0)
            return any(d < min(start.get(b, 0.0), 0.0) - 1e-4 for b, d in now.items())

        free = 0.0
        for k in range(1, samples + 1):
            s = k / samples
            if blocked(s):
                hit = s
                for _ in range(refine):
                    mid = 0.5 * (free + hit)
                    if blocked(mid):
                        hit = mid
                    else:
                        free = mid
                return free
            free = s
        return 1.0
