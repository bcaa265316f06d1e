"""Where a run's data comes from: indexed sqlite3 reads of runs.db and a per-run Parquet cache.

Design Decision: per-run reads never scan other runs
    DuckDB's SQLite scanner pushes no filter down: ``WHERE run_id = ?`` on an attached table
    still reads every run's rows (about 0.5 s per million rows of *all* runs). So a run's rows
    are read with plain sqlite3, whose ``WHERE run_id = ?`` uses the recorder's
    ``(run_id, ts_event_ns)`` index and costs what this run holds, whatever else is stored.
    (DuckDB's scanner must not open runs.db in this process anyway: see ``connection``.)

Design Decision: a finished run is read from SQLite once
    The first time a finished run (any status but ``running``) is asked for, its rows are read
    once, the derived tables a run page needs (bars with indicator columns, fills, order log,
    equity curve, round trips, a per-symbol summary) are computed and written as Parquet files
    under ``<runs.db dir>/cache/<runs.db stem>/<quoted run id>/``, and every later query runs in
    DuckDB on those files (tens of milliseconds for a million bars). The directory is written
    under a temporary name and renamed into place, so concurrent builders (threads or
    processes) never expose a half-written cache; its ``meta.json`` names the cache format and
    the run's start time, so a deleted and re-recorded run id, or a new cache format, is never
    served stale. ``delete_runs`` removes the directory. Building it is the one slow step
    (a few seconds per million bars, most of it sqlite3 turning rows into Python objects);
    ``build_cache(run_id)`` right after a run completes takes it off the first page view.

Design Decision: a running run stays live, read incrementally
    A run still ``running`` is never cached on disk. Its rows are kept in memory per table and
    each access reads only rows whose ``rowid`` is above the last one read (SQLite appends in
    commit order, so nothing can appear below it), all tables of one access inside one short
    read transaction: the tables agree with each other and with the status, and no read
    transaction outlives the call. When the run finishes, the cache is built from what is
    already in memory plus the last rows.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tradecore import paths
from tradecore.analytics.connection import sql_string

log = logging.getLogger(__name__)

#: Bump when a cached table changes shape or meaning: every cache is then rebuilt.
CACHE_FORMAT = 1
RUNNING = "running"
_FETCH_CHUNK = 100_000
_LIVE_RUNS_KEPT = 4
_ROWID_SCAN_LIMIT = 200_000  # newer rows than this: read by rowid range instead of the index
_ROW_GROUP = 128 * 1024  # small enough for parallel scans and ts-range pruning on zoom


class RunNotFoundError(LookupError):
    """No run with this id in the runs database."""


class RunsDatabaseNotFoundError(FileNotFoundError):
    """The runs database file does not exist."""


def resolve_db_path(db_path: str | os.PathLike | None, *, must_exist: bool = True) -> Path:
    """``db_path`` or the runs database in use (env ``TRADECORE_RUNS_DB`` or data/runs.db)."""
    path = Path(db_path) if db_path is not None else paths.runs_db_path()
    path = path.resolve()
    if must_exist and not path.is_file():
        raise RunsDatabaseNotFoundError(f"no runs database at {path}; record a run first")
    return path


def connect_read_only(db: Path) -> sqlite3.Connection:
    """A sqlite3 connection that cannot write; autocommit, so no read transaction lingers."""
    conn = sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def connect_writable(db: Path) -> sqlite3.Connection:
    """A sqlite3 connection for the few writes analytics makes (statistics cache, deletes)."""
    conn = sqlite3.connect(db, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


# -- the runs row ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    """The ``runs`` row of one run, its config parsed."""

    run_id: str
    name: str
    status: str
    ts_start: int
    ts_end: int | None
    config: dict[str, Any]
    error: str | None
    sweep_id: str | None

    @property
    def finished(self) -> bool:
        return self.status != RUNNING

    @property
    def initial_cash(self) -> float:
        broker = self.config.get("broker") or {}
        return float(broker.get("initial_cash", 100_000.0))


def _read_info(conn: sqlite3.Connection, run_id: str) -> RunInfo:
    row = conn.execute(
        "SELECT run_id, name, status, ts_start, ts_end, config, error, sweep_id"
        " FROM runs WHERE run_id = ?", (run_id,)
    ).fetchone()
    if row is None:
        raise RunNotFoundError(f"no run {run_id!r} in the runs database")
    try:
        config = json.loads(row[5]) if row[5] else {}
    except json.JSONDecodeError:
        config = {}
    return RunInfo(row[0], row[1], row[2], int(row[3]), row[4], config, row[6], row[7])


def run_info(run_id: str, db_path: str | os.PathLike | None = None) -> RunInfo:
    db = resolve_db_path(db_path)
    conn = connect_read_only(db)
    try:
        return _read_info(conn, run_id)
    finally:
        conn.close()


# -- raw tables: what the recorder wrote, per run ------------------------------------------------

_I, _F, _S = pa.int64(), pa.float64(), pa.string()

#: Columns read from each event table (the recorder's names) and their Arrow types.
RAW_COLUMNS: dict[str, list[tuple[str, pa.DataType]]] = {
    "bars": [("ts_event_ns", _I), ("symbol", _S), ("open", _F), ("high", _F), ("low", _F),
             ("close", _F), ("volume", _F)],
    "bars_processed": [("ts_event_ns", _I), ("symbol", _S), ("strategy", _S),
                       ("indicators", _S)],
    "fills": [("ts_event_ns", _I), ("fill_id", _I), ("associated_order_id", _I),
              ("strategy", _S), ("symbol", _S), ("side", _S), ("quantity_filled", _F),
              ("fill_price", _F), ("commission", _F)],
    "order_submissions": [("ts_event_ns", _I), ("order_id", _I), ("strategy", _S),
                          ("symbol", _S), ("order_type", _S), ("side", _S), ("quantity", _F),
                          ("limit_price", _F), ("stop_price", _F), ("expiry_ns", _I),
                          ("action", _S), ("signal", _S)],
    "order_cancellations": [("ts_event_ns", _I), ("order_id", _I), ("strategy", _S)],
    "order_modifications": [("ts_event_ns", _I), ("order_id", _I), ("strategy", _S),
                            ("quantity", _F), ("limit_price", _F), ("stop_price", _F)],
    "orders_accepted": [("ts_event_ns", _I), ("order_id", _I)],
    "orders_rejected": [("ts_event_ns", _I), ("order_id", _I), ("reason", _S),
                        ("message", _S)],
    "cancellations_accepted": [("ts_event_ns", _I), ("order_id", _I)],
    "cancellations_rejected": [("ts_event_ns", _I), ("order_id", _I), ("reason", _S),
                               ("message", _S)],
    "modifications_accepted": [("ts_event_ns", _I), ("order_id", _I), ("quantity", _F),
                               ("limit_price", _F), ("stop_price", _F)],
    "modifications_rejected": [("ts_event_ns", _I), ("order_id", _I), ("reason", _S),
                               ("message", _S)],
    "expirations": [("ts_event_ns", _I), ("order_id", _I), ("symbol", _S)],
}
# Big tables without NULLs take the fast numpy conversion; the others keep NULL exactly.
_FAST_TABLES = {"bars", "bars_processed"}


def _schema(table: str) -> pa.Schema:
    return pa.schema([("rowid", _I), *RAW_COLUMNS[table]])


def _rows_to_arrow(table: str, rows: list[tuple], schema: pa.Schema | None = None) -> pa.Table:
    schema = schema or _schema(table)
    if table in _FAST_TABLES:
        dtype = np.dtype([(f.name, "i8" if f.type == _I else "f8" if f.type == _F else "O")
                          for f in schema])
        try:
            packed = np.array(rows, dtype=dtype)
        except (TypeError, ValueError):
            packed = None  # an unexpected NULL or text: take the exact path below
        if packed is not None:
            return pa.table([pa.array(packed[f.name], type=f.type) for f in schema],
                            schema=schema)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pa.table([pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)],
                    schema=schema)


def _read_all(conn: sqlite3.Connection, sql: str, params: tuple, table: str,
              schema: pa.Schema) -> pa.Table:
    cursor = conn.execute(sql, params)
    parts = [_rows_to_arrow(table, rows, schema) for rows in iter(
        lambda: cursor.fetchmany(_FETCH_CHUNK), [])]
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _coded_columns(table: str, info: RunInfo) -> dict[str, list[str]]:
    """Text columns of a big table read as small integer codes: {column: the code's texts}.

    SQLite hands every text value to Python as a new string object; for a million bars the
    symbol and strategy names cost more than the numbers. The run's config names its symbols
    and strategies, so SQLite is asked for their position in those lists instead.
    """
    if table not in _FAST_TABLES:
        return {}
    names = {name for name, _ in RAW_COLUMNS[table]}
    known = {
        "symbol": info.config.get("symbols") or [],
        "strategy": [s.get("name") for s in info.config.get("strategies") or []
                     if isinstance(s, dict)],
    }
    return {column: values for column, values in known.items()
            if column in names and values and all(isinstance(v, str) for v in values)}


def _read_increment(conn: sqlite3.Connection, table: str, info: RunInfo,
                    after_rowid: int, *, coded: bool = True) -> pa.Table | None:
    """This run's rows of ``table`` with rowid > ``after_rowid`` (None if there are none)."""
    codes = _coded_columns(table, info) if coded else {}
    selected, code_params = [], []
    for name, _ in RAW_COLUMNS[table]:
        if name in codes:
            cases = " ".join(f"WHEN ? THEN {i}" for i in range(len(codes[name])))
            selected.append(f"CASE {name} {cases} ELSE -1 END")
            code_params.extend(codes[name])
        else:
            selected.append(name)
    columns = ", ".join(selected)
    run_id = info.run_id
    if after_rowid == 0:
        sql, params = f"SELECT rowid, {columns} FROM {table} WHERE run_id = ?", (run_id,)
    else:
        newest = conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
        if newest <= after_rowid:
            return None
        if newest - after_rowid <= _ROWID_SCAN_LIMIT:
            # A few new rows at the end of the table: a rowid range beats the index.
            sql = f"SELECT rowid, {columns} FROM {table} WHERE rowid > ? AND +run_id = ?"
            params = (after_rowid, run_id)
        else:
            sql = f"SELECT rowid, {columns} FROM {table} WHERE run_id = ? AND rowid > ?"
            params = (run_id, after_rowid)
    schema = _schema(table)
    fetched = pa.schema([pa.field(f.name, _I) if f.name in codes else f for f in schema])
    increment = _read_all(conn, sql, (*code_params, *params), table, fetched)
    if not increment.num_rows:
        return None
    for name, texts in codes.items():
        position = increment.schema.get_field_index(name)
        values = increment[name].combine_chunks()
        if pc.any(pc.less(values, 0)).as_py():  # a name the config does not list
            return _read_increment(conn, table, info, after_rowid, coded=False)
        decoded = pa.DictionaryArray.from_arrays(values.cast(pa.int32()), pa.array(texts))
        increment = increment.set_column(position, schema.field(name),
                                         decoded.cast(pa.string()))
    return increment


@dataclass
class RawRun:
    """The raw rows of one run read so far, per table, plus its runs row at that moment."""

    info: RunInfo
    parts: dict[str, list[pa.Table]] = field(default_factory=dict)
    last_rowid: dict[str, int] = field(default_factory=dict)
    version: int = 0
    _memo: dict[str, Any] = field(default_factory=dict)
    # Guards parts and memo: readers of a live run race with the next sync otherwise.
    lock: threading.RLock = field(default_factory=threading.RLock)

    def table(self, name: str) -> pa.Table:
        with self.lock:
            parts = self.parts.get(name)
            if not parts:
                return _schema(name).empty_table()
            if len(parts) > 1:
                self.parts[name] = parts = [pa.concat_tables(parts).combine_chunks()]
            return parts[0]

    def append(self, name: str, rows: pa.Table) -> None:
        with self.lock:
            self.parts.setdefault(name, []).append(rows)
            self.last_rowid[name] = max(self.last_rowid.get(name, 0),
                                        pc.max(rows["rowid"]).as_py())
            self.version += 1

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per version of the data (live runs recompute after new rows)."""
        with self.lock:
            entry = self._memo.get(key)
            if entry is None or entry[0] != self.version:
                entry = (self.version, compute())
                self._memo[key] = entry
            return entry[1]


def _sync(db: Path, raw: RawRun | None, run_id: str, tables: Iterable[str]) -> RawRun:
    """Bring ``raw`` (or a new RawRun) up to date for ``tables`` in one read transaction."""
    conn = connect_read_only(db)
    try:
        conn.execute("BEGIN")
        info = _read_info(conn, run_id)
        if raw is None or raw.info.ts_start != info.ts_start:
            raw = RawRun(info)  # first read, or the id now names another recording
        raw.info = info
        for table in tables:
            increment = _read_increment(conn, table, info, raw.last_rowid.get(table, 0))
            if increment is not None:
                raw.append(table, increment)
            else:
                raw.last_rowid.setdefault(table, 0)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return raw


# -- locks and the live registry ----------------------------------------------------------------

_registry_lock = threading.Lock()
_run_locks: dict[tuple[str, str], threading.Lock] = {}
_live: OrderedDict[tuple[str, str], RawRun] = OrderedDict()


def _run_lock(key: tuple[str, str]) -> threading.Lock:
    with _registry_lock:
        lock = _run_locks.get(key)
        if lock is None:
            lock = _run_locks[key] = threading.Lock()
        return lock


def _keep_live(key: tuple[str, str], raw: RawRun | None) -> None:
    with _registry_lock:
        if raw is None:
            _live.pop(key, None)
            return
        _live[key] = raw
        _live.move_to_end(key)
        while len(_live) > _LIVE_RUNS_KEPT:
            _live.popitem(last=False)


def _live_raw(key: tuple[str, str]) -> RawRun | None:
    with _registry_lock:
        return _live.get(key)


# -- the Parquet cache ---------------------------------------------------------------------------


def cache_root(db: Path) -> Path:
    return db.parent / "cache" / db.stem


def cache_dir(db: Path, run_id: str) -> Path:
    return cache_root(db) / quote(run_id, safe="")


def _read_meta(directory: Path) -> dict | None:
    try:
        return json.loads((directory / "meta.json").read_text())
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None


def _cache_is_valid(meta: dict | None, info: RunInfo) -> bool:
    return (meta is not None and meta.get("format") == CACHE_FORMAT
            and meta.get("ts_start") == info.ts_start and info.finished)


def remove_cache(db: Path, run_id: str) -> None:
    """Delete a run's cache directory (if any); tolerant of concurrent removal."""
    directory = cache_dir(db, run_id)
    if directory.exists():
        trash = directory.with_name(f".{directory.name}.trash-{uuid.uuid4().hex}")
        try:
            os.replace(directory, trash)  # atomic: readers see the whole cache or none
        except FileNotFoundError:
            return
        shutil.rmtree(trash, ignore_errors=True)


def _write_cache(db: Path, info: RunInfo, tables: dict[str, pa.Table]) -> Path:
    final = cache_dir(db, info.run_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.with_name(f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex}")
    staging.mkdir()
    try:
        for name, table in tables.items():
            # Dictionary pages only for text: tried on a million distinct floats, they cost
            # four times the rest of the write.
            text = [f.name for f in table.schema if pa.types.is_string(f.type)]
            pq.write_table(table, staging / f"{name}.parquet", compression="lz4",
                           row_group_size=_ROW_GROUP, use_dictionary=text)
        meta = {"format": CACHE_FORMAT, "run_id": info.run_id, "ts_start": info.ts_start,
                "status": info.status, "created_ns": time.time_ns(),
                "rows": {name: table.num_rows for name, table in tables.items()}}
        (staging / "meta.json").write_text(json.dumps(meta))
        if final.exists() and not _cache_is_valid(_read_meta(final), info):
            remove_cache(db, info.run_id)  # stale: another recording or an older format
        try:
            os.rename(staging, final)
        except OSError:
            if not _cache_is_valid(_read_meta(final), info):
                raise
            # Another process finished the same cache first: keep theirs.
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return final


# -- a run's tables, from wherever they are -------------------------------------------------------

#: Derived tables and the raw tables each needs.
NEEDS: dict[str, tuple[str, ...]] = {
    "bars": ("bars", "bars_processed"),
    "fills": ("fills",),
    "order_log": tuple(t for t in RAW_COLUMNS if t not in ("bars", "bars_processed")),
    "equity": ("bars", "fills"),
    "round_trips": ("bars", "fills"),
    "symbols": ("bars", "bars_processed"),
}


class RunSource:
    """A run's derived tables: read from its Parquet cache (finished) or computed live."""

    def __init__(self, db: Path, info: RunInfo, *, directory: Path | None = None,
                 raw: RawRun | None = None) -> None:
        self.db = db
        self.info = info
        self.directory = directory
        self.raw = raw

    @property
    def cached(self) -> bool:
        return self.directory is not None

    def sql(self, name: str) -> str:
        """A FROM-clause expression for derived table ``name`` (register ``tables(name)``)."""
        if self.directory is not None:
            return f"read_parquet({sql_string(self.directory / f'{name}.parquet')})"
        return f"run_{name}"

    def tables(self, *names: str) -> dict[str, pa.Table]:
        """What to register on a cursor so that ``sql(name)`` resolves."""
        if self.directory is not None:
            return {}
        return {f"run_{name}": self.arrow(name) for name in names}

    def arrow(self, name: str) -> pa.Table:
        if self.directory is not None:
            return pq.read_table(self.directory / f"{name}.parquet")
        from tradecore.analytics import derive

        return self.raw.memo(f"derived:{name}", lambda: derive.derived_table(name, self.raw))


def open_run(run_id: str, db_path: str | os.PathLike | None, *needs: str) -> RunSource:
    """The run's source, building its cache if it is finished and has none yet.

    ``needs`` names the derived tables the caller will use; for a live run only their raw
    tables are read.
    """
    from tradecore.analytics import derive

    db = resolve_db_path(db_path)
    key = (str(db), run_id)
    directory = cache_dir(db, run_id)
    info = run_info(run_id, db)  # one indexed row: is there a valid cache?
    if _cache_is_valid(_read_meta(directory), info):
        return RunSource(db, info, directory=directory)
    with _run_lock(key):
        if _cache_is_valid(_read_meta(directory), info):  # built meanwhile by another thread
            return RunSource(db, info, directory=directory)
        wanted = RAW_COLUMNS if info.finished else {t for n in (needs or NEEDS) for t in NEEDS[n]}
        raw = _sync(db, _live_raw(key), run_id, sorted(wanted))
        if not raw.info.finished:
            _keep_live(key, raw)
            return RunSource(db, raw.info, raw=raw)
        if set(raw.last_rowid) != set(RAW_COLUMNS):  # it finished while we read
            raw = _sync(db, raw, run_id, list(RAW_COLUMNS))
        tables = {name: raw.memo(f"derived:{name}", lambda n=name: derive.derived_table(n, raw))
                  for name in NEEDS}
        try:
            final = _write_cache(db, raw.info, tables)
        except OSError as error:  # e.g. a read-only folder: serve it from memory instead
            log.warning("no cache for run %s: %s", run_id, error)
            _keep_live(key, raw)
            return RunSource(db, raw.info, raw=raw)
        _keep_live(key, None)
        return RunSource(db, raw.info, directory=final)


def build_cache(run_id: str, db_path: str | os.PathLike | None = None) -> bool:
    """Build a finished run's cache now (e.g. right after it completes); False if running."""
    return open_run(run_id, db_path).cached


def drop_cache(run_id: str, db_path: str | os.PathLike | None = None) -> None:
    """Forget everything cached for a run -- its files, its live rows and its stored
    statistics -- so the next access starts from runs.db; for tools and benchmarks."""
    db = resolve_db_path(db_path)
    key = (str(db), run_id)
    with _run_lock(key):
        _keep_live(key, None)
        remove_cache(db, run_id)
        conn = connect_writable(db)
        try:
            with conn:
                conn.execute("DELETE FROM run_statistics WHERE run_id = ?", (run_id,))
        except sqlite3.OperationalError as error:  # no such table, or read-only
            log.info("no statistics dropped for %s: %s", run_id, error)
        finally:
            conn.close()


# -- the statistics cache (a table of runs.db) ----------------------------------------------------

STATISTICS_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS run_statistics (
    run_id TEXT PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
    run_ts_start INTEGER NOT NULL,
    definitions_version TEXT NOT NULL,
    stats TEXT NOT NULL,
    computed_at INTEGER NOT NULL
)"""


def ensure_statistics_table(db: Path) -> bool:
    """Create ``run_statistics`` if missing; False if it is missing and cannot be created."""
    conn = connect_read_only(db)
    try:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                              " AND name = 'run_statistics'").fetchone() is not None
    finally:
        conn.close()
    if exists:
        return True
    conn = connect_writable(db)
    try:
        conn.execute(STATISTICS_TABLE_SQL)
        return True
    except sqlite3.OperationalError as error:
        log.info("statistics are not cached: %s", error)
        return False
    finally:
        conn.close()


def cached_statistics(db: Path, run_id: str) -> tuple[str, int, str | None, dict | None]:
    """``(status, ts_start, definitions version, stats)`` of a run; the last two None if none
    is stored for this recording of it."""
    conn = connect_read_only(db)
    try:
        try:
            row = conn.execute(
                "SELECT r.status, r.ts_start, s.definitions_version, s.stats"
                " FROM runs AS r LEFT JOIN run_statistics AS s"
                " ON s.run_id = r.run_id AND s.run_ts_start = r.ts_start"
                " WHERE r.run_id = ?", (run_id,)
            ).fetchone()
        except sqlite3.OperationalError:  # no run_statistics table yet
            row = conn.execute("SELECT status, ts_start, NULL, NULL FROM runs WHERE run_id = ?",
                               (run_id,)).fetchone()
    finally:
        conn.close()
    if row is None:
        raise RunNotFoundError(f"no run {run_id!r} in the runs database")
    return row[0], int(row[1]), row[2], (json.loads(row[3]) if row[3] else None)


def store_statistics(db: Path, info: RunInfo, version: str, stats: dict) -> None:
    """Keep a finished run's statistics (never a running run's)."""
    if not info.finished or not ensure_statistics_table(db):
        return
    conn = connect_writable(db)
    try:
        with conn:
            # Only if the run is still this recording and finished.
            conn.execute(
                "INSERT OR REPLACE INTO run_statistics"
                " (run_id, run_ts_start, definitions_version, stats, computed_at)"
                " SELECT run_id, ts_start, ?, ?, ? FROM runs"
                " WHERE run_id = ? AND ts_start = ? AND status <> ?",
                (version, json.dumps(stats), time.time_ns(), info.run_id, info.ts_start,
                 RUNNING),
            )
    except sqlite3.OperationalError as error:
        log.info("statistics of %s not cached: %s", info.run_id, error)
    finally:
        conn.close()


def delete_runs(db: Path, run_ids: list[str]) -> int:
    """Delete runs (their events cascade) and their caches; the number of runs deleted."""
    conn = connect_writable(db)
    try:
        with conn:
            deleted = 0
            for start in range(0, len(run_ids), 500):
                chunk = run_ids[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                deleted += conn.execute(f"DELETE FROM runs WHERE run_id IN ({marks})",
                                        chunk).rowcount
    finally:
        conn.close()
    for run_id in run_ids:
        key = (str(db), run_id)
        with _run_lock(key):
            _keep_live(key, None)
            remove_cache(db, run_id)
    return deleted
