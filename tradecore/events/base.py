"""Bases shared by every event: immutable records stamped with two nanosecond clocks.

``ts_event_ns`` is simulated time: the open time (UTC ns) of the bar during which the event
happened. ``ts_created_ns`` is wall-clock time when the object was made; it is the only field
that differs between two repetitions of the same run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Event:
    """Every event. ``table`` names the runs.db table the recorder writes it to."""

    table: ClassVar[str] = ""
    ts_event_ns: int
    ts_created_ns: int = field(default_factory=time.time_ns, kw_only=True)


@dataclass(frozen=True, slots=True)
class MarketEvent(Event):
    """Something the market did to one symbol."""

    symbol: str


@dataclass(frozen=True, slots=True)
class OrderEvent(Event):
    """Anything about one order; ``order_id`` is unique within a run."""

    order_id: int


@dataclass(frozen=True, slots=True)
class OrderRequest(OrderEvent):
    """A strategy asks the broker to do something with an order."""


@dataclass(frozen=True, slots=True)
class BrokerResponse(OrderEvent):
    """The broker answers an order request."""


@dataclass(frozen=True, slots=True)
class BrokerRejection(BrokerResponse):
    """A refusal, with a machine-readable reason and a sentence for people."""

    reason: str
    message: str
