"""Import OHLCV bars from the CSV files vendors, brokers and spreadsheets write.

What the file may look like
---------------------------
* A header row. Column names are matched ignoring case, surrounding spaces and ``<>``
  (MetaTrader's ``<OPEN>``), with spaces, dots and dashes read as ``_``. Aliases: ``o``,
  ``open_price``, ``opening_price`` for open (likewise ``h``/``l``/``c``, ``high_price`` ...,
  ``last`` and ``last_price`` for close) and ``v``, ``vol``, ``tick_volume``, ``tickvol`` for
  volume; when several aliases of one field are present the first in that order is used.
* One time column, looked up in this order: ``ts_event``, ``timestamp``, ``datetime`` (and
  ``date_time``, ``time_stamp``, ``ts``, ``dt``, ``gmt_time``, ``utc_time``, ``open_time``,
  ``bar_time``), then a ``date`` column plus a ``time`` column (time of day as ``HH:MM[:SS]``
  or a ``HHMMSS`` number, Stooq style), ``date``, ``time``, and finally an unnamed first column
  (what ``DataFrame.to_csv()`` writes for an unnamed index). The time is the bar's **open**.
* ``open``, ``high``, ``low``, ``close`` (required) and ``volume`` (optional: when missing, volume
  is stored as 0 and the summary says so). Other columns are ignored.
* Separator ``,``, ``;`` or tab (detected from the header line). Rows in any order.
* Design Decision: no header row (Binance klines, Kraken, histdata.com, NinjaTrader, FirstRate
  and Kibot exports) is recognised when the first line holds no known column name and four
  numbers after its time; the columns are then read as ``time, open, high, low, close[, volume]``
  (``date, time, ...`` when the second cell is a ``HH:MM`` clock) and the rest ignored, the
  order every one of those vendors uses.
* yfinance's three-line header (``Price``/``Ticker``/``Date`` rows) is recognised and collapsed.

Times
-----
* ISO 8601 text is parsed exactly to the nanosecond. Other text goes through a format guessed
  from the first value, or ``date_format`` (``--date-format``, a ``strptime`` pattern such as
  ``%d/%m/%Y %H:%M``; with separate date and time columns it describes the date column).
* Day-first or month-first (``NN/NN/YYYY``, also with ``.`` or ``-``): a day above 12 in either
  place tells which; when no row tells, the import is refused with a message naming
  ``--date-format`` (Design Decision: guessing month-first, as pandas does, silently swaps day
  and month in every European file for the first twelve days of each month).
* Text with an offset or ``Z`` is converted to UTC. Text without one is **UTC**, unless ``tz``
  (``--tz``, an IANA name such as ``America/New_York``) says the zone of such naive local times.
  Daylight saving is handled; a local time the clocks skip (spring forward) or repeat (fall back,
  unless the order of the rows shows which is which) is reported by row.
* Design Decision: with ``tz``, DAY and WEEK bars keep the *local date* and are stamped 00:00 UTC
  of it, the convention of every DAY bar in the secmaster (a New York daily file would otherwise
  land at 05:00 UTC and never line up with other daily data).
* Integers of the form ``YYYYMMDD`` are dates. Other numbers are Unix epoch times (always UTC):
  the unit (s, ms, us or ns) is told from their magnitude, which is only unambiguous after
  1973-03-03, or given with ``time_unit`` (``--time-unit``).

Validation and atomicity
------------------------
Everything is checked before anything is written: missing columns, unparseable or empty times,
non-numeric or empty values, infinite or negative prices/volume, high < low, open/close outside
[low, high], duplicate timestamps, and a bar spacing that does not fit the declared period
(:func:`~tradecore.secmaster.writer.check_spacing`). A :class:`SecmasterError` names up to five
problems by data row (1 = the first row after the header) and column. The write is one
transaction: either every row is stored or none, and a refused file leaves the secmaster as it was.

Re-importing
------------
Bars already stored with the same values are skipped, new timestamps are added (overlapping
files merge), and bars that differ from stored ones refuse the import unless ``replace``
(``--replace``); see :func:`~tradecore.secmaster.writer.write_bars`.
"""

