"""Suite-wide fixtures: the default grasp grid, and no connection beyond this machine's loopback.

The real cell's configuration names real device addresses; a test that picked it up by
mistake must fail at once instead of sending traffic to them.
"""

import ipaddress
import socket

import pytest

from grasp_env.grasp_grid import GraspGrid

_connect = socket.socket.connect


def _loopback_only(sock: socket.socket, address) -> None:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host}")
    _connect(sock, address)


@pytest.fixture(autouse=True)
def _no_traffic_beyond_loopback(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(scope="module")
def grid() -> GraspGrid:
    """The default grasp grid (20 rotations x 40 x 40 positions x 3 widths)."""
    return GraspGrid()
