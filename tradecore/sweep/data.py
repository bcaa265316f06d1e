"""What a worker needs besides the request: the secmaster slice, shipped as bytes.

A slice is a complete secmaster.db holding only the bars a sweep replays (its symbols, bar
period and date range, under the same publisher, dataset and symbol type, so the request
resolves its symbols there exactly as it does in the full database), written with the
secmaster's own writer. The coordinator builds it once and ships its bytes once per worker.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradecore.configure import RunRequest, bar_period_of, find_strategy, to_ns
from tradecore.secmaster import coverage, resolve_symbols, schema, stream_bars, time_range
from tradecore.secmaster.errors import SecmasterError
from tradecore.secmaster.writer import write_bars

# Column order of stream_bars' tuples after (ts_event_ns, symbol).
_VALUE_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class DataSlice:
    """The bytes of a small secmaster.db and a digest naming it on the workers."""

    content: bytes
    digest: str
    first_ns: int
    last_ns: int
    bars: int


def request_range(request: RunRequest) -> tuple[int, int, dict[str, int]]:
    """``(first_ns, last_ns, instruments)``: the first and last bar the request replays, and
    its symbols resolved to instrument ids. SecmasterError when it replays nothing."""
    strategy = find_strategy(request.strategy)
    period = bar_period_of(strategy, request.parameters)
    source = request.secmaster_path
    instruments = resolve_symbols(source, request.symbols, period, request.publisher_name,
                                  request.dataset)
    rolling = sorted(s for s, found in instruments.items() if not isinstance(found, int))
    if rolling:
        raise SecmasterError(f"{', '.join(rolling)} map to several instruments over time; a "
                             f"sweep replays symbols that name one instrument")
    start_ns = to_ns(request.start) if request.start is not None else None
    end_ns = to_ns(request.end, end_of_day=True) if request.end is not None else None
    first, last = time_range(source, instruments, period, start_ns, end_ns)
    if first is None:
        raise SecmasterError(f"no {period.name} bars of {', '.join(request.symbols)} in the "
                             f"chosen dates")
    return first, last, instruments


def build_slice(request: RunRequest, first_ns: int, last_ns: int) -> DataSlice:
    """The secmaster slice of ``request``'s symbols and period over ``[first_ns, last_ns]``."""
    strategy = find_strategy(request.strategy)
    period = bar_period_of(strategy, request.parameters)
    source = request.secmaster_path
    with tempfile.TemporaryDirectory(prefix="tradecore-slice-") as folder:
        path = Path(folder) / "secmaster.db"
        total = 0
        with schema.writing(path) as conn:
            for symbol in request.symbols:
                found = coverage(source, symbol, period, request.publisher_name,
                                 request.dataset)
                rows = list(stream_bars(source, {symbol: found.instrument_id}, period,
                                        first_ns, last_ns))
                if not rows:
                    continue
                ts = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                values = {name: np.fromiter((r[2 + i] for r in rows), dtype=np.float64,
                                            count=len(rows))
                          for i, name in enumerate(_VALUE_COLUMNS)}
                write_bars(conn, publisher=found.publisher, dataset=found.dataset,
                           symbol=symbol, symbol_type="raw_symbol", period=period, ts=ts,
                           values=values)
                total += len(rows)
        # The writer's connection is closed: SQLite has checkpointed the WAL into the file.
        content = path.read_bytes()
    return DataSlice(content, hashlib.sha256(content).hexdigest()[:16], first_ns, last_ns,
                     total)
