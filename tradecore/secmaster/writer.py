"""Writing bars: validation shared by every importer, and the one code path that stores a series.

CSV import, DBN import and the sample generator all end in :func:`write_bars`, so publishers,
instruments, symbology and coverage are maintained the same way whatever the source.

Design Decision: a re-import never silently overwrites
    Importing bars that are already stored with the same values adds nothing; bars at new
    timestamps are added (overlapping ranges merge); a bar whose stored values differ is a
    *conflict*. Conflicts refuse the whole import (count and first example in the message)
    unless ``replace=True`` (``--replace``): a vendor's corrected file should be a decision, not
    an accident. The check runs inside the import's transaction, so a refused import leaves the
    secmaster exactly as it was.

Design Decision: the bar spacing must fit the declared period
    :func:`check_spacing` measures the median gap between consecutive bars. Nights, weekends and
    holidays make some gaps long, but most gaps of a real series are one period, so the median
    is the period itself (or a little more for sparse, illiquid data). It must lie in
    ``[period, 4 x period)``: the nearest wrong period is at least 7 times away (DAY vs WEEK),
    so this refuses every mislabelled file (daily bars declared MINUTE or WEEK, 5-minute bars
    declared MINUTE) while tolerating sparse series. Fewer than three bars cannot be measured.
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
    """Bars that already existed at an imported timestamp with other values, overwritten
    (only with ``replace=True``)."""
    bar_count: int = 0
    """Bars stored for this instrument and period after the import (old and new)."""
    added: int = 0
    """Bars at timestamps that were not stored before."""
    unchanged: int = 0
    """Bars already stored with exactly these values (nothing written)."""
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
            f"({self.publisher}/{self.dataset}) from {self.first_ts} to {self.last_ts}: "
            f"{self.added:,} added, {self.unchanged:,} already stored, {self.replaced:,} "
            f"replaced; {self.bar_count:,} stored in total"
        )
        return "; ".join((text, *self.notes))


# The declared period fits when the median bar spacing lies in [period, SPACING_SLACK x period).
SPACING_SLACK = 4


def parse_period(period: BarPeriod | str) -> BarPeriod:
    """Lenient (``BarPeriod.parse``: ``1d``, ``daily`` ...), for reads that name a stored series."""
    try:
        return BarPeriod.parse(period)
    except ValueError as exc:
        raise SecmasterError(str(exc)) from None


def parse_period_exactly(period: BarPeriod | str) -> BarPeriod:
    """An import's declared period: a member name in any case (``DAY``, ``day``), nothing else.

    Imports are strict because a near-miss such as ``WEEKLY`` or ``1m`` (minute or month?) stored
    under a guessed period would mislabel every bar without a word.
    """
    if isinstance(period, BarPeriod):
        return period
    key = str(period).strip().upper()
    if key in BarPeriod.__members__:
        return BarPeriod[key]
    choices = ", ".join(member.name for member in BarPeriod)
    raise SecmasterError(f"unknown bar period {str(period)!r}; choose one of {choices}")


def describe_span(ns: float) -> str:
    """``1 day``, ``5 minutes``, ``2.5 hours``: a spacing as a person would say it."""
    for unit, size in (("week", 7 * 86_400e9), ("day", 86_400e9), ("hour", 3_600e9),
                       ("minute", 60e9), ("second", 1e9)):
        if ns >= size:
            count = ns / size
            text = f"{count:.0f}" if abs(count - round(count)) < 0.05 else f"{count:.2g}"
            return f"{text} {unit}{'' if text == '1' else 's'}"
    return f"{ns / 1e6:.3g} ms"


def check_spacing(ts: np.ndarray, period: BarPeriod, what: str) -> None:
    """Refuse bars whose median spacing does not fit ``period`` (``ts`` sorted, unique)."""
    if len(ts) < 3:
        return
    median = float(np.median(np.diff(ts)))
    size = period.nanoseconds
    if size <= median < SPACING_SLACK * size:
        return
    fits = [p for p in BarPeriod if p.nanoseconds <= median < SPACING_SLACK * p.nanoseconds]
    fix = (f"declare the bar period {fits[0].name} (--period {fits[0].name})" if fits else
           "no bar period fits: resample the bars to one of "
           + ", ".join(p.name for p in BarPeriod))
    raise SecmasterError(
        f"cannot import {what}: the bars are {describe_span(median)} apart (median spacing), "
        f"which does not fit the declared period {period.name}; {fix}"
    )


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
    replace: bool = False,
    what: str = "",
    on_progress: Progress | None = None,
) -> ImportSummary:
    """Store one symbol's validated bars (``ts`` int64 ns, strictly increasing) inside the
    caller's transaction: creates publisher/instrument/symbology rows as needed, adds the bars
    not stored yet, skips identical ones, and refuses bars that differ from stored ones unless
    ``replace`` (then they are overwritten). Refreshes coverage. ``on_progress(fraction)`` is
    called as the rows are written."""
    if len(ts) == 0:
        raise SecmasterError(f"no bars to import for {symbol}")
    publisher_id = _publisher_id(conn, publisher, dataset)
    instrument_id = _instrument_id(conn, publisher_id, symbol, symbol_type, source_instrument_id)
    days = ts[[0, -1]].astype("datetime64[ns]").astype("datetime64[D]")
    start_date, end_date = str(days[0]), str(days[1] + np.timedelta64(1, "D"))
    _widen_symbology(conn, symbol, symbol_type, instrument_id, start_date, end_date)

    new_rows, conflicts = _split_against_stored(conn, instrument_id, period, ts, values)
    if len(conflicts) and not replace:
        raise SecmasterError(_conflict_message(what or symbol, conn, instrument_id, period, ts,
                                               values, conflicts))
    key = (instrument_id, period.name)
    _insert(conn, schema.INSERT_BAR, key, ts, values, new_rows, on_progress, 0, len(new_rows)
            + len(conflicts))
    _insert(conn, schema.UPSERT_BAR, key, ts, values, conflicts, on_progress, len(new_rows),
            len(new_rows) + len(conflicts))
    if len(new_rows) or len(conflicts):
        conn.execute(schema.REFRESH_COVERAGE, key)
    after = conn.execute(schema.SELECT_BAR_COUNT, key).fetchone()[0]
    return ImportSummary(
        symbol=symbol,
        bar_period=period,
        rows=len(ts),
        first_ts_ns=int(ts[0]),
        last_ts_ns=int(ts[-1]),
        instrument_id=instrument_id,
        publisher=publisher,
        dataset=dataset,
        replaced=len(conflicts),
        bar_count=after,
        added=len(new_rows),
        unchanged=len(ts) - len(new_rows) - len(conflicts),
        notes=notes,
    )


Progress = Callable[[float], None]

# Rows per executemany call: small enough for progress to move, large enough to cost nothing.
WRITE_CHUNK = 50_000


def _split_against_stored(
    conn: sqlite3.Connection,
    instrument_id: int,
    period: BarPeriod,
    ts: np.ndarray,
    values: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Row indexes of ``ts`` that are new, and of those that differ from the stored bar at the
    same time. Only the stored bars inside the file's time range are read."""
    stored = conn.execute(
        schema.SELECT_BARS_BETWEEN, (instrument_id, period.name, int(ts[0]), int(ts[-1]))
    ).fetchall()
    everything = np.arange(len(ts))
    if not stored:
        return everything, everything[:0]
    stored_ts = np.fromiter((row[0] for row in stored), dtype="int64", count=len(stored))
    stored_values = np.array([row[1:] for row in stored], dtype="float64")
    _, file_rows, stored_rows = np.intersect1d(ts, stored_ts, assume_unique=True,
                                               return_indices=True)
    incoming = np.column_stack([values[column][file_rows] for column in BAR_COLUMNS])
    differs = np.any(incoming != stored_values[stored_rows], axis=1)
    is_new = np.ones(len(ts), dtype=bool)
    is_new[file_rows] = False
    return everything[is_new], np.sort(file_rows[differs])


