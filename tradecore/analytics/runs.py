"""Every run of a runs database: the list (with headline metrics), configs, deletion --
through DuckDB's SQLite extension, like every read of runs.db here."""

from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd

from tradecore.analytics import catalogue, finalize, source
from tradecore.analytics.connection import is_writable
from tradecore.runs_db.config import RunConfig, RunConfigError
from tradecore.runs_db.runs import RunIsRunningError, RunNotFoundError
from tradecore.runs_db.schema import ORPHAN_RUN_KEYS_SQL, delete_run_statements
from tradecore.runs_db.status import RunStatus

PathLike = str | os.PathLike | None
#: Statistics listed beside each run: the catalogue's headline, and a few more the pages sort
#: and filter by (keys only: labels live in ``catalogue``).
LISTED_STATISTICS = tuple(dict.fromkeys((*catalogue.HEADLINE, "cagr_pct", "win_rate_pct",
                                         "profit_factor", "equity_final")))
HEADLINE = catalogue.HEADLINE

LIST_COLUMNS = ("run_id", "name", "status", "strategy", "symbols", "bar_period", "parameters",
                "ts_start", "ts_end", "started", "duration_s", "error", "error_traceback", "sweep_id",
                "initial_cash", "commission_per_unit", "slippage_bps", *LISTED_STATISTICS)


def _parameters_text(strategies: list[dict]) -> str:
    """``fast_period=10, slow_period=30`` (strategy-prefixed when the run has several)."""
    parts = []
    for strategy in strategies:
        values = {k: v for k, v in (strategy.get("parameters") or {}).items()
                  if k != "bar_period"}
        prefix = f"{strategy.get('name', '')}: " if len(strategies) > 1 else ""
        parts.append(prefix + ", ".join(f"{k}={v}" for k, v in values.items()))
    return "; ".join(p for p in parts if p)


def _row(record: dict[str, Any]) -> dict[str, Any]:
    try:
        config: RunConfig | None = RunConfig.from_json(record["config"])
    except RunConfigError:
        config = None  # listed all the same, with what the row itself says
    strategies = [s.to_dict() for s in config.strategies] if config else []
    stats: dict[str, Any] = json.loads(record["stats"]) if record.get("stats") else {}
    ts_start = int(record["ts_start"])
    ts_end = int(record["ts_end"]) if record["ts_end"] is not None else None
    return {
        "run_id": record["run_id"],
        "name": record["name"],
        "status": record["status"],
        "strategy": " + ".join(str(s.get("name") or s.get("class", "")) for s in strategies),
        "symbols": ", ".join(config.symbols) if config else "",
        "bar_period": config.bar_period if config else None,
        "parameters": _parameters_text(strategies),
        "ts_start": ts_start,
        "ts_end": ts_end,
        "started": None,  # filled for all rows at once below
        "duration_s": (ts_end - ts_start) / 1e9 if ts_end is not None else float("nan"),
        "error": record["error"],
        "error_traceback": record["error_traceback"],
        "sweep_id": record["sweep_id"],
        "initial_cash": config.broker.initial_cash if config else None,
        "commission_per_unit": config.broker.commission_per_unit if config else None,
        "slippage_bps": config.broker.slippage_bps if config else None,
        **{key: stats.get(key) for key in LISTED_STATISTICS},
    }


_rows: dict[tuple, dict[str, Any]] = {}
_ROWS_KEPT = 20_000


