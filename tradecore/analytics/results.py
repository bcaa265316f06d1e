"""What a run page shows, one function each: fills, order log, bars, equity, trades, statistics.

Every function takes ``(run_id, db_path=None)``; ``db_path`` defaults to the runs database in
use. Everything is read from runs.db through DuckDB's SQLite extension (``connection``):

- a finished run's statistics, round trips, fills, order log and its equity and price
  overviews (the ``OVERVIEW_POINTS`` view a chart opens with) come from what ``finalize``
  stored at its end;
- anything else -- a zoomed window, another resolution, a running run, a run nobody
  finalized -- is computed from the run's raw rows, read inside SQLite by rowid segment. A
  finished run's missing results are stored then, so that happens once.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Any

import pandas as pd
import pyarrow as pa

from tradecore.analytics import finalize, orders, price_bars, raw, source
from tradecore.analytics import metrics as stats_module
from tradecore.analytics.connection import attach, is_writable, query_df

log = logging.getLogger(__name__)
PathLike = str | os.PathLike | None


class _Run:
    """One run as analytics reads it: its row, its indicators, and its raw rows on demand."""

    def __init__(self, run_id: str, db_path: PathLike) -> None:
        self.db = source.resolve_db_path(db_path)
        self.info = source.run_info(run_id, self.db)
        self.alias = attach(self.db)
        self._indicators: list[dict] | None = None

    @property
    def indicators(self) -> list[dict]:
        if self._indicators is None:
            self._indicators = source.indicators(self.db, self.info.run_key)
        return self._indicators

    def indicator_triples(self) -> list[tuple[str, int, str]]:
        return [(i["strategy"], i["slot"], i["name"]) for i in self.indicators]

    def slots(self) -> int:
        return 1 + max((i["slot"] for i in self.indicators), default=-1)

    def read(self, table: str, *, start_ns: int | None = None,
             end_ns: int | None = None) -> pa.Table:
        slots = self.slots() if table == "bars_processed" else 0
        if not self.info.finished and start_ns is None and end_ns is None:
            return _live_rows(self, table, slots)
        return raw.read_duckdb(self.alias, self.info.run_key, table, slots,
                               start_ns=start_ns, end_ns=end_ns)

    def computed(self, *, start_ns: int | None = None,
                 end_ns: int | None = None) -> finalize.Computed:
        return finalize.Computed(
            self.info.config, lambda t: self.read(t, start_ns=start_ns, end_ns=end_ns),
            self.indicator_triples())

    def stored(self, name: str) -> pa.Table | None:
        """A stored result of a finished run (computed and stored now if missing)."""
        if not self.info.finished:
            return None
        table = source.stored_result(self.db, self.info.run_key, name,
                                     finalize.RESULTS_VERSION)
        if table is None and self.info.status.has_statistics:
            table = self._store_results().get(name)
        return table

    def _store_results(self) -> dict[str, pa.Table]:
        computed = self.computed()
        tables = computed.stored()
        if is_writable(self.db):
            stats = computed.statistics()
            _store(self.db, self.info, stats, tables)
        return tables


#: A running run's rows read so far, per (runs.db, run_key, ts_start) and table: each look at
#: it reads only the rows written since the last (SQLite appends a run's rows at growing
#: rowids), so a live page refreshing every few seconds never re-reads a million bars.
_live: OrderedDict[tuple, dict[str, tuple[int, pa.Table]]] = OrderedDict()
_live_lock = threading.Lock()
_LIVE_RUNS_KEPT = 4


def _live_rows(run: _Run, table: str, slots: int) -> pa.Table:
    key = (str(run.db), run.info.run_key, run.info.ts_start)
    with _live_lock:
        tables = _live.setdefault(key, {})
        _live.move_to_end(key)
        while len(_live) > _LIVE_RUNS_KEPT:
            _live.popitem(last=False)
        last, rows = tables.get(table, (0, None))
        if rows is not None and rows.num_columns != len(raw.schema(table, slots)):
            last, rows = 0, None  # a new indicator column appeared: read afresh
        new = raw.read_duckdb(run.alias, run.info.run_key, table, slots, after_rowid=last)
        if new.num_rows:
            rows = new if rows is None else pa.concat_tables([rows, new]).combine_chunks()
            last = int(pa.compute.max(new["rowid"]).as_py())
        elif rows is None:
            rows = new
        tables[table] = (last, rows)
        return rows


def _store(db, info: source.RunInfo, stats: dict[str, Any], tables: dict[str, pa.Table]) -> None:
    """Store results computed on read, through DuckDB (the dashboard never uses sqlite3)."""
    rows = [("INSERT OR REPLACE INTO run_statistics (run_key, definitions_version, stats,"
             " computed_at) SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM runs"
             " WHERE run_key = ?1 AND ts_start = ?5)",
             (info.run_key, finalize.RESULTS_VERSION,
              json.dumps(stats_module.to_json_ready(stats)), time.time_ns(), info.ts_start))]
    for name, table in tables.items():
        rows.append(("INSERT OR REPLACE INTO run_results (run_key, name, version, arrow_hex)"
                     " SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM runs"
                     " WHERE run_key = ?1 AND ts_start = ?5)",
                     (info.run_key, name, finalize.RESULTS_VERSION, finalize.to_hex(table),
                      info.ts_start)))
    try:
        for sql, values in rows:
            source.execute(db, sql, values)
    except Exception as error:  # noqa: BLE001 - a read must not fail for want of a cache
        log.warning("results of run %s not stored: %s", info.run_id, error)


def fills(run_id: str, db_path: PathLike = None) -> pd.DataFrame:
    """One row per fill, in time order: the FillEvent fields (``ts_event_ns, fill_id,
    associated_order_id, strategy, symbol, side, quantity_filled, fill_price, commission``)
    and ``time``."""
    run = _Run(run_id, db_path)
    table = run.stored("fills")
    if table is None:
        table = finalize.sorted_fills(run.read("fills"))
    return query_df("SELECT *, make_timestamp_ns(ts_event_ns) AS time FROM fills"
                    " ORDER BY ts_event_ns, fill_id", tables={"fills": table})


def order_log(run_id: str, db_path: PathLike = None) -> pd.DataFrame:
    """One row per submitted order with its outcome (see ``tradecore.analytics.orders``)."""
    run = _Run(run_id, db_path)
    table = run.stored("order_log")
    if table is None:
        table = orders.assemble({t: run.read(t) for t in orders.TABLES})
    return query_df("SELECT * FROM log ORDER BY submitted_ts_ns, order_id",
                    tables={"log": table})


def bars(run_id: str, db_path: PathLike = None, max_points: int = 2000,
         symbol: str | None = None, start_ns: int | None = None,
         end_ns: int | None = None) -> pd.DataFrame:
    """Bars in ``[start_ns, end_ns]`` (of ``symbol``, or every symbol) with indicator columns,
    down-sampled in SQL to at most ``max_points`` buckets per symbol; bar by bar when the window
    holds no more than that.

    Columns: ``ts_event_ns`` (the first bar of the bucket), ``time``, ``symbol``, ``open, high,
    low, close, volume``, ``bar_count`` (bars in the bucket), then one column per indicator.
    """
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    run = _Run(run_id, db_path)
    whole = start_ns is None and end_ns is None
    if whole and max_points == finalize.OVERVIEW_POINTS and (
            symbol is None or list(run.info.config.symbols) == [symbol]):
        stored = run.stored("bars_overview")
        if stored is not None:
            return _frame(stored)
    assembled = run.computed(start_ns=start_ns, end_ns=end_ns).bars()
    return price_bars.downsample(
        "assembled", {"assembled": assembled}, price_bars.indicator_columns(assembled),
        max_points=max_points, symbol=symbol, start_ns=start_ns, end_ns=end_ns)


def _frame(table: pa.Table) -> pd.DataFrame:
    return query_df("SELECT * FROM t", tables={"t": table})


def equity_curve(run_id: str, db_path: PathLike = None,
                 max_points: int | None = None) -> pd.DataFrame:
    """Per bar timestamp: ``ts_event_ns, time, cash, position_value, equity, drawdown`` (see
    ``tradecore.analytics.equity``).

    With ``max_points``, time buckets as in ``bars``: each keeps its last row's values (and
    its last timestamp), except ``drawdown``, the deepest in the bucket, so the worst drawdown
    stays visible.
    """
    if max_points is not None and max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    run = _Run(run_id, db_path)
    if max_points == finalize.OVERVIEW_POINTS:
        stored = run.stored("equity_overview")
        if stored is not None:
            return _frame(stored)
    equity = run.computed().equity()
    return finalize.equity_downsample(equity, max_points if max_points else equity.num_rows
                                      or 1)


def round_trips(run_id: str, db_path: PathLike = None) -> pd.DataFrame:
    """FIFO round trips (see ``tradecore.analytics.trades``): ``strategy, symbol, direction,
    quantity, entry_ts_ns, exit_ts_ns, entry_price, exit_price, pnl, commission, return_pct,
    open, mfe, mae, duration_ns, entry_fill_id, exit_fill_id``, plus ``entry_time``,
    ``exit_time`` and ``duration``."""
    run = _Run(run_id, db_path)
    table = run.stored("round_trips")
    if table is None:
        table = run.computed().round_trips()
    frame = table.to_pandas()
    frame["entry_time"] = pd.to_datetime(frame["entry_ts_ns"].astype("int64"), unit="ns")
    frame["exit_time"] = pd.to_datetime(frame["exit_ts_ns"].astype("int64"), unit="ns")
    frame["duration"] = pd.to_timedelta(frame["duration_ns"].astype("int64"), unit="ns")
    return frame


def statistics(run_id: str, db_path: PathLike = None, *,
               risk_free_rate: float | None = None) -> dict[str, Any]:
    """Every statistic of ``tradecore.analytics.metrics.STATISTICS`` for the run, with its
    convention (``periods_per_year, risk_free_rate, resample_rule, definitions_version``).

    A finished run's statistics are computed once (at its end, by ``finalize``) and kept in
    runs.db (``run_statistics``), recomputed when the definitions version changes; a running
    run's never are. An explicit ``risk_free_rate`` computes afresh and is not kept.
    """
    run = _Run(run_id, db_path)
    if risk_free_rate is None and run.info.finished:
        stored = source.stored_statistics(run.db, run.info.run_key, finalize.RESULTS_VERSION)
        if stored is not None:
            return stats_module.from_json_ready(stored)
    computed = run.computed()
    result = computed.statistics(risk_free_rate)
    if risk_free_rate is None and run.info.status.has_statistics and is_writable(run.db):
        _store(run.db, run.info, result, computed.stored())
    return result


def compare(run_ids: list[str], db_path: PathLike = None) -> pd.DataFrame:
    """Statistics of several runs: one column per run id, one row per statistic."""
    columns = {run_id: pd.Series(statistics(run_id, db_path), dtype=object)
               for run_id in run_ids}
    frame = pd.DataFrame(columns, index=list(stats_module.STATISTICS), dtype=object)
    frame.index.name = "statistic"
    return frame


def indicator_info(run_id: str, db_path: PathLike = None) -> pd.DataFrame:
    """How each indicator of the run is drawn: ``strategy, name, column`` (its column in
    ``bars``), ``overlay`` (on the price panel), ``panel`` (lines sharing a panel share it) and
    ``levels`` (fixed reference lines of its panel)."""
    run = _Run(run_id, db_path)
    names = {(strategy, slot): column for column, strategy, slot
             in price_bars.column_names(run.indicator_triples())}
    rows = [{"strategy": i["strategy"], "name": i["name"],
             "column": names[(i["strategy"], i["slot"])], "overlay": i["overlay"],
             "panel": i["panel"] or ("price" if i["overlay"] else i["name"]),
             "levels": list(i["levels"])} for i in run.indicators]
    return pd.DataFrame(rows, columns=["strategy", "name", "column", "overlay", "panel",
                                       "levels"])
