"""Writing bars: validation shared by every importer, and the one code path that stores a series.

CSV import, DBN import and the sample generator all end in :func:`write_bars`, so publishers,
instruments, symbology and coverage are maintained the same way whatever the source.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import pandas as pd

from tradecore.models import BarPeriod
from tradecore.secmaster import schema
from tradecore.secmaster.errors import SecmasterError

# How many problems an error message lists before summarising the rest.
MAX_PROBLEMS_SHOWN = 5

PRICE_COLUMNS = ("open", "high", "low", "close")
BAR_COLUMNS = (*PRICE_COLUMNS, "volume")


@dataclass(frozen=True)
class ImportSummary:
    """What one import stored for one symbol and period."""

    symbol: str
    bar_period: BarPeriod
    rows: int
    first_ts_ns: int
    last_ts_ns: int
    instrument_id: int
    publisher: str
    dataset: str
    replaced: int = 0
    """Bars that already existed at an imported timestamp and were overwritten."""
    bar_count: int = 0
    """Bars stored for this instrument and period after the import (old and new)."""
    notes: tuple[str, ...] = field(default=())

    @property
    def first_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.first_ts_ns, unit="ns", tz="UTC")

    @property
    def last_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.last_ts_ns, unit="ns", tz="UTC")

    def __str__(self) -> str:
        text = (
            f"imported {self.rows:,} {self.bar_period.name} bars of {self.symbol} "
            f"({self.publisher}/{self.dataset}) from {self.first_ts} to {self.last_ts}; "
            f"{self.replaced:,} replaced, {self.bar_count:,} stored in total"
        )
        return "; ".join((text, *self.notes))


def parse_period(period: BarPeriod | str) -> BarPeriod:
    try:
        return BarPeriod.parse(period)
    except ValueError as exc:
        raise SecmasterError(str(exc)) from None


def clean_symbol(symbol: str) -> str:
    text = str(symbol).strip() if symbol is not None else ""
    if not text:
        raise SecmasterError("a symbol is required (e.g. symbol='ACME')")
    return text


class Problems:
    """Collects validation problems cheaply: vectorised checks report a mask, and only the first
    few offending rows of each check are turned into text."""

    def __init__(self) -> None:
        self.total = 0
        self._shown: list[tuple[int, str]] = []


    def add_mask(self, mask: np.ndarray, column: str, describe: Callable[[int], str]) -> None:
        rows = np.flatnonzero(mask)
        self.total += len(rows)
        for row in rows[:MAX_PROBLEMS_SHOWN].tolist():
            self._show(row, column, describe(row))

    def _show(self, row: int, column: str, message: str) -> None:
        self._shown.append((row, f"row {row + 1}, column '{column}': {message}"))

    def raise_if_any(
        self, what: str, rows_are: str = "rows count data rows from 1, after the header"
    ) -> None:
        if not self.total:
            return
        shown = [text for _, text in sorted(self._shown, key=lambda item: item[0])]
        shown = shown[:MAX_PROBLEMS_SHOWN]
        lines = "\n  ".join(shown)
        more = self.total - len(shown)
        tail = f"\n  ... and {more:,} more" if more > 0 else ""
        plural = "s" if self.total != 1 else ""
        raise SecmasterError(
            f"cannot import {what}: {self.total:,} problem{plural} ({rows_are})\n  {lines}{tail}"
        )


def _num(value: float) -> str:
    return f"{value:.10g}"


def _ts_text(ts_ns: int) -> str:
    return str(pd.Timestamp(int(ts_ns), unit="ns", tz="UTC"))


def check_bars(
    problems: Problems,
    ts: np.ndarray,
    ts_valid: np.ndarray,
    values: dict[str, np.ndarray],
    names: dict[str, str],
    time_column: str,
) -> None:
    """Vectorised sanity checks on parsed bars.

    ``values`` maps open/high/low/close/volume to float arrays (NaN where parsing already
    reported a problem), ``names`` maps them to the column names the user sees, ``ts_valid``
    marks rows whose time parsed. Rows are reported 0-based here and printed 1-based.
    """
    for column, array in values.items():
        present = ~np.isnan(array)
        problems.add_mask(
            present & np.isinf(array),
            names[column],
            lambda r, a=array: f"{_num(a[r])} is not finite",
        )
        problems.add_mask(
            present & (array < 0),
            names[column],
            lambda r, a=array, c=column: f"negative {c} {_num(a[r])}",
        )
    high, low = values["high"], values["low"]
    problems.add_mask(
        high < low,
        names["high"],
        lambda r: f"high {_num(high[r])} is below low {_num(low[r])} (column '{names['low']}')",
    )
    ordered = high >= low
    for column in ("open", "close"):
        array = values[column]
        # A tiny tolerance so a source that rounds high/low separately is not rejected.
        slack = 1e-9 * np.abs(high)
        outside = ordered & ((array < low - slack) | (array > high + slack))
        problems.add_mask(
            outside,
            names[column],
            lambda r, a=array, c=column: (
                f"{c} {_num(a[r])} is outside the bar's range [low {_num(low[r])}, "
                f"high {_num(high[r])}]"
            ),
        )
    # Duplicates: sort the valid times and compare neighbours; report the later row.
    rows = np.flatnonzero(ts_valid)
    order = rows[np.argsort(ts[rows], kind="stable")]
    sorted_ts = ts[order]
    same = np.flatnonzero(sorted_ts[1:] == sorted_ts[:-1])
    if len(same):
        firsts, seconds = order[same], order[same + 1]
        later = np.maximum(firsts, seconds)
        earlier = np.minimum(firsts, seconds)
        mask = np.zeros(len(ts), dtype=bool)
        mask[later] = True
        earlier_of = dict(zip(later.tolist(), earlier.tolist(), strict=True))
        problems.add_mask(
            mask,
            time_column,
            lambda r: f"duplicate time {_ts_text(ts[r])} (same as row {earlier_of[int(r)] + 1})",
        )


def write_bars(
    conn: sqlite3.Connection,
    *,
    publisher: str,
    dataset: str,
    symbol: str,
    symbol_type: str,
    period: BarPeriod,
    ts: np.ndarray,
    values: dict[str, np.ndarray],
    source_instrument_id: int | None = None,
    notes: tuple[str, ...] = (),
) -> ImportSummary:
    """Store one symbol's validated bars (``ts`` int64 ns, strictly increasing) inside the
    caller's transaction: creates publisher/instrument/symbology rows as needed, upserts the bars
    (an existing bar at the same timestamp is replaced) and refreshes coverage."""
    if len(ts) == 0:
        raise SecmasterError(f"no bars to import for {symbol}")
    publisher_id = _publisher_id(conn, publisher, dataset)
    instrument_id = _instrument_id(conn, publisher_id, symbol, symbol_type, source_instrument_id)
    days = ts[[0, -1]].astype("datetime64[ns]").astype("datetime64[D]")
    start_date, end_date = str(days[0]), str(days[1] + np.timedelta64(1, "D"))
    _widen_symbology(conn, symbol, symbol_type, instrument_id, start_date, end_date)

    row = conn.execute(schema.SELECT_BAR_COUNT, (instrument_id, period.name)).fetchone()
    before = row[0] if row else 0
    conn.executemany(
        schema.UPSERT_BAR,
        zip(
            repeat(instrument_id),
            repeat(period.name),
            ts.tolist(),
            *(values[column].tolist() for column in BAR_COLUMNS),
        ),
    )
    conn.execute(schema.REFRESH_COVERAGE, (instrument_id, period.name))
    after = conn.execute(schema.SELECT_BAR_COUNT, (instrument_id, period.name)).fetchone()[0]
    return ImportSummary(
        symbol=symbol,
        bar_period=period,
        rows=len(ts),
        first_ts_ns=int(ts[0]),
        last_ts_ns=int(ts[-1]),
        instrument_id=instrument_id,
        publisher=publisher,
        dataset=dataset,
        replaced=before + len(ts) - after,
        bar_count=after,
        notes=notes,
    )


def delete_publisher(conn: sqlite3.Connection, publisher: str, dataset: str) -> None:
    """Remove a publisher with its instruments, symbology, bars and coverage (FK cascade)."""
    conn.execute(schema.DELETE_PUBLISHER, (publisher, dataset))


def _publisher_id(conn: sqlite3.Connection, name: str, dataset: str) -> int:
    row = conn.execute(schema.SELECT_PUBLISHER_ID, (name, dataset)).fetchone()
    if row:
        return row[0]
    return conn.execute(schema.INSERT_PUBLISHER, (name, dataset)).lastrowid


def _instrument_id(
    conn: sqlite3.Connection,
    publisher_id: int,
    symbol: str,
    symbol_type: str,
    source_instrument_id: int | None,
) -> int:
    row = conn.execute(schema.SELECT_INSTRUMENT_ID, (publisher_id, symbol_type, symbol)).fetchone()
    if row:
        if source_instrument_id is not None:
            conn.execute(schema.UPDATE_SOURCE_INSTRUMENT_ID, (source_instrument_id, row[0]))
        return row[0]
    return conn.execute(
        schema.INSERT_INSTRUMENT, (publisher_id, symbol, symbol_type, source_instrument_id)
    ).lastrowid


def _widen_symbology(
    conn: sqlite3.Connection,
    symbol: str,
    symbol_type: str,
    instrument_id: int,
    start_date: str,
    end_date: str,
) -> None:
    key = (symbol, symbol_type, instrument_id)
    if conn.execute(schema.SELECT_SYMBOLOGY_BOUNDS, key).fetchone():
        conn.execute(schema.WIDEN_SYMBOLOGY, (start_date, end_date, *key))
    else:
        conn.execute(schema.INSERT_SYMBOLOGY, (*key, start_date, end_date))
