"""``grasp dataset PATH [--json] [--verify]``: what a grasp dataset file holds.

``grasp dataset --schema`` prints the fields of the schema new files are written in (2),
from the schema. ``grasp dataset PATH --convert OUT`` writes PATH's records into the new
file OUT in schema 2 (:mod:`agents.data.convert`) and reports both sizes.

The file is opened in a subprocess with a timeout (a damaged HDF5 file can hang its reader,
HDFGroup/hdf5#1707), so this command also serves to validate files of unknown origin. Exit
status: 0 for a readable dataset, 1 for a file that is not one (the reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from agents.data.check import check_file, flatten
from agents.data.schema import DatasetError

CONFIG_LINES = 30
"""Config leaves shown in the text output; ``--json`` shows them all."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grasp dataset``."""
    parser = subparsers.add_parser(
        "dataset",
        help="show what a grasp dataset file holds (and check that it opens)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", nargs="?", help="the dataset file (.h5)")
    parser.add_argument("--schema", action="store_true", help="print the fields of the schema")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--convert",
        metavar="OUT",
        help="write the records into the new file OUT in the current schema (2); print sizes",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="also read and decompress every record, to find damaged data (slower)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds the file may take to open before it counts as damaged (default 30)",
    )
    parser.set_defaults(func=run)


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{100.0 * value:.1f} %"


def _groups(title: str, groups: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"{title}:"]
    for name, group in groups.items():
        shown = name if name else "(none)"
        rate = _rate(group["grasp_rate"])
        lines.append(f"  {shown:<24} {group['records']:>8} records, grasp rate {rate}")
    return lines if groups else [f"{title}: none"]


def format_summary(summary: dict[str, Any]) -> str:
    """The summary of :func:`agents.data.check.summarize` as readable text."""
    s = summary
    rows, cols = s["image_shape"]
    span = s["time_span_s"]
    lines = [
        f"grasp dataset   {s['path']}",
        f"schema version  {s['schema_version']} (written by grasp_env {s['library_version']},"
        f" created {s['created_iso']})",
        f"images          {rows} x {cols} px at {1000.0 * s['pixel_size']:g} mm/px",
        f"records         {s['records']}"
        + (f" (+{s['uncommitted']} uncommitted)" if s["uncommitted"] else ""),
        f"digest          {s['digest']}",
        f"grasp rate      {_rate(s['grasp_rate'])}",
        f"train / test    {s['train']} / {s['test']} (timestamp hash < {s['test_fraction']:g}"
        " goes to test)",
    ]
    if span is not None:
        length = f"{span:.1f} s" if span < 600.0 else f"{span / 3600.0:.2f} h"
        lines.append(f"time span       {s['time_first_iso']} .. {s['time_last_iso']} ({length})")
    size = f"file size       {s['file_bytes'] / 1e6:.2f} MB"
    if s["bytes_per_record"] is not None:
        size += f" ({s['bytes_per_record'] / 1e3:.1f} kB per record)"
    lines.append(size)
    if s["recoveries"]:
        lines.append(f"recoveries      {s['recoveries']} resume(s) after a crashed writer")
    lines += _groups("selection methods", s["methods"])
    lines += _groups("object sets", s["object_sets"])
    lines += _groups("environments", s["env_ids"])
    leaves = flatten(s["config"]) if s["config"] else {}
    lines.append(f"config          {len(leaves)} values" + (":" if leaves else ""))
    for key, value in list(leaves.items())[:CONFIG_LINES]:
        lines.append(f"  {key} = {json.dumps(value)}")
    if len(leaves) > CONFIG_LINES:
        lines.append(f"  ... {len(leaves) - CONFIG_LINES} more (--json shows all)")
    return "\n".join(lines)


def format_conversion(done: dict[str, Any]) -> str:
    """The answer of :func:`agents.data.convert.convert` as readable text."""
    lines = [f"converted       {done['records']} records, schema {done['source_schema']} ->"
             f" {done['target_schema']}, into {done['target']}"]  # fmt: skip
    for side in ("source", "target"):
        per = done[f"{side}_bytes_per_record"]
        shown = "" if per is None else f" ({per / 1e3:.1f} kB per record)"
        lines.append(f"{side + ' size':<16}{done[f'{side}_bytes'] / 1e6:.2f} MB{shown}")
    return "\n".join(lines)


def _answer(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The summary of ``args.path``, or its conversion into ``args.convert``; and as text."""
    summary = check_file(args.path, timeout=args.timeout, verify=args.verify)
    if args.convert is None:
        return summary, format_summary(summary)
    from agents.data.convert import convert

    done = convert(args.path, args.convert)
    return done, format_conversion(done)


def run(args: argparse.Namespace) -> int:
    """Print the summary of ``args.path``; return 0, or 1 when it is not a readable dataset."""
    if args.schema:
        from agents.data.schema import field_table

        print(field_table())
        return 0
    if args.path is None:
        print("grasp dataset: expected a dataset file PATH (or --schema)", file=sys.stderr)
        return 2
    try:
        answer, text = _answer(args)
    except DatasetError as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": type(exc).__name__, "message": str(exc)}))
        print(f"grasp dataset: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2, default=str) if args.json else text)
    return 0
