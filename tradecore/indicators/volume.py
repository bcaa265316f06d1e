"""Volume indicators, each in its own panel: OBV, Money Flow Index, Chaikin money flow.

OBV()
    On-balance volume: starts at the first bar's volume; adds the volume when the close rises,
    subtracts it when it falls, unchanged when equal (as TA-Lib). Cumulative, so its level
    depends on where the data starts; only its changes mean something. No warm-up.

MFI(period=14)
    Money Flow Index: money flow ``tp * volume`` with ``tp = (high + low + close) / 3``, counted
    positive when tp rose from the previous bar and negative when it fell; over the last
    ``period`` flows ``100 * positive / (positive + negative)``; 50 when both are 0 (TA-Lib
    gives 0 when the total is below 1; a bar-less-volume window is neutral, not oversold).
    Warm-up ``period`` (the first bar has no previous tp). Levels 20/80.
    Design Decision: typical prices within 1e-12 (relative) of each other count as unchanged.
    Bars on a tick grid often have equal ``high + low + close`` in decimal whose floating sums
    differ in the last bit (EURUSD 2017-05-24 has one); counting that as a rise would move a
    whole bar's money flow on rounding noise, and TA-Lib's result treats them as equal too.

ChaikinMoneyFlow(period=20)
    ``sum(MFV) / sum(volume)`` over ``period`` bars, with the money-flow volume
    ``MFV = volume * ((close - low) - (high - close)) / (high - low)`` (0 when high == low).
    NaN when the window's volume is 0. Warm-up ``period - 1``. Named ``CMF(20)``. Level 0.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, ClassVar

from tradecore.indicators.base import NAN, IndicatorBase, check_period, format_name
from tradecore.indicators.windows import RollingSum

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class OBV(IndicatorBase):
    """On-balance volume: ``OBV()``."""

    label: ClassVar[str] = "OBV"

    def __init__(self) -> None:
        super().__init__(name="OBV")

    def new_state(self) -> list[float]:
        return [NAN, NAN]  # [previous close, OBV]

    def compute(self, state: list[float], bar: BarReceived) -> float:
        close, volume = bar.close, bar.volume
        previous = state[0]
        if previous != previous:  # noqa: PLR0124 - first bar
            state[1] = volume
        elif close > previous:
            state[1] += volume
        elif close < previous:
            state[1] -= volume
        state[0] = close
        return state[1]


#: Relative change below which two typical prices count as equal (see the module docstring).
_TIE = 1e-12


class _MoneyFlow:
    __slots__ = ("flows", "negative", "positive", "previous")

    def __init__(self, period: int) -> None:
        self.flows: deque[tuple[float, float]] = deque(maxlen=period)
        self.positive = self.negative = 0.0
        self.previous = NAN

    def push(self, bar: BarReceived) -> float:
        typical = (bar.high + bar.low + bar.close) / 3.0
        previous, self.previous = self.previous, typical
        if previous != previous:  # noqa: PLR0124 - first bar: no direction yet
            return NAN
        flow = typical * bar.volume
        change = typical - previous
        if abs(change) <= _TIE * abs(previous):  # equal prices, up to the rounding of "/ 3"
            change = 0.0
        positive = flow if change > 0 else 0.0
        negative = flow if change < 0 else 0.0
        flows = self.flows
        if len(flows) == flows.maxlen:
            old_positive, old_negative = flows[0]
            self.positive -= old_positive
            self.negative -= old_negative
        flows.append((positive, negative))
        self.positive += positive
        self.negative += negative
        if len(flows) < flows.maxlen:
            return NAN
        total = self.positive + self.negative
        return 100.0 * self.positive / total if total != 0 else 50.0


class MFI(IndicatorBase):
    """Money Flow Index, 0..100: ``MFI(period=14)``."""

    label: ClassVar[str] = "MFI"
    levels = (20.0, 80.0)

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("MFI", "period", period)
        super().__init__(name=format_name("MFI", self.period))
        self.warmup = self.period

    def new_state(self) -> _MoneyFlow:
        return _MoneyFlow(self.period)

    def compute(self, state: _MoneyFlow, bar: BarReceived) -> float:
        return state.push(bar)


class ChaikinMoneyFlow(IndicatorBase):
    """Chaikin money flow, -1..1: ``ChaikinMoneyFlow(period=20)``, named ``CMF(20)``."""

    label: ClassVar[str] = "CMF"
    levels = (0.0,)

    def __init__(self, period: int = 20) -> None:
        self.period = check_period("ChaikinMoneyFlow", "period", period)
        super().__init__(name=format_name("CMF", self.period))
        self.warmup = self.period - 1

    def new_state(self) -> tuple[RollingSum, RollingSum]:
        return RollingSum(self.period), RollingSum(self.period)

    def compute(self, state: tuple[RollingSum, RollingSum], bar: BarReceived) -> float:
        high, low, close, volume = bar.high, bar.low, bar.close, bar.volume
        span = high - low
        flow_volume = volume * ((close - low) - (high - close)) / span if span != 0 else 0.0
        flow = state[0].push(flow_volume)
        total_volume = state[1].push(volume)
        return flow / total_volume if total_volume != 0 else NAN
