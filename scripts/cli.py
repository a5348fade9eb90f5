"""The ``grasp`` console script: one subcommand per module listed in ``COMMANDS``.

Each listed module defines ``register(subparsers)``, which adds its subparser and sets
``func`` to a callable taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = (
    "grasp_toolkit.scripts.evaluate",
    "grasp_toolkit.scripts.bench",
    "grasp_toolkit.scripts.train",
    "grasp_toolkit.scripts.dataset_cmd",
    "grasp_toolkit.scripts.learn",
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
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
