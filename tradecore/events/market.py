"""Market data events: a bar arrives from the datafeed; a strategy has processed it."""

from __future__ import annotations

from tradecore.events.base import MarketEvent
from tradecore.models import BarPeriod


class BarReceived(MarketEvent):
    """One OHLCV bar; ``ts_event_ns`` is the bar's open time. ``instrument_id`` is the secmaster
    instrument the bar came from (a rolling symbol changes instrument at each roll; 0 when the
    bar did not come from the secmaster). Declared last so positional construction is unchanged.
    """

    __slots__ = ()
    table = "bars"
    bar_period: BarPeriod
    open: float
    high: float
    low: float
    close: float
    volume: float
    instrument_id: int = 0


class BarProcessed(MarketEvent):
    """A strategy finished with a bar; carries its indicator values so they reach runs.db.

    ``indicators`` is a tuple of ``(name, value)`` pairs (NaN during warm-up), a tuple so the
    event stays immutable. The bar's prices are not repeated: they are in ``BarReceived``.
    """

    __slots__ = ()
    table = "bars_processed"
    strategy: str
    bar_period: BarPeriod
    indicators: tuple[tuple[str, float], ...] = ()
