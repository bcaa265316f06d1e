"""RunRecorder: writes every event of a run to runs.db, plus the runs table itself.

One table per event type, its columns the event's fields by name (enums by member name,
BarProcessed's indicators as a JSON object), each row led by ``run_id`` with a foreign key
to ``runs`` (``ON DELETE CASCADE``). SQLite in WAL mode so the dashboard reads while a run
records.

Design Decision: a sink with its own writer
    The recorder never publishes, so nothing waits for it between bars (``is_sink``). It
    receives events in hand-offs of ``batch_size`` and keeps one buffer per table; a buffer of
    ``BATCH_SIZE`` rows is written with one ``executemany`` and a commit, as the seed says, and
    partial buffers at least every ``FLUSH_INTERVAL_S`` so a running run shows its fills live.
    Short runs write from the recorder's own thread; long ones from a writer process (see
    ``ProcessWriter``), since a thread would fight the engine for the GIL at row rate.

Design Decision: the final status is written with the last rows
    The orchestrator decides the status; ``shutdown()`` flushes every buffer and sets the
    status and end time in the same final transaction. A reader that sees ``completed`` sees
    every row of the run.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from tradecore.events import EVENT_TYPES, BarProcessed, Event
from tradecore.messaging import EventBus, Subscriber
from tradecore.models import RunStatus

BATCH_SIZE = 1000
#: Partial buffers are written at least this often, for readers of a run still recording.
FLUSH_INTERVAL_S = 1.0
SCHEMA_VERSION = 1


class RecorderError(RuntimeError):
    """The recording could not be written (disk full, database locked, writer died)."""


def _column_type(annotation: str) -> str:
    if annotation.startswith("int"):
        return "INTEGER"
    if annotation.startswith("float"):
        return "REAL"
    return "TEXT"


def event_columns(event_type: type[Event]) -> list[tuple[str, str]]:
    """``(column, SQL type)`` of an event's table in tuple order, ``run_id`` excluded."""
    return [(name, _column_type(event_type.field_types[name])) for name in event_type.fields]


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
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, SCHEMA_VERSION):
        conn.close()
        raise RecorderError(f"{path} was written by another version of tradecore (schema "
                            f"{version}, this one uses {SCHEMA_VERSION}); move it aside")
    if create and version == 0:
        with conn:
            for statement in schema_statements():
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
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
    """``{"SMA(10)": 101.5, "SMA(30)": null}`` (NaN and inf are not JSON: null).

    Hand-built because it runs once a bar: three times faster than ``json.dumps(dict(...))``.
    """
    parts = []
    for name, value in pairs:
        quoted = _QUOTED.get(name)
        if quoted is None:
            quoted = _QUOTED[name] = json.dumps(name)
        try:
            value = float(value)  # numpy scalars repr as np.float64(...), not JSON
        except (TypeError, ValueError):
            value = math.nan
        parts.append(f"{quoted}: {value!r}" if value - value == 0 else f"{quoted}: null")
    return "{" + ", ".join(parts) + "}"


_QUOTED: dict[str, str] = {}
_INDICATORS_POSITION = BarProcessed.fields.index("indicators")


