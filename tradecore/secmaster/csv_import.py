"""Import OHLCV bars from any reasonable CSV file into secmaster.db.

What the file may look like
---------------------------
* A header row. Column names are matched case-insensitively and ignoring surrounding spaces.
* One time column, looked up in this order: ``ts_event``, ``timestamp``, ``datetime``, then a
  ``date`` plus ``time`` pair (joined with a space), ``date``, ``time``, and finally an unnamed
  first column (what ``DataFrame.to_csv()`` writes for an unnamed index, e.g. backtesting.py's
  ``GOOG``). The time is the bar's **open** time.
* ``open``, ``high``, ``low``, ``close`` (required) and ``volume`` (optional: when the column is
  missing, volume is stored as 0 and the summary says so; an empty cell in a present volume
  column is an error, like any empty price). Other columns are ignored.
* Separator ``,``, ``;`` or tab (detected from the header line).
* Rows in any order; they are stored sorted by time.

Times
-----
* Text without a zone is **UTC**; text with an offset or ``Z`` is converted to UTC. ISO 8601 is
  parsed exactly to the nanosecond; other formats go through pandas' inference (month first for
  ``01/02/2020``: prefer ISO 8601).
* Integers of the form ``YYYYMMDD`` are dates. Other numbers are Unix epoch timestamps whose unit
  (s, ms, us or ns) is told from their magnitude; that is only unambiguous for times after
  1973-03-03, so every value must fall in the same unit's band or the import fails.

Validation and atomicity
------------------------
Everything is checked before anything is written: missing columns, unparseable or empty times,
non-numeric or empty values, infinite or negative prices/volume, high < low, open/close outside
[low, high], duplicate timestamps. A :class:`SecmasterError` names up to five problems by data row
(1 = the first row after the header) and column, and says how many more there are. The write is
one transaction: either every row is stored or none.

Re-importing
------------
Importing the same symbol, period, publisher and dataset again **merges**: bars at timestamps
that already exist are replaced by the new values (an upsert), other stored bars are kept, and
coverage is recomputed. The summary reports how many bars were replaced.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from tradecore.models import BarPeriod
from tradecore.secmaster import schema
from tradecore.secmaster.errors import SecmasterError
from tradecore.secmaster.writer import (
    BAR_COLUMNS,
    PRICE_COLUMNS,
    ImportSummary,
    Problems,
    check_bars,
    clean_symbol,
    parse_period,
    write_bars,
)

TIME_COLUMN_NAMES = ("ts_event", "timestamp", "datetime")
SEPARATORS = (",", ";", "\t")

# Epoch magnitude bands: a value v in [low, high) is read in that unit (all times after 1973-03-03).
EPOCH_BANDS = (
    ("s", 1e8, 1e11, 1_000_000_000),
    ("ms", 1e11, 1e14, 1_000_000),
    ("us", 1e14, 1e17, 1_000),
    ("ns", 1e17, 2**63, 1),
)
YYYYMMDD_RANGE = (1800_01_01, 2300_12_31)

CsvSource = str | os.PathLike[str] | IO[str] | IO[bytes] | bytes


def import_csv(
    db_path: schema.PathLike | None,
    source: CsvSource,
    symbol: str,
    period: BarPeriod | str,
    publisher: str = "local",
    dataset: str = "csv",
    symbol_type: str = "raw_symbol",
) -> ImportSummary:
    """Validate and store the bars in ``source`` (a path, an open text/binary file, or bytes)
    as ``symbol`` at ``period`` under ``publisher``/``dataset``.

    >>> import_csv("data/secmaster.db", "GOOG.csv", "GOOG", "DAY")  # doctest: +SKIP
    """
    symbol = clean_symbol(symbol)
    period = parse_period(period)
    what = f"{_source_name(source)} as {symbol}"
    frame = _read_csv(source, what)
    ts, values, notes = parse_bars(frame, what)
    with schema.writing(db_path) as conn:
        return write_bars(
            conn,
            publisher=publisher,
            dataset=dataset,
            symbol=symbol,
            symbol_type=symbol_type,
            period=period,
            ts=ts,
            values=values,
            notes=notes,
        )


def parse_bars(
    frame: pd.DataFrame, what: str = "CSV data"
) -> tuple[np.ndarray, dict[str, np.ndarray], tuple[str, ...]]:
    """Turn a freshly read CSV frame into sorted int64 ns times and float arrays, or raise a
    :class:`SecmasterError` listing what is wrong."""
    if frame.empty:
        raise SecmasterError(f"cannot import {what}: the file has no data rows")
    names = _column_lookup(frame, what)
    missing = [column for column in PRICE_COLUMNS if column not in names]
    time_column, time_values = _time_column(frame, names)
    if missing or time_values is None:
        found = ", ".join(repr(str(column)) for column in frame.columns)
        needs = []
        if time_values is None:
            needs.append(
                "a time column (named date, datetime, time, timestamp or ts_event in any case, "
                "or an unnamed first column)"
            )
        if missing:
            needs.append("column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
        raise SecmasterError(
            f"cannot import {what}: missing {' and '.join(needs)}; the file has columns {found}"
        )

    problems = Problems()
    ts, ts_valid = parse_times(time_values, time_column, problems)
    notes: tuple[str, ...] = ()
    values: dict[str, np.ndarray] = {}
    for column in BAR_COLUMNS:
        if column in names:
            values[column] = _parse_numbers(frame[names[column]], names[column], problems)
        else:
            values[column] = np.zeros(len(frame))
            notes = ("the file has no volume column: volume stored as 0",)
    display = {column: names.get(column, column) for column in BAR_COLUMNS}
    check_bars(problems, ts, ts_valid, values, display, time_column)
    problems.raise_if_any(what)

    order = np.argsort(ts, kind="stable")
    if np.any(order[1:] < order[:-1]):
        ts = ts[order]
        values = {column: array[order] for column, array in values.items()}
    return ts, values, notes


def parse_times(
    values: pd.Series, column: str, problems: Problems
) -> tuple[np.ndarray, np.ndarray]:
    """Times as int64 UTC nanoseconds plus a mask of the rows that parsed."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        return _parse_epoch(numbers, values, column, problems)
    text = values.astype("str").str.strip()
    empty = values.isna().to_numpy() | (text == "").to_numpy()
    parsed = _to_utc(text)
    ns = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]").view("int64")
    valid = ~parsed.isna().to_numpy()
    problems.add_mask(empty, column, lambda r: "empty time")
    problems.add_mask(~valid & ~empty, column, lambda r: f"cannot parse time {text.iloc[r]!r}")
    return ns, valid


