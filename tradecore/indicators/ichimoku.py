"""Ichimoku Kinko Hyo lines, all price overlays.

With ``mid(n) = (highest high + lowest low) / 2`` over the last ``n`` bars (current included):

IchimokuTenkan(tenkan=9)                        conversion line ``mid(tenkan)``, ``ICHIMOKU_TENKAN(9)``
IchimokuKijun(kijun=26)                         base line ``mid(kijun)``, ``ICHIMOKU_KIJUN(26)``
IchimokuSenkouA(tenkan=9, kijun=26, displacement=26)
    leading span A: ``(tenkan + kijun) / 2`` as computed ``displacement`` bars ago, i.e. the
    cloud edge charted for this bar. ``ICHIMOKU_SENKOU_A(9,26,26)``
IchimokuSenkouB(senkou=52, displacement=26)
    leading span B: ``mid(senkou)`` of ``displacement`` bars ago. ``ICHIMOKU_SENKOU_B(52,26)``

Warm-ups: ``tenkan - 1``, ``kijun - 1``, ``max(tenkan, kijun) - 1 + displacement``,
``senkou - 1 + displacement``.

Design Decision: the value of a bar is the line *as drawn at that bar*: the leading spans were
computed ``displacement`` bars earlier, so they are causal and a strategy can compare price with
the cloud under it. The lagging span (Chikou, today's close drawn ``displacement`` bars back)
is the close itself at another place on the chart: it needs future bars to be "at" a bar, so
it is not a streaming indicator here (use the close, or ``Field("close")``).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, ClassVar

from tradecore.indicators.base import NAN, IndicatorBase, check_period, format_name
from tradecore.indicators.windows import RollingExtreme

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class _Midpoint:
    """``(max(high) + min(low)) / 2`` over ``period`` bars."""

    __slots__ = ("highest", "lowest")

    def __init__(self, period: int) -> None:
        self.highest = RollingExtreme(period, is_max=True)
        self.lowest = RollingExtreme(period, is_max=False)

    def push(self, bar: BarReceived) -> float:
        return (self.highest.push(bar.high) + self.lowest.push(bar.low)) / 2.0


class _Displaced:
    """A midpoint line (or the mean of two) delayed by ``displacement`` bars."""

    __slots__ = ("delay", "lines")

    def __init__(self, periods: tuple[int, ...], displacement: int) -> None:
        self.lines = [_Midpoint(p) for p in periods]
        self.delay: deque[float] = deque(maxlen=displacement + 1)

    def push(self, bar: BarReceived) -> float:
        lines = self.lines
        value = sum(line.push(bar) for line in lines) / len(lines)
        delay = self.delay
        delay.append(value)
        return delay[0] if len(delay) == delay.maxlen else NAN


class _Ichimoku(IndicatorBase):
    label: ClassVar[str] = ""
    overlay = True

    def _set(self, name_params: tuple[int, ...], periods: tuple[int, ...], shift: int) -> None:
        super().__init__(name=format_name(self.label, *name_params))
        self.periods = periods
        self.displacement = shift
        self.warmup = max(periods) - 1 + shift

    def new_state(self) -> _Displaced:
        return _Displaced(self.periods, self.displacement)

    def compute(self, state: _Displaced, bar: BarReceived) -> float:
        return state.push(bar)


class IchimokuTenkan(_Ichimoku):
    """Conversion line: ``IchimokuTenkan(tenkan=9)``."""

    label = "ICHIMOKU_TENKAN"

    def __init__(self, tenkan: int = 9) -> None:
        self.tenkan = check_period("IchimokuTenkan", "tenkan", tenkan)
        self._set((self.tenkan,), (self.tenkan,), 0)


class IchimokuKijun(_Ichimoku):
    """Base line: ``IchimokuKijun(kijun=26)``."""

    label = "ICHIMOKU_KIJUN"

    def __init__(self, kijun: int = 26) -> None:
        self.kijun = check_period("IchimokuKijun", "kijun", kijun)
        self._set((self.kijun,), (self.kijun,), 0)


class IchimokuSenkouA(_Ichimoku):
    """Leading span A as drawn at this bar: ``IchimokuSenkouA(tenkan=9, kijun=26, displacement=26)``."""

    label = "ICHIMOKU_SENKOU_A"

    def __init__(self, tenkan: int = 9, kijun: int = 26, displacement: int = 26) -> None:
        self.tenkan = check_period("IchimokuSenkouA", "tenkan", tenkan)
        self.kijun = check_period("IchimokuSenkouA", "kijun", kijun)
        shift = check_period("IchimokuSenkouA", "displacement", displacement, minimum=0)
        self._set((self.tenkan, self.kijun, shift), (self.tenkan, self.kijun), shift)


class IchimokuSenkouB(_Ichimoku):
    """Leading span B as drawn at this bar: ``IchimokuSenkouB(senkou=52, displacement=26)``."""

    label = "ICHIMOKU_SENKOU_B"

    def __init__(self, senkou: int = 52, displacement: int = 26) -> None:
        self.senkou = check_period("IchimokuSenkouB", "senkou", senkou)
        shift = check_period("IchimokuSenkouB", "displacement", displacement, minimum=0)
        self._set((self.senkou, shift), (self.senkou,), shift)
