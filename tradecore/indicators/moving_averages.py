"""Moving averages, all price overlays: SMA, EMA, WMA, DEMA, TEMA, HMA, KAMA and rolling VWAP.

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

WMA(period, source="close")
    Linearly weighted mean of the last ``period`` values, weights 1..period (newest heaviest).
    Warm-up: ``period - 1``. As TA-Lib's WMA.

DEMA(period, source="close") / TEMA(period, source="close")
    Mulloy's double / triple EMA: ``2*E1 - E2`` and ``3*E1 - 3*E2 + E3`` where ``E2`` is the EMA
    of ``E1`` (each seeded with the SMA of its first ``period`` inputs, as EMA) and ``E3`` the
    EMA of ``E2``. Warm-up: ``2 * (period - 1)`` and ``3 * (period - 1)``. As TA-Lib's.

HMA(period, source="close")
    Hull moving average: ``WMA(2 * WMA(period // 2) - WMA(period), int(sqrt(period)))``.
    Warm-up: ``period - 1 + int(sqrt(period)) - 1``. ``period`` >= 2.

KAMA(period=10, fast=2, slow=30, source="close")
    Kaufman adaptive MA. Efficiency ratio ``ER = |x_t - x_{t-period}| / sum(|x_i - x_{i-1}|)``
    over the last ``period`` changes, smoothing ``sc = (ER * (2/(fast+1) - 2/(slow+1)) +
    2/(slow+1))**2``, ``kama += sc * (x - kama)``, seeded with ``x_{period-1}`` so the first
    value is at bar ``period`` (warm-up ``period``). As TA-Lib's KAMA (which fixes fast=2,
    slow=30), including its quirk that ER is 1 when the path length does not exceed the signed
    change, and when the path length is (near) zero.

VWAP(period=20)
    Rolling volume-weighted average of the typical price ``(high + low + close) / 3`` over the
    last ``period`` bars: ``sum(tp * volume) / sum(volume)`` (NaN when that volume is 0).
    Warm-up: ``period - 1``.
    Design Decision: rolling, not anchored to a session. A session VWAP resets at a session
    boundary the engine does not model (daily bars would make it the typical price), and an
    anchored-at-first-bar VWAP forgets nothing; a window keeps it bounded and comparable.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, ClassVar

from tradecore.events.market import BarReceived
from tradecore.indicators.base import (
    NAN,
    IndicatorBase,
    check_period,
    check_source,
    format_name,
)
from tradecore.indicators.windows import RollingSum, SeededEma, Wma, running_sum


class SMA(IndicatorBase):
    """Simple moving average: ``SMA(period, source="close")``, named ``SMA(10)``/``SMA(10,high)``."""

    label: ClassVar[str] = "SMA"
    overlay = True

    def __init__(self, period: int, source: str = "close") -> None:
        self.period = check_period("SMA", "period", period)
        self.source = check_source("SMA", source)
        self._source_at = BarReceived.fields.index(self.source)
        super().__init__(name=format_name("SMA", self.period, source=self.source))
        self.warmup = self.period - 1

    def update(self, bar: BarReceived) -> float:
        # Hot path (runs for every bar of every symbol): per-symbol state in one list
        # [window, running sum, history], fields read by index, no numpy. The window starts
        # full of NaN, so the warm-up needs no branch of its own: the running sum is NaN until
        # ``period`` values have come in, then rebuilt from them (the NaN branch below).
        try:
            window, total, history = state = self._state[bar[1]]
        except KeyError:
            window, total, history = state = self._start(bar[1])
        x = bar[self._source_at]
        total = total - window[0] + x
        window.append(x)
        # NaN (self-inequality is the cheapest test): warming up, or a NaN/inf left the
        # window (or is still in it): rebuilt from what the window holds, unless its oldest
        # value is NaN (the sum is NaN then: O(1) a bar through a long warm-up).
        if total != total:  # noqa: PLR0124
            total = running_sum(window) if window[0] == window[0] else NAN  # noqa: PLR0124
        state[1] = total
        value = total / self.period
        history.append(value)
        return value

    def _start(self, symbol: str) -> list:
        window = deque([NAN] * self.period, maxlen=self.period)
        state = self._state[symbol] = [window, NAN, self._new_history(symbol)]
        return state


# Kept under its old name for importers (MACD); the implementation lives in ``windows``.
_SeededEma = SeededEma


class EMA(IndicatorBase):
    """Exponential moving average: ``EMA(period, source="close")``, named ``EMA(10)``."""

    label: ClassVar[str] = "EMA"
    overlay = True

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


class _SourceAverage(IndicatorBase):
    """A moving average of one bar field, computed by a per-symbol kernel with ``push(x)``."""

    label: ClassVar[str] = ""
    overlay = True
    minimum_period: ClassVar[int] = 1

    def __init__(self, period: int, source: str = "close") -> None:
        owner = type(self).__name__
        self.period = check_period(owner, "period", period, self.minimum_period)
        self.source = check_source(owner, source)
        super().__init__(name=format_name(self.label, self.period, source=self.source))
        self.warmup = self._warmup()

    def _warmup(self) -> int:
        return self.period - 1

    def compute(self, state: Any, bar: BarReceived) -> float:
        return state.push(getattr(bar, self.source))


class WMA(_SourceAverage):
    """Linearly weighted moving average: ``WMA(period, source="close")``."""

    label = "WMA"

    def new_state(self) -> Wma:
        return Wma(self.period)


class _MultiEma:
    """``depth`` chained seeded EMAs combined with binomial weights (DEMA: 2, TEMA: 3)."""

    __slots__ = ("emas", "weights")

    def __init__(self, period: int, weights: tuple[float, ...]) -> None:
        alpha = 2.0 / (period + 1)
        self.emas = [SeededEma(period, alpha) for _ in weights]
        self.weights = weights

    def push(self, x: float) -> float:
        total = 0.0
        for ema, weight in zip(self.emas, self.weights, strict=True):
            x = ema.push(x)
            if x != x:  # noqa: PLR0124 - the next EMA is still warming up
                return NAN
            total += weight * x
        return total


class DEMA(_SourceAverage):
    """Double EMA ``2*EMA - EMA(EMA)``: ``DEMA(period, source="close")``."""

    label = "DEMA"

    def _warmup(self) -> int:
        return 2 * (self.period - 1)

    def new_state(self) -> _MultiEma:
        return _MultiEma(self.period, (2.0, -1.0))


class TEMA(_SourceAverage):
    """Triple EMA ``3*E1 - 3*E2 + E3``: ``TEMA(period, source="close")``."""

    label = "TEMA"

    def _warmup(self) -> int:
        return 3 * (self.period - 1)

    def new_state(self) -> _MultiEma:
        return _MultiEma(self.period, (3.0, -3.0, 1.0))


class _Hull:
    __slots__ = ("full", "half", "smooth")

    def __init__(self, period: int) -> None:
        self.half = Wma(period // 2)
        self.full = Wma(period)
        self.smooth = Wma(math.isqrt(period))

    def push(self, x: float) -> float:
        half = self.half.push(x)
        full = self.full.push(x)
        if full != full:  # noqa: PLR0124 - the longer WMA warms up last
            return NAN
        return self.smooth.push(2.0 * half - full)


class HMA(_SourceAverage):
    """Hull moving average: ``HMA(period, source="close")``, ``period`` >= 2."""

    label = "HMA"
    minimum_period = 2

    def _warmup(self) -> int:
        return self.period - 1 + math.isqrt(self.period) - 1

    def new_state(self) -> _Hull:
        return _Hull(self.period)


class _Kaufman:
    __slots__ = ("kama", "noise", "period", "sc_range", "slow_sc", "window")

    def __init__(self, period: int, fast_sc: float, slow_sc: float) -> None:
        self.period = period
        self.window: deque[float] = deque(maxlen=period + 1)
        self.noise = 0.0  # sum of |change| over the window
        self.kama = NAN
        self.slow_sc = slow_sc
        self.sc_range = fast_sc - slow_sc

    def push(self, x: float) -> float:
        window = self.window
        if window:
            if len(window) == self.period + 1:
                self.noise -= abs(window[1] - window[0])
            self.noise += abs(x - window[-1])
        window.append(x)
        if len(window) <= self.period:
            return NAN
        kama = self.kama
        if kama != kama:  # noqa: PLR0124 - first value: seed with the previous input
            kama = window[-2]
        noise = self.noise
        direction = x - window[0]
        efficiency = 1.0 if noise <= direction or abs(noise) < 1e-8 else abs(direction / noise)
        smoothing = efficiency * self.sc_range + self.slow_sc
        smoothing *= smoothing
        self.kama = kama = (x - kama) * smoothing + kama
        return kama


class KAMA(IndicatorBase):
    """Kaufman adaptive moving average: ``KAMA(period=10, fast=2, slow=30, source="close")``."""

    label: ClassVar[str] = "KAMA"
    overlay = True

    def __init__(
        self, period: int = 10, fast: int = 2, slow: int = 30, source: str = "close"
    ) -> None:
        self.period = check_period("KAMA", "period", period)
        self.fast = check_period("KAMA", "fast", fast)
        self.slow = check_period("KAMA", "slow", slow)
        if self.fast >= self.slow:
            raise ValueError(f"KAMA: fast ({fast}) must be smaller than slow ({slow})")
        self.source = check_source("KAMA", source)
        super().__init__(
            name=format_name("KAMA", self.period, self.fast, self.slow, source=self.source)
        )
        self.warmup = self.period

    def new_state(self) -> _Kaufman:
        return _Kaufman(self.period, 2.0 / (self.fast + 1), 2.0 / (self.slow + 1))

    def compute(self, state: _Kaufman, bar: BarReceived) -> float:
        return state.push(getattr(bar, self.source))


class _RollingVwap:
    __slots__ = ("price_volume", "volume")

    def __init__(self, period: int) -> None:
        self.price_volume = RollingSum(period)
        self.volume = RollingSum(period)

    def push(self, bar: BarReceived) -> float:
        volume = bar.volume
        price_volume = self.price_volume.push((bar.high + bar.low + bar.close) / 3.0 * volume)
        total_volume = self.volume.push(volume)
        return price_volume / total_volume if total_volume != 0 else NAN


class VWAP(IndicatorBase):
    """Rolling volume-weighted average typical price: ``VWAP(period=20)``."""

    label: ClassVar[str] = "VWAP"
    overlay = True

    def __init__(self, period: int = 20) -> None:
        self.period = check_period("VWAP", "period", period)
        super().__init__(name=format_name("VWAP", self.period))
        self.warmup = self.period - 1

    def new_state(self) -> _RollingVwap:
        return _RollingVwap(self.period)

    def compute(self, state: _RollingVwap, bar: BarReceived) -> float:
        return state.push(bar)
