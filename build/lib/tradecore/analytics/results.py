"""What a run page shows, one function each: fills, order log, bars, equity, trades, statistics.

Every function takes ``(run_id, db_path=None)``; ``db_path`` defaults to the runs database in
use. A finished run is read from its Parquet cache (built on first access); a running run is
read live. See ``store`` for how, and ``metrics`` for the definitions.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from tradecore.analytics import metrics as stats_module
from tradecore.analytics import price_bars, store
from tradecore.analytics.connection import query_df
from tradecore.analytics.equity import COLUMNS as EQUITY_COLUMNS

PathLike = str | os.PathLike | None


def fills(run_id: str, db_path: PathLike = None) -> pd.DataFrame:
    """One row per fill, in time order: the FillEvent fields (``ts_event_ns, fill_id,
    associated_order_id, strategy, symbol, side, quantity_filled, fill_price, commission``)
    and ``time``."""
    source = store.open_run(run_id, db_path, "fills")
    return query_df(
        f"SELECT *, make_timestamp_ns(ts_event_ns) AS time FROM {source.sql('fills')}"
        " ORDER BY ts_event_ns, fill_id", tables=source.tables("fills"))


def order_log(run_id: str, db_path: PathLike = None) -> pd.DataFrame:
    """One row per submitted order with its outcome (see ``tradecore.analytics.orders``)."""
    source = store.open_run(run_id, db_path, "order_log")
    return query_df(f"SELECT * FROM {source.sql('order_log')}"
                    " ORDER BY submitted_ts_ns, order_id", tables=source.tables("order_log"))


def bars(run_id: str, db_path: PathLike = None, max_points: int = 2000,
         symbol: str | None = None, start_ns: int | None = None,
         end_ns: int | None = None) -> pd.DataFrame:
    """Bars in ``[start_ns, end_ns]`` (of ``symbol``, or every symbol) with indicator columns,
    down-sampled in SQL to at most ``max_points`` buckets per symbol; bar by bar when the window
    holds no more than that.

    Columns: ``ts_event_ns`` (the first bar of the bucket), ``time``, ``symbol``, ``open, high,
    low, close, volume``, ``bar_count`` (bars in the bucket), then one column per indicator.
    """
    source = store.open_run(run_id, db_path, "bars")
    tables = source.tables("bars")
    columns = query_df(f"SELECT * FROM {source.sql('bars')} LIMIT 0", tables=tables).columns
    indicators = [c for c in columns if c not in price_bars.BASE_COLUMNS]
    return price_bars.downsample(source.sql("bars"), tables, indicators, max_points=max_points,
                                  symbol=symbol, start_ns=start_ns, end_ns=end_ns)


def equity_curve(run_id: str, db_path: PathLike = None,
                 max_points: int | None = None) -> pd.DataFrame:
    """Per bar timestamp: ``ts_event_ns, time, cash, position_value, equity, drawdown`` (see
    ``tradecore.analytics.equity``).

    With ``max_points``, time buckets as in ``bars``: each keeps its last row's values (and
    its last timestamp), except ``drawdown``, the deepest in the bucket, so the worst drawdown
    stays visible.
    """
    source = store.open_run(run_id, db_path, "equity")
    tables, src = source.tables("equity"), source.sql("equity")
    values = ", ".join(EQUITY_COLUMNS[1:])
    full = (f"SELECT ts_event_ns, make_timestamp_ns(ts_event_ns) AS time, {values}"
            f" FROM {src} ORDER BY ts_event_ns")
    if max_points is None:
        return query_df(full, tables=tables)
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    extent = query_df(f"SELECT min(ts_event_ns) AS t0, max(ts_event_ns) AS t1, count(*) AS n"
                      f" FROM {src}", tables=tables)
    if extent["n"].iloc[0] <= max_points:
        return query_df(full, tables=tables)
    t0, t1 = int(extent["t0"].iloc[0]), int(extent["t1"].iloc[0])
    sql = f"""
        SELECT max(ts_event_ns) AS ts_event_ns,
               make_timestamp_ns(max(ts_event_ns)) AS time,
               arg_max(cash, ts_event_ns) AS cash,
               arg_max(position_value, ts_event_ns) AS position_value,
               arg_max(equity, ts_event_ns) AS equity,
               min(drawdown) AS drawdown
        FROM {src}
        GROUP BY (ts_event_ns - $t0) // $width
        ORDER BY ts_event_ns
    """
    return query_df(sql, {"t0": t0, "width": (t1 - t0) // max_points + 1}, tables=tables)


def round_trips(run_id: str, db_path: PathLike = None) -> pd.DataFrame:
    """FIFO round trips (see ``tradecore.analytics.trades``): ``strategy, symbol, direction,
    quantity, entry_ts_ns, exit_ts_ns, entry_price, exit_price, pnl, commission, return_pct,
    open, mfe, mae, duration_ns, entry_fill_id, exit_fill_id``, plus ``entry_time``,
    ``exit_time`` and ``duration``."""
    source = store.open_run(run_id, db_path, "round_trips")
    frame = source.arrow("round_trips").to_pandas()
    frame["entry_time"] = pd.to_datetime(frame["entry_ts_ns"].astype("int64"), unit="ns")
    frame["exit_time"] = pd.to_datetime(frame["exit_ts_ns"].astype("int64"), unit="ns")
    frame["duration"] = pd.to_timedelta(frame["duration_ns"].astype("int64"), unit="ns")
    return frame


def _risk_free_rate(config: dict) -> float:
    analytics_config = config.get("analytics") or {}
    return float(analytics_config.get("risk_free_rate", stats_module.DEFAULT_RISK_FREE_RATE))


def statistics(run_id: str, db_path: PathLike = None, *,
               risk_free_rate: float | None = None) -> dict[str, Any]:
    """Every statistic of ``tradecore.analytics.metrics.STATISTICS`` for the run, with its
    convention (``periods_per_year, risk_free_rate, resample_rule, definitions_version``).

    A finished run's statistics are computed once and kept in runs.db (``run_statistics``),
    recomputed when the definitions version changes; a running run's never are. An explicit
    ``risk_free_rate`` computes afresh and is not kept.
    """
    db = store.resolve_db_path(db_path)
    if risk_free_rate is None:
        status, _, version, stored = store.cached_statistics(db, run_id)
        if (status != store.RUNNING and stored is not None
                and version == stats_module.DEFINITIONS_VERSION):
            return stats_module.from_json_ready(stored)
    source = store.open_run(run_id, db, "equity", "round_trips", "symbols", "fills")
    info = source.info
    rate = _risk_free_rate(info.config) if risk_free_rate is None else float(risk_free_rate)
    fills_table = source.arrow("fills")
    result = stats_module.compute(
        source.arrow("equity").to_pandas(), source.arrow("round_trips").to_pandas(),
        source.arrow("symbols").to_pandas(),
        commissions=float(sum(fills_table["commission"].to_pylist() or [0.0])),
        initial_cash=info.initial_cash, risk_free_rate=rate,
    )
    if risk_free_rate is None and info.finished:
        store.store_statistics(db, info, stats_module.DEFINITIONS_VERSION,
                               stats_module.to_json_ready(result))
    return result


def compare(run_ids: list[str], db_path: PathLike = None) -> pd.DataFrame:
    """Statistics of several runs: one column per run id, one row per statistic."""
    columns = {run_id: pd.Series(statistics(run_id, db_path), dtype=object)
               for run_id in run_ids}
    frame = pd.DataFrame(columns, index=list(stats_module.STATISTICS), dtype=object)
    frame.index.name = "statistic"
    return frame
