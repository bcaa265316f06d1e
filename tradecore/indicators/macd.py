"""MACD (Moving Average Convergence Divergence): line, signal and histogram, all oscillators.

MACD(fast=12, slow=26, signal=9, source="close")
    ``EMA(fast) - EMA(slow)`` of the source, each EMA seeded with its SMA as in
    ``moving_averages.EMA``. Warm-up: ``slow - 1`` NaNs. Named ``MACD(12,26,9)``.
MACDSignal(fast=12, slow=26, signal=9, source="close")
    ``EMA(signal)`` of the MACD line, seeded with the SMA of the first ``signal`` line values.
    Warm-up: ``slow + signal - 2`` NaNs. Named ``MACD_SIGNAL(12,26,9)``.
MACDHistogram(fast=12, slow=26, signal=9, source="close")
    ``MACD - MACDSignal``. Warm-up as MACDSignal. Named ``MACD_HIST(12,26,9)``.

``signal`` is part of every name so the three outputs of one configuration read as a family;
they share the panel ``MACD(12,26,9)``, with a level at 0.
A source other than close is appended: ``MACD(12,26,9,open)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from tradecore.indicators.base import (
    NAN,
    IndicatorBase,
    check_period,
    check_source,
    format_name,
)
from tradecore.indicators.moving_averages import _SeededEma

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class _MACDFamily(IndicatorBase):
    """Shared computation; subclasses choose the output with ``_combine``."""

    label: ClassVar[str] = ""
    overlay = False
    levels = (0.0,)

    def __init__(
        self, fast: int = 12, slow: int = 26, signal: int = 9, source: str = "close"
    ) -> None:
        owner = type(self).__name__
        self.fast = check_period(owner, "fast", fast)
        self.slow = check_period(owner, "slow", slow)
        self.signal = check_period(owner, "signal", signal)
        if self.fast >= self.slow:
            raise ValueError(f"{owner}: fast ({fast}) must be smaller than slow ({slow})")
        self.source = check_source(owner, source)
        super().__init__(
            name=format_name(self.label, self.fast, self.slow, self.signal, source=self.source)
        )
        self.warmup = self._warmup()

    def _warmup(self) -> int:
        return self.slow + self.signal - 2

    def panel_name(self) -> str:
        # The three lines of one configuration share a panel, named after the MACD line.
        return format_name("MACD", self.fast, self.slow, self.signal, source=self.source)

    def _combine(self, line: float, signal: float) -> float:
        raise NotImplementedError

    def update(self, bar: BarReceived) -> float:
        state = self._state.get(bar.symbol)
        if state is None:
            state = self._state[bar.symbol] = (
                _SeededEma(self.fast, 2.0 / (self.fast + 1)),
                _SeededEma(self.slow, 2.0 / (self.slow + 1)),
                _SeededEma(self.signal, 2.0 / (self.signal + 1)),
                self._new_history(bar.symbol),
            )
        x = getattr(bar, self.source)
        fast = state[0].push(x)
        slow = state[1].push(x)
        if math.isnan(slow):  # the slow EMA warms up last
            value = NAN
        else:
            line = fast - slow
            value = self._combine(line, state[2].push(line))
        state[3].append(value)
        return value


class MACD(_MACDFamily):
    """MACD line ``EMA(fast) - EMA(slow)``: ``MACD(fast=12, slow=26, signal=9, source="close")``."""

    label = "MACD"

    def _warmup(self) -> int:
        return self.slow - 1

    def _combine(self, line: float, signal: float) -> float:
        return line


class MACDSignal(_MACDFamily):
    """Signal line, the EMA(signal) of the MACD line: ``MACDSignal(12, 26, 9)``."""

    label = "MACD_SIGNAL"

    def _combine(self, line: float, signal: float) -> float:
        return signal


class MACDHistogram(_MACDFamily):
    """MACD line minus signal line: ``MACDHistogram(12, 26, 9)``."""

    label = "MACD_HIST"

    def _combine(self, line: float, signal: float) -> float:
        return line - signal
