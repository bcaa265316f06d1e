"""Import Databento OHLCV files (``.dbn`` or ``.dbn.zst``) into secmaster.db.

* The bar period comes from the file's schema: ``ohlcv-1s`` SECOND, ``ohlcv-1m`` MINUTE,
  ``ohlcv-1h`` HOUR, ``ohlcv-1d`` DAY. Other schemas are refused.
* Publisher ``databento``, dataset from the file's metadata (e.g. ``XNAS.ITCH``); symbol type is
  the file's ``stype_in`` (``raw_symbol``, ``continuous``, ``parent`` ...), ``raw_symbol`` when
  the file has none.
* Symbols come from the file's symbology (``to_df(map_symbols=True)``). ``symbol`` names the
  instrument when the file carries no symbology (it must then hold a single instrument), renames
  the only instrument of a file, or selects one symbol from a file holding several.
* Prices are decoded to floats by ``databento`` (fixed-point 1e-9 to float); ``ts_event`` is
  Databento's bar open time, already UTC nanoseconds. Bars go through the same checks as CSV
  rows (row n = the symbol's n-th record) and the whole file is written in one transaction;
  bars already stored are skipped and conflicting ones need ``replace``, as for CSV.
* Databento's own ``instrument_id`` is kept in ``instruments.source_instrument_id``.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from tradecore.models import BarPeriod
from tradecore.secmaster import schema
from tradecore.secmaster.errors import SecmasterError
from tradecore.secmaster.writer import (
    BAR_COLUMNS,
    ImportSummary,
    Problems,
    check_bars,
    clean_symbol,
    write_bars,
)

PERIOD_OF_SCHEMA = {
    "ohlcv-1s": BarPeriod.SECOND,
    "ohlcv-1m": BarPeriod.MINUTE,
    "ohlcv-1h": BarPeriod.HOUR,
    "ohlcv-1d": BarPeriod.DAY,
}
PUBLISHER = "databento"

DbnSource = str | os.PathLike[str] | IO[bytes] | bytes


def import_dbn(
    db_path: schema.PathLike | None,
    source: DbnSource,
    symbol: str | None = None,
    replace: bool = False,
) -> list[ImportSummary]:
    """Store the OHLCV bars of a Databento file; one summary per symbol imported.

    Bars already stored are skipped; bars that differ from stored ones refuse the import unless
    ``replace`` (as for CSV, see :func:`~tradecore.secmaster.writer.write_bars`)."""
    store, name = _open_store(source)
    period = _period(store, name)
    frame = _frame(store, name)
    if frame.empty:
        raise SecmasterError(f"cannot import {name}: the file holds no records")
    symbol_type = str(store.stype_in) if store.stype_in is not None else "raw_symbol"
    if symbol_type in ("", "None"):
        symbol_type = "raw_symbol"
    by_symbol = _split_by_symbol(frame, symbol, name)
    dataset = str(store.dataset or "unknown")

    prepared = []
    for name_of_symbol, bars in by_symbol.items():
        what = f"{name} ({name_of_symbol})"
        prepared.append((name_of_symbol, *_validated(bars, what)))
    with schema.writing(db_path) as conn:
        return [
            write_bars(
                conn,
                publisher=PUBLISHER,
                dataset=dataset,
                symbol=name_of_symbol,
                symbol_type=symbol_type,
                period=period,
                ts=ts,
                values=values,
                source_instrument_id=source_id,
                replace=replace,
                what=f"{name} ({name_of_symbol})",
            )
            for name_of_symbol, ts, values, source_id in prepared
        ]


def _open_store(source: DbnSource):  # -> databento.DBNStore
    try:
        import databento
    except ImportError:
        raise SecmasterError(
            "importing DBN files needs the databento package: pip install databento"
        ) from None
    if isinstance(source, str | os.PathLike):
        name = f"'{Path(source).name}'"
        if not Path(source).is_file():
            raise SecmasterError(f"cannot import {name}: file not found")
    else:
        name = f"'{Path(str(source.name)).name}'" if getattr(source, "name", None) else "DBN data"
    try:
        # Read the bytes ourselves: DBNStore.from_file leaves its file handle open.
        if isinstance(source, str | os.PathLike):
            data = Path(source).read_bytes()
        else:
            data = source if isinstance(source, bytes) else source.read()
        return databento.DBNStore.from_bytes(io.BytesIO(data)), name
    except Exception as exc:  # databento raises several types (ValueError, DBNError, OSError)
        raise SecmasterError(
            f"cannot import {name}: not a readable DBN file ({_plain(exc)}); expected a "
            "Databento .dbn or .dbn.zst file"
        ) from exc


def _plain(exc: BaseException) -> str:
    """databento names the buffer we handed it (``<_io.BytesIO object at 0x7f...>``), which
    means nothing to a user: say "the file" instead."""
    return re.sub(r"<_?io\.\w+ object at 0x[0-9a-fA-F]+>", "the file", str(exc))


def _period(store, name: str) -> BarPeriod:
    schema_name = str(store.schema) if store.schema is not None else "mixed"
    if schema_name not in PERIOD_OF_SCHEMA:
        choices = ", ".join(PERIOD_OF_SCHEMA)
        raise SecmasterError(
            f"cannot import {name}: schema {schema_name} holds no OHLCV bars; "
            f"supported schemas: {choices}"
        )
    return PERIOD_OF_SCHEMA[schema_name]


def _frame(store, name: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        # databento's own pandas calls trigger pandas deprecation warnings; not ours to fix.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"databento\.")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"databento\.")
        try:
            frame = store.to_df(price_type="float", pretty_ts=True, map_symbols=True)
        except Exception as exc:  # decoding errors surface here for truncated files
            raise SecmasterError(
                f"cannot import {name}: cannot decode records ({_plain(exc)})") from exc
    frame = frame.reset_index()
    if "symbol" not in frame.columns:
        frame["symbol"] = None
    return frame


def _split_by_symbol(frame: pd.DataFrame, symbol: str | None, name: str) -> dict[str, pd.DataFrame]:
    mapped = frame["symbol"].notna()
    file_symbols = sorted(set(frame.loc[mapped, "symbol"].astype(str)))
    instruments = sorted(set(frame["instrument_id"].astype(int).tolist()))
    if symbol is not None:
        symbol = clean_symbol(symbol)
        if symbol in file_symbols:
            return {symbol: frame[frame["symbol"] == symbol]}
        if len(instruments) == 1:
            return {symbol: frame}
        raise SecmasterError(
            f"cannot import {name}: it holds {len(instruments)} instruments "
            f"({', '.join(file_symbols) or 'without symbology'}); symbol {symbol!r} is not one "
            "of them"
        )
    if not mapped.all():
        unnamed = sorted(set(frame.loc[~mapped, "instrument_id"].astype(int).tolist()))
        ids = ", ".join(str(instrument) for instrument in unnamed[:10])
        raise SecmasterError(
            f"cannot import {name}: the file carries no symbology for instrument_id {ids}; "
            "give the symbol to store it under (symbol=..., or --symbol on the command line)"
        )
    return {each: frame[frame["symbol"] == each] for each in file_symbols}


def _validated(bars: pd.DataFrame, what: str) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    stamps = pd.to_datetime(bars["ts_event"], utc=True).dt.as_unit("ns")
    ts = stamps.dt.tz_convert(None).to_numpy("datetime64[ns]").view("int64")
    values = {column: bars[column].to_numpy(dtype="float64") for column in BAR_COLUMNS}
    problems = Problems()
    for column in BAR_COLUMNS:
        problems.add_mask(np.isnan(values[column]), column, lambda r: "undefined value")
    check_bars(problems, ts, np.ones(len(ts), dtype=bool), values, {c: c for c in BAR_COLUMNS},
               "ts_event")
    problems.raise_if_any(what, rows_are="row n is the symbol's n-th record in the file")
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    values = {column: array[order] for column, array in values.items()}
    return ts, values, int(bars["instrument_id"].iloc[-1])
