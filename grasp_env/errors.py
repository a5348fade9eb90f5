"""The project's exception types: every message names what was expected and what came."""

from __future__ import annotations


class GraspError(Exception):
    """Base class of every error this toolkit raises on purpose."""


class InvalidAction(GraspError, ValueError):
    """An action of the wrong shape, dtype or range, or with NaN or inf in it."""


class InvalidObservation(GraspError, ValueError):
    """An image given to an agent or a model that does not fit its contract."""


class ConfigError(GraspError, ValueError):
    """A configuration file or value that cannot be used (unknown key, wrong type, bad range)."""


class ResetNeeded(GraspError, RuntimeError):
    """`step` was called before the first `reset`."""


class UnreachablePose(GraspError, RuntimeError):
    """A robot target outside the configured workspace or outside the arm's reach."""


class DeviceError(GraspError, RuntimeError):
    """A device (robot, gripper, camera) reported a fault or did not answer in time.

    Attributes:
        device: which device, e.g. ``"WSG 50 at 127.0.0.1:1000"``.
        cause: the device's own words for what went wrong.
    """

    def __init__(self, device: str, cause: str) -> None:
        super().__init__(f"{device}: {cause}")
        self.device = device
        self.cause = cause


class DependencyNotInstalled(GraspError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""
