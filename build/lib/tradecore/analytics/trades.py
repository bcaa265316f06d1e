"""Round trips: fills matched first-in first-out, per strategy and symbol.

Each fill is taken in time order (ties by fill id). A fill in the direction of the open
position (or from flat) opens a new *lot*. A fill against it closes the oldest lots first,
each closed part being one round trip: a partial exit closes part of a lot, an exit larger
than the oldest lot closes it and goes on to the next, and a fill larger than the whole
position (a reversal through zero) is split -- what closes the position closes it, the rest
opens a lot the other way. A scale-in is simply a second lot.

Per round trip (one row):

- ``quantity`` > 0 and ``direction`` ``long``/``short``; entry and exit time (ns) and price.
- ``commission``: the entry fill's commission for the matched quantity (pro rata) plus the
  exit fill's commission for it (pro rata), so a split fill's commission is shared by quantity.
- ``pnl = sign x (exit_price - entry_price) x quantity - commission`` (sign +1 long, -1 short)
  and ``return_pct = pnl / (entry_price x quantity) x 100`` -- net of commission, as
  backtesting.py's trade ``ReturnPct``.
- ``open``: True for lots still held at the end. They are marked to the symbol's last close,
  with that bar's time as ``exit_ts_ns``, and carry only their entry commission.
- ``mfe`` / ``mae``: maximum favourable / adverse excursion in account currency for the
  quantity (``mfe >= 0``, ``mae <= 0``, commission excluded): the best and worst price the trade
  saw, from the highs and lows of the symbol's bars from the entry bar up to, not including,
  the exit bar (through the last bar for open trades), and the exit price. Fills happen at a
  bar's open or within it, so a limit or stop entry's own bar may show prices from before the
  entry: the excursions are an upper bound there.
- ``duration_ns = exit_ts_ns - entry_ts_ns``.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pyarrow as pa

from tradecore.analytics.equity import POSITION_EPSILON, signed_quantities, symbol_codes

SCHEMA = pa.schema([
    ("strategy", pa.string()), ("symbol", pa.string()), ("direction", pa.string()),
    ("quantity", pa.float64()), ("entry_ts_ns", pa.int64()), ("exit_ts_ns", pa.int64()),
    ("entry_price", pa.float64()), ("exit_price", pa.float64()), ("pnl", pa.float64()),
    ("commission", pa.float64()), ("return_pct", pa.float64()), ("open", pa.bool_()),
    ("mfe", pa.float64()), ("mae", pa.float64()), ("duration_ns", pa.int64()),
    ("entry_fill_id", pa.int64()), ("exit_fill_id", pa.int64()),
])


class _Lot:
    __slots__ = ("commission_per_unit", "fill_id", "price", "quantity", "ts")

    def __init__(self, quantity: float, price: float, ts: int, commission_per_unit: float,
                 fill_id: int) -> None:
        self.quantity, self.price, self.ts = quantity, price, ts
        self.commission_per_unit, self.fill_id = commission_per_unit, fill_id


def range_extremes(high: np.ndarray, low: np.ndarray, starts: np.ndarray,
                   stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """max(high[a:b]) and min(low[a:b]) for every (a, b); -inf / +inf for empty ranges.

    One ``reduceat`` over the interleaved bounds (taken in order of ``a``): it reduces every
    ``[a, b)`` and the gaps between them, so the cost is about the bars plus the trades' length.
    """
    if not len(starts):
        return np.zeros(0), np.zeros(0)
    order = np.argsort(starts, kind="stable")
    bounds = np.empty(2 * len(starts), dtype=np.int64)
    bounds[0::2], bounds[1::2] = starts[order], stops[order]
    highs = np.maximum.reduceat(np.r_[high, -np.inf], bounds)[0::2]  # sentinel: b may be len
    lows = np.minimum.reduceat(np.r_[low, np.inf], bounds)[0::2]
    empty = stops[order] <= starts[order]
    highs[empty], lows[empty] = -np.inf, np.inf
    out_high, out_low = np.empty_like(highs), np.empty_like(lows)
    out_high[order], out_low[order] = highs, lows
    return out_high, out_low


def round_trips(fills: pa.Table, bars: pa.Table) -> pa.Table:
    """FIFO round trips of ``fills`` (any order) with excursions from raw ``bars``."""
    if not fills.num_rows:
        return SCHEMA.empty_table()
    order = np.lexsort((fills["fill_id"].to_numpy(), fills["ts_event_ns"].to_numpy()))
    quantity = signed_quantities(fills)[order]
    columns = {name: fills[name].to_numpy(zero_copy_only=False)[order]
               for name in ("ts_event_ns", "fill_id", "strategy", "symbol", "fill_price",
                            "commission")}
    lots: dict[tuple[str, str], deque[_Lot]] = {}
    rows: list[tuple] = []
    for i in range(len(quantity)):
        key = (str(columns["strategy"][i]), str(columns["symbol"][i]))
        q, price, ts = float(quantity[i]), float(columns["fill_price"][i]), int(columns["ts_event_ns"][i])
        fill_id = int(columns["fill_id"][i])
        per_unit = float(columns["commission"][i]) / abs(q) if q else 0.0
        queue = lots.setdefault(key, deque())
        while abs(q) > POSITION_EPSILON and queue and (queue[0].quantity > 0) != (q > 0):
            lot = queue[0]
            matched = min(abs(lot.quantity), abs(q))
            sign = 1.0 if lot.quantity > 0 else -1.0
            commission = (lot.commission_per_unit + per_unit) * matched
            pnl = sign * (price - lot.price) * matched - commission
            rows.append((*key, sign, matched, lot.ts, ts, lot.price, price, pnl, commission,
                         False, lot.fill_id, fill_id))
            lot.quantity -= sign * matched
            q += sign * matched
            if abs(lot.quantity) <= POSITION_EPSILON:
                queue.popleft()
        if abs(q) > POSITION_EPSILON:
            queue.append(_Lot(q, price, ts, per_unit, fill_id))

    # Lots still held: marked to the symbol's last close.
    bar_ts = bars["ts_event_ns"].to_numpy().astype(np.int64)
    bar_code, names = symbol_codes(bars["symbol"])
    code_of = {name: code for code, name in enumerate(names)}
    by_symbol = {}
    for symbol in {key[1] for key in lots} | {row[1] for row in rows}:
        mine = np.flatnonzero(bar_code == code_of.get(symbol, -1))
        mine = mine[np.argsort(bar_ts[mine], kind="stable")]
        by_symbol[symbol] = tuple(
            bars[name].to_numpy(zero_copy_only=False)[mine].astype(float)
            for name in ("close", "high", "low")) + (bar_ts[mine],)
    for (strategy, symbol), queue in lots.items():
        closes, _, _, times = by_symbol[symbol]
        for lot in queue:
            sign = 1.0 if lot.quantity > 0 else -1.0
            matched = abs(lot.quantity)
            if len(times) and times[-1] >= lot.ts:
                exit_ts, exit_price = int(times[-1]), float(closes[-1])
            else:
                exit_ts, exit_price = lot.ts, lot.price  # no bar after the entry to mark with
            commission = lot.commission_per_unit * matched
            pnl = sign * (exit_price - lot.price) * matched - commission
            rows.append((strategy, symbol, sign, matched, lot.ts, exit_ts, lot.price, exit_price,
                         pnl, commission, True, lot.fill_id, None))

    rows.sort(key=lambda r: (r[4], r[5], r[11]))
    symbol_of = np.array([row[1] for row in rows], dtype=object)
    sign = np.array([row[2] for row in rows])
    matched = np.array([row[3] for row in rows])
    entry_ts = np.array([row[4] for row in rows], dtype=np.int64)
    exit_ts = np.array([row[5] for row in rows], dtype=np.int64)
    entry_price = np.array([row[6] for row in rows])
    exit_price = np.array([row[7] for row in rows])
    is_open = np.array([row[10] for row in rows], dtype=bool)
    high, low = np.full(len(rows), -np.inf), np.full(len(rows), np.inf)
    for symbol, (_, highs, lows, times) in by_symbol.items():
        mine = np.flatnonzero(symbol_of == symbol)
        starts = np.searchsorted(times, entry_ts[mine], side="left")
        stops = np.where(is_open[mine], len(times),
                         np.searchsorted(times, exit_ts[mine], side="left"))
        high[mine], low[mine] = range_extremes(highs, lows, starts, stops)
    high, low = np.maximum(high, exit_price), np.minimum(low, exit_price)
    best, worst = np.where(sign > 0, high, low), np.where(sign > 0, low, high)
    mfe = (np.maximum(sign * (best - entry_price), 0.0) * matched).tolist()
    mae = (np.minimum(sign * (worst - entry_price), 0.0) * matched).tolist()

    def column(index: int) -> list:
        return [row[index] for row in rows]

    quantity_col, entry_price_col, pnl_col = column(3), column(6), column(8)
    return pa.table({
        "strategy": column(0),
        "symbol": column(1),
        "direction": ["long" if s > 0 else "short" for s in column(2)],
        "quantity": quantity_col,
        "entry_ts_ns": column(4),
        "exit_ts_ns": column(5),
        "entry_price": entry_price_col,
        "exit_price": column(7),
        "pnl": pnl_col,
        "commission": column(9),
        "return_pct": [p / (e * q) * 100 if e * q else float("nan")
                       for p, e, q in zip(pnl_col, entry_price_col, quantity_col, strict=True)],
        "open": column(10),
        "mfe": mfe,
        "mae": mae,
        "duration_ns": [x - e for e, x in zip(column(4), column(5), strict=True)],
        "entry_fill_id": column(11),
        "exit_fill_id": column(12),
    }, schema=SCHEMA)