from __future__ import annotations

import io
import os
import re
import warnings
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from tradecore.models import BarPeriod
from tradecore.secmaster import schema
from tradecore.secmaster.errors import SecmasterError
from tradecore.secmaster.writer import (
    BAR_COLUMNS,
    PRICE_COLUMNS,
    ImportSummary,
    Problems,
    check_bars,
    check_spacing,
    clean_symbol,
    parse_period_exactly,
    write_bars,
)

# Field -> accepted (normalised) column names, in order of preference.
ALIASES = {
    "open": ("open", "o", "open_price", "opening_price", "price_open"),
    "high": ("high", "h", "high_price", "price_high"),
    "low": ("low", "l", "low_price", "price_low"),
    "close": ("close", "c", "close_price", "closing_price", "price_close", "last", "last_price"),
    "volume": ("volume", "v", "vol", "volume_traded", "tick_volume", "tickvol"),
}
TIME_COLUMN_NAMES = ("ts_event", "timestamp", "datetime", "date_time", "time_stamp", "ts", "dt",
                     "gmt_time", "utc_time", "open_time", "bar_time", "window_start")
SEPARATORS = (",", ";", "\t")
# A file without a header is read in the dominant vendor order (Design Decision in the docstring).
HEADERLESS_NAMES = ("time", "open", "high", "low", "close", "volume")
HEADERLESS_SPLIT_NAMES = ("date", "time", "open", "high", "low", "close", "volume")
CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
KNOWN_NAMES = frozenset({*TIME_COLUMN_NAMES, "date", "time",
                         *(alias for aliases in ALIASES.values() for alias in aliases)})

# Epoch magnitude bands: a value v in [low, high) is read in that unit (all times after 1973-03-03).
EPOCH_BANDS = (
    ("s", 1e8, 1e11, 1_000_000_000),
    ("ms", 1e11, 1e14, 1_000_000),
    ("us", 1e14, 1e17, 1_000),
    ("ns", 1e17, 2**63, 1),
)
TIME_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "µs": 1_000, "ns": 1}
YYYYMMDD_RANGE = (1800_01_01, 2300_12_31)
DAY_NS = 86_400 * 1_000_000_000

