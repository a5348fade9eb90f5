"""The life-cycle members the cell drivers share, around :class:`StateMachine`.

:class:`Driver` is what the WSG 50, iiwa and Ensenso drivers do alike: report their state and
latched fault, refuse work while a fault is latched, clear it on acknowledge, close once and
serve as a context manager. :class:`TcpDriver` adds the connection handling of the two TCP
drivers (opening the link, reconnecting, a best-effort goodbye on close). What differs per
device stays in each driver: what it reads at connect, what it sends to say goodbye and what
the device needs to acknowledge a fault.
"""

from __future__ import annotations

import logging
from typing import Protocol, Self

from grasp_env.hardware.driver_state import DriverState, StateMachine
from grasp_env.hardware.faults import DeviceDisconnected, FaultLatched, FlightRecorder
from grasp_env.hardware.link import TcpLink


class LinkConfig(Protocol):
    """The fields of a TCP driver's config that say where and how hard to connect.

    Read-only, so that the drivers' frozen config dataclasses are link configs.
    """

    @property
    def host(self) -> str:
        """Address to connect to."""

    @property
    def port(self) -> int:
        """TCP port."""

    @property
    def connect_timeout(self) -> float:
        """Seconds per connection attempt."""

    @property
    def connect_attempts(self) -> int:
        """Connection attempts before giving up."""


class Driver:
    """State, latched fault, close and ``with`` for one device.

    Subclasses implement :meth:`_start` (connect or open) and :meth:`_shut_down`.

    Args:
        device: the device's name with its address, for log lines and errors.
        logger: the driver module's logger, where transitions are logged.

    Attributes:
        device: as given.
        recorder: the flight recorder attached to every error.
        machine: the life cycle and the latched fault.
    """

    #: Appended to the refusal while a fault is latched: what a person should check first.
    ack_hint = ""

    def __init__(self, device: str, logger: logging.Logger) -> None:
        self.device = device
        self.recorder = FlightRecorder()
        self.machine = StateMachine(device, logger)

    @property
    def state_name(self) -> DriverState:
        """Where the driver is in its life cycle."""
        return self.machine.state

    @property
    def fault(self) -> str | None:
        """The latched fault, if any."""
        return self.machine.fault

    def close(self) -> None:
        """Shut the device down (best effort) and mark the driver closed; harmless twice."""
        if self.machine.state is DriverState.CLOSED:
            return
        try:
            self._shut_down()
        finally:
            # closed even if the shutdown failed: the driver must not be used again
            self.machine.to(DriverState.CLOSED, "closed")

    def __enter__(self) -> Self:
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        """Make the device usable (what ``with`` does on entry)."""
        raise NotImplementedError

    def _shut_down(self) -> None:
        """Release the device, best effort (what :meth:`close` does once)."""
        raise NotImplementedError

    def _check_latch(self, what: str) -> None:
        """Refuse ``what`` while a fault is latched; only ``acknowledge_fault()`` clears it."""
        if self.machine.fault is not None:
            raise FaultLatched(
                self.device,
                f"refusing {what}: fault not acknowledged ({self.machine.fault}){self.ack_hint}",
                self.recorder.entries(),
            )

    def _acknowledged(self) -> None:
        """Forget the latched fault and go idle, once the device side is acknowledged."""
        self.machine.clear()
        self.machine.to(DriverState.IDLE, "fault acknowledged")


class TcpDriver(Driver):
    """A :class:`Driver` on one :class:`~grasp_env.hardware.link.TcpLink`.

    Subclasses implement ``connect()`` starting with :meth:`_open_link`, and
    :meth:`_reset_input`; they set :attr:`goodbye`.

    Args:
        device: the device's name with its address, for log lines and errors.
        config: where to connect and how hard to try.
        logger: the driver module's logger, where transitions are logged.
    """

    #: Sent, best effort, just before :meth:`close` drops the connection.
    goodbye = b""

    def __init__(self, device: str, config: LinkConfig, logger: logging.Logger) -> None:
        super().__init__(device, logger)
        self._link = TcpLink(
            device,
            config.host,
            config.port,
            self.recorder,
            config.connect_timeout,
            config.connect_attempts,
        )

    @property
    def connected(self) -> bool:
        """Whether the connection is up (as far as this side knows)."""
        return self._link.is_open

    def connect(self) -> None:
        """Connect and check that the device answers."""
        raise NotImplementedError

    def reconnect(self) -> None:
        """Open a fresh connection and redo :meth:`connect`; a latched fault stays latched."""
        self._link.close()
        self.connect()

    def _open_link(self) -> None:
        """Open the connection and go idle, or faulted while a fault is latched."""
        if self.machine.state is DriverState.CLOSED:
            raise DeviceDisconnected(self.device, "the driver is closed")
        self._link.open()
        self._reset_input()
        # reconnecting never clears a fault: only acknowledge_fault() does
        self.machine.to(
            DriverState.FAULTED if self.machine.fault else DriverState.IDLE, "connected"
        )

    def _reset_input(self) -> None:
        """Forget bytes left over from the previous connection."""
        raise NotImplementedError

    def _start(self) -> None:
        self.connect()

    def _shut_down(self) -> None:
        self._link.send_best_effort(self.goodbye)
        self._link.close()


__all__ = ["Driver", "LinkConfig", "TcpDriver"]
