"""BrokerBase: turns order requests into responses, fills and expirations.

A broker subscribes to bars (to know prices and time) and to the three order requests, and
answers each request with exactly one response event. It is driven in lock-step with the
datafeed (``delivery = "inline"``), so fills are deterministic.
"""

from __future__ import annotations

from tradecore.events import (
    BarReceived,
    OrderCancellationRequest,
    OrderModificationRequest,
    OrderSubmissionRequest,
)
from tradecore.messaging import EventBus, Subscriber


class BrokerBase(Subscriber):
    """Subclasses implement the four ``_on_*`` handlers and ``_expire_open_orders``."""

    delivery = "inline"

    def __init__(self, event_bus: EventBus) -> None:
        super().__init__(event_bus)
        self._connected = False
        self._subscribe(BarReceived, self._on_bar)
        self._subscribe(OrderSubmissionRequest, self._on_submission)
        self._subscribe(OrderCancellationRequest, self._on_cancellation)
        self._subscribe(OrderModificationRequest, self._on_modification)

    def connect(self) -> None:
        self._connected = True

    def end_of_data(self) -> None:
        """The data is exhausted: every order still open expires (once)."""
        if self._connected:
            self._connected = False
            self._expire_open_orders()

    def disconnect(self, *, expire_open_orders: bool = True) -> None:
        """Stop answering; by default first expire what is still open (end of data)."""
        if expire_open_orders:
            self.end_of_data()
        self._connected = False
        self.shutdown()

    def _on_bar(self, bar: BarReceived) -> None:
        raise NotImplementedError

    def _on_submission(self, request: OrderSubmissionRequest) -> None:
        raise NotImplementedError

    def _on_cancellation(self, request: OrderCancellationRequest) -> None:
        raise NotImplementedError

    def _on_modification(self, request: OrderModificationRequest) -> None:
        raise NotImplementedError

    def _expire_open_orders(self) -> None:
        raise NotImplementedError

    @classmethod
    def configuration(cls) -> dict:
        """The class attributes that configure this broker, for the run's config JSON."""
        return {}
