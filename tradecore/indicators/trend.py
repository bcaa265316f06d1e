"""Trend indicators: ADX with +DI/-DI, Aroon, and Parabolic SAR.

ADX / PlusDI / MinusDI(period=14)
    Wilder's directional movement, computed exactly as TA-Lib does (the reference most tools
    agree with). ``+DM = high - prev high`` when that exceeds ``prev low - low`` and is > 0,
    ``-DM`` mirrored; TR the true range. The smoothed sums start as the plain sums of the first
    ``period - 1`` bars' DM and TR (bars 1..period-1, bar 0 has no previous bar), then
    ``s = s - s / period + new``. ``+DI = 100 * s(+DM) / s(TR)`` (0 when s(TR) is ~0), from bar
    ``period``. ``DX = 100 * |+DI - -DI| / (+DI + -DI)``; the first ADX is the mean of the DX of
    bars ``period .. 2*period-1``, then Wilder-smoothed; when the DI sum or TR is ~0 the ADX
    keeps its value. Warm-up: ``period`` for the DIs, ``2 * period - 1`` for ADX. Named
    ``ADX(14)``, ``PLUS_DI(14)``, ``MINUS_DI(14)``; the three share the panel ``DMI(14)``,
    with a level at 25 (the usual "trending" threshold).

AroonUp / AroonDown / AroonOscillator(period=14)
    Over the last ``period + 1`` bars: ``up = 100 * (period - bars since the highest high) /
    period``, ``down`` likewise with the lowest low (ties: the most recent bar, as TA-Lib);
    oscillator ``up - down``. Warm-up ``period``. Named ``AROON_UP(14)``, ``AROON_DOWN(14)``
    (panel ``AROON(14)``, levels 30/70) and ``AROON_OSC(14)`` (own panel, level 0).

ParabolicSAR(acceleration=0.02, maximum=0.2)
    Wilder's stop and reverse, a price overlay, following TA-Lib's SAR step by step: the first
    direction is short if bar 1's -DM (``low_0 - low_1``, when it beats ``high_1 - high_0``) is
    positive, else long; the first SAR is bar 0's low (long) or high (short) and the first
    extreme point bar 1's high (low). Each bar the SAR moves ``af * (ep - sar)`` and is kept
    outside the last two bars' range; a new extreme raises ``af`` by ``acceleration`` up to
    ``maximum``; a bar crossing the SAR reverses it to the extreme point. The value of a bar is
    the SAR in force during it (computed from the bars before). Warm-up 1. Named
    ``SAR(0.02,0.2)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tradecore.indicators.base import NAN, IndicatorBase, check_period, check_positive, format_name
from tradecore.indicators.windows import RollingExtreme

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived

_ZERO = 1e-8  # TA-Lib's TA_IS_ZERO threshold


class _Directional:
    """+DI, -DI and ADX of one symbol (see the module docstring)."""

    __slots__ = (
        "adx", "bars", "dx_sum", "minus_dm", "period", "plus_dm", "prev_close", "prev_high",
        "prev_low", "true_range",
    )

    def __init__(self, period: int) -> None:
        self.period = period
        self.bars = 0
        self.plus_dm = self.minus_dm = self.true_range = 0.0
        self.prev_high = self.prev_low = self.prev_close = 0.0
        self.dx_sum = 0.0
        self.adx = NAN

    def push(self, bar: BarReceived) -> tuple[float, float, float]:
        """(+DI, -DI, ADX) after ``bar``."""
        high, low = bar.high, bar.low
        index = self.bars
        self.bars += 1
        if index == 0:
            self.prev_high, self.prev_low, self.prev_close = high, low, bar.close
            return NAN, NAN, NAN
        period = self.period
        up = high - self.prev_high
        down = self.prev_low - low
        prev_close = self.prev_close
        true_range = max(high - low, abs(high - prev_close), abs(low - prev_close))
        self.prev_high, self.prev_low, self.prev_close = high, low, bar.close
        plus = up if up > 0 and up > down else 0.0
        minus = down if down > 0 and up < down else 0.0
        if index < period:  # bars 1 .. period-1: plain sums
            self.plus_dm += plus
            self.minus_dm += minus
            self.true_range += true_range
            return NAN, NAN, NAN
        self.plus_dm = self.plus_dm - self.plus_dm / period + plus
        self.minus_dm = self.minus_dm - self.minus_dm / period + minus
        self.true_range = self.true_range - self.true_range / period + true_range
        plus_di = minus_di = 0.0
        dx = NAN
        if not -_ZERO < self.true_range < _ZERO:
            plus_di = 100.0 * (self.plus_dm / self.true_range)
            minus_di = 100.0 * (self.minus_dm / self.true_range)
            total = plus_di + minus_di
            if not -_ZERO < total < _ZERO:
                dx = 100.0 * (abs(minus_di - plus_di) / total)
        if index < 2 * period:  # bars period .. 2*period-1: the DX of the first ADX
            if dx == dx:  # noqa: PLR0124
                self.dx_sum += dx
            if index == 2 * period - 1:
                self.adx = self.dx_sum / period
        elif dx == dx:  # noqa: PLR0124
            self.adx = (self.adx * (period - 1) + dx) / period
        return plus_di, minus_di, self.adx


class _DirectionalFamily(IndicatorBase):
    label: ClassVar[str] = ""
    line: ClassVar[int] = 0
    levels = (25.0,)

    def __init__(self, period: int = 14) -> None:
        self.period = check_period(type(self).__name__, "period", period)
        super().__init__(name=format_name(self.label, self.period))
        self.warmup = self.period if self.line < 2 else 2 * self.period - 1

    def panel_name(self) -> str:
        return format_name("DMI", self.period)

    def new_state(self) -> _Directional:
        return _Directional(self.period)

    def compute(self, state: _Directional, bar: BarReceived) -> float:
        return state.push(bar)[self.line]


class PlusDI(_DirectionalFamily):
    """Positive directional indicator: ``PlusDI(period=14)``, named ``PLUS_DI(14)``."""

    label = "PLUS_DI"
    line = 0


class MinusDI(_DirectionalFamily):
    """Negative directional indicator: ``MinusDI(period=14)``, named ``MINUS_DI(14)``."""

    label = "MINUS_DI"
    line = 1


class ADX(_DirectionalFamily):
    """Average directional index: ``ADX(period=14)``."""

    label = "ADX"
    line = 2


class _Aroon:
    __slots__ = ("highest", "lowest", "period")

    def __init__(self, period: int) -> None:
        self.period = period
        self.highest = RollingExtreme(period + 1, is_max=True)
        self.lowest = RollingExtreme(period + 1, is_max=False)

    def push(self, bar: BarReceived) -> tuple[float, float]:
        high = self.highest.push(bar.high)
        low = self.lowest.push(bar.low)
        if high != high or low != low:  # noqa: PLR0124
            return NAN, NAN
        period = self.period
        up = 100.0 * (period - self.highest.bars_since()) / period
        down = 100.0 * (period - self.lowest.bars_since()) / period
        return up, down


class _AroonFamily(IndicatorBase):
    label: ClassVar[str] = ""
    levels = (30.0, 70.0)

    def __init__(self, period: int = 14) -> None:
        self.period = check_period(type(self).__name__, "period", period)
        super().__init__(name=format_name(self.label, self.period))
        self.warmup = self.period

    def panel_name(self) -> str:
        return format_name("AROON", self.period)

    def new_state(self) -> _Aroon:
        return _Aroon(self.period)


class AroonUp(_AroonFamily):
    """Aroon up, 0..100: ``AroonUp(period=14)``, named ``AROON_UP(14)``."""

    label = "AROON_UP"

    def compute(self, state: _Aroon, bar: BarReceived) -> float:
        return state.push(bar)[0]


class AroonDown(_AroonFamily):
    """Aroon down, 0..100: ``AroonDown(period=14)``, named ``AROON_DOWN(14)``."""

    label = "AROON_DOWN"

    def compute(self, state: _Aroon, bar: BarReceived) -> float:
        return state.push(bar)[1]


class AroonOscillator(_AroonFamily):
    """Aroon up minus down, -100..100: ``AroonOscillator(period=14)``, named ``AROON_OSC(14)``."""

    label = "AROON_OSC"
    levels = (0.0,)

    def panel_name(self) -> str:
        return self.name

    def compute(self, state: _Aroon, bar: BarReceived) -> float:
        up, down = state.push(bar)
        return up - down


class _Sar:
    __slots__ = ("af", "bars", "ep", "is_long", "new_high", "new_low", "sar")

    def __init__(self) -> None:
        self.bars = 0
        self.is_long = True
        self.af = self.ep = self.sar = 0.0
        self.new_high = self.new_low = 0.0

    def push(self, high: float, low: float, step: float, maximum: float) -> float:
        index = self.bars
        self.bars += 1
        if index == 0:
            self.new_high, self.new_low = high, low
            return NAN
        if index == 1:
            # TA-Lib: direction from bar 1's -DM; the first SAR is bar 0's extreme on the far
            # side, and bar 1 stands in for "the previous bar" in its own step.
            down = self.new_low - low
            up = high - self.new_high
            self.is_long = not (down > 0 and up < down)
            if self.is_long:
                self.ep, self.sar = high, self.new_low
            else:
                self.ep, self.sar = low, self.new_high
            self.af = step
            self.new_high, self.new_low = high, low
        prev_high, prev_low = self.new_high, self.new_low
        self.new_high, self.new_low = high, low
        sar, ep, af = self.sar, self.ep, self.af
        if self.is_long:
            if low <= sar:  # reverse to short
                self.is_long = False
                sar = max(ep, prev_high, high)
                value = sar
                af = step
                ep = low
                sar = max(sar + af * (ep - sar), prev_high, high)
            else:
                value = sar
                if high > ep:
                    ep = high
                    af = min(af + step, maximum)
                sar = min(sar + af * (ep - sar), prev_low, low)
        elif high >= sar:  # reverse to long
            self.is_long = True
            sar = min(ep, prev_low, low)
            value = sar
            af = step
            ep = high
            sar = min(sar + af * (ep - sar), prev_low, low)
        else:
            value = sar
            if low < ep:
                ep = low
                af = min(af + step, maximum)
            sar = max(sar + af * (ep - sar), prev_high, high)
        self.sar, self.ep, self.af = sar, ep, af
        return value


class ParabolicSAR(IndicatorBase):
    """Wilder's parabolic stop and reverse: ``ParabolicSAR(acceleration=0.02, maximum=0.2)``."""

    label: ClassVar[str] = "SAR"
    overlay = True

    def __init__(self, acceleration: float = 0.02, maximum: float = 0.2) -> None:
        self.acceleration = check_positive("ParabolicSAR", "acceleration", acceleration)
        self.maximum = check_positive("ParabolicSAR", "maximum", maximum)
        if self.acceleration > self.maximum:
            raise ValueError(
                f"ParabolicSAR: acceleration ({acceleration}) must not exceed maximum ({maximum})"
            )
        super().__init__(name=format_name("SAR", self.acceleration, self.maximum))
        self.warmup = 1

    def new_state(self) -> _Sar:
        return _Sar()

    def compute(self, state: _Sar, bar: BarReceived) -> float:
        return state.push(bar.high, bar.low, self.acceleration, self.maximum)
