"""The coordinator's merge: runs copied out of a worker's bytes, in memory, through one
connection, equal row for row to the private file's run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.analytics.helpers import RunBuilder, config, day
from tradecore import analytics
from tradecore.analytics.finalize import finalize_run
from tradecore.analytics.raw import select_sql
from tradecore.runs_db import RunsDatabaseError, copy_run
from tradecore.runs_db.copy import RunCopier, database_bytes_for_copy
from tradecore.runs_db.recorder import BATCH_SIZE
from tradecore.runs_db.schema import EVENT_TABLES
from tradecore.sweep.merge import merge_run, open_merger


def private_run(path: Path, run_id: str, *, indicators: int = 1, bars: int = 50) -> Path:
    builder = RunBuilder(path, run_id, config(["AAA"]))
    builder.trade(day(2), 1, "AAA", "BUY", 10, 10.0)
    for d in range(bars):
        builder.bar(day(d), "AAA", 10, 11, 9, 10 + d % 3,
                    indicators={f"SMA({i + 2})": d + i / 10 for i in range(indicators)})
    builder.finish()
    assert finalize_run(run_id, path)  # statistics and overviews stored, as a worker does
    analytics.close_connections()
    return path


def table_rows(db: Path, run_id: str, table: str) -> list[tuple]:
    """A run's rows of ``table`` as analytics finds them, without the rowid and run key."""
    with sqlite3.connect(db) as conn:
        key = conn.execute("SELECT run_key FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
        rows = conn.execute(select_sql(table, text_reals=False), (key,)).fetchall()
        columns = [c[0] for c in conn.execute(select_sql(table, text_reals=False),
                                              (key,)).description]
    conn.close()
    keep = [i for i, c in enumerate(columns) if c not in ("rowid", "run_key")]
    return [tuple(r[i] for i in keep) for r in rows]


def stored(db: Path, run_id: str) -> tuple:
    with sqlite3.connect(db) as conn:
        key = conn.execute("SELECT run_key FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
        stats = conn.execute("SELECT definitions_version, stats FROM run_statistics"
                             " WHERE run_key = ?", (key,)).fetchall()
        results = conn.execute("SELECT name, version, arrow_hex FROM run_results"
                               " WHERE run_key = ? ORDER BY name", (key,)).fetchall()
        indicators = conn.execute("SELECT strategy, slot, name, overlay, panel, levels"
                                  " FROM run_indicators WHERE run_key = ? ORDER BY slot",
                                  (key,)).fetchall()
    conn.close()
    return stats, results, indicators


def segments(db: Path, run_id: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT table_name, first_rowid, last_rowid FROM run_segments"
                            " JOIN runs USING (run_key) WHERE run_id = ? ORDER BY table_name",
                            (run_id,)).fetchall()
    conn.close()
    return rows


def test_runs_copied_from_bytes_through_one_copier_equal_their_private_files(tmp_path):
    a = private_run(tmp_path / "a.db", "point", bars=2 * BATCH_SIZE + 7)
    b = private_run(tmp_path / "b.db", "point", indicators=11)  # more than the 8 columns
    shared = tmp_path / "shared.db"
    with open_merger(shared) as merger:
        first = merger.copy_bytes(a.read_bytes(), "point", sweep_id="sw", role="in_sample")
        second = merger.copy_bytes(b.read_bytes(), "point", sweep_id="sw", role=None)
    assert (first, second) == ("point", "point_2")
    for copied, private in ((first, a), (second, b)):
        for table in EVENT_TABLES:
            assert table_rows(shared, copied, table) == table_rows(private, "point", table), \
                (copied, table)
        assert stored(shared, copied) == stored(private, "point")
        assert stored(shared, copied)[0]  # the worker's statistics came along
        # one contiguous range per big table, exactly the run's rows
        spans = segments(shared, copied)
        assert [name for name, _, _ in spans] == ["bars", "bars_processed"]
        assert all(last - first_ + 1 == len(table_rows(private, "point", name))
                   for name, first_, last in spans)
    with sqlite3.connect(shared) as conn:
        tags = conn.execute("SELECT run_id, sweep_id, role FROM runs ORDER BY run_key").fetchall()
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert tags == [("point", "sw", "in_sample"), ("point_2", "sw", None)]


def test_bytes_and_file_copies_give_the_same_rows(tmp_path):
    private = private_run(tmp_path / "p.db", "point")
    by_file, by_bytes = tmp_path / "file.db", tmp_path / "bytes.db"
    copy_run(private, by_file, "point")
    merge_run(private.read_bytes(), "point", by_bytes, sweep_id=None, role=None)
    for table in EVENT_TABLES:
        assert table_rows(by_file, "point", table) == table_rows(by_bytes, "point", table)
    assert stored(by_file, "point") == stored(by_bytes, "point")


def test_a_wal_header_is_switched_to_rollback_mode_only_in_the_two_version_bytes(tmp_path):
    content = private_run(tmp_path / "p.db", "point").read_bytes()
    assert content[18:20] == b"\x02\x02"  # recorded in WAL mode
    patched = database_bytes_for_copy(bytearray(content))
    assert patched[18:20] == b"\x01\x01"
    assert patched[:18] == content[:18] and patched[20:] == content[20:]
    assert database_bytes_for_copy(patched) is patched  # already fine: untouched


def test_bytes_that_are_not_a_runs_database_are_refused_in_one_line(tmp_path):
    with RunCopier(tmp_path / "shared.db") as copier:
        with pytest.raises(RunsDatabaseError, match="not an SQLite database"):
            copier.copy_bytes(b"definitely not a database" * 10, "point")
        with pytest.raises(RunsDatabaseError, match="cannot be read"):
            copier.copy_bytes(b"SQLite format 3\x00" + b"\x00" * 84, "point")
        # the copier is still usable after a refusal
        content = private_run(tmp_path / "p.db", "point").read_bytes()
        assert copier.copy_bytes(content, "point") == "point"


def keyed_private_run(path: Path, run_id: str, key: int, **kwargs) -> Path:
    """A private run recorded under ``key``, as a sweep worker records a point."""
    from tradecore.sweep.worker import _record_next_run_under

    _record_next_run_under(path, key)
    private_run(path, run_id, **kwargs)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT run_key FROM runs WHERE run_id = ?",
                            (run_id,)).fetchone() == (key,)
    conn.close()
    return path


def run_key(db: Path, run_id: str) -> int:
    with sqlite3.connect(db) as conn:
        key = conn.execute("SELECT run_key FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
    conn.close()
    return key


def assert_same_run(shared: Path, copied: str, private: Path, run_id: str) -> None:
    for table in EVENT_TABLES:
        assert table_rows(shared, copied, table) == table_rows(private, run_id, table), table
    assert stored(shared, copied) == stored(private, run_id)
    spans = segments(shared, copied)
    assert [name for name, _, _ in spans] == ["bars", "bars_processed"]
    for name, first, last in spans:  # one range each, holding exactly the run's rows
        assert last - first + 1 == len(table_rows(private, run_id, name))
        with sqlite3.connect(shared) as conn:
            keys = conn.execute(f"SELECT DISTINCT run_key FROM {name}"
                                " WHERE rowid BETWEEN ? AND ?", (first, last)).fetchall()
        conn.close()
        assert keys == [(run_key(shared, copied),)]


def test_a_sweep_run_keeps_its_reserved_key_and_lands_row_for_row(tmp_path):
    shared = tmp_path / "shared.db"
    private_run(tmp_path / "other.db", "before")  # runs.db already holds a run (key 1)
    copy_run(tmp_path / "other.db", shared, "before")
    with open_merger(shared) as merger:
        key = merger.first_free_key_below()
        assert key == -1
        a = keyed_private_run(tmp_path / "a.db", "a", key, bars=2 * BATCH_SIZE + 7)
        b = keyed_private_run(tmp_path / "b.db", "b", key - 1, indicators=3)
        assert merger.copy_bytes(a.read_bytes(), "a", keep_key=True) == "a"
        assert merger.copy_bytes(b.read_bytes(), "b", keep_key=True) == "b"
        assert merger.first_free_key_below() == key - 2
    assert (run_key(shared, "a"), run_key(shared, "b")) == (key, key - 1)
    assert_same_run(shared, "a", a, "a")
    assert_same_run(shared, "b", b, "b")
    assert_same_run(shared, "before", tmp_path / "other.db", "before")
    with sqlite3.connect(shared) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 3  # no stand-ins
    conn.close()


def test_a_taken_key_or_a_shared_source_falls_back_to_a_new_key_and_the_same_rows(tmp_path):
    shared = tmp_path / "shared.db"
    a = keyed_private_run(tmp_path / "a.db", "a", -1)
    twice = keyed_private_run(tmp_path / "twice.db", "twice", -1)  # another sweep's -1
    wide = keyed_private_run(tmp_path / "wide.db", "wide", -7, indicators=11)
    narrow = keyed_private_run(tmp_path / "narrow.db", "narrow", -8)
    crowded = keyed_private_run(tmp_path / "crowded.db", "first", -20)
    private_run(crowded, "second")  # a source holding two runs
    with open_merger(shared) as merger:
        for path, run_id in ((a, "a"), (twice, "twice"), (wide, "wide"), (narrow, "narrow"),
                             (crowded, "first"), (crowded, "second")):
            assert merger.copy_bytes(path.read_bytes(), run_id, keep_key=True) == run_id
    assert run_key(shared, "a") == -1 and run_key(shared, "twice") not in (-1, -7, -8, -20)
    # more indicator columns than the next run: that one is copied column by column
    assert run_key(shared, "narrow") == -8
    assert run_key(shared, "first") == -20
    for path, run_id in ((a, "a"), (twice, "twice"), (wide, "wide"), (narrow, "narrow"),
                         (crowded, "first"), (crowded, "second")):
        assert_same_run(shared, run_id, path, run_id)


def page_size(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    return size


@pytest.mark.parametrize("older_page_size", [4096, 65536])
def test_a_new_runs_db_has_16k_pages_and_an_older_file_takes_runs_the_same(
        tmp_path, monkeypatch, older_page_size):
    from tradecore.runs_db import schema

    monkeypatch.setattr(schema, "PAGE_SIZE", older_page_size)
    older = tmp_path / "older.db"  # a runs.db made before pages of 16 KiB
    schema.connect(older).close()
    monkeypatch.undo()
    a = keyed_private_run(tmp_path / "a.db", "a", -1, bars=2 * BATCH_SIZE + 7)
    b = private_run(tmp_path / "b.db", "b", indicators=3)
    assert (page_size(a), page_size(older)) == (16384, older_page_size)
    for shared in (older, tmp_path / "new.db"):
        with open_merger(shared) as merger:
            assert merger.copy_bytes(a.read_bytes(), "a", keep_key=True) == "a"  # fast path
            assert merger.copy_bytes(b.read_bytes(), "b") == "b"  # row by row
        assert run_key(shared, "a") == -1
        assert_same_run(shared, "a", a, "a")
        assert_same_run(shared, "b", b, "b")
    assert (page_size(older), page_size(tmp_path / "new.db")) == (older_page_size, 16384)


def test_one_copier_takes_bytes_of_either_page_size_in_any_order(tmp_path, monkeypatch):
    """Workers of an older tradecore record with 4 KiB pages: one copier takes their runs
    between runs of 16 KiB pages (SQLite's in-memory schema keeps its first page size)."""
    from tradecore.runs_db import schema

    monkeypatch.setattr(schema, "PAGE_SIZE", 4096)
    small = private_run(tmp_path / "small.db", "small", bars=2 * BATCH_SIZE + 7)
    monkeypatch.undo()
    large = keyed_private_run(tmp_path / "large.db", "large", -4, indicators=3)  # fast path
    assert (page_size(small), page_size(large)) == (4096, 16384)
    shared = tmp_path / "shared.db"
    with open_merger(shared) as merger:
        for path, run_id in ((large, "large"), (small, "small"), (large, "large"),
                             (small, "small")):
            merger.copy_bytes(path.read_bytes(), run_id, keep_key=True)
    for run_id, path in (("large", large), ("small", small), ("large_2", large),
                         ("small_2", small)):
        assert_same_run(shared, run_id, path, run_id.removesuffix("_2"))
