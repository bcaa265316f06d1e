"""ADX-filtered Donchian breakout: a trend follower that only trades when a trend is there."""

from __future__ import annotations

from tradecore.indicators import ADX, DonchianLower, DonchianUpper
from tradecore.models import ActionType, BarPeriod, OrderType, TradeSide
from tradecore.strategies.base import StrategyBase
from tradecore.strategies.params import ParamSpec


class ADXDonchianBreakout(StrategyBase):
    """While flat, buy `quantity` at market when the close breaks above the highest high of the
    previous `channel_period` bars and ADX(`adx_period`) is at least `adx_threshold` (a
    trending market, so fewer false breakouts in ranges). Once long, sell the whole position
    at market when the close falls below the lowest low of the previous `exit_period` bars
    (a shorter channel, as in the Turtle rules, so exits come sooner than entries).

    "Previous" because a Donchian channel includes the current bar: the close is compared with
    the channel as it stood on the bar before. Orders fill at the next bar's open.
    """

    name = "ADX Donchian Breakout"
    symbols = ["ACME"]
    parameters = {
        "bar_period": ParamSpec(BarPeriod.DAY, help="Length of one bar"),
        "channel_period": ParamSpec(20, min=1, max=250, step=1,
                                    help="Bars in the entry channel (highest high)"),
        "exit_period": ParamSpec(10, min=1, max=250, step=1,
                                 help="Bars in the exit channel (lowest low)"),
        "adx_period": ParamSpec(14, min=1, max=100, step=1, help="Bars in the ADX"),
        "adx_threshold": ParamSpec(25.0, min=0.0, max=100.0, step=1.0,
                                   help="Enter only when ADX is at least this"),
        "quantity": ParamSpec(100, min=1, max=100_000, step=1, help="Units bought per entry"),
    }

    def setup(self) -> None:
        self.upper = self.add_indicator(DonchianUpper(self.channel_period))
        self.lower = self.add_indicator(DonchianLower(self.exit_period))
        self.adx = self.add_indicator(ADX(self.adx_period))
        # One order at a time per symbol: a breakout often lasts several bars, and the entry
        # sent on one bar only fills at the next bar's open.
        self.pending: dict[str, int] = {}

    def on_bar(self, bar) -> None:
        symbol = bar.symbol
        if symbol in self.pending:
            return
        close = bar.close
        position = self.position_of(symbol)
        if position == 0:
            # NaN (warm-up) compares False, so no entry before the channel and ADX exist.
            if close > self.upper[symbol, -2] and self.adx[symbol, -1] >= self.adx_threshold:
                self.pending[symbol] = self.submit_order(
                    OrderType.MARKET, TradeSide.BUY, self.quantity, action=ActionType.ENTRY,
                    signal="close above channel, ADX high")
        elif position > 0 and close < self.lower[symbol, -2]:
            self.pending[symbol] = self.submit_order(
                OrderType.MARKET, TradeSide.SELL, position, action=ActionType.EXIT,
                signal="close below exit channel")

    def on_fill(self, fill) -> None:
        if self.pending.get(fill.symbol) == fill.associated_order_id:
            del self.pending[fill.symbol]

    def on_order_rejected(self, event) -> None:
        if self.pending.get(event.symbol) == event.order_id:
            del self.pending[event.symbol]

    on_order_expired = on_order_rejected
