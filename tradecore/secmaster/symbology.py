"""Rolling symbols: map one symbol to different instruments over date ranges, from a CSV file.

A continuous futures contract is the usual case: ``ES`` means ``ESH4`` until the roll on
2024-03-15, then ``ESM4``. Import each contract's bars under its own symbol first
(``import csv ESH4.csv --symbol ESH4``), then a mapping file::

    symbol,instrument,start_date,end_date
    ES,ESH4,2023-12-15,2024-03-15
    ES,ESM4,2024-03-15,2024-06-21
    ES,ESU4,2024-06-21,

* ``instrument`` (alias ``raw_symbol``, ``contract``) is the raw symbol the bars were imported
  under; ``start_date``/``end_date`` (aliases ``start``/``end``, ``from``/``to``) are ISO dates in
  UTC, the end *exclusive* as in Databento's symbology; an empty end means "until further notice".
* Optional columns ``publisher``, ``dataset`` and ``symbol_type`` override the defaults given to
  :func:`import_symbology` (``local``, ``csv``, ``raw_symbol``) row by row.

The datafeed then replays ``ES`` from ESH4's bars before the roll and ESM4's after it, and the run
records each bar's ``instrument_id`` (:mod:`tradecore.secmaster.queries`).

Design Decision: a file replaces a symbol's whole mapping
    Importing a mapping file replaces every mapping of the symbols it names within the same
    publisher/dataset, so the file is the symbol's complete history and importing it twice changes
    nothing. Windows of one symbol must not overlap (reported by row). Like bar imports, a file
    with any bad row is refused as a whole and leaves the secmaster as it was.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd

from tradecore.secmaster import schema
from tradecore.secmaster.csv_import import (
    CsvSource,
    _read_bytes,
    _sniff_separator,
    _source_name,
    normalise_column_name,
)
from tradecore.secmaster.errors import SecmasterError
from tradecore.secmaster.queries import ConnOrPath
from tradecore.secmaster.writer import Problems

COLUMNS = {
    "symbol": ("symbol",),
    "instrument": ("instrument", "raw_symbol", "contract"),
    "start_date": ("start_date", "start", "from"),
    "end_date": ("end_date", "end", "to"),
    "publisher": ("publisher",),
    "dataset": ("dataset",),
    "symbol_type": ("symbol_type", "stype"),
}
OPEN_END = "9999-12-31"
MAPPING_COLUMNS = ["symbol", "symbol_type", "publisher", "dataset", "instrument", "start_date",
                   "end_date", "instrument_id"]


@dataclass(frozen=True)
class SymbologySummary:
    symbols: tuple[str, ...]
    mappings: int

    def __str__(self) -> str:
        return (f"imported {self.mappings} symbology mapping{'s' if self.mappings != 1 else ''} "
                f"for {', '.join(self.symbols)}")


def import_symbology(
    db_path: schema.PathLike | None,
    source: CsvSource,
    publisher: str = "local",
    dataset: str = "csv",
    symbol_type: str = "raw_symbol",
) -> SymbologySummary:
    """Store the date-bounded symbol -> instrument mappings of a CSV file (see the module doc)."""
    what = _source_name(source)
    what = "symbology data" if what == "CSV data" else what
    frame = _read(source, what)
    names = {normalise_column_name(column): str(column) for column in frame.columns}
    found = {key: next((names[a] for a in aliases if a in names), None)
             for key, aliases in COLUMNS.items()}
    missing = [key for key in ("symbol", "instrument", "start_date") if found[key] is None]
    if missing:
        raise SecmasterError(
            f"cannot import {what}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; a symbology file has symbol,instrument,start_date,end_date "
            f"(the file has {', '.join(repr(str(c)) for c in frame.columns)})"
        )

    def text(key: str, default: str = "") -> pd.Series:
        if found[key] is None:
            return pd.Series(default, index=frame.index, dtype="str")
        return frame[found[key]].astype("str").str.strip().where(frame[found[key]].notna(), "")

    rows = pd.DataFrame({
        "symbol": text("symbol"),
        "instrument": text("instrument"),
        "start_date": text("start_date"),
        "end_date": text("end_date"),
        "publisher": text("publisher").replace("", publisher),
        "dataset": text("dataset").replace("", dataset),
        "symbol_type": text("symbol_type").replace("", symbol_type),
    })
    problems = Problems()
    for key in ("symbol", "instrument", "start_date"):
        problems.add_mask((rows[key] == "").to_numpy(), found[key], lambda r: "empty value")
    starts = _dates(rows["start_date"], found["start_date"], problems)
    ends = _dates(rows["end_date"], found["end_date"] or "end_date", problems, open_end=True)
    backwards = (starts.notna() & ends.notna() & (ends <= starts)).to_numpy()
    problems.add_mask(backwards, found["end_date"] or "end_date", lambda r: (
        f"end {rows['end_date'].iloc[r]} is not after start {rows['start_date'].iloc[r]} "
        "(the end date is exclusive)"))
    rows["start_date"] = starts.dt.strftime("%Y-%m-%d")
    rows["end_date"] = ends.dt.strftime("%Y-%m-%d").where(rows["end_date"] != "", OPEN_END)
    if not problems.total:
        _report_overlaps(rows, found["start_date"], problems)
    problems.raise_if_any(what)  # before opening the database: a refused file touches nothing

    with schema.writing(db_path) as conn:
        ids = []
        for row in rows.itertuples():
            found_id = conn.execute(schema.SELECT_INSTRUMENT_IN_SOURCE,
                                    (row.publisher, row.dataset, row.instrument)).fetchone()
            ids.append(found_id[0] if found_id else None)
        unknown = pd.Series([i is None for i in ids]) & (rows["instrument"] != "")
        problems.add_mask(unknown.to_numpy(), found["instrument"], lambda r: (
            f"no instrument {rows['instrument'].iloc[r]} in {rows['publisher'].iloc[r]}/"
            f"{rows['dataset'].iloc[r]}; import its bars first"))
        problems.raise_if_any(what)
        keys = rows[["symbol", "symbol_type", "publisher", "dataset"]].drop_duplicates()
        for key in keys.itertuples(index=False):
            conn.execute(schema.DELETE_SYMBOL_MAPPINGS_IN_SOURCE, tuple(key))
        conn.executemany(schema.INSERT_SYMBOLOGY, [
            (row.symbol, row.symbol_type, instrument_id, row.start_date, row.end_date)
            for row, instrument_id in zip(rows.itertuples(), ids, strict=True)
        ])
    return SymbologySummary(tuple(dict.fromkeys(rows["symbol"])), len(rows))


def list_mappings(conn_or_path: ConnOrPath = None) -> pd.DataFrame:
    """The mappings users set up (symbol differs from the instrument's raw symbol), one a row:
    ``symbol, symbol_type, publisher, dataset, instrument, start_date, end_date,
    instrument_id``; an open end shows as an empty ``end_date``."""
    with schema.reading(conn_or_path) as conn:
        frame = pd.DataFrame(conn.execute(schema.SELECT_MAPPINGS).fetchall(),
                             columns=MAPPING_COLUMNS)
    frame["end_date"] = frame["end_date"].where(frame["end_date"] != OPEN_END, "")
    return frame


def _read(source: CsvSource, what: str) -> pd.DataFrame:
    try:
        data = _read_bytes(source)
        frame = pd.read_csv(io.BytesIO(data), sep=_sniff_separator(data), dtype="str",
                            skipinitialspace=True, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise SecmasterError(f"cannot import {what}: file not found") from None
    except pd.errors.EmptyDataError:
        raise SecmasterError(f"cannot import {what}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise SecmasterError(f"cannot import {what}: not a readable CSV file ({exc})") from None
    if frame.empty:
        raise SecmasterError(f"cannot import {what}: the file has no mappings")
    return frame


def _dates(values: pd.Series, column: str, problems: Problems, open_end: bool = False
           ) -> pd.Series:
    parsed = pd.to_datetime(values.where(values != ""), format="%Y-%m-%d", errors="coerce")
    bad = (values != "") & parsed.isna()
    problems.add_mask(bad.to_numpy(), column,
                      lambda r: f"{values.iloc[r]!r} is not a YYYY-MM-DD date")
    if open_end:
        parsed = parsed.where(values != "", pd.Timestamp(OPEN_END))
    return parsed


def _report_overlaps(rows: pd.DataFrame, column: str, problems: Problems) -> None:
    overlapping = pd.Series(False, index=rows.index)
    earlier: dict[int, int] = {}
    for _, group in rows.groupby(["symbol", "symbol_type", "publisher", "dataset"], sort=False):
        ordered = group.sort_values("start_date")
        previous = None
        for index, row in ordered.iterrows():
            if previous is not None and row["start_date"] < rows.at[previous, "end_date"]:
                overlapping[index] = True
                earlier[int(index)] = int(previous)
            previous = index
    problems.add_mask(overlapping.to_numpy(), column, lambda r: (
        f"{rows['symbol'].iloc[r]} from {rows['start_date'].iloc[r]} overlaps the mapping to "
        f"{rows['instrument'].iloc[earlier[r]]} on row {earlier[r] + 1}"))
