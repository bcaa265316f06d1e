"""Rate of change, an oscillator in percent.

ROC(period=10, source="close")
    ``100 * (x_t / x_{t-period} - 1)``; NaN when ``x_{t-period}`` is 0. Streaming over a window
    of ``period + 1`` values. Warm-up: ``period`` NaNs. Named ``ROC(10)`` / ``ROC(10,high)``.
"""

from __future__ import annotations

from collections import deque
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


class ROC(IndicatorBase):
    """Rate of change in percent: ``ROC(period=10, source="close")``."""

    overlay = False
    levels = (0.0,)
    label: ClassVar[str] = "ROC"

    def __init__(self, period: int = 10, source: str = "close") -> None:
        self.period = check_period("ROC", "period", period)
        self.source = check_source("ROC", source)
        super().__init__(name=format_name("ROC", self.period, source=self.source))
        self.warmup = self.period

    def update(self, bar: BarReceived) -> float:
        state = self._state.get(bar.symbol)
        if state is None:
            state = self._state[bar.symbol] = (
                deque(maxlen=self.period + 1), self._new_history(bar.symbol)
            )
        window = state[0]
        x = getattr(bar, self.source)
        window.append(x)
        value = NAN
        if len(window) > self.period:
            past = window[0]
            if past != 0:
                value = 100.0 * (x / past - 1.0)
        state[1].append(value)
        return value
