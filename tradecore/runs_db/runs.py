"""The ``runs`` rows through sqlite3 (engine processes and the CLI): create, finish, look up,
mark the interrupted ones, delete.

Design Decision: a run left ``running`` by a dead process is interrupted, whoever looks
    The runs row keeps the pid and host of the process running the run. Anyone who lists or
    opens runs (the CLI, the dashboard through DuckDB, a new run) first marks ``interrupted``
    every ``running`` run of this host whose process no longer exists -- so a run killed with
    SIGKILL, or a power cut, never stays ``running`` until some other run happens to start.
    The statement is one ``UPDATE ... WHERE run_key IN (...) AND status = 'running'``, so two
    lookers never fight, and a run that finished meanwhile keeps its real status.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tradecore.runs_db.config import RunConfig
from tradecore.runs_db.schema import ORPHAN_RUN_KEYS_SQL, delete_run_statements
from tradecore.runs_db.status import RunStatus

INTERRUPTED_MESSAGE = "the process running it ended before it finished (killed or crashed)"


class RunNotFoundError(LookupError):
    """No run with this id in the runs database."""


class RunIsRunningError(RuntimeError):
    """The run is still recording; it cannot be deleted or changed now."""


def this_host() -> str:
    return socket.gethostname()


def process_alive(pid: int | None) -> bool:
    """Whether process ``pid`` of this host still exists."""
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is gone too
        with open(f"/proc/{int(pid)}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return True


def dead_running_keys(rows: Iterable[tuple[int, int | None, str | None]]) -> list[int]:
    """``run_key`` of each ``(run_key, pid, host)`` running row whose process is gone."""
    host = this_host()
    return [key for key, pid, row_host in rows if row_host == host and not process_alive(pid)]


#: Shared by sqlite3 and DuckDB's sqlite_query callers: ``?1`` status, ``?2`` now, ``?3`` error.
MARK_INTERRUPTED_SQL = (
    "UPDATE runs SET status = ?1, ts_end = ?2, error = coalesce(error, ?3)"
    " WHERE status = 'running' AND run_key IN ({keys})"
)
RUNNING_ROWS_SQL = "SELECT run_key, pid, host FROM runs WHERE status = 'running'"


def mark_interrupted(conn: sqlite3.Connection) -> int:
    """Mark ``interrupted`` every run of this host left ``running`` by a dead process."""
    dead = dead_running_keys(conn.execute(RUNNING_ROWS_SQL).fetchall())
    if not dead:
        return 0
    with conn:
        conn.execute(MARK_INTERRUPTED_SQL.format(keys=", ".join(str(int(k)) for k in dead)),
                     (RunStatus.INTERRUPTED.value, time.time_ns(), INTERRUPTED_MESSAGE))
    return len(dead)


def create_run(conn: sqlite3.Connection, run_id: str, name: str, config: RunConfig, *,
               sweep_id: str | None = None, role: str | None = None) -> tuple[int, str]:
    """Insert a ``running`` run; ``(run_key, run_id)``, the id suffixed ``_2``, ``_3`` ... if
    another run already has it (many runs started within one second)."""
    from tradecore import __version__

    candidate, attempt = run_id, 1
    while True:
        try:
            with conn:
                cursor = conn.execute(
                    "INSERT INTO runs (run_id, name, status, ts_start, config, pid, host,"
                    " sweep_id, role, tradecore_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (candidate, name, RunStatus.RUNNING.value, time.time_ns(), config.to_json(),
                     os.getpid(), this_host(), sweep_id, role, __version__),
                )
            return int(cursor.lastrowid), candidate
        except sqlite3.IntegrityError:
            attempt += 1
            candidate = f"{run_id}_{attempt}"


def finish_run(conn: sqlite3.Connection, run_key: int, status: RunStatus | str,
               error: str | None = None, error_traceback: str | None = None) -> None:
    """Set a run's final status and end time (inside the caller's transaction, if any)."""
    conn.execute(
        "UPDATE runs SET status = ?, ts_end = ?, error = ?, error_traceback = ?"
        " WHERE run_key = ?",
        (RunStatus(status).value, time.time_ns(), error, error_traceback, int(run_key)),
    )


@dataclass(frozen=True)
class RunRow:
    """The ``runs`` row of one run, its config parsed (read by sqlite3 here, by DuckDB in
    ``analytics.source.run_info``, whose text columns ``from_values`` converts)."""

    run_key: int
    run_id: str
    name: str
    status: RunStatus
    ts_start: int
    ts_end: int | None
    config: RunConfig
    error: str | None
    error_traceback: str | None
    sweep_id: str | None
    role: str | None

    @classmethod
    def from_values(cls, values: Sequence[Any]) -> RunRow:
        """From the ``RUN_ROW_COLUMNS`` of a row, as values of any type (ints as text too)."""
        key, run_id, name, status, ts_start, ts_end, config, *rest = values
        return cls(int(key), run_id, name, RunStatus(status), int(ts_start),
                   None if ts_end is None else int(ts_end), RunConfig.from_json(config), *rest)

    @property
    def finished(self) -> bool:
        return self.status.is_terminal

    @property
    def initial_cash(self) -> float:
        return self.config.initial_cash


RUN_ROW_COLUMNS = ("run_key", "run_id", "name", "status", "ts_start", "ts_end", "config",
                   "error", "error_traceback", "sweep_id", "role")


def get_run(conn: sqlite3.Connection, run_id: str) -> RunRow:
    mark_interrupted(conn)
    row = conn.execute(f"SELECT {', '.join(RUN_ROW_COLUMNS)} FROM runs WHERE run_id = ?",
                       (run_id,)).fetchone()
    if row is None:
        raise RunNotFoundError(f"no run {run_id!r} in the runs database")
    return RunRow.from_values(row)


def delete_run(conn: sqlite3.Connection, run_id: str) -> None:
    """Delete a finished run and all its rows in one transaction; a running run is refused."""
    run = get_run(conn, run_id)
    if run.status is RunStatus.RUNNING:
        raise RunIsRunningError(f"run {run_id!r} is still running: cancel it (or wait for "
                                "it to end) before deleting it")
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        for key in [run.run_key, *(k for (k,) in conn.execute(ORPHAN_RUN_KEYS_SQL))]:
            for statement in delete_run_statements():
                conn.execute(statement, (key,))
