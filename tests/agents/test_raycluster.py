"""Joining Ray: a cluster that cannot be reached fails within the deadline; no Ray names the extra.

The unreachable and the silent address run the command in a fresh interpreter, which has not
joined a Ray yet (a test process's local Ray would be used as it is).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.raycluster import connect, parse_address
from grasp_env.errors import ConfigError, DependencyNotInstalled
from grasp_toolkit.scripts.cli import main as grasp


def _grasp(*argv: str, timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "grasp_toolkit.scripts.cli", *argv],
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip
    return done, time.monotonic() - start


def test_an_address_where_nothing_listens_fails_at_once_naming_it(tmp_path: Path, write_config):
    pytest.importorskip("ray")
    config, runs = write_config(tmp_path), tmp_path / "runs"
    done, seconds = _grasp("learn", "--config", str(config), "--runs", str(runs),
                           "--ray", "127.0.0.1:1", "--ray-timeout", "5", timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert "--ray 127.0.0.1:1: expected a Ray head listening there" in done.stderr
    assert seconds < 30  # the interpreter's start and imports: the refusal itself is at once
    assert not runs.exists()


def test_an_address_that_never_answers_fails_within_the_timeout():
    pytest.importorskip("ray")
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        done, seconds = _grasp("evaluate", "--ray", address, "--ray-timeout", "3", "--runs", "1",
                               timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert f"--ray {address}: expected a Ray cluster to answer within 3 s" in done.stderr
    assert seconds < 30  # the interpreter's start and imports, plus the 3 s


@pytest.mark.parametrize("address", ["head", "head:port", ":6379", "head:70000", ""])
def test_an_address_that_is_not_host_and_port_is_refused(address: str) -> None:
    with pytest.raises(ConfigError, match=r"expected 'auto' or HOST:PORT"):
        parse_address(address)


def test_a_timeout_below_zero_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"--ray-timeout: expected seconds > 0, got -1"):
        connect("127.0.0.1:1", timeout=-1)


def test_ray_missing_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(DependencyNotInstalled, match=r"pip install grasp-toolkit\[ray\]"):
        connect("auto")


def test_learn_with_ray_missing_names_its_extra_before_any_run_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path, write_config
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    runs = tmp_path / "runs"
    code = grasp(["learn", "--config", str(write_config(tmp_path)), "--runs", str(runs),
                  "--ray", "auto"])  # fmt: skip
    assert code == 1
    assert "--ray needs the 'ray' package" in capsys.readouterr().err
    assert not runs.exists()
