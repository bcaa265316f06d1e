"""The DuckDB connection layer: offline extension, READ_ONLY attach, a cursor per query."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from tradecore import analytics
from tradecore.analytics import connection


@pytest.fixture
def other_db(tmp_path: Path) -> Path:
    """A SQLite file that no sqlite3 connection of this process keeps open."""
    path = tmp_path / "it's here.db"  # a quote in the path: ATTACH needs it escaped
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k INTEGER, v REAL)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, i / 2) for i in range(1000)])
    conn.close()
    yield path
    analytics.close_connections()


def test_the_extension_comes_from_the_package_never_the_network(other_db):
    alias = connection.attach(other_db)
    with connection.cursor() as cur:
        settings = dict(cur.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN"
            " ('autoinstall_known_extensions', 'autoload_known_extensions',"
            " 'extension_directory')").fetchall())
        loaded = cur.execute("SELECT loaded FROM duckdb_extensions()"
                             " WHERE extension_name = 'sqlite_scanner'").fetchone()
    assert settings["autoinstall_known_extensions"] == "false"
    assert settings["autoload_known_extensions"] == "false"
    assert settings["extension_directory"] == connection.extension_directory()
    assert loaded == (True,)
    assert connection.query_df(f"SELECT count(*) AS n FROM {alias}.t")["n"].iloc[0] == 1000
    assert connection.attach(other_db) == alias  # once per file


def test_sqlite_query_runs_inside_sqlite_with_exact_reals(other_db):
    alias = connection.attach(other_db)
    sql = f"SELECT k, {connection.real_text('v')} AS v FROM t WHERE k BETWEEN ?1 AND ?2"
    expression, params = connection.sqlite_query(alias, sql, [10, 12])
    rows = connection.query_rows(f"SELECT k::BIGINT, v::DOUBLE FROM {expression}", params)
    assert rows == [(10, 5.0), (11, 5.5), (12, 6.0)]
    with sqlite3.connect(other_db) as conn:  # a value SQLite's own text form would round
        conn.execute("UPDATE t SET v = 100.01257302210934 WHERE k = 11")
    conn.close()
    rows = connection.query_rows(f"SELECT v::DOUBLE FROM {expression}", params)
    assert rows[1] == (100.01257302210934,)


def test_writes_go_into_sqlite_through_the_attachment(other_db):
    from tradecore.analytics import source

    assert source.execute(other_db, "DELETE FROM t WHERE k < ?1", (10,)) == 10
    with sqlite3.connect(other_db) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 990
    conn.close()


def test_a_cursor_per_query_is_safe_from_many_threads():
    tables = {f"t{i}": pa.table({"x": list(range(i, i + 1000))}) for i in range(8)}
    wrong: list[tuple] = []

    def work(i: int) -> None:
        for _ in range(20):
            got = connection.query_df(f"SELECT sum(x) AS s FROM t{i}",
                                      tables={f"t{i}": tables[f"t{i}"]})["s"].iloc[0]
            if got != sum(range(i, i + 1000)):
                wrong.append((i, got))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
