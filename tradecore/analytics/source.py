"""Where analytics finds a run: its ``runs`` row, its indicators and its stored results, read
from runs.db through DuckDB's SQLite extension (see ``connection``).

Every lookup first applies the rule "a ``running`` run whose process is gone is
``interrupted``" (``tradecore.runs_db.runs``), so a killed run never shows as running here.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pyarrow as pa

from tradecore import paths
from tradecore.analytics.connection import attach, is_writable, query_rows, sqlite_query
from tradecore.runs_db import runs as runs_rows
from tradecore.runs_db.runs import RunNotFoundError
from tradecore.runs_db.status import RunStatus

PathLike = str | os.PathLike | None

__all__ = ["RunInfo", "RunNotFoundError", "RunsDatabaseNotFoundError", "run_info"]


class RunsDatabaseNotFoundError(FileNotFoundError):
    """The runs database file does not exist."""


def resolve_db_path(db_path: PathLike, *, must_exist: bool = True) -> Path:
    """``db_path`` or the runs database in use (env ``TRADECORE_RUNS_DB`` or data/runs.db)."""
    path = Path(db_path) if db_path is not None else paths.runs_db_path()
    path = path.resolve()
    if must_exist and not path.is_file():
        raise RunsDatabaseNotFoundError(f"no runs database at {path}; record a run first")
    return path


def sqlite(db: Path, sql: str, values: tuple = ()) -> list[tuple]:
    """Rows of SQLite ``sql`` run inside runs.db ``db`` (text columns, see ``connection``)."""
    expression, params = sqlite_query(attach(db), sql, values)
    return query_rows(f"SELECT * FROM {expression}", params)


def execute(db: Path, statement: str, values: tuple = ()) -> int:
    """Run a DML ``statement`` inside SQLite; the number of rows it changed.

    ``sqlite_query`` needs a statement that returns rows, hence ``RETURNING``; DuckDB counts
    them, so a delete of a million rows never reaches Python.
    """
    expression, params = sqlite_query(attach(db), f"{statement} RETURNING 1", values)
    return int(query_rows(f"SELECT count(*) FROM {expression}", params)[0][0])


_checked: dict[str, str] = {}  # path -> the alias whose schema was checked
_marked: dict[str, float] = {}  # path -> when interrupted runs were last marked
#: Interrupted runs are marked at most this often per file (each look costs a query).
MARK_INTERVAL_S = 0.5


def check_schema(db: Path) -> None:
    """Raise the runs_db error that says what to do if ``db`` is not a usable runs.db
    (checked once per attachment of the file)."""
    from tradecore.runs_db.schema import check_version

    alias = attach(db)
    if _checked.get(str(db)) == alias:
        return
    rows = sqlite(db, "SELECT (SELECT user_version FROM pragma_user_version),"
                      " (SELECT count(*) FROM sqlite_master)")
    check_version(db, int(rows[0][0]), empty=int(rows[0][1]) == 0)
    _checked[str(db)] = alias


def mark_interrupted(db: Path) -> int:
    """Mark ``interrupted`` every run of this host left ``running`` by a dead process (the
    dashboard's copy of ``runs_db.runs.mark_interrupted``, through DuckDB)."""
    now = time.monotonic()
    if now - _marked.get(str(db), -MARK_INTERVAL_S) < MARK_INTERVAL_S:
        return 0
    _marked[str(db)] = now
    rows = [(int(k), int(p) if p is not None else None, h)
            for k, p, h in sqlite(db, runs_rows.RUNNING_ROWS_SQL)]
    dead = runs_rows.dead_running_keys(rows)
    if not dead or not is_writable(db):
        return 0
    sql = runs_rows.MARK_INTERRUPTED_SQL.format(keys=", ".join(str(k) for k in dead))
    execute(db, sql, (RunStatus.INTERRUPTED.value, time.time_ns(),
                      runs_rows.INTERRUPTED_MESSAGE))
    return len(dead)


#: The ``runs`` row of one run, its config parsed: one class for both readers.
RunInfo = runs_rows.RunRow


_INFO_SQL = f"SELECT {', '.join(runs_rows.RUN_ROW_COLUMNS)} FROM runs WHERE run_id = ?1"


def run_info(run_id: str, db_path: PathLike = None) -> RunInfo:
    db = resolve_db_path(db_path)
    check_schema(db)
    mark_interrupted(db)
    rows = sqlite(db, _INFO_SQL, (run_id,))
    if not rows:
        raise RunNotFoundError(f"no run {run_id!r} in the runs database")
    return RunInfo.from_values(rows[0])


def indicators(db: Path, run_key: int) -> list[dict]:
    """The run's indicators in slot order per strategy: ``strategy, slot, name, overlay,
    panel, levels``."""
    rows = sqlite(db, "SELECT strategy, slot, name, overlay, panel, levels FROM run_indicators"
                      " WHERE run_key = ?1 ORDER BY rowid", (run_key,))
    return [{"strategy": s, "slot": int(slot), "name": n, "overlay": bool(int(o)),
             "panel": p, "levels": json.loads(levels)} for s, slot, n, o, p, levels in rows]


def stored_result(db: Path, run_key: int, name: str, version: str) -> pa.Table | None:
    """A result ``finalize`` stored for the run under this ``version`` (None if none)."""
    rows = sqlite(db, "SELECT arrow_hex FROM run_results WHERE run_key = ?1 AND name = ?2"
                      " AND version = ?3", (run_key, name, version))
    if not rows:
        return None
    with pa.ipc.open_stream(bytes.fromhex(rows[0][0])) as reader:
        return reader.read_all()


def stored_statistics(db: Path, run_key: int, version: str) -> dict | None:
    rows = sqlite(db, "SELECT stats FROM run_statistics WHERE run_key = ?1"
                      " AND definitions_version = ?2", (run_key, version))
    return json.loads(rows[0][0]) if rows else None