def _to_utc(text: pd.Series) -> pd.Series:
    """Parse strictly when possible so a bad row is reported instead of silently guessed."""
    for fmt in ("ISO8601", None):
        try:
            return pd.to_datetime(text, format=fmt, utc=True).dt.as_unit("ns")
        except (ValueError, TypeError, OverflowError):
            continue
    # Some rows are bad: keep whichever reading parses more rows, and report the others.
    candidates = [
        pd.to_datetime(text, format=fmt, utc=True, errors="coerce").dt.as_unit("ns")
        for fmt in ("ISO8601", None)
    ]
    return min(candidates, key=lambda parsed: int(parsed.isna().sum()))


def _parse_epoch(
    numbers: np.ndarray, original: pd.Series, column: str, problems: Problems
) -> tuple[np.ndarray, np.ndarray]:
    present = ~np.isnan(numbers)
    problems.add_mask(~present, column, lambda r: "empty time")
    ns = np.zeros(len(numbers), dtype="int64")
    if not present.any():
        return ns, present
    sample = numbers[present]
    integral = bool(np.all(sample == np.floor(sample)))
    if integral and YYYYMMDD_RANGE[0] <= sample.min() and sample.max() <= YYYYMMDD_RANGE[1]:
        text = pd.Series(np.where(present, numbers, 0).astype("int64").astype(str))
        parsed = pd.to_datetime(text, format="%Y%m%d", utc=True, errors="coerce").dt.as_unit("ns")
        valid = present & ~parsed.isna().to_numpy()
        problems.add_mask(
            present & ~valid, column, lambda r: f"{int(numbers[r])} is not a YYYYMMDD date"
        )
        return parsed.dt.tz_convert(None).to_numpy("datetime64[ns]").view("int64"), valid
    magnitude = float(np.median(np.abs(sample)))
    band = next((b for b in EPOCH_BANDS if b[1] <= magnitude < b[2]), None)
    if band is None:
        problems.add_mask(
            present,
            column,
            lambda r: (
                f"cannot tell the unit of epoch time {original.iloc[r]!r}: numbers must be "
                "YYYYMMDD dates or Unix times (s, ms, us or ns) after 1973"
            ),
        )
        return ns, np.zeros(len(numbers), dtype=bool)
    unit, low, high, factor = band
    in_band = present & (np.abs(numbers) >= low) & (np.abs(numbers) < high)
    problems.add_mask(
        present & ~in_band,
        column,
        lambda r: (
            f"epoch time {original.iloc[r]!r} does not match the unit ({unit}) of the other rows"
        ),
    )
    if integral and original.dtype.kind in "iu":
        ns = np.where(in_band, original.to_numpy(dtype="int64", na_value=0), 0) * factor
    else:
        ns = np.round(np.where(in_band, numbers, 0.0) * factor).astype("int64")
    return ns, in_band


