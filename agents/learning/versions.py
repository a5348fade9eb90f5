"""The versions of the libraries that decide a run's records and weights.

The lockstep schedule makes a run a pure function of its config and seed for given versions
of the libraries that compute it; a new release of one of them may change the digests. The
packaged ``configs/constraints.txt`` pins the versions of the published runs (one ``name==
version`` per line, for ``pip install -c``): :func:`installed_versions` reads which of those
are installed, :func:`version_differences` names those that differ, so that a user whose
digests differ from ours sees at once whether the libraries are why.
"""

from __future__ import annotations

import re
from importlib import metadata, resources

from grasp_env.factory import PACKAGED_CONFIGS

CONSTRAINTS = "constraints.txt"
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)$")


def pinned_versions(text: str | None = None) -> dict[str, str]:
    """The pins of ``text`` (default: the packaged constraints file), by distribution name."""
    if text is None:
        text = (resources.files(PACKAGED_CONFIGS) / CONSTRAINTS).read_text()
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line)
        if match is None:
            raise ValueError(f"{CONSTRAINTS}: expected 'name==version', got {line!r}")
        pins[match[1]] = match[2]
    return pins


def installed_versions(names: list[str]) -> dict[str, str | None]:
    """The installed version of each distribution of ``names`` (None: not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def version_differences(installed: dict[str, str | None], pins: dict[str, str]) -> list[str]:
    """One line per pinned library whose installed version differs.

    A local label such as ``+cpu`` is not a difference.
    """
    lines = []
    for name, pin in pins.items():
        got = installed.get(name)
        if got is None or got.split("+", 1)[0] != pin:
            lines.append(f"{name} {got or 'not installed'} (the published runs used {pin})")
    return lines
