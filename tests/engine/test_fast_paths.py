"""The replay's fast paths deliver exactly what ``publish`` delivers; strategies and the broker
keep only what they need (open orders), not every order of the run."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest

from tests.engine.helpers import configured, row_counts, run
from tradecore.brokers import SimulatedBroker
from tradecore.brokers.simulated import _OrderOutcomes
from tradecore.events import (
    EVENT_TYPES,
    BarProcessed,
    BarReceived,
    CancellationRejected,
    FillEvent,
    OrderAccepted,
    OrderCancellationRequest,
    OrderSubmissionRequest,
)
from tradecore.messaging import BARRIER_CLOCK_EVERY, EventBus, Subscriber, SubscriberError
from tradecore.models import ActionType, BarPeriod, OrderType, RejectionReason, TradeSide
from tradecore.secmaster import count_bars, resolve_symbols
from tradecore.strategies import StrategyBase
from tradecore.strategies.examples import BollingerBreakout, RSIMeanReversion, SMACrossover

THREE = ["ACME", "GLOBX", "INITECH"]


def bar(ts: int, symbol: str = "A") -> BarReceived:
    return BarReceived(ts, symbol, BarPeriod.DAY, 1.0, 2.0, 0.5, 1.5, 10.0)


class _Log(Subscriber):
    delivery = "inline"

    def __init__(self, bus, log, types, label):
        super().__init__(bus)
        self.log, self.label = log, label
        for event_type in types:
            self._subscribe(event_type, self.handle)

    def handle(self, event):
        self.log.append((self.label, type(event).__name__, event.ts_event_ns))


class _Echo(Subscriber):
    """Inline: answers every bar with an accepted order and, on even bars, a second event
    (through the nested publisher), so nested ordering is exercised with one and two items."""

    delivery = "inline"

    def __init__(self, bus, log):
        super().__init__(bus)
        self.log = log
        self._emit = bus.nested_publisher()
        self._subscribe(BarReceived, self.on_bar)

    def on_bar(self, event):
        self.log.append(("echo", "BarReceived", event.ts_event_ns))
        self._publish(OrderAccepted(event.ts_event_ns, order_id=event.ts_event_ns))
        if event.ts_event_ns % 2 == 0:
            self._emit(BarProcessed(event.ts_event_ns, event.symbol, "s", BarPeriod.DAY))


class _Sink(Subscriber):
    is_sink = True
    batch_size = 5

    def __init__(self, bus, got):
        super().__init__(bus)
        for event_type in (BarReceived, OrderAccepted, BarProcessed):
            self._subscribe(event_type, lambda e: got.append((type(e).__name__,
                                                               e.ts_event_ns)))


def _deliveries(use_replay_publisher: bool) -> tuple[list, list]:
    bus = EventBus()
    log, got = [], []
    sink = _Sink(bus, got)
    _Echo(bus, log)
    _Log(bus, log, [BarReceived, OrderAccepted, BarProcessed], "strategy")
    publish = bus.replay_publisher(BarReceived) if use_replay_publisher else None
    previous = None
    for ts in (1, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12):
        for symbol in "AB":
            event = bar(ts, symbol)
            if use_replay_publisher:
                publish(event, previous is not None and ts != previous)
            else:
                if previous is not None and ts != previous:
                    bus.wait_until_system_idle(False)
                bus.publish(event)
            previous = ts
    bus.wait_until_system_idle()
    sink.shutdown()
    return log, got


def test_replay_publisher_delivers_exactly_what_publish_delivers():
    fast_log, fast_sink = _deliveries(True)
    plain_log, plain_sink = _deliveries(False)
    assert fast_log == plain_log and fast_sink == plain_sink
    # and what that is, worked out by hand for the first bar: the echo's order reaches the
    # strategy before the bar does (nested events first), the sink gets all of it in order
    assert plain_log[:3] == [("echo", "BarReceived", 1), ("strategy", "OrderAccepted", 1),
                             ("strategy", "BarReceived", 1)]
    assert plain_sink[:3] == [("BarReceived", 1), ("OrderAccepted", 1), ("BarReceived", 1)]
    assert Counter(name for name, _ in plain_sink) == {"BarReceived": 30, "OrderAccepted": 30,
                                                      "BarProcessed": 12}


def test_replay_publisher_hands_full_sink_batches_over_and_raises_worker_errors():
    bus = EventBus()
    got = []
    sink = _Sink(bus, got)
    publish = bus.replay_publisher(BarReceived)
    every = BARRIER_CLOCK_EVERY
    assert every >= sink.batch_size  # so each look finds a full batch
    for ts in range(1, 3 * every + 1):
        publish(bar(ts), ts > 1)
    # the barriers before ts every + 1 and 2 * every + 1 looked at the sink, found a full
    # batch and handed it over: the last ``every`` remain
    assert [e.ts_event_ns for e in sink._batch] == list(range(2 * every + 1, 3 * every + 1))
    bus.wait_until_system_idle()
    assert [ts for _, ts in got] == list(range(1, 3 * every + 1))
    sink.shutdown()

    class Boom(Subscriber):
        def __init__(self, bus):
            super().__init__(bus)
            self._subscribe(BarReceived, self.on_bar)

        def on_bar(self, event):
            raise ValueError("kaput")

    bus = EventBus()
    Boom(bus)
    publish = bus.replay_publisher(BarReceived)
    publish(bar(1), False)
    deadline = time.monotonic() + 30
    while not bus._errors and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(SubscriberError, match="kaput"):
        publish(bar(2), True)


def test_an_overridden_publish_sees_every_event_of_a_run(sample_secmaster, runs_db,
                                                         monkeypatch):
    """A subclass (or instrumentation) overriding publish turns the fast paths off."""
    seen: Counter = Counter()

    class CountingBus(EventBus):
        def publish(self, event):
            seen[event.table] += 1
            super().publish(event)

    monkeypatch.setattr("tradecore.orchestrator.EventBus", CountingBus)
    orchestrator = run([configured(SMACrossover, THREE, fast_period=5, slow_period=20)])
    assert seen["bars"] > 1000 and seen["bars_processed"] == seen["bars"]
    assert row_counts(runs_db, orchestrator.run_id) == {t.table: seen[t.table]
                                                        for t in EVENT_TYPES}


class _CountingBroker(SimulatedBroker):
    """A broker that also counts every event delivered on the bus (an inline subscriber of
    all 13 types, made before the strategies), so the fast paths stay on."""

    counts: Counter

    def __init__(self, event_bus):
        super().__init__(event_bus)
        counts = type(self).counts

        class Count(Subscriber):
            delivery = "inline"

            def __init__(self, bus):
                super().__init__(bus)
                for event_type in EVENT_TYPES:
                    self._subscribe(event_type, lambda e: counts.update((e.table,)))

        self._counter = Count(event_bus)


def test_nothing_lost_on_the_fast_paths(sample_secmaster, runs_db):
    broker = type("_Counted", (_CountingBroker,), {"counts": Counter()})
    strategies = [configured(RSIMeanReversion, THREE), configured(BollingerBreakout, THREE)]
    orchestrator = run(strategies, broker=broker)
    counts = row_counts(runs_db, orchestrator.run_id)
    assert counts == {t.table: broker.counts[t.table] for t in EVENT_TYPES}
    # and against numbers that do not come from the bus at all
    bars = count_bars(sample_secmaster, resolve_symbols(sample_secmaster, THREE, BarPeriod.DAY),
                      BarPeriod.DAY)
    assert counts["bars"] == bars and counts["bars_processed"] == 2 * bars
    assert counts["order_submissions"] == counts["orders_accepted"] + counts["orders_rejected"]
    assert counts["order_cancellations"] == (counts["cancellations_accepted"]
                                             + counts["cancellations_rejected"])
    assert counts["order_modifications"] == (counts["modifications_accepted"]
                                             + counts["modifications_rejected"])
    assert counts["fills"] > 0 and counts["modifications_accepted"] > 0


def test_strategies_and_broker_keep_only_open_orders(sample_secmaster, runs_db):
    strategies = [configured(SMACrossover, THREE, fast_period=2, slow_period=3),
                  configured(RSIMeanReversion, THREE), configured(BollingerBreakout, THREE)]
    orchestrator = run(strategies)
    counts = row_counts(runs_db, orchestrator.run_id)
    assert counts["order_submissions"] > 1000
    broker = orchestrator._broker
    assert broker._open_orders == {} and broker._open_by_symbol == {}
    # every order id is remembered in the compact record (ids increase), nothing else
    assert len(broker._outcomes._ids) == counts["order_submissions"]
    assert broker._outcomes._others == {}
    for strategy in orchestrator._strategies:
        assert strategy._open_orders == {} and strategy._filled == {}
        assert strategy._awaiting == {}
        assert not hasattr(strategy, "_orders")


def test_order_outcomes_match_a_plain_dict():
    rng = random.Random(3)
    outcomes, model = _OrderOutcomes(), {}
    next_id = 0
    for _ in range(5000):
        roll = rng.random()
        if roll < 0.4:
            next_id += rng.randint(1, 3)  # ids increase, with gaps (fills share the counter)
            order_id = next_id
        elif roll < 0.5:
            order_id = rng.choice([-5, 0, 2**70, "x", 1.5, rng.randint(-100, next_id + 5)])
        else:
            order_id = rng.choice(list(model)) if model else 1
        outcome = rng.choice(["open", "filled", "cancelled", "expired", "rejected"])
        if rng.random() < 0.7:
            outcomes.set(order_id, outcome)
            model[order_id] = outcome
        probe = rng.choice([order_id, next_id + 1, -7])
        assert outcomes.get(probe) == model.get(probe), probe
    assert len(outcomes._ids) > 1000  # the increasing ids went to the array


def test_a_long_closed_order_is_still_answered_no_longer_open():
    bus = EventBus()
    broker = SimulatedBroker(bus)
    broker.connect()
    answers = []

    class Answers(Subscriber):
        delivery = "inline"

        def __init__(self, bus):
            super().__init__(bus)
            self._subscribe(CancellationRejected, answers.append)
            self._subscribe(FillEvent, answers.append)

    Answers(bus)
    for order_id in range(1, 401):
        bus.publish(OrderSubmissionRequest(order_id, order_id=order_id * 2, strategy="s",
                                           symbol="A", order_type=OrderType.MARKET,
                                           side=TradeSide.BUY, quantity=1.0))
        bus.publish(bar(order_id + 1))
    assert sum(isinstance(a, FillEvent) for a in answers) == 400
    for order_id, reason, text in ((2, RejectionReason.ORDER_NOT_OPEN, "it was filled"),
                                   (3, RejectionReason.UNKNOWN_ORDER, "No order with id 3"),
                                   (800, RejectionReason.ORDER_NOT_OPEN, "it was filled")):
        bus.publish(OrderCancellationRequest(500, order_id=order_id, strategy="s"))
        rejection = answers[-1]
        assert isinstance(rejection, CancellationRejected) and rejection.order_id == order_id
        assert rejection.reason == reason and text in rejection.message


def test_a_strategy_hears_the_answer_to_cancelling_its_own_filled_order():
    bus = EventBus()
    broker = SimulatedBroker(bus)
    broker.connect()
    heard = []

    class _Canceller(StrategyBase):
        name = "mine"
        symbols = ["A"]

        def on_bar(self, bar):
            if bar.ts_event_ns == 1:
                self.order = self.submit_order(OrderType.MARKET, TradeSide.BUY, 1)
            elif bar.ts_event_ns == 3:
                self.submit_cancellation(self.order)  # filled on bar 2 already

        def on_cancellation_rejected(self, event):
            heard.append((self.strategy_name, event.order_id, event.reason))

    class _Other(_Canceller):
        name = "other"

        def on_bar(self, bar):
            pass

    mine, other = _Canceller(bus), _Other(bus)
    publish = bus.replay_publisher(BarReceived)
    for ts in (1, 2, 3):
        publish(bar(ts), ts > 1)
    assert heard == [("mine", mine.order, RejectionReason.ORDER_NOT_OPEN)]
    assert mine._open_orders == {} and mine._awaiting == {} and other._awaiting == {}


def test_submit_order_builds_the_request_the_constructor_builds():
    bus = EventBus()
    published = []

    class Keep(Subscriber):
        delivery = "inline"

        def __init__(self, bus):
            super().__init__(bus)
            self._subscribe(OrderSubmissionRequest, published.append)

    Keep(bus)

    class _Submitter(StrategyBase):
        name = "submitter"
        symbols = ["A"]

    strategy = _Submitter(bus)
    strategy._now_ns = 77
    order_id = strategy.submit_order("LIMIT", "SELL", 5.0, limit_price=12.5, expiry_ns=99,
                                     action="EXIT", signal="why")
    expected = OrderSubmissionRequest(
        77, order_id=order_id, strategy="submitter", symbol="A", order_type=OrderType.LIMIT,
        side=TradeSide.SELL, quantity=5.0, limit_price=12.5, stop_price=None, expiry_ns=99,
        action=ActionType.EXIT, signal="why", ts_created_ns=published[0].ts_created_ns)
    assert published == [expected]
    assert published[0].order_type is OrderType.LIMIT and published[0].action is ActionType.EXIT
