"""The shared DuckDB connection of this process: offline, a cursor per query, no transaction.

Design Decision: one connection, a cursor per query
    One ``duckdb.connect()`` used from several threads at once returns wrong results without an
    error; cursors of one connection are safe. Streamlit runs each session in its own thread, so
    the process shares one connection (created lazily, re-created after a fork) and every query
    takes its own cursor, in autocommit: no DuckDB transaction is ever held open.

Design Decision: never the network
    ``duckdb-ext-sqlite`` ships the SQLite extension file. The connection points
    ``extension_directory`` at it with extension autoinstall and autoload off, so nothing is
    ever downloaded; ``attach`` loads it (``LOAD sqlite``) and attaches a database READ_ONLY
    under a hand-quoted path (``ATTACH`` takes no bound parameter).

Design Decision: runs.db is not attached in a process that also opens it with sqlite3
    DuckDB's SQLite extension is a second copy of SQLite inside the process. POSIX file locks
    never conflict within one process, so each copy can believe it is the only user of a WAL
    database: DuckDB's copy then resets (truncates) the ``-shm`` wal-index that Python's
    sqlite3 has mapped, and the next access through sqlite3 dies with SIGBUS. It happened here
    (``bench/analytics.py`` writing runs with sqlite3 after one attached query: "Fatal Python
    error: Bus error"); SQLite documents the hazard ("How To Corrupt An SQLite Database File",
    2.2.1, multiple copies of SQLite in one application). Every tradecore process uses sqlite3 on
    runs.db (the recorder, the analytics' indexed per-run reads), so the analytics read runs.db
    through sqlite3 only and use DuckDB on Arrow tables and Parquet files; ``attach`` is kept
    for databases no sqlite3 connection of the process touches (or a separate process).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa


class AnalyticsSetupError(RuntimeError):
    """DuckDB or its bundled SQLite extension cannot be used."""


def extension_directory() -> str:
    """The ``extensions`` folder of the ``duckdb-ext-sqlite`` package (a namespace package)."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise AnalyticsSetupError(
            "DuckDB's SQLite extension is not installed: pip install "
            "duckdb-ext-sqlite==1.4.4.20260205 (it ships the extension, so nothing downloads)"
        )
    return str(Path(next(iter(spec.submodule_search_locations))) / "extensions")


def sql_string(text: str | os.PathLike) -> str:
    """``text`` as a single-quoted SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class _Shared:
    def __init__(self) -> None:
        self.pid = os.getpid()
        try:
            self.connection = duckdb.connect(config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "extension_directory": extension_directory(),
            })
        except duckdb.Error as error:
            raise AnalyticsSetupError(f"cannot start DuckDB: {error}") from error
        self.sqlite_loaded = False
        self.aliases: dict[str, tuple[str, tuple[int, int]]] = {}  # path -> (alias, file id)


_lock = threading.Lock()
_shared: _Shared | None = None


def _state() -> _Shared:
    global _shared
    with _lock:
        if _shared is None or _shared.pid != os.getpid():
            _shared = _Shared()  # a forked child must not use its parent's connection
        return _shared


def attach(db_path: str | os.PathLike) -> str:
    """Attach SQLite file ``db_path`` READ_ONLY (once per file); return its catalog alias.

    Not for a database this process also opens with sqlite3 (see the module docstring).
    """
    path = str(Path(db_path).resolve())
    stat = os.stat(path)
    file_id = (stat.st_dev, stat.st_ino)
    shared = _state()
    with _lock:
        known = shared.aliases.get(path)
        if known is not None and known[1] == file_id:
            return known[0]
        alias = known[0] if known is not None else f"runs_db_{len(shared.aliases)}"
        cursor = shared.connection.cursor()
        try:
            if not shared.sqlite_loaded:
                try:
                    cursor.execute("LOAD sqlite")
                except duckdb.Error as error:
                    raise AnalyticsSetupError(
                        f"cannot load DuckDB's SQLite extension: {error}") from error
                shared.sqlite_loaded = True
            if known is not None:
                cursor.execute(f"DETACH DATABASE IF EXISTS {alias}")
            cursor.execute(f"ATTACH {sql_string(path)} AS {alias} (TYPE sqlite, READ_ONLY)")
        finally:
            cursor.close()
        shared.aliases[path] = (alias, file_id)
        return alias


@contextmanager
def cursor(tables: Mapping[str, pa.Table | pd.DataFrame] | None = None
           ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh cursor of the shared connection, with ``tables`` registered under their names."""
    cur = _state().connection.cursor()
    try:
        for name, table in (tables or {}).items():
            cur.register(name, table)
        yield cur
    finally:
        cur.close()


def query_df(sql: str, params: Mapping[str, Any] | list | None = None, *,
             tables: Mapping[str, pa.Table | pd.DataFrame] | None = None) -> pd.DataFrame:
    """Run ``sql`` on its own cursor and return a DataFrame."""
    with cursor(tables) as cur:
        return (cur.execute(sql, params) if params else cur.execute(sql)).df()


def query_arrow(sql: str, params: Mapping[str, Any] | list | None = None, *,
                tables: Mapping[str, pa.Table | pd.DataFrame] | None = None) -> pa.Table:
    """Run ``sql`` on its own cursor and return a pyarrow Table."""
    with cursor(tables) as cur:
        result = cur.execute(sql, params) if params else cur.execute(sql)
        return result.fetch_arrow_table()


def execute(sql: str, params: Mapping[str, Any] | list | None = None, *,
            tables: Mapping[str, pa.Table | pd.DataFrame] | None = None) -> None:
    """Run a statement that returns nothing of interest (``COPY ... TO``)."""
    with cursor(tables) as cur:
        if params:
            cur.execute(sql, params)
        else:
            cur.execute(sql)


def close_connections() -> None:
    """Close the shared connection (it is re-created on next use); for tests and tools."""
    global _shared
    with _lock:
        if _shared is not None and _shared.pid == os.getpid():
            _shared.connection.close()
        _shared = None
