"""Copy recorded runs from one runs.db into another, each in one transaction.

Sweep workers that share no disk with the coordinator record each point into a private
runs.db and send the file's bytes back; the coordinator merges each run into the shared
runs.db with a :class:`RunCopier` (``copy_run`` copies one run between two files). A copied
run gets a new ``run_key`` (or keeps a sweep's reserved one, below; its id gets a suffix if the
name is taken), its rows of each big table are contiguous (one segment), and nothing of it is
visible before the whole run is.

Design Decision: rows move inside SQLite, never through Python
    Every table is copied with one ``INSERT ... SELECT`` from the attached source, the whole
    run in one transaction: SQLite reads and writes the records itself, and Python only
    issues a few dozen statements per run (measured: about 0.1 s of CPU per 100k-bar table
    pair, against seconds for rows fetched into Python).

Design Decision: a sweep's runs keep the (negative) key they were recorded under
    Rows carry their run's key, so a copy under a new key must decode and re-encode every
    record. When the source rows already carry the key the run gets here, SQLite's transfer
    optimisation copies a table's records as they are (``INSERT INTO t SELECT * FROM src.t``
    with identical columns): measured, about 0.035 s of CPU per 100k-row table instead of 0.1.
    So a sweep's coordinator gives each point a key below every key in runs.db
    (:meth:`RunCopier.first_free_key_below`, counting down), the worker records under it
    (``tradecore.sweep.worker``), and ``keep_key=True`` keeps it. Other writers take
    ``max(run_key) + 1``, never a negative key while runs.db holds any run with a positive
    key; when the key is taken all the same (two sweeps at once, or another run recorded
    into a runs.db that held only sweep runs), the run gets a new key and is copied the
    ordinary way -- slower, never wrong. The fast path is also taken only
    when the source table holds this run's rows and nothing else, and its columns are the
    destination's, in order.

Design Decision: a sweep's coordinator keeps one connection and copies from memory
    ``RunCopier`` opens runs.db once for a whole sweep (one writer, no connect, schema check
    or attach per point) and loads each worker's bytes with ``sqlite3``'s ``deserialize``
    into an in-memory schema attached once, so a point's run never goes through a temporary
    file (a 100k-bar run is about 20 MB; writing and deleting it cost about 0.05 s of wall
    time a point, beside about 0.3 s of CPU for the copy itself before the fast path). The
    schema is attached anew only when the bytes' page size changes (workers of another
    tradecore version, a file made before 16 KiB pages): SQLite keeps the page size of the
    first bytes loaded and would read the others as malformed. A file in WAL mode says so in
    its header (bytes 18-19 = 2), which an in-memory database cannot open; the bytes of a
    checkpointed, closed WAL file are a complete database, so those two bytes are set to the
    rollback-journal value (1) first.

Design Decision: each copied run is checkpointed as it lands
    SQLite checkpoints a WAL once it holds ``wal_autocheckpoint`` pages (1,000), and the last
    connection to close checkpoints the rest. With the 64 KiB pages runs.db had when this was
    measured, that was 64 MB, three 100k-bar runs: a sweep's end waited for up to three runs' pages to be
    checkpointed (and synced) as the copier closed, 0.4 s measured, after its last point. The
    copier checkpoints after every commit instead, so each run's pages go to the database file
    while the workers run the next points, and the sweep ends when its last run has been
    copied and checkpointed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import TracebackType

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
_RESULT_TABLES = ("run_indicators", "run_statistics", "run_results")
_SOURCE = "src"  # the schema name the source database is attached under
_HEADER = b"SQLite format 3\x00"
_VERSION_BYTES = slice(18, 20)  # file format write/read versions: 1 rollback journal, 2 WAL


def copy_run(src_db_path: str | Path, dst_db_path: str | Path, run_id: str, *,
             sweep_id: str | None = None, role: str | None = None) -> str:
    """Copy run ``run_id`` of ``src_db_path`` into ``dst_db_path``; its id in the destination.

    ``sweep_id`` / ``role``, when given, replace the run's own.
    """
    with RunCopier(dst_db_path) as copier:
        return copier.copy_file(src_db_path, run_id, sweep_id=sweep_id, role=role)


def database_bytes_for_copy(content: bytes | bytearray) -> bytes | bytearray:
    """``content`` (a whole runs.db file) with its header set to rollback-journal mode, as an
    in-memory copy needs (see the module docstring); unchanged if it already is."""
    if not _needs_rollback_header(content, "the bytes handed back are not an SQLite database"):
        return content
    patched = content if isinstance(content, bytearray) else bytearray(content)
    patched[_VERSION_BYTES] = b"\x01\x01"
    return patched


def file_for_copy(path: str | Path) -> None:
    """Set the header of the closed, checkpointed runs.db at ``path`` to rollback-journal mode
    in place, as :func:`database_bytes_for_copy` does to bytes: a copier then reads it without
    a WAL or wal-index file beside it."""
    with open(path, "r+b", buffering=0) as file:
        if _needs_rollback_header(file.read(_VERSION_BYTES.stop),
                                  f"{path} is not an SQLite database"):
            file.seek(_VERSION_BYTES.start)
            file.write(b"\x01\x01")


def _needs_rollback_header(header: bytes | bytearray, not_sqlite: str) -> bool:
    """Whether an SQLite file's ``header`` is not in rollback-journal mode yet; what is not an
    SQLite file at all is refused with the message ``not_sqlite``."""
    if header[:16] != _HEADER:
        raise RunsDatabaseError(not_sqlite)
    return header[_VERSION_BYTES] != b"\x01\x01"


def _page_size(content: bytes | bytearray) -> int:
    """The page size an SQLite file's header gives (bytes 16-17, big-endian; 1 is 65536)."""
    size = int.from_bytes(content[16:18], "big")
    return 65536 if size == 1 else size


