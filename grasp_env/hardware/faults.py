"""Driver exception types and the flight recorder attached to each of them.

Every exception a driver raises is a :class:`grasp_env.errors.DeviceError`, so callers that
only care that *a device* failed catch that; the subclasses say how it failed. Each carries
``history``: the last requests and replies the driver exchanged (timestamped), as libfranka's
ControlException carries its log, so a fault can be read after the fact.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

from grasp_env.errors import DeviceError, UnreachablePose


class DriverError(DeviceError):
    """Base of the hardware drivers' errors.

    Attributes:
        device: which device, with its address, e.g. ``"WSG 50 at 192.168.1.20:1000"``.
        cause: what went wrong, in the device's own words where it gave any.
        history: the driver's flight record when the error was raised (oldest first).
    """

    def __init__(self, device: str, cause: str, history: Iterable[str] = ()) -> None:
        super().__init__(device, cause)
        self.history = tuple(history)


class DeviceTimeout(DriverError):
    """The device did not answer a request before its deadline."""


class DeviceDisconnected(DriverError):
    """The connection could not be made, or it dropped."""


class DeviceProtocolError(DriverError):
    """The device answered something the protocol does not allow (or a corrupt packet)."""


class DeviceFault(DriverError):
    """The device reported a fault or refused a command."""


class FaultLatched(DriverError):
    """An earlier fault is not acknowledged yet, so the driver refuses to move.

    Call the driver's ``acknowledge_fault()`` once a person has checked the cell.
    """


class SpeedLimitExceeded(UnreachablePose):
    """A motion asked for a speed (or contact force) above the configured limit.

    Raised by the workspace guard before any byte is sent, like the pose refusals.
    """


class FlightRecorder:
    """A ring buffer of the last ``size`` messages a driver sent and received.

    Args:
        size: how many entries to keep.
        clock: the time source, seconds (monotonic by default).
    """

    def __init__(self, size: int = 64, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: deque[str] = deque(maxlen=size)
        self._clock = clock

    def record(self, direction: str, text: str) -> None:
        """Add one entry; ``direction`` is ``"->"`` for sent, ``"<-"`` for received, ``"!!"``."""
        self._entries.append(f"{self._clock():.4f} {direction} {text}")

    def entries(self) -> tuple[str, ...]:
        """The recorded entries, oldest first."""
        return tuple(self._entries)


__all__ = [
    "DeviceDisconnected",
    "DeviceFault",
    "DeviceProtocolError",
    "DeviceTimeout",
    "DriverError",
    "FaultLatched",
    "FlightRecorder",
    "SpeedLimitExceeded",
]
