"""The derived tables of a run (what a run page shows), computed from its raw event rows.

Used twice: once per finished run to write its Parquet cache, and on every access to a run
that is still recording.
"""

from __future__ import annotations

import pyarrow as pa

from tradecore.analytics import equity, orders, price_bars, trades
from tradecore.analytics.connection import query_arrow, sql_identifier
from tradecore.analytics.store import RawRun

FILL_COLUMNS = ("ts_event_ns", "fill_id", "associated_order_id", "strategy", "symbol", "side",
                "quantity_filled", "fill_price", "commission")


def _fills(raw: RawRun) -> pa.Table:
    table = raw.table("fills")
    return table.select(list(FILL_COLUMNS)).sort_by([("ts_event_ns", "ascending"),
                                                     ("fill_id", "ascending")])


def _symbols(assembled_bars: pa.Table) -> pa.Table:
    """Per symbol: bar count, first/last time and close, and the first bar after warm-up."""
    indicators = price_bars.indicator_columns(assembled_bars)
    # The warm-up ends at the first bar where every indicator that ever has a value for the
    # symbol has one (backtesting.py: the latest first-valid index over the indicators).
    firsts = [f"min(ts_event_ns) FILTER (WHERE {sql_identifier(c)} IS NOT NULL)"
              for c in indicators]
    warmup = f"greatest({', '.join(firsts)})" if firsts else "NULL"
    sql = f"""
        WITH per AS (
            SELECT symbol, count(*) AS bars,
                   min(ts_event_ns) AS first_ts_ns, max(ts_event_ns) AS last_ts_ns,
                   arg_min(close, ts_event_ns) AS first_close,
                   arg_max(close, ts_event_ns) AS last_close,
                   coalesce({warmup}, min(ts_event_ns)) AS warmup_ts_ns
            FROM bars GROUP BY symbol
        )
        SELECT per.*, b.close AS warmup_close
        FROM per JOIN bars AS b ON b.symbol = per.symbol AND b.ts_event_ns = per.warmup_ts_ns
        ORDER BY per.symbol
    """
    return query_arrow(sql, tables={"bars": assembled_bars})


def derived_table(name: str, raw: RawRun) -> pa.Table:
    """Derived table ``name`` (see ``store.NEEDS``) of ``raw``."""
    if name == "bars":
        return raw.memo("bars", lambda: price_bars.assemble(raw.table("bars"),
                                                             raw.table("bars_processed")))
    if name == "fills":
        return raw.memo("fills", lambda: _fills(raw))
    if name == "order_log":
        return orders.assemble({t: raw.table(t) for t in orders.TABLES})
    if name == "equity":
        return equity.compute(raw.table("bars"), derived_table("fills", raw),
                              raw.info.initial_cash)
    if name == "round_trips":
        return trades.round_trips(derived_table("fills", raw), raw.table("bars"))
    if name == "symbols":
        return _symbols(derived_table("bars", raw))
    raise KeyError(f"no derived table {name!r}")
