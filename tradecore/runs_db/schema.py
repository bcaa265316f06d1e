"""The whole schema of runs.db, its version, and the sqlite3 connection engine processes use.

Tables (schema version ``SCHEMA_VERSION``):

- ``runs``: one row per run. ``run_key`` (INTEGER PRIMARY KEY) is how rows find their run;
  ``run_id`` (UNIQUE) is the name users see, type and put in URLs. Status, times, the
  ``RunConfig`` JSON, error and traceback, the pid and host of the process running it, the
  sweep it belongs to and its role there.
- one table per event type (``tradecore.events.EVENT_TYPES``), columns ``run_key`` and the
  event's fields by name (enums by member name). ``bars_processed`` keeps its indicator values
  in REAL columns ``indicator_0, indicator_1, ...``; ``run_indicators`` names them per run and
  strategy and says how each is drawn.
- ``run_segments``: for the two big tables (``bars``, ``bars_processed``), the rowid ranges
  that hold a run's rows.
- ``run_statistics``: a finished run's statistics, computed once at its end, and
  ``run_results``: the other small results a run page needs (equity and price overviews at
  about 2,000 points, round trips), as Arrow IPC streams in hex text; both carry the version
  of the definitions that made them, so a new version recomputes them.

Design Decision: an integer key, and rowid segments instead of a per-row index
    Every bar of a run makes two rows. Measured on these machines (shared/notes/perf.md), the
    text run id in each row and a ``(run_id, ts)`` index on the two big tables cost more than
    half of the writer's time. The big tables therefore carry the integer ``run_key`` and no
    index: the writer inserts a run's rows in batches, each batch is one transaction, and a
    transaction's rows get consecutive rowids, so it records each batch's rowid range in
    ``run_segments`` (extending the previous range when nothing else was written between).
    A run's rows are ``WHERE rowid BETWEEN first AND last`` over its few segments: SQLite
    reads exactly them, whatever else is stored. The small tables (orders, fills, ...) keep an
    index on ``run_key``.

Design Decision: pages of 16 KiB
    A new runs.db gets pages of 16 KiB, not SQLite's default 4 KiB. Writing rows costs SQLite
    per page as much as per byte: each page is a WAL frame written, then read and written again
    by a checkpoint, each a system call. But the recorder commits every 1,000 rows (the seed's
    batches), and each commit rewrites in the WAL the whole last, partly filled page of each
    table it appended to: the bigger the page, the more bytes a commit rewrites. Measured on
    these machines, the writer process storing a 1M-bar run's captured hand-overs (3 runs
    each, interleaved; CPU-seconds, system time in brackets): 3.1 (0.6) at 8 KiB, **2.9 (0.6)
    at 16 KiB**, 3.4 (0.9) at 32 KiB, 3.9 (1.2) at 64 KiB; in whole 1M-bar runs
    (``bench/engine.py``'s run, 3 pairs) the writer's CPU fell 18-35% from 64 KiB and the
    engine's 4-10%, as the two processes share the memory bus. Reading does not suffer
    against 64 KiB, which runs.db used before: a cold run page of a 1M-bar run (0.23-0.27 s
    either way, ``bench/analytics.py``), storing its statistics at its end (3.6-4.2 s either
    way), a sweep's merge of a 100k-bar run (0.08-0.11 CPU-s either way; 0.16-0.18 at 4 KiB).
    Every table and index takes at least one page, so an empty runs.db is about 0.6 MB. A
    file made before keeps its pages: SQLite fixes the page size of a WAL file when the file
    is created.

Design Decision: foreign keys declared, cascades not relied on
    Every event table references ``runs (run_key) ON DELETE CASCADE``, so a tool that deletes
    a run with foreign keys on removes its rows. But a cascade into a table without an index on
    the key scans the whole table, so ``delete_run_statements`` deletes the children
    explicitly (by segment and by index) before the run row. The writer turns foreign-key
    checks off for its inserts (it inserts under the key it just read back).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tradecore.events import EVENT_TYPES, BarProcessed, Event
from tradecore.runs_db.status import RunStatus

SCHEMA_VERSION = 2
#: Tables with a row per bar: found by rowid segments, not an index.
SEGMENTED_TABLES = ("bars", "bars_processed")
EVENT_TABLES = tuple(t.table for t in EVENT_TYPES)
#: Indicator columns ``bars_processed`` starts with; more are added when a run needs them.
INITIAL_INDICATOR_COLUMNS = 8
#: Page size of a new runs.db (see the Design Decision on pages of 16 KiB).
PAGE_SIZE = 16384


class RunsDatabaseError(RuntimeError):
    """runs.db cannot be used as it is (another schema version, not a database, ...)."""


def _column_type(annotation: str) -> str:
    if annotation.startswith("int"):
        return "INTEGER"
    if annotation.startswith("float"):
        return "REAL"
    return "TEXT"


def event_columns(event_type: type[Event]) -> list[tuple[str, str]]:
    """``(column, SQL type)`` of an event's table in tuple order, ``run_key`` excluded.

    ``bars_processed`` has no ``indicators`` column: its values go to ``indicator_<i>``.
    """
    return [(name, _column_type(event_type.field_types[name])) for name in event_type.fields
            if not (event_type is BarProcessed and name == "indicators")]


def indicator_column(slot: int) -> str:
    return f"indicator_{slot:d}"


def _runs_table_sql() -> str:
    statuses = ", ".join(f"'{s.value}'" for s in RunStatus)
    return f"""