class SQLiteWriter:
    """Buffers rows per table and writes them in ``BATCH_SIZE`` executemany + commit batches.

    Used in the recorder's thread for short runs and inside the writer process for long ones.
    ``finish`` flushes everything and sets the run's final status in one transaction.
    """

    def __init__(self, db_path: str | Path, run_id: str) -> None:
        self.run_id = run_id
        self._conn = connect_runs_db(db_path, create=False)
        self._conn.execute("PRAGMA cache_size=-65536")
        self._conn.execute("PRAGMA wal_autocheckpoint=10000")
        self._buffers: dict[str, list[tuple]] = {t.table: [] for t in EVENT_TYPES}
        self._sql = {t.table: f"INSERT INTO {t.table} VALUES ({', '.join('?' * (len(t.fields) + 1))})"
                     for t in EVENT_TYPES}
        self.rows_written: dict[str, int] = dict.fromkeys(self._buffers, 0)
        self._last_flush = time.monotonic()

    def add(self, table: str, rows: list[tuple]) -> None:
        """Append plain event tuples (the event's fields in order) destined for ``table``."""
        key = (self.run_id,)
        buffer = self._buffers[table]
        if table == BarProcessed.table:
            at = _INDICATORS_POSITION
            buffer.extend((*key, *row[:at], _indicators_json(row[at]), *row[at + 1:])
                          for row in rows)
        else:
            buffer.extend(map(key.__add__, rows))
        while len(buffer) >= BATCH_SIZE:
            self._write(table, buffer[:BATCH_SIZE])
            del buffer[:BATCH_SIZE]
        if time.monotonic() - self._last_flush > FLUSH_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        """Write every partial buffer in one transaction (so a live reader sees fills and
        orders of a running run within ``FLUSH_INTERVAL_S``, not only at the end)."""
        with self._conn:
            for table, buffer in self._buffers.items():
                if buffer:
                    self._conn.executemany(self._sql[table], buffer)
                    self.rows_written[table] += len(buffer)
                    buffer.clear()
        self._last_flush = time.monotonic()

    def _write(self, table: str, rows: list[tuple]) -> None:
        with self._conn:
            self._conn.executemany(self._sql[table], rows)
        self.rows_written[table] += len(rows)

    def finish(self, status: str, error: str | None, error_traceback: str | None) -> None:
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
                    (RunStatus(status).value, time.time_ns(), error, error_traceback,
                     self.run_id),
                )
        finally:
            self._conn.close()


class ProcessWriter:
    """Sends event tuples to a writer process (``python -m tradecore.recorder_process``).

    Design Decision: a process for long runs
        SQLite releases the GIL for every row it steps, and a writer *thread* then fights
        the engine for the GIL at row rate; the hand-offs cost more than the writing. A
        separate process writes on the other core; the engine only pickles batches of plain
        tuples into a pipe (backpressure comes from the pipe itself).
    """

    def __init__(self, db_path: str | Path, run_id: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tradecore.recorder_process", str(db_path), run_id],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": _package_root_path()},
        )
        self.rows_written: dict[str, int] = {}
        _widen_pipe(self._process.stdin)

    def add_many(self, groups: list[tuple[str, list[tuple]]]) -> None:
        self._send(("groups", groups))

    def _send(self, message: tuple) -> None:
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            # Length-prefixed frames: the reader does one read per message, not pickle's
            # many small reads from a pipe.
            self._process.stdin.write(len(payload).to_bytes(8, "little") + payload)
        except (BrokenPipeError, OSError):
            raise RecorderError(self._failure()) from None

    def finish(self, status: str, error: str | None, error_traceback: str | None) -> None:
        self._send(("finish", status, error, error_traceback))
        try:
            self._process.stdin.close()
            reply = pickle.load(self._process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            raise RecorderError(self._failure()) from None
        finally:
            self._process.wait()
        self.rows_written = reply

    def _failure(self) -> str:
        self._process.kill()
        self._process.wait()
        detail = self._process.stderr.read().decode(errors="replace").strip().splitlines()
        return "the recorder's writer process failed" + (f": {detail[-1]}" if detail else "")


def _widen_pipe(stream) -> None:
    """Let the pipe hold several batches (Linux), so the engine writes the next batch while
    the writer process stores the last one, instead of waiting for it."""
    try:
        import fcntl

        wanted = 8 * 1024 * 1024
        try:
            wanted = min(wanted, int(Path("/proc/sys/fs/pipe-max-size").read_text()))
        except (OSError, ValueError):
            wanted = 1024 * 1024
        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), wanted)
    except (ImportError, OSError):
        pass  # a smaller pipe only means more, shorter waits


