"""Reading secmaster.db: symbol resolution, the bar stream the datafeed replays, and listings
for the CLI and the Data page.

Time windows are closed and in UTC nanoseconds: a bar is included when
``start_ns <= ts_event <= end_ns`` (both inclusive; ``ts_event`` = bar open time). ``None`` means
unbounded. To include the whole of an end *date*, pass the following midnight minus 1 ns (or the
last bar's open time) as ``end_ns``.

Rolling symbols
---------------
A symbol may map to different instruments over date ranges (a continuous futures contract that
rolls from ``ESH4`` to ``ESM4``; see :mod:`tradecore.secmaster.symbology`). :func:`resolve_symbols`
then gives that symbol a tuple of :class:`Segment` (instrument and UTC window, in date order)
instead of one instrument id, and :func:`stream_bars`, :func:`count_bars` and :func:`time_range`
accept either form: each bar comes from the instrument mapped on its date, and the stream carries
the instrument id so a run can record where each bar came from.

Design Decision: one instrument stays an ``int``
    A symbol with a single mapping that covers all of its instrument's bars (every plain import)
    resolves to the bare instrument id, exactly as before rolling symbols existed, so callers and
    the replay of ordinary data do not change.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice

import pandas as pd

from tradecore.models import BarPeriod
from tradecore.secmaster import schema
from tradecore.secmaster.errors import SecmasterError
from tradecore.secmaster.stream import BarRow
from tradecore.secmaster.stream import chunks as read_in_process
from tradecore.secmaster.stream import read_ahead as read_ahead_in_process
from tradecore.secmaster.writer import parse_period

# Unbounded window edges for the SQL range (the column is a signed 64-bit integer).
MIN_TS_NS = -(2**63)
MAX_TS_NS = 2**63 - 1

# How many available symbols an "unknown symbol" message lists.
SYMBOLS_SHOWN = 8

DAY_NS = 86_400 * 1_000_000_000


@dataclass(frozen=True)
class Segment:
    """Bars of ``instrument_id`` with ``start_ns <= ts_event <= end_ns`` (a symbology window)."""

    instrument_id: int
    start_ns: int
    end_ns: int


Resolved = int | tuple[Segment, ...]
"""What a symbol resolves to: one instrument (all its bars) or dated segments (a rolling symbol)."""

ConnOrPath = sqlite3.Connection | schema.PathLike | None

BAR_FRAME_COLUMNS = ["open", "high", "low", "close", "volume"]
INSTRUMENT_COLUMNS = [
    "symbol", "publisher", "dataset", "symbol_type", "bar_period", "first_ts", "last_ts",
    "bar_count", "first_ts_ns", "last_ts_ns", "instrument_id",
]


@dataclass(frozen=True)
class Coverage:
    """What secmaster.db holds for one symbol and period."""

    symbol: str
    instrument_id: int
    publisher: str
    dataset: str
    bar_period: BarPeriod
    first_ts_ns: int
    last_ts_ns: int
    bar_count: int

    @property
    def first_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.first_ts_ns, unit="ns", tz="UTC")

    @property
    def last_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.last_ts_ns, unit="ns", tz="UTC")


def resolve_symbols(
    conn_or_path: ConnOrPath,
    symbols: Iterable[str],
    period: BarPeriod | str,
    publisher_name: str = "",
    dataset: str = "",
    symbol_type: str = "raw_symbol",
) -> dict[str, Resolved]:
    """Map each symbol to the instrument whose ``period`` bars should be replayed (an ``int``),
    or to the dated :class:`Segment` tuple of a rolling symbol.

    With ``publisher_name``/``dataset`` empty, a symbol found under exactly one publisher and
    dataset (with bars for ``period``) resolves there; several candidates are an error naming
    them. Every symbol's problem is reported in one :class:`SecmasterError`.
    """
    period = parse_period(period)
    if isinstance(symbols, str):
        symbols = [symbols]
    resolved: dict[str, Resolved] = {}
    errors: list[str] = []
    with schema.reading(conn_or_path) as conn:
        for symbol in symbols:
            try:
                resolved[symbol] = _resolve_one(
                    conn, symbol, period, publisher_name, dataset, symbol_type
                )
            except SecmasterError as exc:
                errors.append(str(exc))
    if errors:
        raise SecmasterError("; ".join(errors))
    return resolved


def _resolve_one(
    conn: sqlite3.Connection,
    symbol: str,
    period: BarPeriod,
    publisher_name: str,
    dataset: str,
    symbol_type: str,
) -> Resolved:
    rows = conn.execute(schema.SELECT_SYMBOL_CANDIDATES, (symbol, symbol_type)).fetchall()
    everywhere = sorted({(row[1], row[2]) for row in rows})
    rows = [
        row
        for row in rows
        if (not publisher_name or row[1] == publisher_name) and (not dataset or row[2] == dataset)
    ]
    if not rows:
        if everywhere:
            where = _sources(everywhere)
            wanted = "/".join(part or "*" for part in (publisher_name, dataset))
            raise SecmasterError(f"{symbol} is not in {wanted}; it exists in {where}")
        raise SecmasterError(_unknown_symbol_message(conn, symbol, symbol_type))
    with_period = [row for row in rows if row[3] == period.name]
    if not with_period:
        periods = sorted({row[3] for row in rows if row[3]}, key=lambda p: BarPeriod[p].nanoseconds)
        have = ", ".join(periods) if periods else "no bars at all"
        raise SecmasterError(f"{symbol} has no {period.name} bars; it has {have}")
    sources = sorted({(row[1], row[2]) for row in with_period})
    if len(sources) > 1:
        raise SecmasterError(
            f"{symbol} exists in {_sources(sources)}; set publisher_name and dataset to choose one"
        )
    mappings = sorted({(row[4], row[5], row[0], row[6], row[7], row[8]) for row in with_period})
    if len(mappings) == 1:
        start_date, end_date, instrument_id, first_ts, last_ts, _ = mappings[0]
        if _date_ns(start_date) <= first_ts and last_ts < _date_ns(end_date):
            return instrument_id
    segments = []
    for (start_date, end_date, instrument_id, _, _, raw), following in zip(
        mappings, [*mappings[1:], None], strict=True
    ):
        if following is not None and following[0] < end_date:
            raise SecmasterError(
                f"the symbology of {symbol} overlaps: {raw} from {start_date} to {end_date} and "
                f"{following[5]} from {following[0]} to {following[1]}; import a symbology "
                "file that gives each date one instrument"
            )
        segments.append(Segment(instrument_id, _date_ns(start_date), _date_ns(end_date) - 1))
    return tuple(segments)


def _date_ns(date: str) -> int:
    """An ISO date as UTC nanoseconds at midnight (symbology bounds)."""
    if date >= "2262-04-11":  # past the int64 nanosecond range: "until further notice"
        return MAX_TS_NS
    return pd.Timestamp(date, tz="UTC").value


def segments_of(resolved: Resolved, low: int, high: int) -> list[Segment]:
    """The part of each segment inside ``[low, high]`` (an ``int`` is one unbounded segment)."""
    if isinstance(resolved, int):
        return [Segment(resolved, low, high)] if low <= high else []
    clipped = [Segment(s.instrument_id, max(s.start_ns, low), min(s.end_ns, high))
               for s in resolved]
    return [segment for segment in clipped if segment.start_ns <= segment.end_ns]


def _sources(pairs: Iterable[tuple[str, str]]) -> str:
    names = [f"{name}/{data}" for name, data in pairs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _unknown_symbol_message(conn: sqlite3.Connection, symbol: str, symbol_type: str) -> str:
    available = [row[0] for row in conn.execute(schema.SELECT_SYMBOLS, (symbol_type, None, None))]
    if not available:
        return f"unknown symbol {symbol}: the secmaster holds no {symbol_type} symbols yet"
    shown = ", ".join(available[:SYMBOLS_SHOWN])
    more = f" and {len(available) - SYMBOLS_SHOWN} more" if len(available) > SYMBOLS_SHOWN else ""
    return f"unknown symbol {symbol}; available: {shown}{more}"


def stream_bars(
    db_path: schema.PathLike | None,
    instrument_ids: Mapping[str, Resolved],
    period: BarPeriod | str,
    start_ns: int | None = None,
    end_ns: int | None = None,
    *,
    symbol_as_index: bool = False,
    chunks: bool = False,
    read_ahead: bool = False,
) -> Iterator[BarRow] | Iterator[Iterable[BarRow]]:
    """Bars of several symbols as ``(ts_event_ns, symbol, open, high, low, close, volume,
    instrument_id)`` tuples ordered by ``(ts_event, symbol)``, for ``start_ns <= ts_event <=
    end_ns``; a rolling symbol's bars come from each segment's instrument in turn.

    ``symbol_as_index=True`` puts the symbol's position in ``sorted(instrument_ids)`` where the
    symbol would be (same order): the replay's hot path, as SQLite then decodes no text per row.
    ``chunks=True`` yields chunks of such tuples instead, up to ``stream.CHUNK_ROWS`` per
    symbol (the replay iterates a list per row, cheaper than resuming a generator per row).
    ``read_ahead=True`` reads them in a bar reader process, ahead of the caller (the replay of
    a long run; see :mod:`tradecore.secmaster.stream`): the same rows, each chunk an iterable.

    Streams: one cursor per instrument walks the ``bars`` primary key and the cursors are merged
    chunk by chunk, so memory does not grow with the number of bars. Arguments are checked now;
    the database is opened when iteration starts (with ``read_ahead``: now, by the reader) and
    closed when the iterator is exhausted or closed. All cursors read one snapshot (one read
    transaction), so a concurrent import never shows up half-way through a replay.
    """
    period = parse_period(period)
    low = MIN_TS_NS if start_ns is None else int(start_ns)
    high = MAX_TS_NS if end_ns is None else int(end_ns)
    if isinstance(db_path, sqlite3.Connection):
        raise TypeError("stream_bars opens its own connection: pass the database path")
    path = schema.resolve_path(db_path)
    schema.connect(path).close()  # fail now, not at the first next(), if the file is unusable
    items = sorted(instrument_ids.items())
    sources = []
    for index, (symbol, resolved) in enumerate(items):
        key = index if symbol_as_index else symbol
        segments = segments_of(resolved, low, high)
        if segments:
            sources.append([(key, s.instrument_id, s.start_ns, s.end_ns) for s in segments])
    read = read_ahead_in_process if read_ahead else read_in_process
    stream = read(path, sources, period.name)
    return stream if chunks else _rows_of(stream)


def _rows_of(chunks: Iterator[list[BarRow]]) -> Iterator[BarRow]:
    try:
        for chunk in chunks:
            yield from chunk
    finally:
        chunks.close()  # closing this generator closes the connection now


def time_range(
    conn_or_path: ConnOrPath,
    instrument_ids: Mapping[str, Resolved],
    period: BarPeriod | str,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> tuple[int | None, int | None]:
    """``(first, last)`` ``ts_event`` that :func:`stream_bars` will yield for the same arguments,
    ``(None, None)`` when it yields nothing. Two index look-ups per instrument segment."""
    period = parse_period(period)
    low = MIN_TS_NS if start_ns is None else int(start_ns)
    high = MAX_TS_NS if end_ns is None else int(end_ns)
    firsts: list[int] = []
    lasts: list[int] = []
    with schema.reading(conn_or_path) as conn:
        for resolved in instrument_ids.values():
            for segment in segments_of(resolved, low, high):
                key = (segment.instrument_id, period.name, segment.start_ns, segment.end_ns)
                first = conn.execute(schema.FIRST_BAR_TS, key).fetchone()
                if first is not None:
                    firsts.append(first[0])
                    lasts.append(conn.execute(schema.LAST_BAR_TS, key).fetchone()[0])
    if not firsts:
        return None, None
    return min(firsts), max(lasts)


def count_bars(
    conn_or_path: ConnOrPath,
    instrument_ids: Mapping[str, Resolved],
    period: BarPeriod | str,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> int:
    """How many rows :func:`stream_bars` will yield for the same arguments (for progress).

    A segment that holds all of its instrument's bars, or none of them, is counted from the
    ``coverage`` table (which every import recomputes); only a part is counted in ``bars``,
    a scan of the range (a tenth of a second per million bars)."""
    period = parse_period(period)
    low = MIN_TS_NS if start_ns is None else int(start_ns)
    high = MAX_TS_NS if end_ns is None else int(end_ns)
    total = 0
    with schema.reading(conn_or_path) as conn:
        for resolved in instrument_ids.values():
            for segment in segments_of(resolved, low, high):
                key = (segment.instrument_id, period.name)
                coverage = conn.execute(schema.SELECT_COVERAGE, key).fetchone()
                if coverage is not None:
                    first_ts, last_ts, bar_count = coverage
                    if segment.start_ns <= first_ts and last_ts <= segment.end_ns:
                        total += bar_count
                        continue
                    if segment.end_ns < first_ts or last_ts < segment.start_ns:
                        continue
                total += conn.execute(schema.COUNT_BARS,
                                      (*key, segment.start_ns, segment.end_ns)).fetchone()[0]
    return total


def list_instruments(conn_or_path: ConnOrPath = None) -> pd.DataFrame:
    """One row per (instrument, bar period) held: ``symbol, publisher, dataset, symbol_type,
    bar_period, first_ts, last_ts, bar_count`` (times as UTC datetimes) plus ``first_ts_ns``,
    ``last_ts_ns`` and ``instrument_id``."""
    with schema.reading(conn_or_path) as conn:
        cursor = conn.execute(schema.SELECT_INSTRUMENTS)
        columns = [description[0] for description in cursor.description]
        frame = pd.DataFrame(cursor.fetchall(), columns=columns)
    frame["first_ts_ns"] = frame["first_ts_ns"].astype("int64")
    frame["last_ts_ns"] = frame["last_ts_ns"].astype("int64")
    frame["bar_count"] = frame["bar_count"].astype("int64")
    frame["first_ts"] = pd.to_datetime(frame["first_ts_ns"], unit="ns", utc=True)
    frame["last_ts"] = pd.to_datetime(frame["last_ts_ns"], unit="ns", utc=True)
    order = frame["bar_period"].map(lambda name: BarPeriod[name].nanoseconds)
    frame = frame.assign(_order=order).sort_values(["symbol", "publisher", "dataset", "_order"])
    return frame[INSTRUMENT_COLUMNS].reset_index(drop=True)


def list_symbols(
    conn_or_path: ConnOrPath = None,
    period: BarPeriod | str | None = None,
    symbol_type: str = "raw_symbol",
) -> list[str]:
    """Symbols with bars for ``period`` (any period when None), sorted."""
    name = None if period is None else parse_period(period).name
    with schema.reading(conn_or_path) as conn:
        return [row[0] for row in conn.execute(schema.SELECT_SYMBOLS, (symbol_type, name, name))]


def coverage(
    conn_or_path: ConnOrPath,
    symbol: str,
    period: BarPeriod | str,
    publisher_name: str = "",
    dataset: str = "",
    symbol_type: str = "raw_symbol",
) -> Coverage:
    """First/last bar and bar count of one symbol and period (resolved as the datafeed does)."""
    period = parse_period(period)
    with schema.reading(conn_or_path) as conn:
        resolved = resolve_symbols(conn, [symbol], period, publisher_name, dataset, symbol_type)
        instrument_id = resolved[symbol]
        if isinstance(instrument_id, int):
            first_ts, last_ts, bar_count = conn.execute(
                schema.SELECT_COVERAGE, (instrument_id, period.name)
            ).fetchone()
        else:  # a rolling symbol: its segments' bars; reported under the latest instrument
            first_ts, last_ts = time_range(conn, resolved, period)
            bar_count = count_bars(conn, resolved, period)
            instrument_id = instrument_id[-1].instrument_id
        publisher, data = conn.execute(
            schema.SELECT_PUBLISHER_OF_INSTRUMENT, (instrument_id,)
        ).fetchone()
    return Coverage(symbol, instrument_id, publisher, data, period, first_ts, last_ts, bar_count)


def preview_bars(
    conn_or_path: ConnOrPath,
    symbol: str,
    period: BarPeriod | str,
    limit: int = 500,
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
    last: bool = False,
    publisher_name: str = "",
    dataset: str = "",
    symbol_type: str = "raw_symbol",
) -> pd.DataFrame:
    """Up to ``limit`` bars (the first ones, or the most recent with ``last=True``) as a
    DataFrame indexed by ``ts_event`` (UTC datetimes) with ``open, high, low, close, volume``."""
    period = parse_period(period)
    low = MIN_TS_NS if start_ns is None else int(start_ns)
    high = MAX_TS_NS if end_ns is None else int(end_ns)
    sql = schema.PREVIEW_LAST_BARS if last else schema.PREVIEW_FIRST_BARS
    with schema.reading(conn_or_path) as conn:
        instrument_id = resolve_symbols(
            conn, [symbol], period, publisher_name, dataset, symbol_type
        )[symbol]
        if isinstance(instrument_id, int):
            rows = conn.execute(sql, (instrument_id, period.name, low, high, int(limit)))
            rows = rows.fetchall()
            if last:
                rows.reverse()
        else:  # a rolling symbol: walk its segments in order
            stream = (row[:1] + row[2:7] for segment in segments_of(instrument_id, low, high)
                      for row in conn.execute(schema.STREAM_BARS, (
                          symbol, segment.instrument_id, period.name, segment.start_ns,
                          segment.end_ns)))
            rows = list(deque(stream, maxlen=int(limit)) if last
                        else islice(stream, int(limit)))
    frame = pd.DataFrame(rows, columns=["ts_event", *BAR_FRAME_COLUMNS])
    frame["ts_event"] = pd.to_datetime(frame["ts_event"].astype("int64"), unit="ns", utc=True)
    frame[BAR_FRAME_COLUMNS] = frame[BAR_FRAME_COLUMNS].astype("float64")
    return frame.set_index("ts_event")
