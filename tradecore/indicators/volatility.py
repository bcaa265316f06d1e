"""Volatility in their own panels: NATR and standard deviation (ATR lives in ``atr``).

NATR(period=14)
    ``100 * ATR(period) / close``: the ATR in percent of price, comparable across symbols and
    years. Uses this package's ``ATR`` (first TR = high - low, see ``atr``). Warm-up
    ``period - 1``. NaN when close is 0.

StdDev(period=20, source="close")
    Population standard deviation (ddof=0, as TA-Lib's STDDEV and Bollinger's bands) of the last
    ``period`` values, with the sliding Welford update of ``bollinger``. Warm-up ``period - 1``.
    Named ``STDDEV(20)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tradecore.indicators.atr import ATR
from tradecore.indicators.base import NAN, IndicatorBase, check_period, check_source, format_name
from tradecore.indicators.bollinger import _Bollinger

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class NATR(IndicatorBase):
    """Normalised ATR in percent of close: ``NATR(period=14)``."""

    label: ClassVar[str] = "NATR"

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("NATR", "period", period)
        super().__init__(name=format_name("NATR", self.period))
        self.warmup = self.period - 1

    def new_state(self) -> ATR:
        return ATR(self.period)  # a private instance; it keys its state by symbol

    def compute(self, state: ATR, bar: BarReceived) -> float:
        atr = state.update(bar)
        return 100.0 * atr / bar.close if bar.close != 0 else NAN


class StdDev(_Bollinger):
    """Population standard deviation: ``StdDev(period=20, source="close")``, ``STDDEV(20)``."""

    label = "STDDEV"
    overlay = False

    def __init__(self, period: int = 20, source: str = "close") -> None:
        owner = "StdDev"
        self.period = check_period(owner, "period", period)
        self.k = 1.0
        self.source = check_source(owner, source)
        IndicatorBase.__init__(self, name=format_name("STDDEV", self.period, source=self.source))
        self.warmup = self.period - 1

    def _combine(self, mean: float, std: float, x: float) -> float:
        return std
