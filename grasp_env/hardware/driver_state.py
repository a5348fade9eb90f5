"""The life cycle every driver goes through, with logged transitions.

::

    DISCONNECTED --connect--> IDLE --motion--> ACTIVE --done--> IDLE
          ^                    |                  |
          |                    +---- fault -------+--> FAULTED --acknowledge_fault--> IDLE
          +------- connection lost / timeout (fault latched) ----+
    any --close--> CLOSED

A fault *latches*: reconnecting does not clear it, only an explicit ``acknowledge_fault()``
does, so a driver never resumes motion on its own after a fault.
"""

from __future__ import annotations

import enum
import logging


class DriverState(enum.Enum):
    """Where a driver is in its life cycle."""

    DISCONNECTED = "disconnected"
    IDLE = "connected-idle"
    ACTIVE = "active"
    FAULTED = "faulted"
    CLOSED = "closed"


class StateMachine:
    """The current :class:`DriverState` of one driver, its latched fault, and a log of changes.

    Args:
        device: the device name for log lines.
        logger: where transitions are logged (INFO; faults at WARNING).
    """

    def __init__(self, device: str, logger: logging.Logger) -> None:
        self.device = device
        self.logger = logger
        self.state = DriverState.DISCONNECTED
        self.fault: str | None = None

    def to(self, state: DriverState, reason: str = "") -> None:
        """Move to ``state`` (logged when it changes)."""
        if state is not self.state:
            level = logging.WARNING if state is DriverState.FAULTED else logging.INFO
            self.logger.log(
                level, "%s: %s -> %s %s", self.device, self.state.value, state.value, reason
            )
            self.state = state

    def latch(self, cause: str) -> None:
        """Record a fault; it stays until :meth:`clear`."""
        if self.fault is None:
            self.fault = cause
        self.to(DriverState.FAULTED, cause)

    def clear(self) -> None:
        """Forget the latched fault (an explicit acknowledge by a person)."""
        self.fault = None


__all__ = ["DriverState", "StateMachine"]
