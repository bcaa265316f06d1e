"""The broker's answers to order requests."""

from __future__ import annotations

from dataclasses import dataclass

from tradecore.events.base import BrokerRejection, BrokerResponse


@dataclass(frozen=True, slots=True)
class OrderAccepted(BrokerResponse):
    table = "orders_accepted"


@dataclass(frozen=True, slots=True)
class OrderRejected(BrokerRejection):
    table = "orders_rejected"


@dataclass(frozen=True, slots=True)
class CancellationAccepted(BrokerResponse):
    table = "cancellations_accepted"


@dataclass(frozen=True, slots=True)
class CancellationRejected(BrokerRejection):
    table = "cancellations_rejected"


@dataclass(frozen=True, slots=True)
class ModificationAccepted(BrokerResponse):
    """The order now has these values (all of them, changed or not)."""

    table = "modifications_accepted"
    quantity: float
    limit_price: float | None = None
    stop_price: float | None = None


@dataclass(frozen=True, slots=True)
class ModificationRejected(BrokerRejection):
    table = "modifications_rejected"
