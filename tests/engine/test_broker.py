"""SimulatedBroker against hand-worked bars: fill prices, rejections, cancel/modify, expiry,
commission, slippage and the cash/position book."""

from __future__ import annotations

import math

import pytest

from tradecore.brokers.simulated import SimulatedBroker
from tradecore.events import (
    BarReceived,
    CancellationAccepted,
    CancellationRejected,
    FillEvent,
    ModificationAccepted,
    ModificationRejected,
    OrderAccepted,
    OrderCancellationRequest,
    OrderExpired,
    OrderModificationRequest,
    OrderRejected,
    OrderSubmissionRequest,
)
from tradecore.messaging import EventBus, Subscriber
from tradecore.models import BarPeriod, OrderType, RejectionReason, TradeSide

DAY = BarPeriod.DAY.nanoseconds
BUY, SELL = TradeSide.BUY, TradeSide.SELL
MARKET, LIMIT, STOP, STOP_LIMIT = (
    OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT
)
OUTCOMES = (
    OrderAccepted, OrderRejected, CancellationAccepted, CancellationRejected,
    ModificationAccepted, ModificationRejected, FillEvent, OrderExpired,
)


class Recorder(Subscriber):
    """Keeps every broker response and order outcome, in delivery order."""

    delivery = "inline"

    def __init__(self, event_bus: EventBus) -> None:
        super().__init__(event_bus)
        self.events: list = []
        for event_type in OUTCOMES:
            self._subscribe(event_type, self.events.append)

    def of(self, event_type: type) -> list:
        return [event for event in self.events if type(event) is event_type]

    @property
    def fills(self) -> list[FillEvent]:
        return self.of(FillEvent)


class Market:
    """A bus, a configured broker and a recorder, with helpers that publish hand-made events."""

    def __init__(self, **config: float) -> None:
        self.bus = EventBus()
        self.broker = type("B", (SimulatedBroker,), config)(self.bus)
        self.recorder = Recorder(self.bus)
        self.broker.connect()

    @property
    def events(self) -> list:
        return self.recorder.events

    @property
    def fills(self) -> list[FillEvent]:
        return self.recorder.fills

    def bar(self, day: int, o: float, h: float, lo: float, c: float, symbol: str = "A") -> None:
        assert lo <= min(o, c) <= max(o, c) <= h, "a hand-made bar must be consistent"
        self.bus.publish(BarReceived(
            ts_event_ns=day * DAY, symbol=symbol, bar_period=BarPeriod.DAY,
            open=o, high=h, low=lo, close=c, volume=1_000.0,
        ))

    def submit(self, order_id: int, day: int, order_type: OrderType, side: TradeSide,
               quantity: float = 10.0, symbol: str = "A", **fields) -> None:
        self.bus.publish(OrderSubmissionRequest(
            ts_event_ns=day * DAY, order_id=order_id, strategy="S", symbol=symbol,
            order_type=order_type, side=side, quantity=quantity, **fields,
        ))

    def cancel(self, order_id: int, day: int, strategy: str = "S") -> None:
        self.bus.publish(OrderCancellationRequest(
            ts_event_ns=day * DAY, order_id=order_id, strategy=strategy))

    def modify(self, order_id: int, day: int, **fields) -> None:
        self.bus.publish(OrderModificationRequest(
            ts_event_ns=day * DAY, order_id=order_id, strategy="S", **fields))

    def last(self) -> object:
        return self.events[-1]


def only_fill(market: Market) -> FillEvent:
    assert len(market.fills) == 1, market.events
    return market.fills[0]


# -- configuration -----------------------------------------------------------------------------


def test_configuration_reads_the_configured_subclass():
    broker_class = type("B", (SimulatedBroker,), {"slippage_bps": 2.5, "initial_cash": 5_000.0})
    assert broker_class.configuration() == {
        "commission_per_unit": 0.0,
        "minimum_commission_per_order": 0.0,
        "slippage_bps": 2.5,
        "initial_cash": 5_000.0,
    }
    assert Market(initial_cash=5_000.0).broker.cash == 5_000.0


