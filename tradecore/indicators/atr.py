"""Average True Range (Wilder), a volatility oscillator in price units.

ATR(period=14)
    True range: ``TR_t = max(high - low, |high - close_{t-1}|, |low - close_{t-1}|)``; the first
    bar of a symbol has no previous close, so its TR is ``high - low``. The first ATR is the mean
    of the first ``period`` TRs (at bar ``period - 1``); afterwards Wilder smoothing
    ``atr = (atr * (period - 1) + TR) / period``. Warm-up: ``period - 1`` NaNs. Named ``ATR(14)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tradecore.indicators.base import NAN, IndicatorBase, check_period, format_name

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class ATR(IndicatorBase):
    """Wilder's average true range: ``ATR(period=14)`` (reads high, low and close)."""

    overlay = False
    label: ClassVar[str] = "ATR"

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("ATR", "period", period)
        super().__init__(name=format_name("ATR", self.period))
        self.warmup = self.period - 1

    def update(self, bar: BarReceived) -> float:
        symbol = bar.symbol
        high = bar.high
        low = bar.low
        state = self._state.get(symbol)
        if state is None:
            # [previous close, TRs seen, TR sum / ATR, history]
            state = self._state[symbol] = [0.0, 0, 0.0, self._new_history(symbol)]
            true_range = high - low
        else:
            previous_close = state[0]
            true_range = max(high - low, abs(high - previous_close), abs(low - previous_close))
        state[0] = bar.close
        period = self.period
        if state[1] == period:
            value = state[2] = (state[2] * (period - 1) + true_range) / period
        else:
            state[1] += 1
            state[2] += true_range
            if state[1] == period:
                value = state[2] = state[2] / period
            else:
                value = NAN
        state[3].append(value)
        return value