class RunCopier:
    """One connection to ``dst_db_path`` that copies runs into it, one transaction a run.

    Use as a context manager (or call :meth:`close`). Not thread-safe: one copier, one
    thread (a sweep's coordinator)."""

    def __init__(self, dst_db_path: str | Path) -> None:
        self.dst_db_path = Path(dst_db_path)
        self._conn = connect(self.dst_db_path)
        self._attached: str | None = None  # "file" or "memory"
        self._memory_page_size = 0  # of the bytes last loaded into the in-memory schema
        try:
            # rows go in under a run key read back inside the same transaction
            self._conn.execute("PRAGMA foreign_keys=OFF")
            # each run checkpointed as it lands (see the module docstring)
            self._conn.execute("PRAGMA wal_autocheckpoint=1")
        except BaseException:
            self._conn.close()
            raise

    def __enter__(self) -> RunCopier:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._detach()
        finally:
            self._conn.close()

    def first_free_key_below(self) -> int:
        """A run key below every key in the destination (and below zero): the first key a
        sweep hands out, counting down (see the module docstring)."""
        lowest = self._conn.execute("SELECT min(run_key) FROM runs").fetchone()[0]
        return min(lowest if lowest is not None else 0, 0) - 1

    def copy_file(self, src_db_path: str | Path, run_id: str, *, sweep_id: str | None = None,
                  role: str | None = None, keep_key: bool = False) -> str:
        """Copy run ``run_id`` of the runs.db at ``src_db_path``; its id here. ``keep_key`` as
        for :meth:`copy_bytes`."""
        src = Path(src_db_path).resolve()
        if not src.is_file():
            raise FileNotFoundError(f"no runs database at {src}")
        self._detach()
        self._conn.execute(f"ATTACH DATABASE ? AS {_SOURCE}", (str(src),))
        self._attached = "file"
        try:
            return self._copy(str(src), run_id, sweep_id, role, keep_key=keep_key)
        finally:
            self._detach()

    def copy_bytes(self, content: bytes | bytearray, run_id: str, *,
                   sweep_id: str | None = None, role: str | None = None,
                   keep_key: bool = False) -> str:
        """Copy run ``run_id`` out of ``content``, the bytes of a whole runs.db file; its id
        here. ``keep_key``: a run recorded under a negative key keeps it when it is free here
        (a sweep's reserved key; see the module docstring). The source stays in memory until
        the next copy or :meth:`close`."""
        content = database_bytes_for_copy(content)
        page_size = _page_size(content)
        if self._attached != "memory" or self._memory_page_size != page_size:
            # A fresh in-memory schema for bytes of another page size: SQLite keeps the page
            # size of the first bytes loaded into it and reads others as malformed.
            self._detach()
            self._conn.execute(f"ATTACH DATABASE ':memory:' AS {_SOURCE}")
            self._attached, self._memory_page_size = "memory", page_size
        self._conn.deserialize(content, name=_SOURCE)
        return self._copy("the run handed back", run_id, sweep_id, role, keep_key=keep_key)

    def _detach(self) -> None:
        if self._attached is not None:
            self._attached = None
            self._conn.execute(f"DETACH DATABASE {_SOURCE}")

    def _copy(self, source: str, run_id: str, sweep_id: str | None, role: str | None, *,
              keep_key: bool) -> str:
        conn = self._conn
        try:
            version = conn.execute(f"PRAGMA {_SOURCE}.user_version").fetchone()[0]
        except sqlite3.DatabaseError as error:  # SQLite reads the header only now
            raise RunsDatabaseError(f"{source} cannot be read ({error})") from None
        if version != SCHEMA_VERSION:
            raise RunsDatabaseError(f"{source} is runs.db schema {version}, not "
                                    f"{SCHEMA_VERSION}")
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(f"SELECT run_key, {', '.join(_RUN_COLUMNS)} FROM {_SOURCE}.runs"
                               " WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotFoundError(f"no run {run_id!r} in {source}")
            src_key, values = row[0], dict(zip(_RUN_COLUMNS, row[1:], strict=True))
            if sweep_id is not None:
                values["sweep_id"] = sweep_id
            if role is not None:
                values["role"] = role
            new_id, attempt = run_id, 1
            while conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (new_id,)).fetchone():
                attempt += 1
                new_id = f"{run_id}_{attempt}"
            keep = keep_key and src_key < 0 and conn.execute(
                "SELECT 1 FROM runs WHERE run_key = ?", (src_key,)).fetchone() is None
            cursor = conn.execute(
                f"INSERT INTO runs (run_key, run_id, {', '.join(_RUN_COLUMNS)})"
                f" VALUES (?, ?, {', '.join('?' * len(_RUN_COLUMNS))})",
                (src_key if keep else None, new_id, *values.values()))
            key = int(cursor.lastrowid)
            _copy_events(conn, src_key, key)
            for table in _RESULT_TABLES:
                columns = [c for c in _columns(conn, "main", table) if c != "run_key"]
                listed = ", ".join(columns)
                conn.execute(f"INSERT INTO main.{table} (run_key, {listed})"
                             f" SELECT ?, {listed} FROM {_SOURCE}.{table} WHERE run_key = ?",
                             (key, src_key))
        return new_id


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA {schema}.table_info({table})")]