# -- market orders -----------------------------------------------------------------------------


def test_market_order_fills_at_next_open_of_its_symbol_only():
    m = Market()
    m.submit(1, day=1, order_type=MARKET, side=BUY)
    assert m.last() == OrderAccepted(ts_event_ns=DAY, order_id=1,
                                     ts_created_ns=m.last().ts_created_ns)
    m.bar(1, 100, 102, 99, 101)  # the bar it was sent on
    m.bar(1, 50, 51, 49, 50, symbol="B")  # another symbol, same time
    m.bar(2, 60, 61, 59, 60, symbol="B")  # another symbol, later
    assert m.fills == []
    m.bar(2, 101, 104, 100, 103)
    fill = only_fill(m)
    assert (fill.ts_event_ns, fill.associated_order_id, fill.strategy, fill.symbol) == (
        2 * DAY, 1, "S", "A")
    assert (fill.side, fill.quantity_filled, fill.fill_price, fill.commission) == (
        BUY, 10.0, 101.0, 0.0)
    assert isinstance(fill.fill_id, int)
    m.bar(3, 90, 91, 89, 90)
    assert len(m.fills) == 1, "a filled order fills once"


def test_orders_of_a_symbol_fill_in_submission_order_with_increasing_fill_ids():
    m = Market()
    m.submit(7, 1, MARKET, SELL, 3)
    m.submit(5, 1, LIMIT, BUY, 2, limit_price=200.0)
    m.submit(6, 1, MARKET, BUY, 1)
    m.bar(2, 100, 101, 99, 100)
    assert [f.associated_order_id for f in m.fills] == [7, 5, 6]
    assert [f.fill_price for f in m.fills] == [100.0, 100.0, 100.0]
    ids = [f.fill_id for f in m.fills]
    assert ids == sorted(ids) and len(set(ids)) == 3


# -- limit and stop orders ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "limit", "bar", "price"),
    [
        (BUY, 99.0, (100, 101, 98.5, 100), 99.0),  # dips through the limit
        (BUY, 99.0, (97, 98, 96, 97), 97.0),  # gaps below the limit: the open
        (BUY, 99.0, (100, 101, 99, 100), 99.0),  # touches exactly
        (BUY, 99.0, (100, 101, 99.5, 100), None),  # never reached
        (SELL, 105.0, (104, 106, 103, 105), 105.0),
        (SELL, 105.0, (107, 108, 106, 107), 107.0),  # gaps above: the open
        (SELL, 105.0, (104, 104.9, 103, 104), None),
    ],
)
def test_limit_order(side, limit, bar, price):
    m = Market()
    m.submit(1, 1, LIMIT, side, limit_price=limit)
    m.bar(1, 50, 200, 1, 100)  # the submission bar reaches everything and must not fill
    m.bar(2, *bar)
    assert [f.fill_price for f in m.fills] == ([] if price is None else [price])


@pytest.mark.parametrize(
    ("side", "stop", "bar", "price"),
    [
        (BUY, 105.0, (103, 106, 102, 104), 105.0),  # rises through the stop
        (BUY, 105.0, (107, 108, 106, 107), 107.0),  # gaps above the stop: the open
        (BUY, 105.0, (103, 104.9, 102, 104), None),
        (SELL, 95.0, (97, 98, 94, 96), 95.0),
        (SELL, 95.0, (93, 94, 92, 93), 93.0),  # gaps below: the open
        (SELL, 95.0, (97, 98, 95.1, 96), None),
    ],
)
def test_stop_order(side, stop, bar, price):
    m = Market()
    m.submit(1, 1, STOP, side, stop_price=stop)
    m.bar(2, *bar)
    assert [f.fill_price for f in m.fills] == ([] if price is None else [price])