# NN/NN/YYYY, NN.NN.YY, NN-NN-YYYY at the start of a value: day-first or month-first.
NUMERIC_DATE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")
# A UTC offset or Z after a clock time: the value is not a naive local time.
ZONED = re.compile(r":\d{2}(?:\.\d+)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)

# Share of the progress bar each stage takes: reading the text, then parsing, then writing.
READ_SHARE, PARSE_SHARE = 0.4, 0.1
READ_CHUNK_ROWS = 200_000

CsvSource = str | os.PathLike[str] | IO[str] | IO[bytes] | bytes
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class TimeOptions:
    """How to read the time column(s); every field optional (see the module docstring)."""

    date_format: str | None = None
    tz: str | None = None
    time_unit: str | None = None


def import_csv(
    db_path: schema.PathLike | None,
    source: CsvSource,
    symbol: str,
    period: BarPeriod | str,
    publisher: str = "local",
    dataset: str = "csv",
    symbol_type: str = "raw_symbol",
    *,
    date_format: str | None = None,
    tz: str | None = None,
    time_unit: str | None = None,
    replace: bool = False,
    on_progress: Progress | None = None,
) -> ImportSummary:
    """Validate and store the bars in ``source`` (a path, an open text/binary file, or bytes)
    as ``symbol`` at ``period`` under ``publisher``/``dataset``.

    ``on_progress(fraction, stage)`` is called while a big file is read and written.

    >>> import_csv("data/secmaster.db", "GOOG.csv", "GOOG", "DAY")  # doctest: +SKIP
    >>> import_csv(None, "eu.csv", "SAP", "DAY", date_format="%d.%m.%Y")  # doctest: +SKIP
    >>> import_csv(None, "nyse_1m.csv", "IBM", "MINUTE", tz="America/New_York")  # doctest: +SKIP
    """
    symbol = clean_symbol(symbol)
    period = parse_period_exactly(period)
    options = _check_options(TimeOptions(date_format or None, tz or None, time_unit or None))
    what = f"{_source_name(source)} as {symbol}"
    report = on_progress or (lambda fraction, stage: None)
    frame = _read_csv(source, what, report)
    report(READ_SHARE, "checking")
    ts, values, notes = parse_bars(frame, what, options, period)
    check_spacing(ts, period, what)
    report(READ_SHARE + PARSE_SHARE, "writing")
    start = READ_SHARE + PARSE_SHARE
    with schema.writing(db_path) as conn:
        summary = write_bars(
            conn,
            publisher=publisher,
            dataset=dataset,
            symbol=symbol,
            symbol_type=symbol_type,
            period=period,
            ts=ts,
            values=values,
            notes=notes,
            replace=replace,
            what=what,
            on_progress=lambda done: report(start + (1 - start) * done, "writing"),
        )
    report(1.0, "done")
    return summary


def _check_options(options: TimeOptions) -> TimeOptions:
    if options.tz is not None:
        try:
            zoneinfo.ZoneInfo(options.tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise SecmasterError(
                f"unknown time zone {options.tz!r} (--tz); give an IANA name such as "
                "America/New_York, Europe/London or UTC"
            ) from None
    if options.time_unit is not None and options.time_unit.strip().lower() not in TIME_UNITS:
        raise SecmasterError(
            f"unknown time unit {options.time_unit!r} (--time-unit); choose one of s, ms, us, ns"
        )
    if options.date_format is not None and "%" not in options.date_format:
        raise SecmasterError(
            f"date format {options.date_format!r} (--date-format) has no % directives; "
            "write it like %d/%m/%Y or %d.%m.%Y %H:%M"
        )
    return options


def parse_bars(
    frame: pd.DataFrame,
    what: str = "CSV data",
    options: TimeOptions | None = None,
    period: BarPeriod | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], tuple[str, ...]]:
    """Turn a freshly read CSV frame into sorted int64 ns times and float arrays, or raise a
    :class:`SecmasterError` listing what is wrong."""
    options = options or TimeOptions()
    frame = _without_yfinance_header_rows(frame)
    if frame.empty:
        raise SecmasterError(f"cannot import {what}: the file has no data rows")
    names = _column_lookup(frame, what)
    fields = {field: next((names[a] for a in aliases if a in names), None)
              for field, aliases in ALIASES.items()}
    missing = [column for column in PRICE_COLUMNS if fields[column] is None]
    time_source = _time_source(frame, names)
    if missing or time_source is None:
        found = ", ".join(repr(str(column)) for column in frame.columns)
        needs = []
        if time_source is None:
            needs.append(
                "a time column (named date, datetime, time, timestamp or ts_event in any case, "
                "or an unnamed first column)"
            )
        if missing:
            needs.append("column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing)
                         + " (or an alias such as o/h/l/c)")
        raise SecmasterError(
            f"cannot import {what}: missing {' and '.join(needs)}; the file has columns {found}"
        )

    problems = Problems()
    ts, ts_valid, time_column = _parse_time_source(frame, time_source, options, period, problems,
                                                   what)
    notes: tuple[str, ...] = ()
    values: dict[str, np.ndarray] = {}
    for column in BAR_COLUMNS:
        if fields[column] is not None:
            values[column] = _parse_numbers(frame[fields[column]], fields[column], problems)
        else:
            values[column] = np.zeros(len(frame))
            notes = ("the file has no volume column: volume stored as 0",)
    display = {column: fields[column] or column for column in BAR_COLUMNS}
    check_bars(problems, ts, ts_valid, values, display, time_column)
    problems.raise_if_any(what)

    order = np.argsort(ts, kind="stable")
    if np.any(order[1:] < order[:-1]):
        ts = ts[order]
        values = {column: array[order] for column, array in values.items()}
    return ts, values, notes


def _without_yfinance_header_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """yfinance's ``to_csv`` writes three header lines (``Price,Close,...``, ``Ticker,AAPL,...``,
    ``Date,,,...``): keep the first as names, drop the other two, and name the first column by
    the third line's label so it is found as the time column."""
    if len(frame) < 2 or normalise_column_name(frame.columns[0]) != "price":
        return frame
    first = frame.iloc[:, 0].astype("str").str.strip().str.lower()
    if first.iloc[0] != "ticker" or first.iloc[1] not in ("date", "datetime"):
        return frame
    label = str(frame.iloc[1, 0]).strip()
    trimmed = frame.iloc[2:].reset_index(drop=True).rename(columns={frame.columns[0]: label})
    for column in trimmed.columns[1:]:  # the label rows made every column text
        numbers = pd.to_numeric(trimmed[column], errors="coerce")
        if numbers.notna().sum() == trimmed[column].notna().sum():
            trimmed[column] = numbers
    return trimmed


# --------------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------------


def _time_source(frame: pd.DataFrame, names: dict[str, str]) -> tuple[str, str | None] | None:
    """``(column, None)`` for one time column, ``(date column, time column)`` for a pair."""
    for key in TIME_COLUMN_NAMES:
        if key in names:
            return names[key], None
    if "date" in names and "time" in names:
        return names["date"], names["time"]
    for key in ("date", "time"):
        if key in names:
            return names[key], None
    first = str(frame.columns[0])
    if first.strip() == "" or first.startswith("Unnamed: 0"):
        return first, None
    return None


def _parse_time_source(
    frame: pd.DataFrame,
    source: tuple[str, str | None],
    options: TimeOptions,
    period: BarPeriod | None,
    problems: Problems,
    what: str,
) -> tuple[np.ndarray, np.ndarray, str]:
    date_column, time_column = source
    if time_column is None:
        ns, valid, naive = parse_times(frame[date_column], date_column, problems, options, what)
        label = date_column
    else:
        label = f"{date_column}+{time_column}"
        ns, valid, naive = _parse_date_and_time(frame[date_column], frame[time_column], label,
                                                problems, options, what)
    if options.tz is not None:
        ns, valid = _localize(ns, valid, naive, options.tz, period, label, problems)
    return ns, valid, label


def parse_times(
    values: pd.Series,
    column: str,
    problems: Problems,
    options: TimeOptions | None = None,
    what: str = "CSV data",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times as int64 nanoseconds, a mask of the rows that parsed, and a mask of the rows that
    are naive wall-clock times (no offset in the text; YYYYMMDD dates). Naive rows hold the
    wall-clock time as if it were UTC."""
    options = options or TimeOptions()
    if _is_numeric(values):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        return _parse_number_times(numbers, values, column, problems, options)
    if options.time_unit is not None:
        example = values.dropna().astype("str").iloc[0] if values.notna().any() else ""
        raise SecmasterError(
            f"cannot import {what}: --time-unit applies to numeric epoch times, but column "
            f"{column!r} holds text such as {example!r}; leave --time-unit out"
        )
    text = values.astype("str").str.strip()
    empty = values.isna().to_numpy() | (text == "").to_numpy()
    parsed = _parse_text(text.where(~empty), column, options.date_format, what)
    ns = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]").view("int64")
    valid = ~parsed.isna().to_numpy()
    problems.add_mask(empty, column, lambda r: "empty time")
    expected = f" (expected --date-format {options.date_format!r})" if options.date_format else ""
    problems.add_mask(~valid & ~empty, column,
                      lambda r: f"cannot parse time {text.iloc[r]!r}{expected}")
    naive = ~text.str.contains(ZONED, na=False).to_numpy()
    return ns, valid, naive


def _parse_text(text: pd.Series, column: str, date_format: str | None, what: str) -> pd.Series:
    """Parse strictly so a bad row is reported instead of silently guessed."""
    if date_format is not None:
        try:
            return _to_datetime(text, date_format)
        except ValueError as exc:
            raise SecmasterError(f"cannot import {what}: bad --date-format ({exc})") from None
    present = text.dropna()
    if present.empty:
        return _to_datetime(text, "ISO8601")
    try:
        return pd.to_datetime(text, format="ISO8601", utc=True).dt.as_unit("ns")
    except (ValueError, TypeError, OverflowError):
        pass
    day_first = _day_first(present, column, what)
    formats = [guess_datetime_format(present.iloc[0], dayfirst=bool(day_first)), "ISO8601"]
    candidates = [_to_datetime(text, fmt) for fmt in dict.fromkeys(formats) if fmt]
    # Keep whichever reading parses more rows, and report the others.
    return min(candidates, key=lambda parsed: int(parsed.isna().sum()))


def _to_datetime(text: pd.Series, fmt: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format" for junk rows
        parsed = pd.to_datetime(text, format=fmt, utc=True, errors="coerce")
    return parsed.dt.as_unit("ns")


def _day_first(present: pd.Series, column: str, what: str) -> bool | None:
    """For NN/NN/YYYY dates: True day-first, False month-first, None not that layout; refuses
    the file when no row tells (or rows disagree)."""
    parts = present.str.extract(NUMERIC_DATE)
    matched = parts[0].notna()
    if not matched.any():
        return None
    first = parts.loc[matched, 0].astype("int64")
    second = parts.loc[matched, 2].astype("int64")
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    separator = parts.loc[matched, 1].iloc[0]
    year = "%Y" if len(parts.loc[matched, 3].iloc[0]) == 4 else "%y"
    dmy = f"%d{separator}%m{separator}{year}"
    mdy = f"%m{separator}%d{separator}{year}"
    if day_first and month_first:
        raise SecmasterError(
            f"cannot import {what}: column {column!r} mixes day-first and month-first dates "
            f"(e.g. {present[matched & (first > 12)].iloc[0]!r} and "
            f"{present[matched & (second > 12)].iloc[0]!r}); fix the file, or give the layout "
            f"with --date-format (e.g. '{dmy}') so the other rows are reported"
        )
    if not day_first and not month_first:
        example = present[matched].iloc[0]
        raise SecmasterError(
            f"cannot import {what}: dates such as {example!r} in column {column!r} could be "
            f"day-first or month-first (no day above 12 tells which); give the layout with "
            f"--date-format '{dmy}' (day first) or --date-format '{mdy}' (month first), "
            f"or the 'Date format' field on the Data page"
        )
    return day_first


def _parse_date_and_time(
    dates: pd.Series,
    times: pd.Series,
    label: str,
    problems: Problems,
    options: TimeOptions,
    what: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fmt = options.date_format
    if fmt is not None and re.search(r"%[HIMSfpz]", fmt):
        # The format spells the clock too: read "date time" as one value.
        joined = (dates.astype("str").str.strip() + " " + times.astype("str").str.strip())
        return parse_times(joined.where(dates.notna() & times.notna()), label, problems,
                           options, what)
    day_ns, day_valid, naive = parse_times(dates, label, problems, options, what)
    clock_ns, clock_valid = _parse_clock(times, label, problems)
    return day_ns + clock_ns, day_valid & clock_valid, naive


def _parse_clock(times: pd.Series, column: str, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
    """Time of day as ns after midnight: ``HH:MM[:SS[.f]]`` text or a ``HHMMSS`` number."""
    if _is_numeric(times):
        numbers = times.to_numpy(dtype="float64", na_value=np.nan)
        present = ~np.isnan(numbers)
        whole = np.where(present, numbers, 0).astype("int64")
        # HHMMSS (Stooq) unless every value is below 2400, then HHMM.
        if present.any() and whole[present].max() < 2400:
            whole = whole * 100
        hours, minutes, seconds = whole // 10000, whole // 100 % 100, whole % 100
        valid = present & (hours < 24) & (minutes < 60) & (seconds < 60)
        problems.add_mask(~present, column, lambda r: "empty time")
        problems.add_mask(present & ~valid, column,
                          lambda r: f"{times.iloc[r]!r} is not a HHMMSS time of day")
        ns = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000_000
        return np.where(valid, ns, 0), valid
    text = times.astype("str").str.strip()
    empty = times.isna().to_numpy() | (text == "").to_numpy()
    # 09:30 -> 09:30:00, which to_timedelta needs.
    text = text.where(~text.str.fullmatch(r"\d{1,2}:\d{2}"), text + ":00")
    clock = pd.to_timedelta(text.where(~empty), errors="coerce")
    ns = clock.to_numpy(dtype="timedelta64[ns]").view("int64")
    valid = ~clock.isna().to_numpy() & (ns >= 0) & (ns < DAY_NS)
    problems.add_mask(empty, column, lambda r: "empty time")
    problems.add_mask(~valid & ~empty, column,
                      lambda r: f"cannot read {times.iloc[r]!r} as a time of day")
    return np.where(valid, ns, 0), valid


def _localize(
    ns: np.ndarray,
    valid: np.ndarray,
    naive: np.ndarray,
    tz: str,
    period: BarPeriod | None,
    column: str,
    problems: Problems,
) -> tuple[np.ndarray, np.ndarray]:
    """Read the naive rows as wall-clock times in ``tz``; DAY/WEEK bars keep their local date."""
    ns = ns.copy()
    if period in (BarPeriod.DAY, BarPeriod.WEEK):
        zoned = valid & ~naive
        if zoned.any():
            utc = pd.DatetimeIndex(ns[zoned].view("datetime64[ns]")).tz_localize("UTC")
            ns[zoned] = utc.tz_convert(tz).tz_localize(None).as_unit("ns").asi8
        return np.where(valid, ns - ns % DAY_NS, ns), valid
    rows = np.flatnonzero(valid & naive)
    if not len(rows):
        return ns, valid
    wall = pd.DatetimeIndex(ns[rows].view("datetime64[ns]"))
    try:
        local = wall.tz_localize(tz, ambiguous="infer", nonexistent="NaT")
    except ValueError:  # a repeated hour whose rows do not show which reading is meant
        local = wall.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    unresolved = np.asarray(local.isna())
    skipped = np.asarray(
        wall.tz_localize(tz, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="NaT").isna()
    )
    ns[rows[~unresolved]] = local[~unresolved].tz_convert("UTC").as_unit("ns").asi8
    valid = valid.copy()
    valid[rows[unresolved]] = False
    wall_of = dict(zip(rows.tolist(), wall.tolist(), strict=True))
    gap = np.zeros(len(ns), dtype=bool)
    gap[rows[unresolved & skipped]] = True
    twice = np.zeros(len(ns), dtype=bool)
    twice[rows[unresolved & ~skipped]] = True
    problems.add_mask(gap, column, lambda r: (
        f"local time {wall_of[r]} does not exist in {tz} (the clocks skip it)"))
    problems.add_mask(twice, column, lambda r: (
        f"local time {wall_of[r]} occurs twice in {tz} (the clocks repeat it) and the order of "
        "the rows does not show which is meant; give times with a UTC offset"))
    return ns, valid


def _parse_number_times(
    numbers: np.ndarray,
    original: pd.Series,
    column: str,
    problems: Problems,
    options: TimeOptions,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    present = ~np.isnan(numbers)
    problems.add_mask(~present, column, lambda r: "empty time")
    ns = np.zeros(len(numbers), dtype="int64")
    utc = np.zeros(len(numbers), dtype=bool)
    if not present.any():
        return ns, present, utc
    sample = numbers[present]
    integral = bool(np.all(sample == np.floor(sample)))
    if (options.time_unit is None and integral
            and YYYYMMDD_RANGE[0] <= sample.min() and sample.max() <= YYYYMMDD_RANGE[1]):
        text = pd.Series(np.where(present, numbers, 0).astype("int64").astype(str))
        parsed = _to_datetime(text, "%Y%m%d")
        valid = present & ~parsed.isna().to_numpy()
        problems.add_mask(
            present & ~valid, column, lambda r: f"{int(numbers[r])} is not a YYYYMMDD date"
        )
        # Dates are local calendar dates: naive, so --tz applies.
        return parsed.dt.tz_convert(None).to_numpy("datetime64[ns]").view("int64"), valid, valid
    if options.time_unit is not None:
        unit = options.time_unit.strip().lower()
        factor = TIME_UNITS[unit]
        in_range = present & (np.abs(numbers) * factor < 2**63)
        problems.add_mask(present & ~in_range, column,
                          lambda r: f"epoch time {original.iloc[r]!r} is out of range in {unit}")
    else:
        magnitude = float(np.median(np.abs(sample)))
        band = next((b for b in EPOCH_BANDS if b[1] <= magnitude < b[2]), None)
        if band is None:
            problems.add_mask(
                present,
                column,
                lambda r: (
                    f"cannot tell the unit of epoch time {original.iloc[r]!r}: numbers must be "
                    "YYYYMMDD dates or Unix times after 1973, or give --time-unit s|ms|us|ns"
                ),
            )
            return ns, np.zeros(len(numbers), dtype=bool), utc
        unit, low, high, factor = band
        in_range = present & (np.abs(numbers) >= low) & (np.abs(numbers) < high)
        problems.add_mask(
            present & ~in_range,
            column,
            lambda r: (
                f"epoch time {original.iloc[r]!r} does not match the unit ({unit}) of the other "
                "rows; give --time-unit if the unit is known"
            ),
        )
    if integral and original.dtype.kind in "iu":
        ns = np.where(in_range, original.to_numpy(dtype="int64", na_value=0), 0) * factor
    else:
        ns = np.round(np.where(in_range, numbers, 0.0) * factor).astype("int64")
    return ns, in_range, utc


# --------------------------------------------------------------------------------------------
# Values, columns, reading
# --------------------------------------------------------------------------------------------


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype)


def _parse_numbers(series: pd.Series, column: str, problems: Problems) -> np.ndarray:
    if _is_numeric(series):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
        problems.add_mask(np.isnan(numbers), column, lambda r: "empty value")
        return numbers
    text = series.astype("str").str.strip()
    empty = series.isna().to_numpy() | text.isin(["", "nan", "NaN", "NA", "null"]).to_numpy()
    numbers = pd.to_numeric(text.where(~empty), errors="coerce")
    numbers = numbers.to_numpy(dtype="float64", na_value=np.nan)
    problems.add_mask(empty, column, lambda r: "empty value")
    problems.add_mask(
        np.isnan(numbers) & ~empty, column, lambda r: f"not a number: {text.iloc[r]!r}"
    )
    return numbers


def normalise_column_name(name: object) -> str:
    """``' <Open Price> '`` -> ``open_price``: how header names are compared."""
    text = str(name).strip().strip("<>").strip().lower()
    return re.sub(r"[\s.\-]+", "_", text)


def _column_lookup(frame: pd.DataFrame, what: str) -> dict[str, str]:
    """Normalised column name -> the name as written in the file."""
    names: dict[str, str] = {}
    for column in frame.columns:
        key = normalise_column_name(column)
        if key in names:
            raise SecmasterError(
                f"cannot import {what}: columns {names[key]!r} and {column!r} have the same "
                "name apart from case or punctuation; rename one"
            )
        names[key] = str(column)
    return names


def _read_csv(source: CsvSource, what: str, report: Progress) -> pd.DataFrame:
    try:
        data = _read_bytes(source)
    except FileNotFoundError:
        raise SecmasterError(f"cannot import {what}: file not found") from None
    except IsADirectoryError:
        raise SecmasterError(f"cannot import {what}: it is a folder, not a file") from None
    separator = _sniff_separator(data)
    total_lines = max(data.count(b"\n"), 1)
    layout: dict = {}
    headerless = _headerless_names(data, separator)
    if headerless:
        width = len(data.split(b"\n", 1)[0].split(separator.encode()))
        names = [*headerless, *(f"extra_{k}" for k in range(width))][:width]
        layout = {"header": None, "names": names}
    try:
        chunks = []
        rows = 0
        with pd.read_csv(io.BytesIO(data), sep=separator, skipinitialspace=True,
                         low_memory=False, chunksize=READ_CHUNK_ROWS, **layout) as reader:
            for chunk in reader:
                chunks.append(chunk)
                rows += len(chunk)
                report(READ_SHARE * min(rows / total_lines, 1.0), "reading")
        if not chunks:
            raise pd.errors.EmptyDataError
        # Chunks may infer different dtypes (a blank in one chunk only): concat unifies them.
        frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
        if len(chunks) > 1:
            frame = _reinfer(frame)
        return frame
    except pd.errors.EmptyDataError:
        raise SecmasterError(f"cannot import {what}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise SecmasterError(f"cannot import {what}: not a readable CSV file ({exc})") from None


def _headerless_names(data: bytes, separator: str) -> tuple[str, ...]:
    """The column names to use when the first line is data, not names (empty otherwise): no
    cell is a column name we know, and after the time (one cell, or a date and a ``HH:MM``
    clock as Kibot writes) come at least four numbers. Binance, Kraken, histdata.com,
    NinjaTrader, FirstRate and Kibot exports have no header."""
    cells = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip().split(separator)
    cells = [cell.strip() for cell in cells]
    if len(cells) < 5 or any(normalise_column_name(cell) in KNOWN_NAMES for cell in cells):
        return ()
    names = HEADERLESS_SPLIT_NAMES if CLOCK.match(cells[1]) else HEADERLESS_NAMES
    prices = cells[names.index("open"):names.index("open") + 4]
    try:
        if len(prices) < 4:
            return ()
        [float(cell) for cell in prices]
    except ValueError:
        return ()
    return names


def _reinfer(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns that came out as mixed objects across chunks (numbers in one, text in another)
    are turned into numbers when every value is one, as a single read would have done."""
    for column in frame.columns:
        if frame[column].dtype == object:
            numbers = pd.to_numeric(frame[column], errors="coerce")
            if numbers.notna().sum() == frame[column].notna().sum():
                frame[column] = numbers
    return frame


def _read_bytes(source: CsvSource) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str | os.PathLike):
        return Path(source).read_bytes()
    data = source.read()
    return data.encode("utf-8") if isinstance(data, str) else data


def _sniff_separator(data: bytes) -> str:
    """Pick the separator that splits the header line most; ``,`` when in doubt."""
    header = data.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    counts = {separator: header.count(separator) for separator in SEPARATORS}
    best = max(SEPARATORS, key=lambda separator: counts[separator])
    return best if counts[best] > 0 else ","


def _source_name(source: CsvSource) -> str:
    if isinstance(source, str | os.PathLike):
        return f"'{Path(source).name}'"
    name = getattr(source, "name", None)
    return f"'{Path(str(name)).name}'" if isinstance(name, str) and name else "CSV data"
