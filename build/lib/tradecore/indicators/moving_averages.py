"""Moving averages of one bar field: SMA and EMA. Both are price overlays.

SMA(period, source="close")
    Mean of the last ``period`` values. Streaming: a running sum over a window deque
    (add the new value, subtract the one leaving), O(1) per bar. Warm-up: ``period - 1`` NaNs.
    If a NaN/inf input corrupts the running sum it is rebuilt from the window once the bad value
    has left it, so a bad bar only affects the windows that contain it.

EMA(period, source="close")
    Exponential moving average with ``alpha = 2 / (period + 1)``, seeded with the SMA of the
    first ``period`` values (the value at bar ``period - 1``), then
    ``ema = ema + alpha * (x - ema)``. Seeding with the SMA (instead of the first value, as
    pandas ``ewm(adjust=False)`` does) is the common charting convention and makes the first
    value independent of one outlier bar. Warm-up: ``period - 1`` NaNs. Like any recursive
    filter, a NaN input makes every later value NaN.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from tradecore.indicators.base import (
    NAN,
    IndicatorBase,
    check_period,
    check_source,
    format_name,
)

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class SMA(IndicatorBase):
    """Simple moving average: ``SMA(period, source="close")``, named ``SMA(10)``/``SMA(10,high)``."""

    plot_in_price_panel = True

    def __init__(self, period: int, source: str = "close") -> None:
        self.period = check_period("SMA", "period", period)
        self.source = check_source("SMA", source)
        super().__init__(name=format_name("SMA", self.period, source=self.source))
        self.warmup = self.period - 1

    def update(self, bar: BarReceived) -> float:
        # Hot path (runs for every bar of every symbol): locals only, per-symbol state in one
        # list [window, running sum, history], no numpy.
        state = self._state.get(bar.symbol)
        if state is None:
            state = self._state[bar.symbol] = [
                deque(maxlen=self.period), 0.0, self._new_history(bar.symbol)
            ]
        x = getattr(bar, self.source)
        window = state[0]
        period = self.period
        if len(window) == period:
            total = state[1] - window[0] + x
            window.append(x)
            # NaN (self-inequality is the cheapest test): rebuild, the bad value may have left.
            if total != total:  # noqa: PLR0124
                total = sum(window)
            state[1] = total
            value = total / period
        else:
            window.append(x)
            total = state[1] = state[1] + x
            value = total / period if len(window) == period else NAN
        state[2].append(value)
        return value


class _SeededEma:
    """Streaming EMA seeded with the SMA of its first ``period`` inputs (shared with MACD)."""

    __slots__ = ("alpha", "count", "period", "value")

    def __init__(self, period: int, alpha: float) -> None:
        self.period = period
        self.alpha = alpha
        self.count = 0
        self.value = 0.0  # running sum during warm-up, the EMA afterwards

    def push(self, x: float) -> float:
        if self.count == self.period:
            self.value += self.alpha * (x - self.value)
            return self.value
        self.count += 1
        self.value += x
        if self.count == self.period:
            self.value /= self.period
            return self.value
        return NAN


class EMA(IndicatorBase):
    """Exponential moving average: ``EMA(period, source="close")``, named ``EMA(10)``."""

    plot_in_price_panel = True

    def __init__(self, period: int, source: str = "close") -> None:
        self.period = check_period("EMA", "period", period)
        self.source = check_source("EMA", source)
        super().__init__(name=format_name("EMA", self.period, source=self.source))
        self.alpha = 2.0 / (self.period + 1)
        self.warmup = self.period - 1

    def update(self, bar: BarReceived) -> float:
        state = self._state.get(bar.symbol)
        if state is None:
            state = self._state[bar.symbol] = (
                _SeededEma(self.period, self.alpha), self._new_history(bar.symbol)
            )
        value = state[0].push(getattr(bar, self.source))
        state[1].append(value)
        return value
