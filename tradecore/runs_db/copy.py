"""Copy one recorded run from one runs.db into another, in one transaction.

Sweep workers that share no disk with the coordinator record each point into a private
runs.db and send the file back; the coordinator merges the run into the shared runs.db with
``copy_run``. The run gets a new ``run_key`` (and its id a suffix if the name is taken), its
rows of each big table are contiguous (one segment), and nothing of it is visible before the
whole run is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tradecore.runs_db.runs import RunNotFoundError
from tradecore.runs_db.schema import (
    EVENT_TABLES,
    SCHEMA_VERSION,
    SEGMENTED_TABLES,
    RunsDatabaseError,
    connect,
    indicator_column,
)

_RUN_COLUMNS = ("name", "status", "ts_start", "ts_end", "config", "error", "error_traceback",
                "pid", "host", "sweep_id", "role", "tradecore_version")


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA {schema}.table_info({table})")]


def copy_run(src_db_path: str | Path, dst_db_path: str | Path, run_id: str, *,
             sweep_id: str | None = None, role: str | None = None) -> str:
    """Copy run ``run_id`` of ``src_db_path`` into ``dst_db_path``; its id in the destination.

    ``sweep_id`` / ``role``, when given, replace the run's own.
    """
    src = Path(src_db_path).resolve()
    if not src.is_file():
        raise FileNotFoundError(f"no runs database at {src}")
    conn = connect(dst_db_path)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")  # rows go in under a key read back just now
        conn.execute("ATTACH DATABASE ? AS src", (str(src),))
        version = conn.execute("PRAGMA src.user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise RunsDatabaseError(f"{src} is runs.db schema {version}, not {SCHEMA_VERSION}")
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(f"SELECT run_key, {', '.join(_RUN_COLUMNS)} FROM src.runs"
                               " WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotFoundError(f"no run {run_id!r} in {src}")
            src_key, values = row[0], dict(zip(_RUN_COLUMNS, row[1:], strict=True))
            if sweep_id is not None:
                values["sweep_id"] = sweep_id
            if role is not None:
                values["role"] = role
            new_id, attempt = run_id, 1
            while conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (new_id,)).fetchone():
                attempt += 1
                new_id = f"{run_id}_{attempt}"
            cursor = conn.execute(
                f"INSERT INTO runs (run_id, {', '.join(_RUN_COLUMNS)})"
                f" VALUES (?, {', '.join('?' * len(_RUN_COLUMNS))})",
                (new_id, *values.values()))
            key = int(cursor.lastrowid)
            _copy_events(conn, src_key, key)
            for table in ("run_indicators", "run_statistics", "run_results"):
                columns = [c for c in _columns(conn, "main", table) if c != "run_key"]
                listed = ", ".join(columns)
                conn.execute(f"INSERT INTO main.{table} (run_key, {listed})"
                             f" SELECT ?, {listed} FROM src.{table} WHERE run_key = ?",
                             (key, src_key))
        return new_id
    finally:
        try:
            conn.execute("DETACH DATABASE src")
        except sqlite3.Error:
            pass
        conn.close()


def _copy_events(conn: sqlite3.Connection, src_key: int, key: int) -> None:
    for table in EVENT_TABLES:
        src_columns = [c for c in _columns(conn, "src", table) if c != "run_key"]
        dst_columns = set(_columns(conn, "main", table))
        for column in src_columns:
            if column not in dst_columns and column.startswith("indicator_"):
                slot = int(column.removeprefix("indicator_"))
                for missing in range(slot + 1):
                    if indicator_column(missing) not in dst_columns:
                        conn.execute(f"ALTER TABLE main.{table} ADD COLUMN "
                                     f"{indicator_column(missing)} REAL")
                        dst_columns.add(indicator_column(missing))
        listed = ", ".join(src_columns)
        insert = f"INSERT INTO main.{table} (run_key, {listed}) SELECT ?, {listed} FROM src.{table}"
        count = 0
        if table in SEGMENTED_TABLES:
            # Range by range: SQLite walks each rowid range, no list of rowids is built.
            for first, last in conn.execute(
                    "SELECT first_rowid, last_rowid FROM src.run_segments WHERE run_key = ?"
                    " AND table_name = ? ORDER BY first_rowid", (src_key, table)).fetchall():
                count += conn.execute(f"{insert} WHERE rowid BETWEEN ? AND ? AND run_key = ?"
                                      f" ORDER BY rowid", (key, first, last, src_key)).rowcount
        else:
            count = conn.execute(f"{insert} WHERE run_key = ? ORDER BY rowid",
                                 (key, src_key)).rowcount
        if table in SEGMENTED_TABLES and count > 0:
            last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            conn.execute("INSERT INTO run_segments (run_key, table_name, first_rowid,"
                         " last_rowid) VALUES (?, ?, ?, ?)", (key, table, last - count + 1, last))
