"""Bollinger breakout: enters on a stop-limit above the upper band, protects with a stop."""

from __future__ import annotations

from tradecore.indicators import SMA, BollingerLower, BollingerUpper
from tradecore.models import ActionType, BarPeriod, OrderType, TradeSide
from tradecore.strategies.base import SIZING_PARAMETERS, StrategyBase
from tradecore.strategies.params import ParamSpec


class BollingerBreakout(StrategyBase):
    """While flat, keep a stop-limit buy resting at the upper Bollinger band (limit
    `max_chase_pct` above the stop, sized by `sizing` and `size` at the limit), moved with the
    band (and resized) every bar. Once long, keep a stop
    sell at the lower band, raised (never lowered) every bar; exit at market when the close
    falls below the middle band if `exit_on_middle` is set.
    """

    name = "Bollinger Breakout"
    symbols = ["ACME"]
    parameters = {
        "bar_period": ParamSpec(BarPeriod.DAY, help="Length of one bar"),
        "period": ParamSpec(20, min=5, max=100, step=1, help="Bars in the bands"),
        "width": ParamSpec(2.0, min=0.5, max=4.0, step=0.25, help="Band width in std devs"),
        "max_chase_pct": ParamSpec(1.0, min=0.0, max=5.0, step=0.25,
                                   help="Limit of the entry stop-limit above its stop, in %"),
        "exit_on_middle": ParamSpec(False, help="Also exit when the close drops below the SMA"),
        **SIZING_PARAMETERS,
    }

    def setup(self) -> None:
        self.upper = self.add_indicator(BollingerUpper(self.period, self.width))
        self.lower = self.add_indicator(BollingerLower(self.period, self.width))
        self.middle = self.add_indicator(SMA(self.period))
        self.entry_orders: dict[str, int] = {}
        self.stop_orders: dict[str, tuple[int, float]] = {}

    def on_bar(self, bar) -> None:
        symbol = bar.symbol
        upper, lower = self.upper[symbol, -1], self.lower[symbol, -1]
        if upper != upper:  # warm-up
            return
        position = self.position_of(symbol)
        if position == 0:
            stop = round(upper, 6)
            limit = round(upper * (1 + self.max_chase_pct / 100), 6)
            entry = self.entry_orders.get(symbol)
            quantity = self.order_size(limit)  # the most the entry can pay
            if entry is None:
                if quantity > 0:
                    self.entry_orders[symbol] = self.submit_order(
                        OrderType.STOP_LIMIT, TradeSide.BUY, quantity, stop_price=stop,
                        limit_price=limit, action=ActionType.ENTRY,
                        signal="upper band breakout")
            elif quantity > 0:
                self.submit_modification(entry, quantity=quantity, stop_price=stop,
                                         limit_price=limit)
            return
        if self.exit_on_middle and bar.close < self.middle[symbol, -1]:
            self._exit_at_market(symbol, position, "close below middle band")
            return
        stop_id, stop_price = self.stop_orders.get(symbol, (None, 0.0))
        new_stop = round(lower, 6)
        if stop_id is None:
            order_id = self.submit_order(OrderType.STOP, TradeSide.SELL, position,
                                         stop_price=new_stop, action=ActionType.EXIT,
                                         signal="lower band stop")
            self.stop_orders[symbol] = (order_id, new_stop)
        elif new_stop > stop_price:
            self.submit_modification(stop_id, stop_price=new_stop)
            self.stop_orders[symbol] = (stop_id, new_stop)

    def _exit_at_market(self, symbol: str, position: float, signal: str) -> None:
        stop_id, _ = self.stop_orders.pop(symbol, (None, 0.0))
        if stop_id is not None:
            self.submit_cancellation(stop_id)
        self.submit_order(OrderType.MARKET, TradeSide.SELL, position, symbol=symbol,
                          action=ActionType.EXIT, signal=signal)

    def on_fill(self, fill) -> None:
        symbol = fill.symbol
        if self.entry_orders.get(symbol) == fill.associated_order_id:
            del self.entry_orders[symbol]
        elif symbol in self.stop_orders and self.stop_orders[symbol][0] == fill.associated_order_id:
            del self.stop_orders[symbol]

    def on_order_expired(self, event) -> None:
        if self.entry_orders.get(event.symbol) == event.order_id:
            del self.entry_orders[event.symbol]

    on_order_rejected = on_order_expired
