"""RunRecorder: writes every event of a run to runs.db, plus the runs table itself.

One table per event type, its columns the event's fields by name (enums by member name,
BarProcessed's indicators as a JSON object), each row led by ``run_id`` with a foreign key
to ``runs`` (``ON DELETE CASCADE``). SQLite in WAL mode so the dashboard reads while a run
records.

Design Decision: a sink with its own writer thread
    The recorder never publishes, so nothing waits for it between bars (``is_sink``). It
    receives events in hand-offs of ``batch_size`` and keeps one buffer per table; a buffer of
    ``BATCH_SIZE`` rows is written with one ``executemany`` and a commit, as the seed says.
    SQLite releases the GIL while it writes, so recording runs beside the engine.

Design Decision: the final status is written with the last rows
    The orchestrator decides the status; ``shutdown()`` flushes every buffer and sets the
    status and end time in the same final transaction. A reader that sees ``completed`` sees
    every row of the run.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter
from pathlib import Path
from typing import Any

from tradecore.events import EVENT_TYPES, BarProcessed, Event
from tradecore.messaging import EventBus, Subscriber
from tradecore.models import RunStatus

BATCH_SIZE = 1000
SCHEMA_VERSION = 1


def _column_type(annotation: str) -> str:
    if annotation.startswith("int"):
        return "INTEGER"
    if annotation.startswith("float"):
        return "REAL"
    return "TEXT"


def event_columns(event_type: type[Event]) -> list[tuple[str, str]]:
    """``(column, SQL type)`` of an event's table, ``run_id`` excluded."""
    return [(f.name, _column_type(str(f.type))) for f in fields(event_type)]


def _runs_table_sql() -> str:
    statuses = ", ".join(f"'{s.value}'" for s in RunStatus)
    return f"""
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
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
    tradecore_version TEXT
)"""


def schema_statements() -> list[str]:
    """Every CREATE statement of runs.db (idempotent)."""
    statements = [_runs_table_sql(),
                  "CREATE INDEX IF NOT EXISTS runs_sweep ON runs (sweep_id)",
                  "CREATE INDEX IF NOT EXISTS runs_status ON runs (status)"]
    for event_type in EVENT_TYPES:
        columns = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in event_columns(event_type))
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {event_type.table} (\n"
            f"    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,\n"
            f"    {columns}\n)"
        )
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {event_type.table}_run_ts "
            f"ON {event_type.table} (run_id, ts_event_ns)"
        )
    return statements


def connect_runs_db(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """A sqlite3 connection to runs.db with the project's pragmas; creates the schema."""
    path = Path(path)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise FileNotFoundError(f"no runs database at {path}")
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    if create:
        with conn:
            for statement in schema_statements():
                conn.execute(statement)
    return conn


def mark_interrupted_runs(conn: sqlite3.Connection) -> int:
    """Mark ``interrupted`` every run left ``running`` by a dead process on this host."""
    host = socket.gethostname()
    rows = conn.execute(
        "SELECT run_id, pid FROM runs WHERE status = ? AND host = ?",
        (RunStatus.RUNNING.value, host),
    ).fetchall()
    dead = [run_id for run_id, pid in rows if not _process_alive(pid)]
    with conn:
        conn.executemany(
            "UPDATE runs SET status = ?, ts_end = ?, error = ? WHERE run_id = ? AND status = ?",
            [(RunStatus.INTERRUPTED.value, time.time_ns(),
              "the process running it ended before it finished", run_id,
              RunStatus.RUNNING.value) for run_id in dead],
        )
    return len(dead)


def _process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True  # a run of this very process is still going
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _indicators_json(pairs: tuple[tuple[str, float], ...]) -> str:
    return json.dumps({name: (value if math.isfinite(value) else None) for name, value in pairs})


def _row_builder(event_type: type[Event], run_id: str) -> Callable[[Event], tuple]:
    names = [f.name for f in fields(event_type)]
    getter = attrgetter(*names)
    if event_type is BarProcessed:
        position = names.index("indicators")

        def build(event: Event) -> tuple:
            row = [run_id, *getter(event)]
            row[position + 1] = _indicators_json(row[position + 1])
            return tuple(row)

        return build
    return lambda event: (run_id, *getter(event))


class RunRecorder(Subscriber):
    """Records all 13 event types of one run; creates the ``runs`` row on construction."""

    is_sink = True
    batch_size = BATCH_SIZE

    def __init__(self, event_bus: EventBus, run_id: str, db_path: str | Path,
                 config: dict[str, Any], *, name: str = "", sweep_id: str | None = None) -> None:
        self._conn = connect_runs_db(db_path)
        mark_interrupted_runs(self._conn)
        self.run_id = self._insert_run(run_id, name, config, sweep_id)
        super().__init__(event_bus)
        self.final_status = RunStatus.COMPLETED
        self.final_error: str | None = None
        self.final_traceback: str | None = None
        self.rows_written: dict[str, int] = {t.table: 0 for t in EVENT_TYPES}
        self._buffers: dict[str, list[tuple]] = {t.table: [] for t in EVENT_TYPES}
        self._sql = {
            t.table: f"INSERT INTO {t.table} VALUES ({', '.join('?' * (len(fields(t)) + 1))})"
            for t in EVENT_TYPES
        }
        self._write_lock = threading.Lock()
        for event_type in EVENT_TYPES:
            self._subscribe(event_type, self._buffering_handler(event_type))

    def _insert_run(self, run_id: str, name: str, config: dict, sweep_id: str | None) -> str:
        from tradecore import __version__

        candidate, attempt = run_id, 1
        while True:
            try:
                with self._conn:
                    self._conn.execute(
                        "INSERT INTO runs (run_id, name, status, ts_start, config, pid, host,"
                        " sweep_id, tradecore_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (candidate, name, RunStatus.RUNNING.value, time.time_ns(),
                         json.dumps(config, default=str), os.getpid(), socket.gethostname(),
                         sweep_id, __version__),
                    )
                return candidate
            except sqlite3.IntegrityError:
                attempt += 1  # many runs started within one second: add a short suffix
                candidate = f"{run_id}_{attempt}"

    def _buffering_handler(self, event_type: type[Event]) -> Callable[[Event], None]:
        table = event_type.table
        buffer = self._buffers[table]
        build = _row_builder(event_type, self.run_id)

        def handle(event: Event) -> None:
            buffer.append(build(event))
            if len(buffer) >= BATCH_SIZE:
                self._flush(table)

        return handle

    def _flush(self, table: str) -> None:
        buffer = self._buffers[table]
        if not buffer:
            return
        rows = buffer[:]
        buffer.clear()
        with self._write_lock, self._conn:
            self._conn.executemany(self._sql[table], rows)
        self.rows_written[table] += len(rows)

    def _cleanup(self) -> None:
        with self._write_lock:
            try:
                with self._conn:
                    for table, buffer in self._buffers.items():
                        if buffer:
                            self._conn.executemany(self._sql[table], buffer)
                            self.rows_written[table] += len(buffer)
                            buffer.clear()
                    self._conn.execute(
                        "UPDATE runs SET status = ?, ts_end = ?, error = ?, error_traceback = ?"
                        " WHERE run_id = ?",
                        (RunStatus(self.final_status).value, time.time_ns(), self.final_error,
                         self.final_traceback, self.run_id),
                    )
            finally:
                self._conn.close()
