"""``--ray auto|HOST:PORT`` and ``--ray-timeout``, shared by learn, evaluate and benchmark."""

from __future__ import annotations

import argparse

from agents.raycluster import DEFAULT_TIMEOUT_S


def add_ray_arguments(p: argparse.ArgumentParser, what: str) -> None:
    """Add ``--ray`` and ``--ray-timeout`` to ``p``; ``what`` runs on Ray with them."""
    p.add_argument(
        "--ray",
        metavar="auto|HOST:PORT",
        help=f"run {what} as Ray actors: 'auto' joins this machine's Ray cluster or starts a"
        " local one, HOST:PORT the cluster whose head is there (pip install -e '.[ray]')",
    )
    p.add_argument(
        "--ray-timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds --ray HOST:PORT may take to answer (default {DEFAULT_TIMEOUT_S:g})",
    )


def connect_if_asked(args: argparse.Namespace) -> None:
    """Join the Ray cluster of ``--ray`` (within ``--ray-timeout``), if one is given."""
    if args.ray is not None:
        from agents.raycluster import connect

        connect(args.ray, timeout=args.ray_timeout)