# -- stop-limit orders -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "stop", "limit", "bars", "fill"),
    [
        # Buy, limit above the stop, triggered intrabar: marketable at the trigger -> the stop.
        (BUY, 105.0, 106.0, [(103, 107, 102, 106)], (0, 105.0)),
        # Buy, gapped through the stop, open within the limit -> the open.
        (BUY, 105.0, 106.0, [(105.5, 107, 105.2, 106)], (0, 105.5)),
        # Buy, gapped above the limit, comes back to it later in the bar -> the limit.
        (BUY, 105.0, 106.0, [(108, 109, 105.8, 107)], (0, 106.0)),
        # Buy, gapped above the limit and stays above: triggered; plain limit next bar.
        (BUY, 105.0, 106.0, [(108, 109, 107, 108), (107, 108, 105, 106)], (1, 106.0)),
        # Buy, limit below the stop, triggered intrabar: the low (102) may have come before
        # the trigger, so no fill on this bar; next bar it is a limit at 104.
        (BUY, 105.0, 104.0, [(103, 106, 102, 105), (104.5, 105, 103.5, 104)], (1, 104.0)),
        # ... and next bar gapping below the limit fills at that open.
        (BUY, 105.0, 104.0, [(103, 106, 102, 105), (103.5, 104, 103, 103.5)], (1, 103.5)),
        # Buy, the limit is reachable but the stop never triggers: no fill, ever.
        (BUY, 105.0, 104.0, [(103, 104.5, 102, 104), (103, 104.8, 101, 104)], None),
        # Sell mirrors: limit below the stop, intrabar trigger -> the stop.
        (SELL, 95.0, 94.0, [(97, 98, 93, 94)], (0, 95.0)),
        # Sell, gapped below the stop, open within the limit -> the open.
        (SELL, 95.0, 94.0, [(94.5, 95, 93, 94)], (0, 94.5)),
        # Sell, gapped below the limit, rallies back to it -> the limit.
        (SELL, 95.0, 94.0, [(92, 94.5, 91, 93)], (0, 94.0)),
        # Sell, limit above the stop, intrabar trigger: no fill; next bar a limit at 96.
        (SELL, 95.0, 96.0, [(97, 98, 93, 95), (95, 96.5, 94, 96)], (1, 96.0)),
    ],
)
def test_stop_limit_order(side, stop, limit, bars, fill):
    m = Market()
    m.submit(1, 1, STOP_LIMIT, side, stop_price=stop, limit_price=limit)
    for day, bar in enumerate(bars, start=2):
        m.bar(day, *bar)
    if fill is None:
        assert m.fills == []
    else:
        index, price = fill
        assert [(f.ts_event_ns, f.fill_price) for f in m.fills] == [((2 + index) * DAY, price)]


