"""A TCP connection to a device where every wait has a deadline.

:class:`TcpLink` connects fast or fails naming the address (a bounded number of attempts with
exponential backoff), and turns socket timeouts and closed connections into
:class:`grasp_env.hardware.faults.DeviceTimeout` and
:class:`grasp_env.hardware.faults.DeviceDisconnected`, with the driver's flight record
attached. It knows nothing of the protocol spoken over it.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from grasp_env.hardware.faults import DeviceDisconnected, DeviceTimeout, FlightRecorder


@dataclass
class Deadline:
    """A point in time (monotonic clock) by which a request must be answered.

    Attributes:
        seconds: the length of the allowance, kept for messages.
        until: the monotonic time at which it runs out.
    """

    seconds: float
    until: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now."""
        return cls(seconds, time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left; never negative."""
        return max(self.until - time.monotonic(), 0.0)

    @property
    def expired(self) -> bool:
        """Whether no time is left."""
        return self.remaining() <= 0.0


class TcpLink:
    """One TCP connection to one device.

    Args:
        device: the device's name with its address, used in every error message.
        host: address to connect to.
        port: TCP port.
        recorder: the driver's flight recorder, attached to every error.
        connect_timeout: seconds allowed for one connection attempt.
        attempts: how many connection attempts before giving up (at least 1).
        backoff: seconds to wait after the first failed attempt; doubles after each further
            one, up to ``max_backoff``.
        max_backoff: the longest wait between attempts, seconds.
    """

    def __init__(
        self,
        device: str,
        host: str,
        port: int,
        recorder: FlightRecorder,
        connect_timeout: float = 2.0,
        attempts: int = 1,
        backoff: float = 0.2,
        max_backoff: float = 2.0,
    ) -> None:
        self.device = device
        self.host = host
        self.port = port
        self.recorder = recorder
        self.connect_timeout = connect_timeout
        self.attempts = max(int(attempts), 1)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sock: socket.socket | None = None

    @property
    def is_open(self) -> bool:
        """Whether a connection is up (as far as this side knows)."""
        return self._sock is not None

    def open(self) -> None:
        """Connect; raise :class:`DeviceDisconnected` naming the address if it cannot be done."""
        self.close()
        error: OSError | None = None
        for attempt in range(self.attempts):
            try:
                sock = socket.create_connection(
                    (self.host, self.port), timeout=self.connect_timeout
                )
            except OSError as exc:
                error = exc
                self.recorder.record("!!", f"connect attempt {attempt + 1} failed: {exc}")
                if attempt + 1 < self.attempts:
                    time.sleep(min(self.backoff * 2**attempt, self.max_backoff))
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
            self.recorder.record("!!", f"connected to {self.host}:{self.port}")
            return
        raise DeviceDisconnected(
            self.device,
            f"cannot connect to {self.host}:{self.port} after {self.attempts} attempt(s)"
            f" of {self.connect_timeout:g} s: {error}",
            self.recorder.entries(),
        )

    def send(self, data: bytes, deadline: Deadline, what: str) -> None:
        """Send all of ``data`` before ``deadline``; ``what`` names the request in errors."""
        sock = self._require(what)
        remaining = deadline.remaining()
        if remaining <= 0.0:
            self._timeout(what, deadline, "before it could be sent")
        try:
            sock.settimeout(remaining)
            sock.sendall(data)
        except TimeoutError:
            self._timeout(what, deadline, "while sending")
        except OSError as exc:
            self._dropped(what, f"while sending: {exc}")

    def receive(self, deadline: Deadline, what: str, size: int = 4096) -> bytes:
        """At least one byte from the device before ``deadline``.

        Raises:
            DeviceTimeout: nothing came in time.
            DeviceDisconnected: the device closed the connection or it broke.
        """
        sock = self._require(what)
        remaining = deadline.remaining()
        if remaining <= 0.0:
            self._timeout(what, deadline, "no reply")
        try:
            sock.settimeout(remaining)
            data = sock.recv(size)
        except TimeoutError:
            self._timeout(what, deadline, "no reply")
        except OSError as exc:
            self._dropped(what, f"while waiting for the reply: {exc}")
        if not data:
            self._dropped(what, "the device closed the connection")
        return data

    def send_best_effort(self, data: bytes, timeout: float = 0.05) -> bool:
        """Try to send ``data`` within ``timeout`` s, ignoring failures; True if it went out."""
        if self._sock is None:
            return False
        try:
            self._sock.settimeout(timeout)
            self._sock.sendall(data)
        except OSError:
            return False
        return True

    def close(self) -> None:
        """Close the connection if it is open; harmless otherwise."""
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            finally:
                self.recorder.record("!!", "connection closed")

    def _require(self, what: str) -> socket.socket:
        if self._sock is None:
            raise DeviceDisconnected(
                self.device, f"not connected (request: {what})", self.recorder.entries()
            )
        return self._sock

    def _timeout(self, what: str, deadline: Deadline, how: str) -> None:
        self.recorder.record("!!", f"timeout: {what}: {how} within {deadline.seconds:g} s")
        raise DeviceTimeout(
            self.device, f"{how} to {what} within {deadline.seconds:g} s", self.recorder.entries()
        )

    def _dropped(self, what: str, how: str) -> None:
        self.close()
        self.recorder.record("!!", f"disconnected: {what}: {how}")
        raise DeviceDisconnected(
            self.device, f"connection lost during {what}: {how}", self.recorder.entries()
        )


__all__ = ["Deadline", "TcpLink"]