def _holds_only(conn: sqlite3.Connection, table: str, run_key: int) -> bool:
    """Whether the source ``table`` holds the rows of run ``run_key`` and nothing else: its
    segments (exactly its rows) join up and span the table's first to last rowid."""
    # Two subqueries: SQLite answers a lone min() or max() of the rowid from the b-tree's
    # ends, but ``SELECT min(rowid), max(rowid)`` scans the table (0.03 s a 100k-row run).
    low, high = conn.execute(f"SELECT (SELECT min(rowid) FROM {_SOURCE}.{table}),"
                             f" (SELECT max(rowid) FROM {_SOURCE}.{table})").fetchone()
    if low is None:
        return True
    expected = low
    for first, last in conn.execute(
            f"SELECT first_rowid, last_rowid FROM {_SOURCE}.run_segments"
            " WHERE run_key = ? AND table_name = ? ORDER BY first_rowid", (run_key, table)):
        if first != expected:
            return False
        expected = last + 1
    return expected == high + 1


def _copy_events(conn: sqlite3.Connection, src_key: int, key: int) -> None:
    for table in EVENT_TABLES:
        src_columns = [c for c in _columns(conn, _SOURCE, table) if c != "run_key"]
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
        insert = (f"INSERT INTO main.{table} (run_key, {listed})"
                  f" SELECT ?, {listed} FROM {_SOURCE}.{table}")
        count, appended_last = 0, None
        if (table in SEGMENTED_TABLES and key == src_key
                and _columns(conn, "main", table) == _columns(conn, _SOURCE, table)
                and _holds_only(conn, table, src_key)):
            # Records copied as they are (SQLite's transfer optimisation), appended under
            # consecutive rowids after the table's last one.
            before = conn.execute(f"SELECT coalesce(max(rowid), 0) FROM main.{table}"
                                  ).fetchone()[0]
            count = conn.execute(f"INSERT INTO main.{table} SELECT * FROM {_SOURCE}.{table}"
                                 ).rowcount
            appended_last = conn.execute(f"SELECT max(rowid) FROM main.{table}").fetchone()[0]
            if count > 0 and appended_last - before != count:
                raise RunsDatabaseError(f"{table}: the copied rows did not land contiguously")
        elif table in SEGMENTED_TABLES:
            # Range by range: SQLite walks each rowid range, no list of rowids is built.
            for first, last in conn.execute(
                    f"SELECT first_rowid, last_rowid FROM {_SOURCE}.run_segments"
                    " WHERE run_key = ? AND table_name = ? ORDER BY first_rowid",
                    (src_key, table)).fetchall():
                count += conn.execute(f"{insert} WHERE rowid BETWEEN ? AND ? AND run_key = ?"
                                      f" ORDER BY rowid", (key, first, last, src_key)).rowcount
        else:
            count = conn.execute(f"{insert} WHERE run_key = ? ORDER BY rowid",
                                 (key, src_key)).rowcount
        if table in SEGMENTED_TABLES and count > 0:
            last = (appended_last if appended_last is not None
                    else conn.execute("SELECT last_insert_rowid()").fetchone()[0])
            conn.execute("INSERT INTO run_segments (run_key, table_name, first_rowid,"
                         " last_rowid) VALUES (?, ?, ?, ?)", (key, table, last - count + 1, last))
