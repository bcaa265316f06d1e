"""Bars with their indicator columns, and their down-sampling in SQL for charts.

Indicator values reach runs.db in ``bars_processed``'s REAL columns ``indicator_<slot>``;
``run_indicators`` names each slot per strategy (NULL is a warm-up NaN). ``assemble`` turns
them into one DOUBLE column per indicator, named after the indicator (``"<strategy>:
<indicator>"`` when two strategies of the run use the same name), joined to the OHLCV rows of
``bars``.

Down-sampling: the requested window ``[t0, t1]`` (first and last bar in it) is cut into
buckets of ``(t1 - t0) // max_points + 1`` ns, so there are at most ``max_points`` buckets per
symbol; the bucket of a bar is ``(ts - t0) // width``. Dividing before anything is multiplied
keeps every intermediate far inside int64 (the naive ``(ts - t0) * n // span`` overflows with
real nanosecond timestamps). Per bucket: the first open, the highest high, the lowest low, the
last close, the summed volume, the last non-null value of each indicator, the number of bars,
and the exact ns timestamp of the bucket's first bar. A window holding at most ``max_points``
bars per symbol comes back bar by bar (so a zoomed chart re-queries at full detail).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tradecore.analytics.connection import query_arrow, query_df, sql_identifier, sql_string
from tradecore.runs_db.schema import indicator_column

OHLCV = ("open", "high", "low", "close", "volume")
BASE_COLUMNS = ("ts_event_ns", "symbol", *OHLCV)


def indicator_columns(table: pa.Table) -> list[str]:
    """The indicator columns of an assembled bars table."""
    return [name for name in table.column_names if name not in BASE_COLUMNS]


def column_names(indicators: Sequence[tuple[str, int, str]]) -> list[tuple[str, str, int]]:
    """``(column, strategy, slot)`` for each ``(strategy, slot, name)`` of a run's indicators:
    the indicator's name, prefixed with its strategy when another strategy of the run uses the
    same name (or it collides with a bar column)."""
    owners: dict[str, set[str]] = defaultdict(set)
    for strategy, _, name in indicators:
        owners[name].add(strategy)
    return [(f"{strategy}: {name}" if len(owners[name]) > 1 or name in BASE_COLUMNS else name,
             strategy, slot) for strategy, slot, name in indicators]


def _aligned(bars: pa.Table, processed: pa.Table) -> bool:
    """True if row i of ``processed`` is the bar of row i of ``bars`` (one strategy, which
    processed every bar, recorded in the same order)."""
    return (bars.num_rows == processed.num_rows
            and bars["ts_event_ns"].equals(processed["ts_event_ns"])
            and bars["symbol"].equals(processed["symbol"]))


def _sorted(table: pa.Table) -> pa.Table:
    ts = table["ts_event_ns"].to_numpy()
    if len(ts) < 2:
        return table
    if pc.count_distinct(table["symbol"]).as_py() == 1 and bool(np.all(ts[1:] >= ts[:-1])):
        return table
    return table.sort_by([("ts_event_ns", "ascending"), ("symbol", "ascending")])


def assemble(bars: pa.Table, processed: pa.Table,
             indicators: Sequence[tuple[str, int, str]]) -> pa.Table:
    """``bars`` (raw OHLCV rows) with one column per indicator, ordered by time and symbol.

    ``indicators``: the run's ``(strategy, slot, name)`` in order (``run_indicators``).
    """
    base = bars.select(list(BASE_COLUMNS))
    strategies = (set(pc.unique(processed["strategy"]).to_pylist())
                  if processed.num_rows else set())
    columns = [c for c in column_names(indicators) if c[1] in strategies]
    if not columns:
        return _sorted(base)
    if len(strategies) == 1 and _aligned(bars, processed):
        # The common case: one strategy, rows in the same order: no join.
        for column, _, slot in columns:
            base = base.append_column(column, processed[indicator_column(slot)])
        return _sorted(base)
    picks = ",\n".join(
        f"max(CASE WHEN strategy = {sql_string(strategy)} THEN {indicator_column(slot)} END)"
        f" AS {sql_identifier(column)}" for column, strategy, slot in columns)
    selected = ", ".join(f"i.{sql_identifier(column)}" for column, _, _ in columns)
    plain = ", ".join(f"b.{c}" for c in BASE_COLUMNS)
    sql = f"""
        WITH ind AS (
            SELECT ts_event_ns, symbol,
            {picks}
            FROM processed
            GROUP BY ts_event_ns, symbol
        )
        SELECT {plain}, {selected}
        FROM bars AS b
        LEFT JOIN ind AS i ON i.ts_event_ns = b.ts_event_ns AND i.symbol = b.symbol
        ORDER BY b.ts_event_ns, b.symbol
    """
    return query_arrow(sql, tables={"bars": base, "processed": processed})


def downsample(source_sql: str, tables: dict, indicators: list[str], *, max_points: int,
               symbol: str | None, start_ns: int | None, end_ns: int | None) -> pd.DataFrame:
    """Bars of ``source_sql`` in the window, down-sampled to ``max_points`` buckets a symbol."""
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    where, params = ["TRUE"], {}
    if symbol is not None:
        where.append("symbol = $symbol")
        params["symbol"] = symbol
    if start_ns is not None:
        where.append("ts_event_ns >= $start_ns")
        params["start_ns"] = int(start_ns)
    if end_ns is not None:
        where.append("ts_event_ns <= $end_ns")
        params["end_ns"] = int(end_ns)
    window = f"SELECT * FROM {source_sql} WHERE {' AND '.join(where)}"
    extent = query_df(
        f"WITH w AS ({window}) SELECT"
        f" (SELECT min(ts_event_ns) FROM w) AS t0,"
        f" (SELECT max(ts_event_ns) FROM w) AS t1,"
        f" (SELECT max(n) FROM (SELECT count(*) AS n FROM w GROUP BY symbol)) AS most",
        params, tables=tables,
    )
    t0, most = extent["t0"].iloc[0], extent["most"].iloc[0]
    ind = "".join(f", {sql_identifier(c)}" for c in indicators)
    if pd.isna(t0) or most <= max_points:
        sql = (f"SELECT ts_event_ns, make_timestamp_ns(ts_event_ns) AS time, symbol,"
               f" open, high, low, close, volume, 1::BIGINT AS bar_count{ind}"
               f" FROM ({window}) ORDER BY ts_event_ns, symbol")
        return query_df(sql, params, tables=tables)
    t0, t1 = int(t0), int(extent["t1"].iloc[0])
    params.update(t0=t0, width=(t1 - t0) // max_points + 1)
    ind_agg = "".join(
        f", arg_max({sql_identifier(c)}, ts_event_ns) AS {sql_identifier(c)}" for c in indicators
    )
    sql = f"""
        SELECT min(ts_event_ns) AS ts_event_ns,
               make_timestamp_ns(min(ts_event_ns)) AS time,
               symbol,
               arg_min(open, ts_event_ns) AS open,
               max(high) AS high,
               min(low) AS low,
               arg_max(close, ts_event_ns) AS close,
               sum(volume) AS volume,
               count(*) AS bar_count{ind_agg}
        FROM ({window})
        GROUP BY symbol, (ts_event_ns - $t0) // $width
        ORDER BY ts_event_ns, symbol
    """
    return query_df(sql, params, tables=tables)
