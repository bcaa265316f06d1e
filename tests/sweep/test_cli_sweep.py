"""``python -m tradecore sweep``: exit codes, counts and best points; Ctrl-C cancels."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def sweep_command(tmp_path: Path, secmaster: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tradecore", "sweep", *args, "--symbols", "ACME",
            "--start", "2023-01-01", "--end", "2023-12-31", "--secmaster", str(secmaster),
            "--runs-db", str(tmp_path / "runs.db"), "--workers", "2"]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TRADECORE_STRATEGIES": "tests.sweep.strategies"}


def statuses(runs_db: Path) -> list[str]:
    with sqlite3.connect(runs_db) as conn:
        try:
            return sorted(r[0] for r in conn.execute("SELECT status FROM runs"))
        except sqlite3.OperationalError:  # the file exists, its schema is not written yet
            return []


def test_a_failed_point_makes_the_sweep_exit_1_with_counts_and_best_points(
        tmp_path, sample_secmaster):
    done = subprocess.run(
        sweep_command(tmp_path, sample_secmaster, "ExplodingSMA", "--grid", "explode=false,true",
                      "--grid", "fast_period=5,10", "--metric", "total_return_pct", "--top", "1"),
        capture_output=True, text=True, timeout=600, env=environment(), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "completed 2, failed 2"
    assert lines[1] == "best by Return:"
    assert len([line for line in lines if line.startswith("  ")]) == 1  # --top 1
    assert "explode=False" in lines[2]
    assert lines[-1].startswith("sweep_")
    assert done.stderr.count("RuntimeError: boom on bar 20") == 2
    assert "4/4 runs" in done.stderr.splitlines()
    assert statuses(tmp_path / "runs.db") == ["completed", "completed", "failed", "failed"]


def test_ctrl_c_cancels_the_sweep_and_leaves_no_run_running(tmp_path, sample_secmaster):
    runs_db = tmp_path / "runs.db"
    # start_new_session: a Ctrl-C reaches the whole process group, workers included
    sweep = subprocess.Popen(
        sweep_command(tmp_path, sample_secmaster, "SlowSMA", "--grid", "fast_period=5:12:1"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(),
        cwd=tmp_path, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (runs_db.exists() and statuses(runs_db)):
            assert sweep.poll() is None, sweep.communicate()
            assert time.monotonic() < deadline, "no point landed"
            time.sleep(0.2)
        os.killpg(sweep.pid, signal.SIGINT)
        out, err = sweep.communicate(timeout=120)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
    assert sweep.returncode == 130, err
    first = out.splitlines()[0]
    assert first.startswith("completed ") and "not started" in first
    found = statuses(runs_db)
    assert "running" not in found and set(found) <= {"completed", "cancelled"}
    assert len(found) < 8
