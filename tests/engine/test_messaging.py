"""EventBus and Subscriber: routing, ordering, idle waits, error propagation."""

from __future__ import annotations

import threading
import time

import pytest

from tradecore.events import BarProcessed, BarReceived, FillEvent, OrderAccepted
from tradecore.messaging import EventBus, Subscriber, SubscriberError
from tradecore.models import BarPeriod, TradeSide


def bar(ts: int, symbol: str = "A") -> BarReceived:
    return BarReceived(ts, symbol, BarPeriod.DAY, 1.0, 2.0, 0.5, 1.5, 10.0)


class Log(Subscriber):
    delivery = "inline"

    def __init__(self, bus, log, types, label):
        super().__init__(bus)
        self.log, self.label = log, label
        for t in types:
            self._subscribe(t, self.handle)

    def handle(self, event):
        self.log.append((self.label, type(event).__name__, event.ts_event_ns))


def test_exact_type_routing_not_subclasses():
    bus = EventBus()
    log = []
    Log(bus, log, [BarReceived], "a")
    bus.publish(bar(1))
    bus.publish(BarProcessed(2, "A", "s", BarPeriod.DAY))
    assert log == [("a", "BarReceived", 1)]


def test_unsubscribe_removes_only_that_subscribers_route_to_a_shared_handler():
    """Two subscribers may route a type to the very same function; one leaving keeps the
    other's delivery."""
    bus = EventBus()
    seen = []
    handler = seen.append  # one object, routed to by both

    class Shared(Subscriber):
        delivery = "inline"

        def __init__(self, bus):
            super().__init__(bus)
            self._subscribe(BarReceived, handler)

    first, second = Shared(bus), Shared(bus)
    bus.publish(bar(1))
    first.shutdown()
    bus.publish(bar(2))
    second.shutdown()
    bus.publish(bar(3))
    assert [event.ts_event_ns for event in seen] == [1, 1, 2]


def test_nested_events_reach_everyone_before_the_next_subscriber():
    bus = EventBus()
    log = []

    class Broker(Subscriber):
        delivery = "inline"

        def __init__(self, bus):
            super().__init__(bus)
            self._subscribe(BarReceived, self.on_bar)

        def on_bar(self, event):
            log.append(("broker", "bar", event.ts_event_ns))
            self._publish(FillEvent(event.ts_event_ns, fill_id=1, associated_order_id=1,
                                    strategy="s", symbol="A", side=TradeSide.BUY,
                                    quantity_filled=1, fill_price=1, commission=0))

    Broker(bus)
    Log(bus, log, [BarReceived, FillEvent], "strategy")
    bus.publish(bar(5))
    assert log == [("broker", "bar", 5), ("strategy", "FillEvent", 5),
                   ("strategy", "BarReceived", 5)]


def test_threaded_subscriber_and_idle_wait_cover_handoffs():
    """A worker-thread subscriber hands work to another; idle means both are done."""
    bus = EventBus()
    seen = []

    class Slow(Subscriber):
        def __init__(self, bus):
            super().__init__(bus)
            self._subscribe(BarReceived, self.on_bar)

        def on_bar(self, event):
            time.sleep(0.01)
            self._publish(OrderAccepted(event.ts_event_ns, order_id=event.ts_event_ns))

    class Sink(Subscriber):
        def __init__(self, bus):
            super().__init__(bus)
            self._subscribe(OrderAccepted, self.on_accepted)

        def on_accepted(self, event):
            time.sleep(0.01)
            seen.append(event.order_id)

    slow, sink = Slow(bus), Sink(bus)
    for ts in range(5):
        bus.publish(bar(ts))
    bus.wait_until_system_idle()
    assert seen == [0, 1, 2, 3, 4]
    slow.shutdown()
    sink.shutdown()


def test_worker_exception_reaches_the_waiter():
    bus = EventBus()

    class Boom(Subscriber):
        def __init__(self, bus):
            super().__init__(bus)
            self._subscribe(BarReceived, self.on_bar)

        def on_bar(self, event):
            raise ValueError("kaput")

    Boom(bus)
    bus.publish(bar(1))
    with pytest.raises(SubscriberError, match="kaput") as info:
        bus.wait_until_system_idle()
    assert isinstance(info.value.__cause__, ValueError)


def test_inline_exception_propagates_to_publisher():
    bus = EventBus()

    class Boom(Subscriber):
        delivery = "inline"

        def __init__(self, bus):
            super().__init__(bus)
            self._subscribe(BarReceived, lambda e: 1 / 0)

    Boom(bus)
    with pytest.raises(ZeroDivisionError):
        bus.publish(bar(1))
    # the bus stays usable after an error
    log = []
    Log(bus, log, [OrderAccepted], "x")
    bus.publish(OrderAccepted(3, order_id=3))
    assert log == [("x", "OrderAccepted", 3)]


def test_batched_sink_receives_everything_in_order_from_many_threads():
    bus = EventBus()
    got = []

    class Sink(Subscriber):
        is_sink = True
        batch_size = 7

        def __init__(self, bus):
            super().__init__(bus)
            self._subscribe(BarReceived, lambda e: got.append(e.ts_event_ns))

    sink = Sink(bus)

    def publish_range(start):
        for ts in range(start, start + 500):
            bus.publish(bar(ts))

    threads = [threading.Thread(target=publish_range, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bus.wait_until_system_idle()
    assert sorted(got) == sorted(k * 1000 + i for k in range(4) for i in range(500))
    for k in range(4):  # each publisher's events keep their order
        mine = [ts for ts in got if k * 1000 <= ts < k * 1000 + 500]
        assert mine == sorted(mine)
    sink.shutdown()


def test_a_sink_batched_by_type_gets_each_types_events_in_order():
    """``batch_by_type``: hand-overs are ``(type, events)`` pairs, each type's events in
    publication order, every event exactly once; a full batch counts all types together,
    and the bus's idle wait counts each event as work until the sink has handled it."""
    bus = EventBus()
    batches, got = [], []

    class Sink(Subscriber):
        is_sink = True
        batch_size = 10
        batch_by_type = True

        def __init__(self, bus):
            super().__init__(bus)
            for event_type in (BarReceived, BarProcessed):
                self._subscribe(event_type, lambda e: got.append((type(e), e.ts_event_ns)))

        def _handle_batch(self, items):
            batches.append([(kind, [e.ts_event_ns for e in events]) for kind, events in items])
            super()._handle_batch(items)

    sink = Sink(bus)
    publish = bus.replay_publisher(BarReceived)
    for ts in range(1, 41):
        if ts % 3 == 0:
            bus.publish(BarProcessed(ts, "A", "s", BarPeriod.DAY))
        publish(bar(ts), ts > 1)
    bus.wait_until_system_idle()
    assert bus._unfinished == 0
    sink.shutdown()
    # by the barrier's look every BARRIER_CLOCK_EVERY timestamps, so several hand-overs
    assert len(batches) > 1
    assert all(len({kind for kind, _ in batch}) == len(batch) for batch in batches)
    for kind, wanted in ((BarReceived, list(range(1, 41))),
                         (BarProcessed, list(range(3, 41, 3)))):
        assert [ts for batch in batches for k, tss in batch if k is kind for ts in tss] == wanted
        assert [ts for k, ts in got if k is kind] == wanted


def test_only_sinks_may_batch():
    class Bad(Subscriber):
        batch_size = 10

    with pytest.raises(ValueError, match="sink"):
        Bad(EventBus())
