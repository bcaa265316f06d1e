"""Relative Strength Index (Wilder), an oscillator between 0 and 100.

RSI(period=14, source="close")
    change_t = x_t - x_{t-1}; gain = max(change, 0), loss = max(-change, 0).
    The first averages are the simple means of the first ``period`` gains and losses (available
    at bar ``period``, since the first bar has no change); afterwards Wilder smoothing:
    ``avg = (avg * (period - 1) + new) / period`` (an EMA with ``alpha = 1 / period``).
    ``RSI = 100 - 100 / (1 + avg_gain / avg_loss)``; when ``avg_loss == 0`` it is 100 if
    ``avg_gain > 0`` and 50 when both are 0 (a flat series is neither overbought nor oversold).
    Warm-up: ``period`` NaNs. Named ``RSI(14)`` / ``RSI(14,open)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tradecore.indicators.base import (
    NAN,
    IndicatorBase,
    check_period,
    check_source,
    format_name,
)

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class RSI(IndicatorBase):
    """Wilder's RSI: ``RSI(period=14, source="close")``."""

    overlay = False
    levels = (30.0, 70.0)
    label: ClassVar[str] = "RSI"

    def __init__(self, period: int = 14, source: str = "close") -> None:
        self.period = check_period("RSI", "period", period)
        self.source = check_source("RSI", source)
        super().__init__(name=format_name("RSI", self.period, source=self.source))
        self.warmup = self.period

    def update(self, bar: BarReceived) -> float:
        symbol = bar.symbol
        state = self._state.get(symbol)
        x = getattr(bar, self.source)
        if state is None:
            # [previous value, changes seen, gain sum/average, loss sum/average, history]
            state = self._state[symbol] = [x, 0, 0.0, 0.0, self._new_history(symbol)]
            state[4].append(NAN)
            return NAN
        change = x - state[0]
        state[0] = x
        gain = change if change > 0 else 0.0
        loss = -change if change < 0 else 0.0
        period = self.period
        if state[1] == period:
            avg_gain = state[2] = (state[2] * (period - 1) + gain) / period
            avg_loss = state[3] = (state[3] * (period - 1) + loss) / period
        else:
            state[1] += 1
            state[2] += gain
            state[3] += loss
            if state[1] < period:
                state[4].append(NAN)
                return NAN
            avg_gain = state[2] = state[2] / period
            avg_loss = state[3] = state[3] / period
        if avg_loss == 0:
            value = 100.0 if avg_gain > 0 else 50.0
        else:
            value = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
        state[4].append(value)
        return value