def list_runs(db_path: PathLike = None) -> pd.DataFrame:
    """Every run, newest first: ``run_id, name, status, strategy, symbols, bar_period,
    parameters`` (text), ``ts_start, ts_end`` (ns), ``started``, ``duration_s``, ``error``,
    ``sweep_id``, broker settings, and the ``HEADLINE`` statistics where already computed (NaN
    otherwise). Reads only the small ``runs`` and ``run_statistics`` tables."""
    db = source.resolve_db_path(db_path, must_exist=False)
    if not db.is_file():
        return pd.DataFrame(columns=list(LIST_COLUMNS))
    source.check_schema(db)
    source.mark_interrupted(db)
    # The list is re-read every few seconds by the dashboard, and a finished run's row never
    # changes: its parsed row is kept per (file, run_key, ts_start, status, ts_end, stats), so
    # only new or changed runs send their config and statistics JSON across.
    heads = source.sqlite(
        db,
        "SELECT r.run_key, r.ts_start, r.status, r.ts_end, s.run_key IS NOT NULL FROM runs AS r"
        " LEFT JOIN run_statistics AS s ON s.run_key = r.run_key"
        " AND s.definitions_version = ?1"
        " ORDER BY r.ts_start DESC, r.run_id", (finalize.RESULTS_VERSION,))
    keys = [(str(db), *head) for head in heads]
    missing = [key[1] for key in keys if key not in _rows]
    if missing:
        names = ("run_key", "run_id", "name", "status", "ts_start", "ts_end", "config",
                 "error", "error_traceback", "sweep_id", "stats")
        fetched = source.sqlite(
            db,
            "SELECT r.run_key, r.run_id, r.name, r.status, r.ts_start, r.ts_end, r.config,"
            " r.error, r.error_traceback, r.sweep_id, s.stats FROM runs AS r"
            " LEFT JOIN run_statistics AS s ON s.run_key = r.run_key"
            " AND s.definitions_version = ?1"
            f" WHERE r.run_key IN ({', '.join(str(int(k)) for k in missing)})",
            (finalize.RESULTS_VERSION,))
        for row in fetched:
            record = dict(zip(names, row, strict=True))
            key = (str(db), record["run_key"], record["ts_start"], record["status"],
                   record["ts_end"], "1" if record["stats"] is not None else "0")
            _rows[key] = _row(record)
        while len(_rows) > _ROWS_KEPT:
            _rows.pop(next(iter(_rows)))
    rows = [_rows[key] for key in keys if key in _rows]
    result = pd.DataFrame(rows, columns=list(LIST_COLUMNS))
    for column in ("ts_start", "ts_end"):  # exact ns, NULL while running
        result[column] = result[column].astype("Int64")
    result["started"] = pd.to_datetime(result["ts_start"].astype("int64"), unit="ns")
    for key in LISTED_STATISTICS:
        result[key] = pd.to_numeric(result[key], errors="coerce").astype(float)
    return result


def run_config(run_id: str, db_path: PathLike = None) -> dict[str, Any]:
    """The configuration that produced the run (strategies and parameters, symbols, bar period,
    broker and datafeed settings, tradecore version)."""
    return source.run_info(run_id, db_path).config.to_dict()


def run_row(run_id: str, db_path: PathLike = None) -> source.RunInfo:
    """The run's ``runs`` row (status, times, config, error and traceback, sweep and role)."""
    return source.run_info(run_id, db_path)


def delete_runs(run_ids: list[str] | str, db_path: PathLike = None) -> int:
    """Delete runs with every recorded event and stored result; how many were deleted.

    A run still ``running`` is refused (cancel it first): ``RunIsRunningError``. Each delete
    runs inside SQLite (``sqlite_query``), the run row first, so the run disappears at once and
    an interrupted delete leaves nothing visible; what it left is removed by the next delete.
    """
    if isinstance(run_ids, str):
        run_ids = [run_ids]
    run_ids = list(dict.fromkeys(run_ids))
    db = source.resolve_db_path(db_path)
    if not is_writable(db):
        raise PermissionError(f"{db} is read-only: runs cannot be deleted from it")
    infos = []
    for run_id in run_ids:
        try:
            infos.append(source.run_info(run_id, db))
        except RunNotFoundError:
            continue
    running = [info.run_id for info in infos if info.status is RunStatus.RUNNING]
    if running:
        raise RunIsRunningError(f"runs still recording cannot be deleted: {', '.join(running)} "
                                "(cancel them first)")
    keys = [info.run_key for info in infos]
    keys += [int(k) for (k,) in source.sqlite(db, ORPHAN_RUN_KEYS_SQL) if int(k) not in keys]
    for key in keys:
        for statement in delete_run_statements():
            source.execute(db, statement, (key,))
    return len(infos)
