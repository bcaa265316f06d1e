"""SMA Crossover: the classic trend follower, long only, market orders."""

from __future__ import annotations

from tradecore.indicators import SMA, crossover
from tradecore.models import ActionType, BarPeriod, OrderType, TradeSide
from tradecore.strategies.base import SIZING_PARAMETERS, StrategyBase
from tradecore.strategies.params import ParamSpec


class SMACrossover(StrategyBase):
    """Buy `order_size()` units (by `sizing` and `size`; default 95 % of equity) at market when the fast SMA of close crosses above the slow SMA while
    flat; sell the whole position at market when it crosses below while long.

    A cross means: fast was below slow on the previous bar and is above it on this bar (as
    backtesting.py's ``crossover``; see ``tradecore.indicators.crossover``). Orders fill at the
    next bar's open.
    """

    name = "SMA Crossover"
    symbols = ["ACME"]
    parameters = {
        "bar_period": ParamSpec(BarPeriod.DAY, help="Length of one bar"),
        "fast_period": ParamSpec(10, min=2, max=100, step=1, help="Bars in the fast SMA"),
        "slow_period": ParamSpec(30, min=3, max=300, step=1, help="Bars in the slow SMA"),
        **SIZING_PARAMETERS,
    }

    def setup(self) -> None:
        self.fast = self.add_indicator(SMA(self.fast_period))
        self.slow = self.add_indicator(SMA(self.slow_period))

    def on_bar(self, bar) -> None:
        symbol = bar.symbol
        cross = crossover(self.fast, self.slow, symbol)
        if cross == 0:
            return
        position = self.position_of(symbol)
        if cross > 0:
            quantity = self.order_size() if position == 0 else 0  # sized at this close
            if quantity > 0:
                self.submit_order(OrderType.MARKET, TradeSide.BUY, quantity,
                                  action=ActionType.ENTRY, signal="fast SMA crossed above slow")
        elif position > 0:
            self.submit_order(OrderType.MARKET, TradeSide.SELL, position,
                              action=ActionType.EXIT, signal="fast SMA crossed below slow")
