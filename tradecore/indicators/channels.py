"""Price channels, all overlays: Keltner (EMA +/- ATR) and Donchian (highest high, lowest low).

KeltnerUpper / KeltnerMiddle / KeltnerLower(period=20, multiplier=2.0, atr_period=10)
    Middle: ``EMA(period)`` of close (seeded as ``EMA``); bands ``middle +/- multiplier *
    ATR(atr_period)`` with this package's ``ATR`` (Wilder, first TR = high - low). Warm-up:
    ``max(period, atr_period) - 1``. Named ``KC_UPPER(20,2,10)``, ``KC_MIDDLE(20,2,10)``,
    ``KC_LOWER(20,2,10)``. (The modern, StockCharts/Raschke form; Keltner's 1960 original used
    a 10-day SMA of the typical price and of the bar range.)

DonchianUpper / DonchianMiddle / DonchianLower(period=20)
    Highest high and lowest low of the last ``period`` bars *including the current one* (as
    TA-Lib's MAX/MIN), and their midpoint. Warm-up: ``period - 1``. Named ``DC_UPPER(20)``,
    ``DC_MIDDLE(20)``, ``DC_LOWER(20)``. A breakout rule therefore compares the close with the
    previous bar's channel, ``upper[symbol, -2]``, since the current bar is part of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tradecore.indicators.atr import ATR
from tradecore.indicators.base import (
    NAN,
    IndicatorBase,
    check_period,
    check_positive,
    format_name,
)
from tradecore.indicators.windows import RollingExtreme, SeededEma

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class _Keltner:
    __slots__ = ("atr", "ema")

    def __init__(self, period: int, atr: ATR) -> None:
        self.ema = SeededEma(period, 2.0 / (period + 1))
        self.atr = atr  # a private single-symbol ATR instance

    def push(self, bar: BarReceived) -> tuple[float, float]:
        return self.ema.push(bar.close), self.atr.update(bar)


class _KeltnerFamily(IndicatorBase):
    label: ClassVar[str] = ""
    overlay = True
    side: ClassVar[float] = 0.0  # +1 upper, 0 middle, -1 lower

    def __init__(self, period: int = 20, multiplier: float = 2.0, atr_period: int = 10) -> None:
        owner = type(self).__name__
        self.period = check_period(owner, "period", period)
        self.multiplier = check_positive(owner, "multiplier", multiplier)
        self.atr_period = check_period(owner, "atr_period", atr_period)
        super().__init__(
            name=format_name(self.label, self.period, self.multiplier, self.atr_period)
        )
        self.warmup = max(self.period, self.atr_period) - 1

    def new_state(self) -> _Keltner:
        return _Keltner(self.period, ATR(self.atr_period))

    def compute(self, state: _Keltner, bar: BarReceived) -> float:
        middle, atr = state.push(bar)
        if atr != atr:  # noqa: PLR0124 - ATR still warming up
            return NAN
        return middle + self.side * self.multiplier * atr


class KeltnerUpper(_KeltnerFamily):
    """``EMA + multiplier * ATR``: ``KeltnerUpper(period=20, multiplier=2.0, atr_period=10)``."""

    label = "KC_UPPER"
    side = 1.0


class KeltnerMiddle(_KeltnerFamily):
    """The channel's EMA of close: ``KeltnerMiddle(period=20, multiplier=2.0, atr_period=10)``."""

    label = "KC_MIDDLE"
    side = 0.0


class KeltnerLower(_KeltnerFamily):
    """``EMA - multiplier * ATR``: ``KeltnerLower(period=20, multiplier=2.0, atr_period=10)``."""

    label = "KC_LOWER"
    side = -1.0


class _Donchian:
    __slots__ = ("highest", "lowest")

    def __init__(self, period: int) -> None:
        self.highest = RollingExtreme(period, is_max=True)
        self.lowest = RollingExtreme(period, is_max=False)

    def push(self, bar: BarReceived) -> tuple[float, float]:
        return self.highest.push(bar.high), self.lowest.push(bar.low)


class _DonchianFamily(IndicatorBase):
    label: ClassVar[str] = ""
    overlay = True

    def __init__(self, period: int = 20) -> None:
        self.period = check_period(type(self).__name__, "period", period)
        super().__init__(name=format_name(self.label, self.period))
        self.warmup = self.period - 1

    def new_state(self) -> _Donchian:
        return _Donchian(self.period)


class DonchianUpper(_DonchianFamily):
    """Highest high of the last ``period`` bars: ``DonchianUpper(period=20)``."""

    label = "DC_UPPER"

    def compute(self, state: _Donchian, bar: BarReceived) -> float:
        return state.push(bar)[0]


class DonchianMiddle(_DonchianFamily):
    """Midpoint of the Donchian channel: ``DonchianMiddle(period=20)``."""

    label = "DC_MIDDLE"

    def compute(self, state: _Donchian, bar: BarReceived) -> float:
        high, low = state.push(bar)
        return (high + low) / 2.0


class DonchianLower(_DonchianFamily):
    """Lowest low of the last ``period`` bars: ``DonchianLower(period=20)``."""

    label = "DC_LOWER"

    def compute(self, state: _Donchian, bar: BarReceived) -> float:
        return state.push(bar)[1]