def _parse_numbers(series: pd.Series, column: str, problems: Problems) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
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


def _column_lookup(frame: pd.DataFrame, what: str) -> dict[str, str]:
    """Lower-cased, stripped column name -> the name as written in the file."""
    names: dict[str, str] = {}
    for column in frame.columns:
        key = str(column).strip().lower()
        if key in names:
            raise SecmasterError(
                f"cannot import {what}: columns {names[key]!r} and {column!r} differ only in case"
            )
        names[key] = str(column)
    return names


def _time_column(frame: pd.DataFrame, names: dict[str, str]) -> tuple[str, pd.Series | None]:
    for key in TIME_COLUMN_NAMES:
        if key in names:
            return names[key], frame[names[key]]
    if "date" in names and "time" in names:
        date, time = names["date"], names["time"]
        joined = frame[date].astype("str").str.strip() + " " + frame[time].astype("str").str.strip()
        return f"{date}+{time}", joined.where(frame[date].notna() & frame[time].notna())
    for key in ("date", "time"):
        if key in names:
            return names[key], frame[names[key]]
    first = str(frame.columns[0])
    if first.strip() == "" or first.startswith("Unnamed: 0"):
        return first, frame[frame.columns[0]]
    return "", None


def _read_csv(source: CsvSource, what: str) -> pd.DataFrame:
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        separator = _sniff_separator(source)
        return pd.read_csv(source, sep=separator, skipinitialspace=True, low_memory=False)
    except FileNotFoundError:
        raise SecmasterError(f"cannot import {what}: file not found") from None
    except pd.errors.EmptyDataError:
        raise SecmasterError(f"cannot import {what}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise SecmasterError(f"cannot import {what}: not a readable CSV file ({exc})") from None


def _sniff_separator(source: CsvSource) -> str:
    """Pick the separator that splits the header line most; ``,`` when in doubt."""
    header: str | bytes = b""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            header = handle.readline()
    elif hasattr(source, "seekable") and source.seekable():
        position = source.tell()
        header = source.readline()
        source.seek(position)
    if isinstance(header, bytes):
        header = header.decode("utf-8", errors="replace")
    counts = {separator: header.count(separator) for separator in SEPARATORS}
    best = max(SEPARATORS, key=lambda separator: counts[separator])
    return best if counts[best] > 0 else ","


def _source_name(source: CsvSource) -> str:
    if isinstance(source, str | os.PathLike):
        return f"'{Path(source).name}'"
    name = getattr(source, "name", None)
    return f"'{Path(str(name)).name}'" if name else "CSV data"