CREATE TABLE IF NOT EXISTS runs (
    run_key INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({statuses})),
    ts_start INTEGER NOT NULL,
    ts_end INTEGER,
    config TEXT NOT NULL,
    error TEXT,
    error_traceback TEXT,
    pid INTEGER,
    host TEXT,
    sweep_id TEXT,
    role TEXT,
    tradecore_version TEXT
)"""


def schema_statements() -> list[str]:
    """Every CREATE statement of runs.db (idempotent)."""
    statements = [
        _runs_table_sql(),
        "CREATE INDEX IF NOT EXISTS runs_sweep ON runs (sweep_id)",
        "CREATE INDEX IF NOT EXISTS runs_status ON runs (status)",
        """
CREATE TABLE IF NOT EXISTS run_segments (
    run_key INTEGER NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE,
    table_name TEXT NOT NULL,
    first_rowid INTEGER NOT NULL,
    last_rowid INTEGER NOT NULL,
    PRIMARY KEY (run_key, table_name, first_rowid)
) WITHOUT ROWID""",
        """
CREATE TABLE IF NOT EXISTS run_indicators (
    run_key INTEGER NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE,
    strategy TEXT NOT NULL,
    slot INTEGER NOT NULL,
    name TEXT NOT NULL,
    overlay INTEGER NOT NULL DEFAULT 0,
    panel TEXT NOT NULL DEFAULT '',
    levels TEXT NOT NULL DEFAULT '[]',
    UNIQUE (run_key, strategy, slot)
)""",
        """
CREATE TABLE IF NOT EXISTS run_results (
    run_key INTEGER NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    arrow_hex TEXT NOT NULL,
    PRIMARY KEY (run_key, name)
)""",
        """
