"""The life cycle the loopback device servers share: listen, serve one client at a time, stop.

:class:`LoopbackServer` listens on a TCP port (an ephemeral one by default), accepts one
client after another in a background thread, hands each received chunk to the subclass and
closes every socket on :meth:`~LoopbackServer.stop`. The subclass speaks the protocol: it cuts
requests out of the bytes and answers them on :attr:`~LoopbackServer._conn`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterable
from typing import Self


class LoopbackServer:
    """A device server on loopback, serving in a background thread.

    Subclasses implement :meth:`_consume`; they may extend :meth:`_release_waits`,
    :meth:`_threads` and :meth:`_disconnected`.

    Args:
        host: address to listen on.
        port: TCP port; 0 picks a free one (see :attr:`address`).
        name: the serving thread's name.
        lock: guards the connection and the subclass's state (a re-entrant one where the
            subclass takes it again while holding it).
    """

    def __init__(
        self, host: str, port: int, name: str, lock: threading.Lock | threading.RLock
    ) -> None:
        self._host, self._port = host, port
        self._name = name
        self._lock = lock
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the emulator listens on."""
        if self._listener is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._listener.getsockname()[:2]
        return host, port

    def start(self) -> Self:
        """Listen and serve in a background thread; returns self."""
        self._listener = socket.create_server((self._host, self._port))
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop serving, close every socket and join the threads."""
        self._stopping.set()
        self._release_waits()
        if self._listener is not None:
            self._listener.close()
        self._close_conn()
        for thread in self._threads():
            # stop() may be called from one of them, which cannot join itself
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- for subclasses -----------------------------------------------------------------

    def _consume(self, buf: bytearray, conn: socket.socket) -> None:
        """Take the complete requests out of ``buf`` and answer them.

        Stop early when a request closed ``conn`` (``self._conn`` is no longer it).
        """
        raise NotImplementedError

    def _release_waits(self) -> None:
        """Wake whatever the server's threads wait on, so that :meth:`stop` can join them."""

    def _threads(self) -> Iterable[threading.Thread | None]:
        """The threads :meth:`stop` joins."""
        return (self._thread,)

    def _disconnected(self, conn: socket.socket) -> None:
        """Clean up after the client on ``conn`` left or was dropped."""
        self._close_conn(conn)

    # --- serving ------------------------------------------------------------------------

    def _serve(self) -> None:
        # a service loop: it ends when stop() sets the event or closes the listener
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()  # type: ignore[union-attr]
            except TimeoutError:
                continue
            except OSError:
                break
            conn.settimeout(0.05)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._conn = conn
            self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        buf = bytearray()
        while not self._stopping.is_set() and self._conn is conn:
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            buf += data
            self._consume(buf, conn)
        self._disconnected(conn)

    def _close_conn(self, only: socket.socket | None = None) -> None:
        """Drop the client's connection (only if it is ``only``, when given)."""
        with self._lock:
            conn = self._conn
            if conn is None or (only is not None and conn is not only):
                return
            self._conn = None
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            conn.close()


__all__ = ["LoopbackServer"]
