"""The shared DuckDB connection of this process, and runs.db attached to it through DuckDB's
SQLite extension: offline, a cursor per query, per-run SQL pushed into SQLite.

Design Decision: one connection, a cursor per query
    One ``duckdb.connect()`` used from several threads at once returns wrong results without an
    error; cursors of one connection are safe. Streamlit runs each session in its own thread, so
    the process shares one connection (created lazily, re-created after a fork) and every query
    takes its own cursor, in autocommit: no DuckDB transaction is ever held open (one would pin
    SQLite's snapshot and hide a running run's new rows).

Design Decision: never the network
    ``duckdb-ext-sqlite`` ships the SQLite extension file. The connection points
    ``extension_directory`` at it with extension autoinstall and autoload off, so nothing is
    ever downloaded; ``attach`` loads it (``LOAD sqlite``) and attaches runs.db under a
    hand-quoted path (``ATTACH`` takes no bound parameter), with a busy timeout so a write
    (delete, status mark, statistics) waits for a recording run's commit instead of failing.

Design Decision: per-run reads go into SQLite with ``sqlite_query``
    The scanner behind a plain ``ATTACH`` pushes no filter down: ``WHERE run_key = ?`` on an
    attached table reads every run's rows. ``sqlite_query(<alias>, '<SQL>', params=row(...))``
    runs the SQL inside SQLite, where a run's rows are found by their rowid segments or the
    ``run_key`` index (see ``tradecore.runs_db.schema``): a read costs what the run holds,
    whatever else is stored. Its columns arrive as VARCHAR, so callers cast them; REALs are
    rendered in SQLite with enough digits to read back exactly (``real_text``; SQLite's
    default text form keeps 15). Its parameters must be BIGINT or VARCHAR.
    DML runs the same way (``... RETURNING``), so deletes use SQLite's indexes too.

Design Decision: two copies of SQLite never have runs.db open at once in one process
    DuckDB's SQLite extension is a second copy of SQLite inside the process. POSIX file locks
    never conflict within one process, so each copy can believe it is the only user of a WAL
    database: one then resets (truncates) the ``-shm`` wal-index that the other has mapped,
    and the next access through the other dies with SIGBUS (reproduced here; SQLite's "How To
    Corrupt An SQLite Database File", 2.2.1). So the dashboard's process touches runs.db only
    through DuckDB -- reads and its few writes -- and runs backtests and sweeps in child
    processes; an engine process (CLI, Python API, sweep worker) that reads a run with
    analytics has it detached again before its recorder opens runs.db with sqlite3
    (``tradecore.runs_db.schema.connect`` calls ``detach``), so the two take turns.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

#: How long a write through the attachment waits for a recording run's transaction (ms).
BUSY_TIMEOUT_MS = 30_000


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


def real_text(column: str) -> str:
    """SQLite SQL rendering REAL ``column`` as text that reads back as the same double.

    SQLite's default REAL-to-text keeps 15 significant digits (``100.012573022109`` for
    ``100.01257302210934``). ``quote()`` uses 15 digits when they round-trip and 20 otherwise:
    exact for every magnitude above about 1e-290 (prices, quantities, money and indicator
    values; only values within a few powers of ten of the smallest doubles lose digits), and
    2.5x faster here than ``printf('%!.17g')``. NULL must stay NULL (quote gives 'NULL').
    """
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE quote({column}) END"


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
        self.aliases: dict[str, tuple[str, tuple[int, int], bool]] = {}  # path -> alias info
        self.counter = 0


_lock = threading.RLock()
_shared: _Shared | None = None


def _state() -> _Shared:
    global _shared
    with _lock:
        if _shared is None or _shared.pid != os.getpid():
            _shared = _Shared()  # a forked child must not use its parent's connection
        return _shared


def attach(db_path: str | os.PathLike) -> str:
    """Attach SQLite file ``db_path`` (once per file; read-write when the file is writable,
    else read-only) and return its catalog alias."""
    path = str(Path(db_path).resolve())
    stat = os.stat(path)
    file_id = (stat.st_dev, stat.st_ino)
    shared = _state()
    with _lock:
        known = shared.aliases.get(path)
        if known is not None and known[1] == file_id:
            return known[0]
        cursor = shared.connection.cursor()
        try:
            if not shared.sqlite_loaded:
                try:
                    cursor.execute("LOAD sqlite")
                except duckdb.Error as error:
                    raise AnalyticsSetupError(
                        f"cannot load DuckDB's SQLite extension: {error}") from error
                shared.sqlite_loaded = True
            if known is not None:  # the file was replaced: attach the new one
                cursor.execute(f"DETACH DATABASE IF EXISTS {known[0]}")
            shared.counter += 1
            alias = f"runs_db_{shared.counter}"
            writable = os.access(path, os.W_OK) and os.access(Path(path).parent, os.W_OK)
            mode = f"BUSY_TIMEOUT {BUSY_TIMEOUT_MS:d}" if writable else "READ_ONLY"
            cursor.execute(f"ATTACH {sql_string(path)} AS {alias} (TYPE sqlite, {mode})")
        finally:
            cursor.close()
        shared.aliases[path] = (alias, file_id, writable)
        return alias


def is_writable(db_path: str | os.PathLike) -> bool:
    """Whether ``db_path`` is attached read-write."""
    attach(db_path)
    return _state().aliases[str(Path(db_path).resolve())][2]


def detach(db_path: str | os.PathLike) -> None:
    """Detach ``db_path`` if attached (so this process's sqlite3 may open it next)."""
    global _shared
    path = str(Path(db_path).resolve())
    with _lock:
        if _shared is None or _shared.pid != os.getpid():
            return
        known = _shared.aliases.pop(path, None)
        if known is None:
            return
        cursor = _shared.connection.cursor()
        try:
            cursor.execute(f"DETACH DATABASE IF EXISTS {known[0]}")
        finally:
            cursor.close()


def sqlite_query(alias: str, sql: str, values: Sequence[Any] = (),
                 prefix: str = "p") -> tuple[str, dict[str, Any]]:
    """A DuckDB table expression running ``sql`` inside SQLite, and its named parameters.

    ``values`` bind SQLite's ``?1 ... ?N`` (ints as BIGINT, everything else as VARCHAR, the two
    types the extension accepts); ``prefix`` keeps the names apart when a DuckDB query holds
    several such expressions.
    """
    names, params = [], {}
    for i, value in enumerate(values):
        name = f"{prefix}{i + 1}"
        if isinstance(value, bool | int):
            names.append(f"${name}::BIGINT")
            params[name] = int(value)
        else:
            names.append(f"${name}::VARCHAR")
            params[name] = str(value)
    bound = f", params=row({', '.join(names)})" if names else ""
    return f"sqlite_query({sql_string(alias)}, {sql_string(sql)}{bound})", params


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


def query_rows(sql: str, params: Mapping[str, Any] | list | None = None) -> list[tuple]:
    """Run ``sql`` on its own cursor and return its rows as tuples."""
    with cursor() as cur:
        return (cur.execute(sql, params) if params else cur.execute(sql)).fetchall()


def close_connections() -> None:
    """Close the shared connection (it is re-created on next use); for tests and tools."""
    global _shared
    with _lock:
        if _shared is not None and _shared.pid == os.getpid():
            _shared.connection.close()
        _shared = None