# -- rejections --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_type", "fields", "reason", "words"),
    [
        (MARKET, {"quantity": 0.0}, RejectionReason.INVALID_QUANTITY, "Quantity"),
        (MARKET, {"quantity": -5.0}, RejectionReason.INVALID_QUANTITY, "-5.0"),
        (MARKET, {"quantity": math.nan}, RejectionReason.INVALID_QUANTITY, "nan"),
        (MARKET, {"quantity": math.inf}, RejectionReason.INVALID_QUANTITY, "inf"),
        (MARKET, {"quantity": "10"}, RejectionReason.INVALID_QUANTITY, "'10'"),
        (LIMIT, {}, RejectionReason.MISSING_PRICE, "LIMIT order needs a limit price"),
        (STOP, {}, RejectionReason.MISSING_PRICE, "STOP order needs a stop price"),
        (STOP_LIMIT, {"stop_price": 5.0}, RejectionReason.MISSING_PRICE, "limit price"),
        (STOP_LIMIT, {"limit_price": 5.0}, RejectionReason.MISSING_PRICE, "stop price"),
        (LIMIT, {"limit_price": 0.0}, RejectionReason.INVALID_PRICE, "greater than 0"),
        (LIMIT, {"limit_price": -1.0}, RejectionReason.INVALID_PRICE, "limit price"),
        (STOP, {"stop_price": math.nan}, RejectionReason.INVALID_PRICE, "stop price"),
        (STOP_LIMIT, {"stop_price": 5.0, "limit_price": math.inf},
         RejectionReason.INVALID_PRICE, "limit price"),
        (MARKET, {"limit_price": 5.0}, RejectionReason.INVALID_PRICE, "MARKET order has no"),
        (LIMIT, {"limit_price": 5.0, "stop_price": 4.0}, RejectionReason.INVALID_PRICE,
         "LIMIT order has no stop price"),
        (MARKET, {"expiry_ns": DAY}, RejectionReason.INVALID_EXPIRY, "Expiry"),
        (MARKET, {"expiry_ns": DAY - 1}, RejectionReason.INVALID_EXPIRY, "after"),
        (MARKET, {"expiry_ns": 1.5 * DAY}, RejectionReason.INVALID_EXPIRY, "Expiry"),
    ],
)
def test_submission_rejected_with_reason_and_sentence(order_type, fields, reason, words):
    m = Market()
    m.submit(1, 1, order_type, BUY, **fields)
    rejection = m.last()
    assert type(rejection) is OrderRejected
    assert (rejection.order_id, rejection.ts_event_ns, rejection.reason) == (1, DAY, reason)
    assert words in rejection.message and rejection.message.endswith(".")
    m.bar(2, 100, 200, 1, 100)
    assert m.fills == []
    m.cancel(1, 2)
    assert m.last().reason == RejectionReason.ORDER_NOT_OPEN
    assert "rejected" in m.last().message


def test_duplicate_order_id_is_rejected_and_leaves_the_first_order_alone():
    m = Market()
    m.submit(1, 1, LIMIT, BUY, limit_price=90.0)
    m.submit(1, 1, MARKET, SELL)
    rejection = m.last()
    assert type(rejection) is OrderRejected and "already in use" in rejection.message
    m.bar(2, 100, 101, 89, 95)
    assert [(f.side, f.fill_price) for f in m.fills] == [(BUY, 90.0)]


# -- cancellation ------------------------------------------------------------------------------


def test_cancellation_flows():
    m = Market()
    m.submit(1, 1, LIMIT, BUY, limit_price=99.0)
    m.cancel(1, 1)
    assert type(m.last()) is CancellationAccepted and m.last().order_id == 1
    m.bar(2, 98, 99, 97, 98)
    assert m.fills == []
    m.cancel(1, 2)
    again = m.last()
    assert (type(again), again.reason) == (CancellationRejected, RejectionReason.ORDER_NOT_OPEN)
    assert "cancelled" in again.message
    m.cancel(42, 2)
    unknown = m.last()
    assert (type(unknown), unknown.reason) == (CancellationRejected, RejectionReason.UNKNOWN_ORDER)
    assert "42" in unknown.message

    m.submit(2, 2, MARKET, BUY)
    m.bar(3, 100, 101, 99, 100)
    m.cancel(2, 3)
    assert (m.last().reason, "filled" in m.last().message) == (
        RejectionReason.ORDER_NOT_OPEN, True)


def test_a_strategy_cannot_cancel_another_strategys_order():
    m = Market()
    m.submit(1, 1, MARKET, BUY)
    m.cancel(1, 1, strategy="Other")
    assert (type(m.last()), m.last().reason) == (
        CancellationRejected, RejectionReason.UNKNOWN_ORDER)
    m.bar(2, 100, 101, 99, 100)
    assert len(m.fills) == 1


# -- modification ------------------------------------------------------------------------------


