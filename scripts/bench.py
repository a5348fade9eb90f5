"""``grasp bench``: the project's measurements, one subcommand per module in ``BENCHES``."""

from __future__ import annotations

import argparse
import importlib

BENCHES = (
    "grasp_toolkit.scripts.bench_sim",
    "grasp_toolkit.scripts.bench_inference",
    "grasp_toolkit.scripts.bench_actors",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp bench`` and its measurements."""
    parser = subparsers.add_parser("bench", help="run a measurement and print its figures")
    benches = parser.add_subparsers(dest="bench", required=True)
    for name in BENCHES:
        importlib.import_module(name).register(benches)
