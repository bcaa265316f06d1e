"""DatafeedBase: the source of bars, and the clock of a backtest.

The orchestrator connects it, subscribes it to symbols and a bar period, then calls
``wait_until_complete()``, which replays every bar in the calling thread: all bars sharing a
timestamp are published, then the feed waits until the system is idle before the next one.
"""

from __future__ import annotations

import threading

from tradecore.messaging import EventBus
from tradecore.models import BarPeriod


class DatafeedBase:
    """Subclasses implement ``_replay()``; ``cancel()`` may be called from any thread."""

    def __init__(self, event_bus: EventBus) -> None:
        self._event_bus = event_bus
        self._symbols: list[str] = []
        self._bar_period: BarPeriod | None = None
        self._cancelled = threading.Event()
        self._connected = False
        self.progress = 0.0
        self.bars_published = 0
        #: How many bars the replay will publish, when the feed knows it after ``subscribe``.
        self.expected_bars: int | None = None

    def connect(self) -> None:
        self._connected = True

    def subscribe(self, symbols: list[str], bar_period: BarPeriod) -> None:
        self._symbols = sorted(set(symbols))
        self._bar_period = BarPeriod.parse(bar_period)

    def wait_until_complete(self) -> None:
        """Replay the data; returns when it is exhausted or the feed was cancelled."""
        if not self._connected:
            raise RuntimeError("connect() the datafeed before replaying")
        self._replay()
        if not self._cancelled.is_set():
            self.progress = 1.0

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def disconnect(self) -> None:
        self._connected = False

    def _replay(self) -> None:
        raise NotImplementedError

    @classmethod
    def configuration(cls) -> dict:
        return {}
