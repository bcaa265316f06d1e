"""Momentum oscillators, each in its own panel: Stochastic, Stochastic RSI, CCI, Williams %R,
momentum and the detrended price oscillator.

StochasticK / StochasticD(k_period=14, k_smooth=3, d_period=3)
    Raw ``%K = 100 * (close - LL) / (HH - LL)`` over the last ``k_period`` bars' highs and lows;
    ``StochasticK`` is its ``SMA(k_smooth)`` (the "slow" %K; ``k_smooth=1`` gives the fast one),
    ``StochasticD`` the ``SMA(d_period)`` of that. As TA-Lib's STOCH with SMA smoothing, except
    that a flat range (HH == LL) gives 50 rather than TA-Lib's 0: a flat market sits mid-range,
    not oversold. Warm-up: ``k_period + k_smooth - 2`` and ``... + d_period - 1``. Named
    ``STOCH_K(14,3,3)`` / ``STOCH_D(14,3,3)``; both share the panel ``STOCH(14,3,3)`` with
    levels 20/80.

StochRSIK / StochRSID(rsi_period=14, stoch_period=14, k_smooth=3, d_period=3)
    The stochastic above applied to ``RSI(rsi_period)`` of close (HH and LL both from the RSI),
    as TradingView's Stoch RSI and TA-Lib's ``STOCH(rsi, rsi, rsi, ...)``. Same flat-range rule.
    Warm-up: ``rsi_period + stoch_period + k_smooth - 2`` (``+ d_period - 1`` for %D).
    Named ``STOCHRSI_K(14,14,3,3)`` / ``STOCHRSI_D(14,14,3,3)``, panel ``STOCHRSI(14,14,3,3)``.

CCI(period=20)
    Commodity Channel Index: ``(tp - SMA(tp)) / (0.015 * mean absolute deviation of tp)`` with
    ``tp = (high + low + close) / 3``; 0 when the deviation is 0 (as TA-Lib). The mean
    deviation needs the whole window, so an update is O(period). Warm-up ``period - 1``.
    Levels -100/100.

WilliamsR(period=14)
    ``-100 * (HH - close) / (HH - LL)`` over ``period`` bars; -50 when HH == LL (TA-Lib gives 0,
    see Stochastic). Warm-up ``period - 1``. Named ``WILLR(14)``, levels -80/-20.

Momentum(period=10, source="close")
    ``x_t - x_{t-period}``. Warm-up ``period``. Named ``MOM(10)``. Level 0.

DetrendedPrice(period=20, source="close")
    Detrended price oscillator ``x_{t - (period // 2 + 1)} - SMA(period)_t``: the price of
    ``period // 2 + 1`` bars ago against today's average, so cycles shorter than the window
    show without using future bars (the displaced-average form would need them). Warm-up
    ``max(period - 1, period // 2 + 1)``. Named ``DPO(20)``. Level 0.
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
from tradecore.indicators.rsi import RSI
from tradecore.indicators.windows import RollingExtreme, RollingSum

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class _Stochastic:
    """%K and %D of (value, high, low) triples; NaN inputs count as warm-up."""

    __slots__ = ("d", "highest", "k", "k_smooth", "d_period", "lowest")

    def __init__(self, k_period: int, k_smooth: int, d_period: int) -> None:
        self.highest = RollingExtreme(k_period, is_max=True)
        self.lowest = RollingExtreme(k_period, is_max=False)
        self.k_smooth = k_smooth
        self.d_period = d_period
        self.k = RollingSum(k_smooth)
        self.d = RollingSum(d_period)

    def push(self, value: float, high: float, low: float) -> tuple[float, float]:
        highest = self.highest.push(high)
        lowest = self.lowest.push(low)
        if highest != highest or lowest != lowest:  # noqa: PLR0124 - warming up
            return NAN, NAN
        span = highest - lowest
        raw = 100.0 * (value - lowest) / span if span != 0 else 50.0
        k = self.k.push(raw) / self.k_smooth
        if k != k:  # noqa: PLR0124
            return NAN, NAN
        return k, self.d.push(k) / self.d_period


class _StochasticFamily(IndicatorBase):
    label: ClassVar[str] = ""
    line: ClassVar[int] = 0  # 0: %K, 1: %D
    levels = (20.0, 80.0)

    def __init__(self, k_period: int = 14, k_smooth: int = 3, d_period: int = 3) -> None:
        owner = type(self).__name__
        self.k_period = check_period(owner, "k_period", k_period)
        self.k_smooth = check_period(owner, "k_smooth", k_smooth)
        self.d_period = check_period(owner, "d_period", d_period)
        self.params = (self.k_period, self.k_smooth, self.d_period)
        super().__init__(name=format_name(self.label, *self.params))
        self.warmup = self.k_period + self.k_smooth - 2 + self.line * (self.d_period - 1)

    def panel_name(self) -> str:
        return format_name("STOCH", *self.params)

    def new_state(self) -> _Stochastic:
        return _Stochastic(*self.params)

    def compute(self, state: _Stochastic, bar: BarReceived) -> float:
        return state.push(bar.close, bar.high, bar.low)[self.line]


class StochasticK(_StochasticFamily):
    """Slow %K: ``StochasticK(k_period=14, k_smooth=3, d_period=3)``."""

    label = "STOCH_K"
    line = 0


class StochasticD(_StochasticFamily):
    """%D, the SMA of %K: ``StochasticD(k_period=14, k_smooth=3, d_period=3)``."""

    label = "STOCH_D"
    line = 1


class _StochRSIFamily(IndicatorBase):
    label: ClassVar[str] = ""
    line: ClassVar[int] = 0
    levels = (20.0, 80.0)

    def __init__(
        self, rsi_period: int = 14, stoch_period: int = 14, k_smooth: int = 3, d_period: int = 3
    ) -> None:
        owner = type(self).__name__
        self.rsi_period = check_period(owner, "rsi_period", rsi_period)
        self.stoch_period = check_period(owner, "stoch_period", stoch_period)
        self.k_smooth = check_period(owner, "k_smooth", k_smooth)
        self.d_period = check_period(owner, "d_period", d_period)
        self.params = (self.rsi_period, self.stoch_period, self.k_smooth, self.d_period)
        super().__init__(name=format_name(self.label, *self.params))
        self.warmup = (self.rsi_period + self.stoch_period + self.k_smooth - 2
                       + self.line * (self.d_period - 1))

    def panel_name(self) -> str:
        return format_name("STOCHRSI", *self.params)

    def new_state(self) -> tuple[RSI, _Stochastic]:
        # A private RSI instance (it keys its own state by symbol; this one sees one symbol).
        return RSI(self.rsi_period), _Stochastic(self.stoch_period, self.k_smooth, self.d_period)

    def compute(self, state: tuple[RSI, _Stochastic], bar: BarReceived) -> float:
        rsi = state[0].update(bar)
        return state[1].push(rsi, rsi, rsi)[self.line]


class StochRSIK(_StochRSIFamily):
    """Stochastic RSI %K: ``StochRSIK(rsi_period=14, stoch_period=14, k_smooth=3, d_period=3)``."""

    label = "STOCHRSI_K"
    line = 0


class StochRSID(_StochRSIFamily):
    """Stochastic RSI %D: ``StochRSID(rsi_period=14, stoch_period=14, k_smooth=3, d_period=3)``."""

    label = "STOCHRSI_D"
    line = 1


class CCI(IndicatorBase):
    """Commodity Channel Index: ``CCI(period=20)``."""

    label: ClassVar[str] = "CCI"
    levels = (-100.0, 100.0)

    def __init__(self, period: int = 20) -> None:
        self.period = check_period("CCI", "period", period)
        super().__init__(name=format_name("CCI", self.period))
        self.warmup = self.period - 1

    def new_state(self) -> deque[float]:
        return deque(maxlen=self.period)

    def compute(self, state: deque[float], bar: BarReceived) -> float:
        typical = (bar.high + bar.low + bar.close) / 3.0
        state.append(typical)
        if len(state) < self.period:
            return NAN
        mean = sum(state) / self.period
        deviation = sum(abs(v - mean) for v in state) / self.period
        if deviation == 0 or typical == mean:
            return 0.0
        return (typical - mean) / (0.015 * deviation)


class WilliamsR(IndicatorBase):
    """Williams %R, between -100 and 0: ``WilliamsR(period=14)``."""

    label: ClassVar[str] = "WILLR"
    levels = (-80.0, -20.0)

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("WilliamsR", "period", period)
        super().__init__(name=format_name("WILLR", self.period))
        self.warmup = self.period - 1

    def new_state(self) -> tuple[RollingExtreme, RollingExtreme]:
        return RollingExtreme(self.period, is_max=True), RollingExtreme(self.period, is_max=False)

    def compute(self, state: tuple[RollingExtreme, RollingExtreme], bar: BarReceived) -> float:
        highest = state[0].push(bar.high)
        lowest = state[1].push(bar.low)
        span = highest - lowest
        if span != span:  # noqa: PLR0124 - warming up
            return NAN
        return -100.0 * (highest - bar.close) / span if span != 0 else -50.0


class _Lagged(IndicatorBase):
    """Indicators of the current value and the one ``lag`` bars back."""

    label: ClassVar[str] = ""
    levels = (0.0,)

    def __init__(self, period: int, source: str = "close") -> None:
        owner = type(self).__name__
        self.period = check_period(owner, "period", period)
        self.source = check_source(owner, source)
        super().__init__(name=format_name(self.label, self.period, source=self.source))


class Momentum(_Lagged):
    """``x_t - x_{t-period}``: ``Momentum(period=10, source="close")``, named ``MOM(10)``."""

    label = "MOM"

    def __init__(self, period: int = 10, source: str = "close") -> None:
        super().__init__(period, source)
        self.warmup = self.period

    def new_state(self) -> deque[float]:
        return deque(maxlen=self.period + 1)

    def compute(self, state: deque[float], bar: BarReceived) -> float:
        x = getattr(bar, self.source)
        state.append(x)
        return x - state[0] if len(state) > self.period else NAN


class DetrendedPrice(_Lagged):
    """Detrended price oscillator: ``DetrendedPrice(period=20, source="close")``, ``DPO(20)``."""

    label = "DPO"

    def __init__(self, period: int = 20, source: str = "close") -> None:
        super().__init__(period, source)
        self.lag = self.period // 2 + 1
        self.warmup = max(self.period - 1, self.lag)

    def new_state(self) -> tuple[deque[float], RollingSum]:
        return deque(maxlen=self.lag + 1), RollingSum(self.period)

    def compute(self, state: tuple[deque[float], RollingSum], bar: BarReceived) -> float:
        x = getattr(bar, self.source)
        past, total = state
        past.append(x)
        average = total.push(x) / self.period
        if len(past) <= self.lag:
            return NAN
        return past[0] - average
