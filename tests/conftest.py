"""Suite-wide fixtures: the default grid, waiting on a condition, loopback-only sockets.

The real cell's configuration names real device addresses; a test that picked it up by
mistake must fail at once instead of sending traffic to them.
"""

import ipaddress
import os
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from grasp_env.grasp_grid import GraspGrid

_connect = socket.socket.connect

# Ray, where a test starts one, takes the loopback address for its node instead of the
# machine's own (read when Ray is first imported, so set before any test runs)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


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


def _wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` s, naming ``what``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}", pytrace=False)
        time.sleep(0.002)


@pytest.fixture
def wait_until() -> Callable[[Callable[[], object], float, str], None]:
    """``wait_until(predicate, timeout, what)``: wait on a condition instead of sleeping.

    For what another thread does (an emulator logging a request, a device reacting): poll
    ``predicate`` until it is true, or fail the test after ``timeout`` seconds with
    "waited ... for ``what``".
    """
    return _wait_until


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of two CPUs on 127.0.0.1 alone (skips without Ray), shut down after."""
    ray = pytest.importorskip("ray")
    # "local": a new Ray of its own, whatever cluster `ray start` left registered here
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(section: str = "", language: str = "python", starts: str = "") -> str:
    """The first ``language`` block of README.md after heading ``section``, starting ``starts``.

    An empty ``section`` searches the whole file.
    """
    text = README.read_text()
    if section:
        text = text.partition(f"## {section}\n")[2]
        assert text, f"README.md has no section {section!r}"
    pattern = rf"```{language}\n({re.escape(starts)}.*?)```"
    match = re.search(pattern, text, re.DOTALL)
    assert match is not None, f"README.md {section!r} has no {language} block starting {starts!r}"
    return match.group(1)


@pytest.fixture
def readme() -> Callable[..., str]:
    """:func:`readme_block`, for the tests that run the README's examples as printed."""
    return readme_block