def test_modification_applies_and_reports_the_full_order():
    m = Market()
    m.submit(1, 1, STOP_LIMIT, BUY, 10, stop_price=105.0, limit_price=106.0)
    m.modify(1, 1, limit_price=107.0)
    accepted = m.last()
    assert type(accepted) is ModificationAccepted
    assert (accepted.quantity, accepted.limit_price, accepted.stop_price) == (10.0, 107.0, 105.0)
    m.modify(1, 1, quantity=4)
    assert (m.last().quantity, m.last().limit_price, m.last().stop_price) == (4.0, 107.0, 105.0)
    m.bar(2, 108, 109, 106.5, 107)  # gapped through the stop, back to the new limit 107
    fill = only_fill(m)
    assert (fill.quantity_filled, fill.fill_price) == (4.0, 107.0)


def test_modification_keeps_queue_position_and_not_before_next_bar():
    m = Market()
    m.submit(1, 1, LIMIT, BUY, limit_price=90.0)
    m.submit(2, 1, MARKET, BUY)
    m.modify(1, 1, limit_price=200.0)
    m.bar(1, 100, 101, 99, 100)  # still the submission bar
    assert m.fills == []
    m.bar(2, 100, 101, 99, 100)
    assert [(f.associated_order_id, f.fill_price) for f in m.fills] == [(1, 100.0), (2, 100.0)]


@pytest.mark.parametrize(
    ("order_type", "prices", "change", "reason", "words"),
    [
        (LIMIT, {"limit_price": 99.0}, {"quantity": 0.0}, RejectionReason.INVALID_QUANTITY,
         "Quantity"),
        (LIMIT, {"limit_price": 99.0}, {"quantity": math.nan}, RejectionReason.INVALID_QUANTITY,
         "nan"),
        (LIMIT, {"limit_price": 99.0}, {"limit_price": -2.0}, RejectionReason.INVALID_PRICE,
         "limit price"),
        (STOP, {"stop_price": 99.0}, {"stop_price": math.inf}, RejectionReason.INVALID_PRICE,
         "stop price"),
        (MARKET, {}, {"limit_price": 99.0}, RejectionReason.INVALID_PRICE,
         "MARKET order has no limit price"),
        (LIMIT, {"limit_price": 99.0}, {"stop_price": 98.0}, RejectionReason.INVALID_PRICE,
         "LIMIT order has no stop price"),
    ],
)
def test_invalid_modification_is_rejected_and_changes_nothing(
        order_type, prices, change, reason, words):
    m = Market()
    m.submit(1, 1, order_type, BUY, 10, **prices)
    m.modify(1, 1, **change)
    rejection = m.last()
    assert (type(rejection), rejection.reason) == (ModificationRejected, reason)
    assert words in rejection.message
    m.bar(2, 99, 99.5, 98, 99)
    assert [(f.quantity_filled, f.fill_price) for f in m.fills] == [(10.0, 99.0)]


def test_modification_of_unknown_or_closed_order_is_rejected():
    m = Market()
    m.modify(9, 1, quantity=1.0)
    assert (type(m.last()), m.last().reason) == (
        ModificationRejected, RejectionReason.UNKNOWN_ORDER)
    m.submit(1, 1, MARKET, BUY)
    m.bar(2, 100, 101, 99, 100)
    m.modify(1, 2, quantity=1.0)
    assert (type(m.last()), m.last().reason) == (
        ModificationRejected, RejectionReason.ORDER_NOT_OPEN)
    assert "filled" in m.last().message


# -- expiry ------------------------------------------------------------------------------------


def test_expiry_comes_before_any_fill_on_the_expiry_bar():
    m = Market()
    m.submit(1, 1, LIMIT, BUY, limit_price=99.0, expiry_ns=3 * DAY)
    m.bar(2, 100, 101, 99.5, 100)  # not reached
    m.bar(3, 98, 99, 97, 98, symbol="B")  # another symbol's bar does not expire it
    assert m.recorder.of(OrderExpired) == []
    m.bar(3, 98, 99, 97, 98)  # would fill, but the order expires first
    expired = m.last()
    assert (type(expired), expired.ts_event_ns, expired.order_id, expired.symbol) == (
        OrderExpired, 3 * DAY, 1, "A")
    assert m.fills == []
    m.cancel(1, 3)
    assert "expired" in m.last().message


