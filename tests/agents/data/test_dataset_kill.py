"""Crash safety of the grasp dataset: SIGKILL a writer at random moments, then inspect the file.

Run as a script, this file is the writer: ``python test_dataset_kill.py PATH ROWS COLS`` opens
(creates or resumes) the dataset, prints ``open N``, then appends record N, N + 1, ... for
ever, printing the committed count after each append returns. Records are made from their
index alone, so the test can check every byte that reached the file.
"""

from __future__ import annotations

import math
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from agents.data import SCHEMA_VERSION, GraspDataset, GraspDatasetWriter, GraspRecord
from agents.data.codec import HEIGHT_CODES
from grasp_env.geometry import ImageGeometry

CONFIG = {"experiment": "kill-test", "grid": {"rotations": 20, "widths": [0.03, 0.05, 0.07]}}
META = {"git_commit": "0123abcd", "purpose": "crash safety"}
METHODS = ("random", "max", "prob")


def make_record(i: int, shape: tuple[int, int]) -> GraspRecord:
    """Record ``i``, a pure function of ``i`` and the image shape."""
    rng = np.random.default_rng(i)
    return GraspRecord(
        height=HEIGHT_CODES.decode(rng.integers(0, 1000, shape), ImageGeometry()),
        valid=rng.integers(0, 2, shape, dtype=np.uint8),
        action=rng.uniform(-0.1, 0.1, 4).astype(np.float32),
        index=None if i % 5 == 0 else rng.integers(0, 20, 4),
        reward=float(i % 3 == 0),
        method=METHODS[i % 3],
        value=math.nan if i % 4 == 0 else float(rng.random()),
        timestamp=1_700_000_000.0 + 1.25 * i,
        object_set=("cubes", "household")[i % 2],
        env_id="SimBinGrasp-v0",
        seed=i,
        z=float(rng.random()) * 0.05,
        contact=(None, True, False)[i % 3],
        width=float(rng.random()) * 0.07,
        force=10.0,
        cycle_time=float(rng.random()) * 20.0,
        grasp_bin=i % 2,
        grasped=f"object-{i % 7}" if i % 3 == 0 else "",
    )


def writer_main(path: str, rows: int, cols: int) -> None:
    """Append records for ever, acknowledging each commit on stdout."""
    image = ImageGeometry(rows=rows, cols=cols)
    print("ready", flush=True)
    writer = GraspDatasetWriter.open(path, image=image, config=CONFIG, meta=META)
    print(f"open {writer.count}", flush=True)
    while True:
        print(writer.append(make_record(writer.count, image.shape)), flush=True)


def _wait_for_line(proc: subprocess.Popen, deadline: float) -> str:
    """Read one line of the writer's stdout, failing the test at ``deadline``."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
    assert ready, "the writer did not start in time"
    return proc.stdout.readline().strip()


def _kill_trial(
    path: Path, shape: tuple[int, int], delay: float, known: int, after_open: bool
) -> tuple[int, int]:
    """Start a writer, SIGKILL it ``delay`` s after it is ready; return (acked, opened at).

    With ``after_open`` the delay starts once the writer has opened the file, so the kill
    lands among the appends however long the open (a rebuild after a crash) took on a busy
    machine; otherwise it may land during the open.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, __file__, str(path), str(shape[0]), str(shape[1])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 30.0
        assert _wait_for_line(proc, deadline) == "ready"
        while after_open and not (seen and seen[-1].startswith("open ")):
            seen.append(_wait_for_line(proc, deadline))
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30.0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the writer died by itself:\n{err}"
    acked, opened = known, -1
    for line in [*seen, *out.splitlines()]:
        if line.startswith("open "):
            opened = int(line.split()[1])
            acked = max(acked, opened)
        elif line.strip():
            acked = int(line)
    return acked, opened


def _check_file(
    path: Path, shape: tuple[int, int], acked: int, cache: dict, rows: list[int] | None = None
) -> int:
    """The file opens without repair and holds the acknowledged records (+ at most 1).

    Compares ``rows`` of the committed records (all when None) with what was written.
    """
    with GraspDataset(path) as ds:
        n = len(ds)
        assert acked <= n <= acked + 1, f"acknowledged {acked}, file holds {n}"
        assert ds.uncommitted <= 1
        assert ds.schema_version == SCHEMA_VERSION
        assert ds.config == CONFIG
        assert ds.meta == META
        assert ds.image.shape == shape
        rows = list(range(n)) if rows is None else sorted({i for i in rows if i < n})
        arrays = ds.read(np.array(rows, dtype=np.int64))
    for row, i in enumerate(rows):
        expected = cache.setdefault(i, make_record(i, shape))
        assert arrays.record(row) == expected, f"record {i} differs from what was written"
    return n


