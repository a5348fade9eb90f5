"""The ``grasp`` console script: one subcommand per module listed in ``COMMANDS``.

Each listed module defines ``register(subparsers)``, which adds its subparser and sets
``func`` to a callable taking the parsed arguments and returning an exit code.

This is the command's edge: the current folder is importable, as under ``python -m``, so an
agent named ``my_agents:make`` may live in ``./my_agents.py``; a ``--config`` path that does
not exist names a packaged config (``grasp learn --config configs/learn.yaml`` works from any
folder once installed), and a missing optional dependency ends the command with a message
naming the extra to install.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from grasp_env.errors import DependencyNotInstalled, GraspError
from grasp_env.extras import install_hint, needs_extras
from grasp_env.factory import find_config

COMMANDS = (
    "grasp_toolkit.scripts.evaluate",
    "grasp_toolkit.scripts.bench",
    "grasp_toolkit.scripts.train",
    "grasp_toolkit.scripts.dataset_cmd",
    "grasp_toolkit.scripts.learn",
    "grasp_toolkit.scripts.export",
    "grasp_toolkit.scripts.benchmark",
)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="grasp", description="Self-supervised planar bin-picking: twin, agents, benchmarks."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand."""
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        with needs_extras("this command"):
            args = build_parser().parse_args(argv)
            _resolve_config(args)
            return int(args.func(args) or 0)
    except DependencyNotInstalled as exc:
        print(f"grasp: {exc} (every command: {install_hint('all')})", file=sys.stderr)
        return 1
    except GraspError as exc:  # bad input: the message names it, a traceback would bury it
        print(f"grasp: {exc}", file=sys.stderr)
        return 2


def _resolve_config(args: argparse.Namespace) -> None:
    """A ``--config`` path that does not exist becomes the packaged config of that name."""
    source = getattr(args, "config", None)
    if isinstance(source, str):
        found = find_config(source)
        if found is not None:
            args.config = str(found)


if __name__ == "__main__":
    sys.exit(main())
