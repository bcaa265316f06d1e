"""Order requests a strategy sends to the broker."""

from __future__ import annotations

from tradecore.events.base import OrderRequest
from tradecore.models import ActionType, OrderType, TradeSide


class OrderSubmissionRequest(OrderRequest):
    """A new order. Prices are required by type (limit for LIMIT/STOP_LIMIT, stop for
    STOP/STOP_LIMIT); ``expiry_ns`` (simulated time, optional) ends it unfilled."""

    __slots__ = ()
    table = "order_submissions"
    strategy: str
    symbol: str
    order_type: OrderType
    side: TradeSide
    quantity: float
    limit_price: float | None = None
    stop_price: float | None = None
    expiry_ns: int | None = None
    action: ActionType | None = None
    signal: str | None = None


class OrderCancellationRequest(OrderRequest):
    __slots__ = ()
    table = "order_cancellations"
    strategy: str


class OrderModificationRequest(OrderRequest):
    """Change what is still open of an order; ``None`` keeps a field as it is."""

    __slots__ = ()
    table = "order_modifications"
    strategy: str
    quantity: float | None = None
    limit_price: float | None = None
    stop_price: float | None = None
