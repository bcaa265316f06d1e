"""The broker's answers to order requests."""

from __future__ import annotations

from tradecore.events.base import BrokerRejection, BrokerResponse


class OrderAccepted(BrokerResponse):
    __slots__ = ()
    table = "orders_accepted"


class OrderRejected(BrokerRejection):
    __slots__ = ()
    table = "orders_rejected"


class CancellationAccepted(BrokerResponse):
    __slots__ = ()
    table = "cancellations_accepted"


class CancellationRejected(BrokerRejection):
    __slots__ = ()
    table = "cancellations_rejected"


class ModificationAccepted(BrokerResponse):
    """The order now has these values (all of them, changed or not)."""

    __slots__ = ()
    table = "modifications_accepted"
    quantity: float
    limit_price: float | None = None
    stop_price: float | None = None


class ModificationRejected(BrokerRejection):
    __slots__ = ()
    table = "modifications_rejected"
