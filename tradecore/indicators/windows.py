"""Streaming building blocks shared by the built-ins: rolling sum, rolling max/min, WMA, EMA.

Each is a small ``__slots__`` object for one symbol with ``push(x) -> float`` (NaN until it has
enough values), O(1) per value (amortised for max/min), holding at most a window of values, so
an indicator built from them keeps bounded memory per symbol.

Design Decision: running sums (sum, WMA's weighted sum) are updated by adding the value entering
and subtracting the one leaving, as TA-Lib does, rather than re-summing the window; a NaN input
makes the sum NaN and it is rebuilt from the window once the NaN has left it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

NAN = math.nan


def running_sum(values: Iterable[float]) -> float:
    """``values`` added one by one in order from 0.0, as a running sum adds them (``sum()``
    compensates its rounding from Python 3.12 on, which would move the last bits)."""
    total = 0.0
    for value in values:
        total += value
    return total


class RollingSum:
    """Sum of the last ``period`` values (NaN until ``period`` values have arrived)."""

    __slots__ = ("period", "total", "window")

    def __init__(self, period: int) -> None:
        self.period = period
        self.window: deque[float] = deque(maxlen=period)
        self.total = 0.0

    def push(self, x: float) -> float:
        window = self.window
        if len(window) == self.period:
            total = self.total + x - window[0]
            window.append(x)
            if total != total:  # noqa: PLR0124 - NaN: rebuild, the bad value may have left
                total = sum(window)
            self.total = total
            return total
        window.append(x)
        self.total += x
        return self.total if len(window) == self.period else NAN


class RollingExtreme:
    """Max (``is_max``) or min of the last ``period`` values, with the position of that value.

    A monotonic deque of ``(index, value)``: each value is pushed and popped at most once, so a
    push is O(1) amortised. Ties resolve to the most recent value (as TA-Lib's AROON does).
    A NaN input restarts the window: the result is NaN until ``period`` finite values follow.
    """

    __slots__ = ("deque", "index", "is_max", "period", "run")

    def __init__(self, period: int, is_max: bool) -> None:
        self.period = period
        self.is_max = is_max
        self.deque: deque[tuple[int, float]] = deque()
        self.index = -1  # index of the latest value
        self.run = 0  # finite values since the last NaN, capped at period

    def push(self, x: float) -> float:
        candidates = self.deque
        if x != x:  # noqa: PLR0124
            candidates.clear()
            self.run = 0
            self.index += 1
            return NAN
        index = self.index = self.index + 1
        if self.is_max:
            while candidates and candidates[-1][1] <= x:
                candidates.pop()
        else:
            while candidates and candidates[-1][1] >= x:
                candidates.pop()
        candidates.append((index, x))
        if candidates[0][0] <= index - self.period:
            candidates.popleft()
        if self.run < self.period:
            self.run += 1
            if self.run < self.period:
                return NAN
        return candidates[0][1]

    def bars_since(self) -> int:
        """Bars between the latest value and the extreme of the window (0: the latest is it)."""
        return self.index - self.deque[0][0]


class SeededEma:
    """EMA with weight ``alpha`` seeded with the SMA of its first ``period`` inputs.

    ``alpha = 2 / (period + 1)`` is the usual EMA, ``1 / period`` Wilder's smoothing.
    """

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


class Wma:
    """Linearly weighted mean of the last ``period`` values (weights 1..period, newest heaviest).

    Streaming: ``weighted += period * x - sum_of_previous_window``, then the plain sum slides.
    """

    __slots__ = ("divisor", "period", "total", "weighted", "window")

    def __init__(self, period: int) -> None:
        self.period = period
        self.window: deque[float] = deque(maxlen=period)
        self.total = 0.0
        self.weighted = 0.0
        self.divisor = period * (period + 1) / 2.0

    def push(self, x: float) -> float:
        window = self.window
        period = self.period
        if len(window) == period:
            self.weighted += period * x - self.total
            self.total += x - window[0]
            window.append(x)
            if self.weighted != self.weighted:  # noqa: PLR0124 - NaN: rebuild from the window
                self.weighted = sum((i + 1) * v for i, v in enumerate(window))
                self.total = sum(window)
        else:
            window.append(x)
            self.weighted += len(window) * x
            self.total += x
            if len(window) < period:
                return NAN
        return self.weighted / self.divisor