def _conflict_message(
    what: str,
    conn: sqlite3.Connection,
    instrument_id: int,
    period: BarPeriod,
    ts: np.ndarray,
    values: dict[str, np.ndarray],
    conflicts: np.ndarray,
) -> str:
    first = int(conflicts[0])
    stored = conn.execute(
        schema.SELECT_BARS_BETWEEN, (instrument_id, period.name, int(ts[first]), int(ts[first]))
    ).fetchone()[1:]
    differing = [
        f"{column} {_num(old)} stored, {_num(values[column][first])} in the file"
        for column, old in zip(BAR_COLUMNS, stored, strict=True)
        if old != values[column][first]
    ]
    count = len(conflicts)
    return (
        f"cannot import {what}: {count:,} bar{'s differ' if count != 1 else ' differs'} from the "
        f"{period.name} bars already stored (first at {_ts_text(ts[first])}: "
        f"{', '.join(differing)}); nothing was imported. To overwrite the stored bars, import "
        f"again with --replace (on the Data page: 'Replace conflicting bars')"
    )


def _insert(
    conn: sqlite3.Connection,
    sql: str,
    key: tuple[int, str],
    ts: np.ndarray,
    values: dict[str, np.ndarray],
    rows: np.ndarray,
    on_progress: Progress | None,
    done_before: int,
    total: int,
) -> None:
    for start in range(0, len(rows), WRITE_CHUNK):
        chunk = rows[start:start + WRITE_CHUNK]
        conn.executemany(
            sql,
            zip(
                repeat(key[0]),
                repeat(key[1]),
                ts[chunk].tolist(),
                *(values[column][chunk].tolist() for column in BAR_COLUMNS),
            ),
        )
        if on_progress is not None:
            on_progress((done_before + start + len(chunk)) / max(total, 1))


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
    bounds = conn.execute(schema.SELECT_SYMBOLOGY_BOUNDS, key).fetchone()
    if bounds:
        # Only when they grow: a re-import of stored bars then writes nothing at all.
        if start_date < bounds[0] or end_date > bounds[1]:
            conn.execute(schema.WIDEN_SYMBOLOGY, (start_date, end_date, *key))
    else:
        conn.execute(schema.INSERT_SYMBOLOGY, (*key, start_date, end_date))
