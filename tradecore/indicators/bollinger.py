"""Bollinger Bands: upper and lower bands (price overlays), bandwidth and %B (own panels).

With ``mean`` the SMA and ``std`` the *population* standard deviation (ddof=0, as in Bollinger's
own definition) of the last ``period`` values:

BollingerUpper(period=20, k=2.0, source="close")      ``mean + k * std``, named ``BB_UPPER(20,2)``
BollingerLower(period=20, k=2.0, source="close")      ``mean - k * std``, named ``BB_LOWER(20,2)``
BollingerBandwidth(period=20, k=2.0, source="close")  ``(upper - lower) / mean``
                                                       (NaN when mean is 0), ``BB_BANDWIDTH(20,2)``
BollingerPercentB(period=20, k=2.0, source="close")   ``(x - lower) / (upper - lower)``, where the
                                                       close is within the bands (0 at the lower,
                                                       1 at the upper; NaN when they coincide),
                                                       ``BB_PERCENT_B(20,2)``

The middle band is ``SMA(period)``. Bandwidth and %B each get their own panel (their scales
differ); %B draws its 0 and 1 levels.

Streaming: mean and the sum of squared deviations (M2) are updated when a value enters and one
leaves the window (Welford's update adapted to a sliding window), O(1) per bar and free of the
cancellation that ``sum(x^2) - n * mean^2`` suffers at price levels. M2 is clamped at 0, and
rebuilt from the window when a NaN/inf input has corrupted it. Warm-up: ``period - 1`` NaNs.
A source other than close is appended to the name: ``BB_UPPER(20,2,high)``.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, ClassVar

from tradecore.indicators.base import (
    NAN,
    IndicatorBase,
    check_period,
    check_positive,
    check_source,
    format_name,
)

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class _Bollinger(IndicatorBase):
    """Shared window statistics; subclasses choose the output with ``_combine``."""

    label: ClassVar[str] = ""

    def __init__(self, period: int = 20, k: float = 2.0, source: str = "close") -> None:
        owner = type(self).__name__
        self.period = check_period(owner, "period", period)
        self.k = check_positive(owner, "k", k)
        self.source = check_source(owner, source)
        super().__init__(name=format_name(self.label, self.period, self.k, source=self.source))
        self.warmup = self.period - 1

    def _combine(self, mean: float, std: float, x: float) -> float:
        raise NotImplementedError

    def update(self, bar: BarReceived) -> float:
        state = self._state.get(bar.symbol)
        if state is None:
            # [window, mean, M2, history]
            state = self._state[bar.symbol] = [
                deque(maxlen=self.period), 0.0, 0.0, self._new_history(bar.symbol)
            ]
        window = state[0]
        x = getattr(bar, self.source)
        mean = state[1]
        period = self.period
        if len(window) == period:
            old = window[0]
            window.append(x)
            new_mean = mean + (x - old) / period
            m2 = state[2] + (x - old) * (x - new_mean + old - mean)
            if math.isnan(m2):  # NaN: rebuild, the bad value may have left the window
                new_mean = sum(window) / period
                m2 = sum((v - new_mean) ** 2 for v in window)
        else:
            window.append(x)
            delta = x - mean
            new_mean = mean + delta / len(window)
            m2 = state[2] + delta * (x - new_mean)
        state[1] = new_mean
        state[2] = m2
        if len(window) < period:
            value = NAN
        else:
            value = self._combine(new_mean, math.sqrt(m2 / period) if m2 > 0 else 0.0, x)
        state[3].append(value)
        return value


class BollingerUpper(_Bollinger):
    """Upper band ``SMA + k * std``: ``BollingerUpper(period=20, k=2.0, source="close")``."""

    label = "BB_UPPER"
    overlay = True

    def _combine(self, mean: float, std: float, x: float) -> float:
        return mean + self.k * std


class BollingerLower(_Bollinger):
    """Lower band ``SMA - k * std``: ``BollingerLower(period=20, k=2.0, source="close")``."""

    label = "BB_LOWER"
    overlay = True

    def _combine(self, mean: float, std: float, x: float) -> float:
        return mean - self.k * std


class BollingerBandwidth(_Bollinger):
    """``(upper - lower) / SMA``: ``BollingerBandwidth(period=20, k=2.0, source="close")``."""

    label = "BB_BANDWIDTH"
    overlay = False

    def _combine(self, mean: float, std: float, x: float) -> float:
        return 2.0 * self.k * std / mean if mean != 0 else NAN


class BollingerPercentB(_Bollinger):
    """Where the value sits in the bands, 0 at lower, 1 at upper: ``BollingerPercentB(20, 2)``."""

    label = "BB_PERCENT_B"
    overlay = False
    levels = (0.0, 1.0)

    def _combine(self, mean: float, std: float, x: float) -> float:
        width = 2.0 * self.k * std
        return (x - (mean - self.k * std)) / width if width != 0 else NAN
