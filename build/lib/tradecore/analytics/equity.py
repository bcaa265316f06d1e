"""The equity curve: cash, positions marked to market, equity and drawdown at each bar time.

One row per distinct bar timestamp of the run (all symbols together):

- ``cash`` starts at the broker's ``initial_cash`` and changes by every fill at or before that
  time: ``cash -= signed quantity x fill price + commission`` (the SimulatedBroker's rule).
- ``position_value`` sums, over symbols, the signed position held after those fills times the
  symbol's mark: its latest bar close at or before that time. Fills happen at a bar's open and
  the close comes after, so at equal times the close is the mark; a fill with no bar of its
  symbol yet (not something the SimulatedBroker does) marks at its own price until a bar comes.
  Symbols without a bar at a timestamp keep their previous close (multi-symbol runs).
- ``equity = cash + position_value``; ``drawdown = equity / running peak of equity - 1``, a
  fraction <= 0.
- ``exposed`` (kept in the cache for the exposure statistic, not returned by
  ``equity_curve``): a position was held during the bar -- entered on it, carried into it, or
  traded on it -- which counts bars as backtesting.py's "Exposure Time" does.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

POSITION_EPSILON = 1e-9
COLUMNS = ("ts_event_ns", "cash", "position_value", "equity", "drawdown")


def signed_quantities(fills: pa.Table) -> np.ndarray:
    side = np.asarray(fills["side"].to_pylist(), dtype=object)
    quantity = fills["quantity_filled"].to_numpy(zero_copy_only=False).astype(float)
    return np.where(side == "BUY", quantity, -quantity)


def symbol_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a string column and the strings they stand for."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    return (encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
            encoded.dictionary.to_pylist())


def drawdown(equity: np.ndarray) -> np.ndarray:
    """``equity / running peak - 1`` (NaN where the peak is not positive)."""
    if not len(equity):
        return np.array([], dtype=float)
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, equity / peak - 1.0, np.nan)


def compute(bars: pa.Table, fills: pa.Table, initial_cash: float) -> pa.Table:
    """The equity curve of raw ``bars`` (ts_event_ns, symbol, close) and ``fills``."""
    bar_ts = bars["ts_event_ns"].to_numpy().astype(np.int64)
    order = np.argsort(bar_ts, kind="stable")
    bar_ts = bar_ts[order]
    bar_code, bar_names = symbol_codes(bars["symbol"])
    bar_code = bar_code[order]
    bar_close = bars["close"].to_numpy(zero_copy_only=False).astype(float)[order]
    if len(bar_ts):
        times = bar_ts[np.r_[True, bar_ts[1:] != bar_ts[:-1]]]
    else:
        times = bar_ts

    fill_ts = fills["ts_event_ns"].to_numpy().astype(np.int64)
    fill_order = np.lexsort((fills["fill_id"].to_numpy(), fill_ts))
    fill_ts = fill_ts[fill_order]
    fill_symbol = np.asarray(fills["symbol"].to_pylist(), dtype=object)[fill_order]
    fill_price = fills["fill_price"].to_numpy(zero_copy_only=False).astype(float)[fill_order]
    fill_commission = (fills["commission"].to_numpy(zero_copy_only=False)
                       .astype(float)[fill_order])
    quantity = signed_quantities(fills)[fill_order] if fills.num_rows else np.zeros(0)

    # Cash after every fill at or before each bar time.
    cash = np.full(len(times), float(initial_cash))
    if len(fill_ts):
        cash_after = initial_cash - np.cumsum(quantity * fill_price + fill_commission)
        upto = np.searchsorted(fill_ts, times, side="right")
        cash = np.where(upto > 0, cash_after[np.maximum(upto - 1, 0)], cash)

    position_value = np.zeros(len(times))
    gross_now = np.zeros(len(times))
    traded = np.zeros(len(times), dtype=bool)
    code_of = {name: code for code, name in enumerate(bar_names)}
    for symbol in dict.fromkeys(fill_symbol.tolist()):
        mine = fill_symbol == symbol
        f_ts, f_qty, f_price = fill_ts[mine], quantity[mine], fill_price[mine]
        held = np.cumsum(f_qty)
        k = np.searchsorted(f_ts, times, side="right") - 1
        position = np.where(k >= 0, held[np.maximum(k, 0)], 0.0)
        position[np.abs(position) < POSITION_EPSILON] = 0.0
        # Marks: this symbol's closes and fill prices in time order, the close last at a tie.
        b_mine = bar_code == code_of.get(symbol, -1)
        mark_ts = np.concatenate([f_ts, bar_ts[b_mine]])
        mark_px = np.concatenate([f_price, bar_close[b_mine]])
        tie = np.concatenate([np.zeros(len(f_ts)), np.ones(int(b_mine.sum()))])
        order = np.lexsort((tie, mark_ts))
        mark_ts, mark_px = mark_ts[order], mark_px[order]
        m = np.searchsorted(mark_ts, times, side="right") - 1
        mark = np.where(m >= 0, mark_px[np.maximum(m, 0)], 0.0)
        position_value += position * mark
        gross_now += np.abs(position)
        if len(times):
            traded[np.searchsorted(times, f_ts, side="left").clip(max=len(times) - 1)] = True

    equity = cash + position_value
    held_before = np.r_[False, gross_now[:-1] > 0] if len(times) else np.zeros(0, dtype=bool)
    exposed = (gross_now > 0) | held_before | traded
    return pa.table({
        "ts_event_ns": pa.array(times, pa.int64()),
        "cash": pa.array(cash, pa.float64()),
        "position_value": pa.array(position_value, pa.float64()),
        "equity": pa.array(equity, pa.float64()),
        "drawdown": pa.array(drawdown(equity), pa.float64()),
        "exposed": pa.array(exposed, pa.bool_()),
    })
