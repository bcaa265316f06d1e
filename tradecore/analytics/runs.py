"""Every run of a runs database: the list (with headline metrics), configs, deletion."""

from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd

from tradecore.analytics import store
from tradecore.analytics.metrics import DEFINITIONS_VERSION

PathLike = str | os.PathLike | None

#: Statistics shown beside each run in ``list_runs`` (when they have been computed).
HEADLINE = ("total_return_pct", "cagr_pct", "sharpe", "max_drawdown_pct", "trades",
            "win_rate_pct", "profit_factor", "equity_final")

LIST_COLUMNS = ("run_id", "name", "status", "strategy", "symbols", "bar_period", "parameters",
                "ts_start", "ts_end", "started", "duration_s", "error", "error_traceback", "sweep_id",
                "initial_cash", "commission_per_unit", "slippage_bps", *HEADLINE)


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
        config = json.loads(record["config"]) if record["config"] else {}
    except json.JSONDecodeError:
        config = {}
    strategies = config.get("strategies") or []
    broker = config.get("broker") or {}
    stats: dict[str, Any] = {}
    if record.get("stats") and record.get("definitions_version") == DEFINITIONS_VERSION:
        stats = json.loads(record["stats"])
    ts_start, ts_end = record["ts_start"], record["ts_end"]
    return {
        "run_id": record["run_id"],
        "name": record["name"],
        "status": record["status"],
        "strategy": " + ".join(str(s.get("name") or s.get("class", "")) for s in strategies),
        "symbols": ", ".join(config.get("symbols") or []),
        "bar_period": config.get("bar_period"),
        "parameters": _parameters_text(strategies),
        "ts_start": ts_start,
        "ts_end": ts_end,
        "started": pd.Timestamp(int(ts_start), unit="ns") if pd.notna(ts_start) else pd.NaT,
        "duration_s": (ts_end - ts_start) / 1e9 if pd.notna(ts_end) else float("nan"),
        "error": record["error"],
        "error_traceback": record.get("error_traceback"),
        "sweep_id": record["sweep_id"],
        "initial_cash": broker.get("initial_cash"),
        "commission_per_unit": broker.get("commission_per_unit"),
        "slippage_bps": broker.get("slippage_bps"),
        **{key: stats.get(key) for key in HEADLINE},
    }


def list_runs(db_path: PathLike = None) -> pd.DataFrame:
    """Every run, newest first: ``run_id, name, status, strategy, symbols, bar_period,
    parameters`` (text), ``ts_start, ts_end`` (ns), ``started``, ``duration_s``, ``error``,
    ``sweep_id``, broker settings, and the ``HEADLINE`` statistics where already computed (NaN
    otherwise). Reads only the small ``runs`` and ``run_statistics`` tables (a few ms for
    hundreds of runs)."""
    db = store.resolve_db_path(db_path, must_exist=False)
    if not db.is_file():
        return pd.DataFrame(columns=list(LIST_COLUMNS))
    with_stats = store.ensure_statistics_table(db)
    stats_columns = ", s.stats, s.definitions_version" if with_stats else ""
    stats_join = (" LEFT JOIN run_statistics AS s"
                  " ON s.run_id = r.run_id AND s.run_ts_start = r.ts_start") if with_stats else ""
    conn = store.connect_read_only(db)
    try:
        cursor = conn.execute(
            f"SELECT r.run_id, r.name, r.status, r.ts_start, r.ts_end, r.config, r.error,"
            f" r.error_traceback, r.sweep_id{stats_columns} FROM runs AS r{stats_join}"
            f" ORDER BY r.ts_start DESC, r.run_id"
        )
        names = [d[0] for d in cursor.description]
        records = [dict(zip(names, row, strict=True)) for row in cursor]
    finally:
        conn.close()
    rows = [_row(record) for record in records]
    result = pd.DataFrame(rows, columns=list(LIST_COLUMNS))
    for column in ("ts_start", "ts_end"):  # exact ns, NULL while running
        result[column] = result[column].astype("Int64")
    for key in HEADLINE:
        result[key] = pd.to_numeric(result[key], errors="coerce").astype(float)
    return result


def run_config(run_id: str, db_path: PathLike = None) -> dict[str, Any]:
    """The configuration that produced the run (strategies and parameters, symbols, bar period,
    broker and datafeed settings, tradecore version)."""
    return store.run_info(run_id, db_path).config


def delete_runs(run_ids: list[str] | str, db_path: PathLike = None, *,
                force: bool = False) -> int:
    """Delete runs with every recorded event (``ON DELETE CASCADE``), their cached statistics
    and cache files; returns how many runs were deleted. A run still ``running`` is refused
    unless ``force`` (its recorder would fail on the next write)."""
    if isinstance(run_ids, str):
        run_ids = [run_ids]
    run_ids = list(dict.fromkeys(run_ids))
    db = store.resolve_db_path(db_path)
    if not force:
        running = [run_id for run_id in run_ids if _status(db, run_id) == store.RUNNING]
        if running:
            raise ValueError(f"runs still recording cannot be deleted: {', '.join(running)} "
                             "(cancel them first, or pass force=True)")
    return store.delete_runs(db, run_ids)


def _status(db, run_id: str) -> str | None:
    try:
        return store.run_info(run_id, db).status
    except store.RunNotFoundError:
        return None
