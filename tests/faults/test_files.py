"""Broken files: runs.db or secmaster.db read-only, truncated, not a database, missing, and a
full disk. Each gets one line that names the file and says what to do; nothing is damaged
further; a run that fails on them is ``failed`` with the reason."""

from __future__ import annotations

import pytest

from bench import faults
from tests.faults.conftest import assert_held


@pytest.mark.parametrize("case", list(faults.FILE_CASES))
def test_a_broken_database_file_gets_one_line_of_advice(workspace, case):
    assert_held(faults.file_fault(workspace, case))


def test_a_full_disk_fails_the_run_with_its_reason(workspace):
    assert_held(faults.disk_full(workspace))


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda path: path.write_bytes(b"SQLite format 3\x00" + bytes(84)), None),
    (lambda path: path.write_text("ts,open\n1,2\n"), "is not a SQLite database"),
    (lambda path: path.write_bytes(b"SQLite format 3\x00"), "is cut off"),
    (lambda path: path.write_bytes(b""), None),
])
def test_file_problem_reads_only_the_header(tmp_path, damage, expected):
    from tradecore.paths import file_problem

    target = tmp_path / "x.db"
    damage(target)
    problem = file_problem(target)
    assert (problem is None) if expected is None else (expected in problem), problem


def test_file_problem_spots_a_cut_off_database(tmp_path):
    import sqlite3

    from tradecore.paths import file_problem

    target = tmp_path / "x.db"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 100)
    conn.close()
    assert file_problem(target) is None
    size = target.stat().st_size
    with target.open("r+b") as handle:
        handle.truncate(size - 4096)
    assert f"of {size:,} bytes" in file_problem(target)