def test_order_fills_on_the_bar_before_its_expiry():
    m = Market()
    m.submit(1, 1, LIMIT, BUY, limit_price=99.0, expiry_ns=3 * DAY)
    m.bar(2, 100, 101, 98, 100)
    assert only_fill(m).fill_price == 99.0
    m.bar(3, 100, 101, 98, 100)
    assert m.recorder.of(OrderExpired) == []


def test_end_of_data_expires_every_open_order_in_submission_order():
    m = Market()
    m.submit(3, 1, LIMIT, BUY, symbol="B", limit_price=1.0)
    m.submit(1, 1, STOP, BUY, symbol="A", stop_price=1_000.0)
    m.submit(2, 1, MARKET, SELL, symbol="A")
    m.bar(2, 100, 101, 99, 100)  # fills order 2
    m.bar(4, 50, 51, 49, 50, symbol="B")
    m.broker.disconnect()
    expired = m.recorder.of(OrderExpired)
    assert [(e.order_id, e.symbol, e.ts_event_ns) for e in expired] == [
        (3, "B", 4 * DAY), (1, "A", 4 * DAY)]
    assert m.events[-2:] == expired


# -- money -------------------------------------------------------------------------------------


def test_commission_is_per_unit_with_a_minimum_per_order():
    m = Market(commission_per_unit=0.01, minimum_commission_per_order=1.0)
    m.submit(1, 1, MARKET, BUY, 10)  # 0.10 -> the minimum 1.00
    m.submit(2, 1, MARKET, BUY, 500)  # 5.00
    m.bar(2, 100, 101, 99, 100)
    assert [f.commission for f in m.fills] == [1.0, pytest.approx(5.0)]
    assert m.broker.cash == pytest.approx(100_000 - 510 * 100 - 6.0)


def test_slippage_moves_buys_up_and_sells_down_on_top_of_the_rule_price():
    m = Market(slippage_bps=10.0)
    m.submit(1, 1, MARKET, BUY, 10)
    m.submit(2, 1, LIMIT, SELL, 10, limit_price=102.0)
    m.submit(3, 1, LIMIT, BUY, 10, limit_price=99.0)
    m.bar(2, 100, 103, 98, 101)
    prices = [f.fill_price for f in m.fills]
    assert prices == [pytest.approx(100.1), pytest.approx(101.898), pytest.approx(99.099)]
    assert m.broker.cash == pytest.approx(100_000 - 1001 + 1018.98 - 990.99)


def test_cash_positions_and_equity():
    m = Market(commission_per_unit=0.5)
    m.submit(1, 1, MARKET, BUY, 10)
    m.bar(2, 101, 104, 100, 103)
    assert m.broker.position("A") == 10.0
    assert m.broker.cash == pytest.approx(100_000 - 1010 - 5)
    assert m.broker.equity == pytest.approx(100_000 - 1010 - 5 + 10 * 103)
    m.submit(2, 2, MARKET, SELL, 4)
    m.submit(3, 2, MARKET, SELL, 5, symbol="B")  # a short: no cash check
    m.bar(3, 110, 113, 109, 112)
    m.bar(3, 20, 21, 19, 21, symbol="B")
    assert (m.broker.position("A"), m.broker.position("B"), m.broker.position("C")) == (
        6.0, -5.0, 0.0)
    cash = 100_000 - 1010 - 5 + 440 - 2 + 100 - 2.5
    assert m.broker.cash == pytest.approx(cash)
    assert m.broker.equity == pytest.approx(cash + 6 * 112 - 5 * 21)
    assert m.broker.positions == {"A": 6.0, "B": -5.0}
    with pytest.raises(AttributeError):
        m.broker.cash = 0.0
