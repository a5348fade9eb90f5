"""Ray for the grasp commands: connect within a deadline, or name the extra that is missing.

``--ray auto`` calls ``ray.init()``: it joins the cluster that ``ray start`` began on this
machine (or the one ``RAY_ADDRESS`` names) and otherwise starts a local Ray. ``--ray
ADDRESS`` joins the cluster whose head is at ``host:port``. ``ray.init`` itself retries an
address that does not answer for minutes, so :func:`connect` first proves the address can be
reached, within ``timeout`` seconds all told: a TCP connection to it, then a throwaway
``ray.init`` in a child process that is killed at the deadline. Only then does this process
join. Ray enables its token authentication for ``ray.init()`` when a token is at hand, but
not for an explicit address; :func:`connect` does the same for both (``RAY_AUTH_MODE=token``
when ``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token`` gives one and the
mode is not set), so that ``--ray HEAD:6379`` joins a ``ray start --head`` of Ray 2.59 and
later, which turns the authentication on. An address that fails either step raises
:class:`~grasp_env.errors.ConfigError` naming it; a missing Ray raises
:class:`~grasp_env.errors.DependencyNotInstalled` naming the ``ray`` extra. A Ray this
process already joined (a test's ``ray.init(num_cpus=2)``) is used as it is.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

from grasp_env.errors import ConfigError
from grasp_env.extras import needs_extras

#: Seconds ``--ray ADDRESS`` may take to prove the cluster answers (``--ray-timeout``).
DEFAULT_TIMEOUT_S = 30.0
AUTO = "auto"

_PROBE = "import sys, ray; ray.init(address=sys.argv[1], log_to_driver=False); ray.shutdown()"


def import_ray(what: str = "--ray") -> ModuleType:
    """The ``ray`` module; a missing one raises an error naming the ``ray`` extra."""
    with needs_extras(what):
        import ray
    return ray


def connect(address: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> ModuleType:
    """Join Ray at ``address`` (``"auto"``: this machine's cluster or a new local one).

    Args:
        address: ``"auto"`` or the head's ``host:port``.
        timeout: seconds ``host:port`` may take to prove it answers (> 0).

    Returns:
        The ``ray`` module, initialised.

    Raises:
        DependencyNotInstalled: Ray is not installed.
        ConfigError: a timeout <= 0, an address that is not ``host:port``, or a cluster that
            cannot be reached within ``timeout``.
    """
    if not timeout > 0:
        raise ConfigError(f"--ray-timeout: expected seconds > 0, got {timeout}")
    if address != AUTO:
        _use_token_if_at_hand()
    ray = import_ray()
    if ray.is_initialized():
        return ray
    if address == AUTO:
        ray.init(log_to_driver=False)
        return ray
    deadline = time.monotonic() + timeout
    _probe_tcp(address, timeout)
    _probe_ray(address, max(1.0, deadline - time.monotonic()), timeout)
    try:
        ray.init(address=address, log_to_driver=False)
    except Exception as exc:  # Ray's own ConnectionError, RuntimeError, ValueError, ...
        raise ConfigError(f"--ray {address}: expected a Ray cluster there, got {exc}") from exc
    return ray


def parse_address(address: str) -> tuple[str, int]:
    """``"host:port"`` -> (host, port); refuses anything else."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"--ray: expected 'auto' or HOST:PORT (e.g. 10.0.0.5:6379), got {address!r}"
        )
    return host.strip("[]"), int(port)


def _use_token_if_at_hand() -> None:
    """Token authentication on when a token is at hand and no mode is set (as Ray's "auto").

    Only before Ray's first import in this process: Ray reads the mode then, and a mode set
    later would reach the processes Ray starts but not this one.
    """
    if "RAY_AUTH_MODE" in os.environ or "ray" in sys.modules:
        return
    at_hand = os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
    if at_hand or (Path.home() / ".ray" / "auth_token").is_file():
        os.environ["RAY_AUTH_MODE"] = "token"  # a cluster without authentication ignores it


def _probe_tcp(address: str, timeout: float) -> None:
    host, port = parse_address(address)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ConfigError(
            f"--ray {address}: expected a Ray head listening there, got no connection within"
            f" {timeout:g} s ({exc}); start one with `ray start --head` or pass --ray auto"
        ) from exc


def _probe_ray(address: str, seconds: float, timeout: float) -> None:
    """Join and leave the cluster in a child process, killed after ``seconds``."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, address], capture_output=True, text=True,
            timeout=seconds, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(
            f"--ray {address}: expected a Ray cluster to answer within {timeout:g} s"
            " (--ray-timeout), got none; is that the head's GCS port (6379 by default)?"
        ) from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ConfigError(
            f"--ray {address}: expected a Ray cluster there, got {last} (a cluster with token"
            " authentication needs its token here: RAY_AUTH_TOKEN, from `ray get-auth-token`"
            " on the head)"
        )


def cluster_cpus(ray: ModuleType) -> int:
    """The CPUs of the joined cluster (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


__all__ = ["AUTO", "DEFAULT_TIMEOUT_S", "cluster_cpus", "connect", "import_ray", "parse_address"]