CREATE TABLE IF NOT EXISTS run_statistics (
    run_key INTEGER PRIMARY KEY REFERENCES runs (run_key) ON DELETE CASCADE,
    definitions_version TEXT NOT NULL,
    stats TEXT NOT NULL,
    computed_at INTEGER NOT NULL
)""",
    ]
    for event_type in EVENT_TYPES:
        columns = [f"{name} {sql_type}" for name, sql_type in event_columns(event_type)]
        if event_type is BarProcessed:
            columns += [f"{indicator_column(i)} REAL" for i in range(INITIAL_INDICATOR_COLUMNS)]
        body = ",\n    ".join(columns)
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {event_type.table} (\n"
            f"    run_key INTEGER NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE,\n"
            f"    {body}\n)"
        )
        if event_type.table not in SEGMENTED_TABLES:
            statements.append(f"CREATE INDEX IF NOT EXISTS {event_type.table}_run "
                              f"ON {event_type.table} (run_key)")
    return statements


def delete_run_statements() -> list[str]:
    """Statements that delete one run (parameter ``?1`` = its run_key), the run row first.

    Shared by sqlite3 callers (one transaction) and DuckDB's ``sqlite_query`` (the dashboard,
    one statement at a time). Each statement is safe to repeat and safe in any interrupted
    state: the run disappears with its row; its rows are deleted by segment *and* key, so a
    rowid range that SQLite has meanwhile reused for another run's rows deletes none of them;
    the segments go last. ``orphan_run_keys_sql`` finds what an interrupted delete left.
    """
    statements = ["DELETE FROM runs WHERE run_key = ?1"]
    for table in EVENT_TABLES:
        if table in SEGMENTED_TABLES:
            statements.append(
                f"DELETE FROM {table} WHERE rowid IN ("
                f"SELECT t.rowid FROM run_segments AS s CROSS JOIN {table} AS t"
                f" ON t.rowid BETWEEN s.first_rowid AND s.last_rowid"
                f" WHERE s.run_key = ?1 AND s.table_name = '{table}') AND run_key = ?1")
        else:
            statements.append(f"DELETE FROM {table} WHERE run_key = ?1")
    statements += ["DELETE FROM run_indicators WHERE run_key = ?1",
                   "DELETE FROM run_statistics WHERE run_key = ?1",
                   "DELETE FROM run_results WHERE run_key = ?1",
                   "DELETE FROM run_segments WHERE run_key = ?1"]
    return statements


#: Keys of runs whose delete was interrupted (segments left without their run row).
ORPHAN_RUN_KEYS_SQL = ("SELECT DISTINCT run_key FROM run_segments"
                       " WHERE run_key NOT IN (SELECT run_key FROM runs)")


def connect(path: str | Path, *, create: bool = True, timeout: float = 30.0) -> sqlite3.Connection:
    """A sqlite3 connection to runs.db with the project's pragmas; creates the schema.

    For engine processes (the recorder, the CLI's writes). The dashboard's process reads and
    writes runs.db through DuckDB only (see ``tradecore.analytics.connection``).
    """
    path = Path(path)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise FileNotFoundError(f"no runs database at {path}")
    _before_sqlite3_opens(path)
    conn = sqlite3.connect(path, check_same_thread=False, timeout=timeout)
    try:
        conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000):d}")
        # A new file only: an existing one keeps its page size (SQLite ignores this), and it
        # must come before journal_mode, which writes a new file's first page.
        conn.execute(f"PRAGMA page_size={PAGE_SIZE:d}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as error:
        conn.close()
        raise RunsDatabaseError(f"{path} is not a usable runs database ({error}); move it "
                                "aside or point --runs-db / TRADECORE_RUNS_DB elsewhere") from None
    check_version(path, version, empty=tables == 0)
    if create and version == 0:
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                for statement in schema_statements():
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
    else:
        _add_new_event_columns(conn)
    return conn


def connect_writer_process(path: str | Path, *, timeout: float = 30.0):
    """An ``apsw`` connection to runs.db for the recorder's writer process, which does
    nothing else while it writes (see ``recorder``'s Design Decision on apsw). The file is
    first checked and upgraded through :func:`connect` (then closed), so both libraries never
    hold it open at once in this process."""
    import apsw

    connect(path, create=False, timeout=timeout).close()
    conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READWRITE)
    try:
        conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000):d}")
        conn.execute("PRAGMA synchronous=NORMAL")  # journal_mode=WAL is stored in the file
    except apsw.Error:
        conn.close()
        raise
    return conn


def _add_new_event_columns(conn: sqlite3.Connection) -> None:
    """Within one schema version, an event type may gain a field (declared last, with a
    default, e.g. ``BarReceived.instrument_id``): add its column to an older file's table, so
    new rows fit and old rows read it as NULL."""
    for event_type in EVENT_TYPES:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({event_type.table})")}
        missing = [(n, t) for n, t in event_columns(event_type) if n not in present]
        for name, sql_type in missing:
            try:
                with conn:
                    conn.execute(f"ALTER TABLE {event_type.table} ADD COLUMN {name} {sql_type}")
            except sqlite3.OperationalError as error:
                if "duplicate column" not in str(error):
                    raise


def check_version(path: str | Path, version: int, *, empty: bool) -> None:
    """Raise a ``RunsDatabaseError`` that says what to do unless ``version`` is usable."""
    if version == SCHEMA_VERSION or (version == 0 and empty):
        return
    if version == 1 or (version == 0 and not empty):
        raise RunsDatabaseError(
            f"{path} was written by an older tradecore (runs.db schema {version}; this one "
            f"uses {SCHEMA_VERSION}, with an integer run key and no per-row text index). Its "
            "runs cannot be read in place: move the file aside (e.g. rename it to "
            "runs-v1.db) and a new runs.db is created on the next run")
    raise RunsDatabaseError(
        f"{path} was written by a newer tradecore (runs.db schema {version}; this one reads "
        f"{SCHEMA_VERSION}): upgrade tradecore, or point --runs-db / TRADECORE_RUNS_DB at "
        "another file")


def _before_sqlite3_opens(path: Path) -> None:
    """Detach ``path`` from this process's DuckDB connection, if analytics attached it.

    Two copies of SQLite must never have one WAL file open at once in one process (see
    ``tradecore.analytics.connection``): an engine process that read a run with analytics
    (the Python API does) takes turns instead.
    """
    import sys

    connection = sys.modules.get("tradecore.analytics.connection")
    if connection is not None:
        connection.detach(path)
