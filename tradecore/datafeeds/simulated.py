"""SimulatedDatafeed: replays bars from secmaster.db, streamed, in timestamp order.

Memory stays flat in the number of bars: rows come from a SQLite cursor, never a list.
A rolling symbol (secmaster symbology over date ranges) is followed: each bar comes from the
instrument mapped on its date, and ``BarReceived.instrument_id`` records which one.
Within one timestamp, bars are published in symbol order (deterministic); then the feed waits
for the system to be idle (``include_sinks=False``: the recorder, which never publishes, keeps
writing beside the next bars). ``progress`` is the share of the time range replayed.
"""

from __future__ import annotations

import os
import time
from typing import ClassVar

from tradecore import paths
from tradecore.datafeeds.base import DatafeedBase
from tradecore.events import BarReceived
from tradecore.secmaster import (
    count_bars,
    ensure_secmaster,
    resolve_symbols,
    stream_bars,
    time_range,
)


class SimulatedDatafeed(DatafeedBase):
    db_path: ClassVar[str | None] = None  # None: env TRADECORE_SECMASTER or data/secmaster.db
    publisher_name: ClassVar[str] = ""  # "" with dataset "": resolve each symbol if unambiguous
    dataset: ClassVar[str] = ""
    symbol_type: ClassVar[str] = "raw_symbol"
    start_ns: ClassVar[int | None] = None  # inclusive
    end_ns: ClassVar[int | None] = None  # inclusive
    #: Runs of at least this many bars read them in a bar reader process, ahead of the replay
    #: (``stream_bars(read_ahead=True)``): the engine process then spends no time in SQLite.
    read_ahead_from_bars: ClassVar[int] = 100_000
    _stop: bool = False  # set by cancel(); a plain attribute so the replay reads it cheaply
    _chunks = None  # the bar stream, opened by subscribe()

    @classmethod
    def resolved_db_path(cls) -> str:
        return str(cls.db_path or paths.secmaster_path())

    @classmethod
    def configuration(cls) -> dict:
        return {
            "db_path": cls.resolved_db_path(),
            "publisher_name": cls.publisher_name,
            "dataset": cls.dataset,
            "symbol_type": cls.symbol_type,
            "start_ns": cls.start_ns,
            "end_ns": cls.end_ns,
        }

    def subscribe(self, symbols, bar_period) -> None:
        super().subscribe(symbols, bar_period)
        cls = type(self)
        if cls.db_path is None and not os.environ.get("TRADECORE_SECMASTER"):
            # Zero configuration (the Python API from any folder): the default secmaster gets
            # the sample on first use, as the CLI and the dashboard do.
            ensure_secmaster(paths.secmaster_path())
        self._instrument_ids = resolve_symbols(
            cls.resolved_db_path(), self._symbols, self._bar_period,
            publisher_name=cls.publisher_name, dataset=cls.dataset, symbol_type=cls.symbol_type,
        )
        self.expected_bars = count_bars(cls.resolved_db_path(), self._instrument_ids,
                                        self._bar_period, cls.start_ns, cls.end_ns)
        # Rows carry the symbol's index, not the symbol: no text decoded per row, and every bar
        # of a symbol shares one str object (hashed once, compared by identity in the dicts
        # of the broker, the strategies and the indicators). Opened now: a bar reader then
        # reads its first chunks while the orchestrator starts the recorder's writer.
        self._close_chunks()
        self._chunks = stream_bars(
            cls.resolved_db_path(), self._instrument_ids, self._bar_period, cls.start_ns,
            cls.end_ns, symbol_as_index=True, chunks=True,
            read_ahead=self.expected_bars >= cls.read_ahead_from_bars)

    def disconnect(self) -> None:
        super().disconnect()
        self._close_chunks()

    def _close_chunks(self) -> None:
        chunks, self._chunks = self._chunks, None
        if chunks is not None:
            chunks.close()  # a bar reader, if any, stops now

    def cancel(self) -> None:
        super().cancel()
        self._stop = True

    def _replay(self) -> None:
        cls = type(self)
        bus = self._event_bus
        publish = bus.replay_publisher(BarReceived)  # publish(bar, new_timestamp)
        period = self._bar_period
        first_ts, last_ts = time_range(cls.resolved_db_path(), self._instrument_ids, period,
                                       cls.start_ns, cls.end_ns)
        span = max(last_ts - first_ts, 1) if first_ts is not None else 1
        symbols = sorted(self._instrument_ids)  # a row's symbol index -> the symbol
        chunks = self._chunks
        previous_ts = None
        count = 0
        new_bar, now = tuple.__new__, time.time_ns
        try:
            for chunk in chunks:
                for ts, index, open_, high, low, close, volume, instrument_id in chunk:
                    # The tuple in BarReceived's field order, built without the keyword-friendly
                    # constructor: this line runs once per bar.
                    bar = new_bar(BarReceived, (ts, symbols[index], period, open_, high, low,
                                                close, volume, instrument_id, now()))
                    if ts != previous_ts:
                        if self._stop:
                            break
                        publish(bar, True)  # the barrier (nothing to wait for at first), the bar
                        previous_ts = ts
                    else:
                        publish(bar, False)
                    count += 1
                else:
                    if previous_ts is not None:  # progress once a chunk (2,048 bars or so)
                        self.progress = (previous_ts - first_ts) / span
                    continue
                break  # stopped (cancel)
            else:
                bus.wait_until_system_idle(False)
        finally:
            self.bars_published = count
            self._close_chunks()
