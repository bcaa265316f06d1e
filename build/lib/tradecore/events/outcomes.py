"""What finally happens to an order: it fills (maybe in parts) or it expires."""

from __future__ import annotations

from tradecore.events.base import Event, OrderEvent
from tradecore.models import TradeSide


class FillEvent(Event):
    """Part or all of an order traded. ``fill_price`` includes slippage; ``commission`` is in
    account currency. ``ts_event_ns`` is the open time of the bar it filled on."""

    __slots__ = ()
    table = "fills"
    fill_id: int
    associated_order_id: int
    strategy: str
    symbol: str
    side: TradeSide
    quantity_filled: float
    fill_price: float
    commission: float


class OrderExpired(OrderEvent):
    """An order ended unfilled: its expiry passed, or the data ended."""

    __slots__ = ()
    table = "expirations"
    symbol: str
