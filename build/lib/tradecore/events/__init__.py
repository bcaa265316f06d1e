"""The 13 immutable event types and their bases. Names are facts in the past tense or requests."""

from tradecore.events.base import (
    BrokerRejection,
    BrokerResponse,
    Event,
    MarketEvent,
    OrderEvent,
    OrderRequest,
)
from tradecore.events.market import BarProcessed, BarReceived
from tradecore.events.outcomes import FillEvent, OrderExpired
from tradecore.events.requests import (
    OrderCancellationRequest,
    OrderModificationRequest,
    OrderSubmissionRequest,
)
from tradecore.events.responses import (
    CancellationAccepted,
    CancellationRejected,
    ModificationAccepted,
    ModificationRejected,
    OrderAccepted,
    OrderRejected,
)

#: Every concrete event type, in the order of DESIGN's table list.
EVENT_TYPES: tuple[type[Event], ...] = (
    BarReceived,
    BarProcessed,
    OrderSubmissionRequest,
    OrderCancellationRequest,
    OrderModificationRequest,
    OrderAccepted,
    OrderRejected,
    CancellationAccepted,
    CancellationRejected,
    ModificationAccepted,
    ModificationRejected,
    FillEvent,
    OrderExpired,
)

__all__ = [
    "EVENT_TYPES",
    "BarProcessed",
    "BarReceived",
    "BrokerRejection",
    "BrokerResponse",
    "CancellationAccepted",
    "CancellationRejected",
    "Event",
    "FillEvent",
    "MarketEvent",
    "ModificationAccepted",
    "ModificationRejected",
    "OrderAccepted",
    "OrderCancellationRequest",
    "OrderEvent",
    "OrderExpired",
    "OrderModificationRequest",
    "OrderRejected",
    "OrderRequest",
    "OrderSubmissionRequest",
]