def _package_root_path() -> str:
    root = str(Path(__file__).resolve().parent.parent)
    existing = os.environ.get("PYTHONPATH")
    return f"{root}{os.pathsep}{existing}" if existing else root


class RunRecorder(Subscriber):
    """Records all 13 event types of one run; creates the ``runs`` row on construction.

    ``writer``: ``"thread"`` writes from the recorder's own thread, ``"process"`` from a
    writer process fed directly by the publishing thread at each hand-over (the pipe gives
    backpressure), ``"auto"`` picks the process once ``expect(events)`` announces a run of at
    least ``PROCESS_FROM_EVENTS`` events (short runs skip the process start-up).
    """

    is_sink = True
    batch_size = BATCH_SIZE
    writer: ClassVar[str] = "auto"
    PROCESS_FROM_EVENTS: ClassVar[int] = 100_000

    def __init__(self, event_bus: EventBus, run_id: str, db_path: str | Path,
                 config: dict[str, Any], *, name: str = "", sweep_id: str | None = None) -> None:
        if self.writer not in ("auto", "thread", "process"):
            raise ValueError(f"writer must be auto, thread or process, not {self.writer!r}")
        self._db_path = Path(db_path)
        conn = connect_runs_db(db_path)
        try:
            mark_interrupted_runs(conn)
            self.run_id = self._insert_run(conn, run_id, name, config, sweep_id)
        finally:
            conn.close()
        self.final_status = RunStatus.COMPLETED
        self.final_error: str | None = None
        self.final_traceback: str | None = None
        self._writer: SQLiteWriter | ProcessWriter | None = None
        super().__init__(event_bus)
        for event_type in EVENT_TYPES:
            self._subscribe(event_type, self._record_one)
        if self.writer == "process":
            self._writer = ProcessWriter(db_path, self.run_id)

    def expect(self, events: int | None) -> None:
        """Told (before the first bar) roughly how many events the run will make."""
        if (self._writer is None and self.writer == "auto" and events is not None
                and events >= self.PROCESS_FROM_EVENTS):
            self._writer = ProcessWriter(self._db_path, self.run_id)

    def _active_writer(self) -> SQLiteWriter | ProcessWriter:
        if self._writer is None:
            self._writer = SQLiteWriter(self._db_path, self.run_id)
        return self._writer

    @property
    def rows_written(self) -> dict[str, int]:
        return dict(self._writer.rows_written) if self._writer is not None else {}

    def _insert_run(self, conn: sqlite3.Connection, run_id: str, name: str, config: dict,
                    sweep_id: str | None) -> str:
        from tradecore import __version__

        candidate, attempt = run_id, 1
        while True:
            try:
                with conn:
                    conn.execute(
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

    def _record_one(self, event: Event) -> None:
        self._handle_batch([event])

    def _receive_batch(self, events: list[Event]) -> None:
        if isinstance(self._writer, ProcessWriter):
            self._handle_batch(events)  # straight into the pipe, no thread hand-off
        else:
            super()._receive_batch(events)

    def _handle_batch(self, events: list[Event]) -> None:
        groups: dict[str, list[Event]] = {}
        for event in events:
            table = event.table
            if table in groups:
                groups[table].append(event)
            else:
                groups[table] = [event]
        writer = self._active_writer()
        if isinstance(writer, ProcessWriter):
            writer.add_many([(table, list(map(tuple, rows))) for table, rows in groups.items()])
        else:
            for table, rows in groups.items():
                writer.add(table, rows)

    def _cleanup(self) -> None:
        try:
            self._active_writer().finish(self.final_status, self.final_error,
                                         self.final_traceback)
        except RecorderError as error:
            # The writer process died: record that here, so the run never stays "running".
            SQLiteWriter(self._db_path, self.run_id).finish(
                RunStatus.FAILED, f"RecorderError: {error}", None)
            raise