def _start_writer(path: Path, shape: tuple[int, int]) -> tuple[subprocess.Popen, int]:
    """Start a writer and read its output up to ``open N``; return it and N."""
    cmd = [sys.executable, __file__, str(path), str(shape[0]), str(shape[1])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # the writer prints without pause, so this cannot block long
        if line.startswith("open "):
            return proc, int(line.split()[1])
    raise AssertionError("the writer ended before it opened the dataset")


def _stop(proc: subprocess.Popen) -> int:
    """SIGKILL the writer; return the last count it acknowledged."""
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=30.0)
    return int(out.split()[-1]) if out.split() else -1


@pytest.mark.timeout(120)
def test_a_reader_sees_a_consistent_prefix_while_a_writer_appends(tmp_path: Path) -> None:
    """A SWMR reader in another process than the writer, across a crash and a rebuild."""
    path, shape = tmp_path / "grasps.h5", (12, 10)
    proc, opened = _start_writer(path, shape)
    assert opened == 0
    seen = []
    with GraspDataset(path) as ds:
        try:
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:
                n = ds.refresh()
                assert not seen or n >= seen[-1]
                seen.append(n)
                rows = np.arange(max(0, n - 3), n)
                arrays = ds.read(rows)
                for k, i in enumerate(rows):
                    assert arrays.record(k) == make_record(int(i), shape)
                time.sleep(0.01)
        finally:
            acked = _stop(proc)
        assert len(set(seen)) > 5, "the reader never saw the dataset grow"
        assert acked <= ds.refresh() <= acked + 1
        before = len(ds)
        # a new writer rebuilds the crashed file (a new inode); the reader follows it
        proc, opened = _start_writer(path, shape)
        try:
            assert opened == before
            while ds.refresh() < before + 5:
                time.sleep(0.01)
        finally:
            _stop(proc)
        assert ds.recoveries
        assert all(ds[i] == make_record(i, shape) for i in range(len(ds)))


@pytest.mark.timeout(240)
def test_sigkill_at_random_moments_loses_at_most_the_record_in_flight(tmp_path: Path) -> None:
    """50 seeded random SIGKILLs, during creation, rebuild after a crash, and appends."""
    _run_kills(tmp_path / "grasps.h5", trials=50, seed=20190520, max_delay=0.6)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_sigkill_soak(tmp_path: Path) -> None:
    """The same with 400 kills and a larger image, for a longer soak."""
    _run_kills(tmp_path / "grasps.h5", trials=400, seed=7, max_delay=1.5, shape=(110, 110))


def _run_kills(
    path: Path, trials: int, seed: int, max_delay: float, shape: tuple[int, int] = (12, 10)
) -> None:
    rand = random.Random(seed)
    cache: dict[int, GraspRecord] = {}
    committed = 0
    opened_after_crash = 0
    for trial in range(trials):
        delay = rand.uniform(0.0, max_delay)
        acked, opened = _kill_trial(path, shape, delay, committed, after_open=trial % 2 == 1)
        if opened >= 0:
            # a resumed writer starts exactly at the committed count: nothing lost or doubled
            assert opened == committed, f"trial {trial}: reopened at {opened}, had {committed}"
            opened_after_crash += trial > 0
        if not path.exists():
            assert trial == 0, "the file vanished after it had been created"
            assert acked == 0
            continue
        # the records new since the last check, the one before them, and a sample of the rest
        sample = rand.sample(range(committed + 1), min(10, committed + 1))
        rows = [*range(max(0, committed - 1), acked + 1), *sample]
        committed = _check_file(path, shape, acked, cache, rows)
    _check_file(path, shape, committed, cache)  # every record, at the end
    assert committed > trials, f"too few records written ({committed}) to exercise appends"
    assert opened_after_crash > trials // 4, "too few kills landed after a resumed open"
    with GraspDataset(path) as ds:
        assert ds.recoveries, "no resume rebuilt the file after a crash"
        assert all(entry["dropped"] in (0, 1) for entry in ds.recoveries)
        counts = [entry["committed"] for entry in ds.recoveries]
        assert counts == sorted(counts)


if __name__ == "__main__":
    writer_main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
