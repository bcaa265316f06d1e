"""RSI mean reversion: buys dips with limit orders, takes profit with limit orders."""

from __future__ import annotations

from tradecore.indicators import RSI
from tradecore.models import ActionType, BarPeriod, OrderType, TradeSide
from tradecore.strategies.base import SIZING_PARAMETERS, StrategyBase
from tradecore.strategies.params import ParamSpec


class RSIMeanReversion(StrategyBase):
    """When RSI falls below `oversold` while flat, place a limit buy (sized by `sizing` and
    `size` at the limit price) `entry_discount_pct` below the close, valid for `entry_valid_bars` bars. Once long, rest a limit sell
    `take_profit_pct` above the entry; if RSI rises above `overbought` first, cancel it and
    exit at market.
    """

    name = "RSI Mean Reversion"
    symbols = ["ACME"]
    parameters = {
        "bar_period": ParamSpec(BarPeriod.DAY, help="Length of one bar"),
        "rsi_period": ParamSpec(14, min=2, max=50, step=1, help="Bars in the RSI"),
        "oversold": ParamSpec(30.0, min=5.0, max=50.0, step=1.0, help="Enter below this RSI"),
        "overbought": ParamSpec(70.0, min=50.0, max=95.0, step=1.0, help="Exit above this RSI"),
        "entry_discount_pct": ParamSpec(0.5, min=0.0, max=5.0, step=0.1,
                                        help="Limit buy this far below the close, in %"),
        "entry_valid_bars": ParamSpec(3, min=1, max=20, step=1,
                                      help="Bars an unfilled entry stays open"),
        "take_profit_pct": ParamSpec(5.0, min=0.5, max=30.0, step=0.5,
                                     help="Limit sell this far above entry, in %"),
        **SIZING_PARAMETERS,
    }

    def setup(self) -> None:
        self.rsi = self.add_indicator(RSI(self.rsi_period))
        self.entry_orders: dict[str, int] = {}
        self.exit_orders: dict[str, int] = {}

    def on_bar(self, bar) -> None:
        symbol = bar.symbol
        rsi = self.rsi[symbol, -1]
        position = self.position_of(symbol)
        if position == 0 and symbol not in self.entry_orders and rsi < self.oversold:
            expiry = bar.ts_event_ns + self.entry_valid_bars * self.bar_period.nanoseconds
            limit = round(bar.close * (1 - self.entry_discount_pct / 100), 6)
            quantity = self.order_size(limit)
            if quantity > 0:
                self.entry_orders[symbol] = self.submit_order(
                    OrderType.LIMIT, TradeSide.BUY, quantity, limit_price=limit,
                    expiry_ns=expiry, action=ActionType.ENTRY, signal=f"RSI {rsi:.1f} oversold")
        elif position > 0 and rsi > self.overbought:
            exit_id = self.exit_orders.pop(symbol, None)
            if exit_id is not None:
                self.submit_cancellation(exit_id)
            self.submit_order(OrderType.MARKET, TradeSide.SELL, position,
                              action=ActionType.EXIT, signal=f"RSI {rsi:.1f} overbought")

    def on_fill(self, fill) -> None:
        symbol = fill.symbol
        if self.entry_orders.get(symbol) == fill.associated_order_id:
            del self.entry_orders[symbol]
            self.exit_orders[symbol] = self.submit_order(
                OrderType.LIMIT, TradeSide.SELL, fill.quantity_filled, symbol=symbol,
                limit_price=round(fill.fill_price * (1 + self.take_profit_pct / 100), 6),
                action=ActionType.EXIT, signal="take profit")
        elif self.exit_orders.get(symbol) == fill.associated_order_id:
            del self.exit_orders[symbol]

    def on_order_expired(self, event) -> None:
        for orders in (self.entry_orders, self.exit_orders):
            if orders.get(event.symbol) == event.order_id:
                del orders[event.symbol]

    on_order_rejected = on_order_expired
