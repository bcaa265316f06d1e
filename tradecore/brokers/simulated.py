"""SimulatedBroker: fills orders against OHLC bars, keeps cash and positions.

Configuration is class attributes (``type("B", (SimulatedBroker,), {"slippage_bps": 5.0})``):
``commission_per_unit``, ``minimum_commission_per_order``, ``slippage_bps``, ``initial_cash``.

When an order may fill
    An order remembers the ``ts_event_ns`` of the request that submitted it and may fill only on
    a bar of *its own symbol* whose ``ts_event_ns`` is strictly later. Never on the bar it was
    sent on (the strategy decided on that bar's close), nor on another symbol's bar that shares
    the timestamp. A modification keeps this rule and the order's place in the queue.

Order of work on a bar of symbol S
    1. Open orders of S whose ``expiry_ns <= bar.ts_event_ns`` expire (``OrderExpired``) before
       anything can fill: an expiry is "good until, not including, this time".
    2. The remaining eligible orders of S are tried in submission order, each independently of
       the others (no volume limit, no market impact). A filling order fills completely, in one
       ``FillEvent`` stamped with the bar's ``ts_event_ns``.

Prices (O, H, L = the bar's open, high, low; "buy" rules, sells mirror them)
    - MARKET: fills at O.
    - LIMIT at P: fills when L <= P, at min(O, P). A bar that opens at or below the limit (a gap
      through it) fills at the open; otherwise the price came down to P and fills at P.
      Sell: fills when H >= P, at max(O, P).
    - STOP at S: fills when H >= S, at max(O, S): at the open if the bar gapped through the stop,
      else at the stop. Sell: fills when L <= S, at min(O, S).
    - STOP_LIMIT with stop S and limit P: inactive until a bar triggers the stop (H >= S), then a
      LIMIT at P. It never fills at a price seen before the trigger. On the trigger bar:
        * gapped trigger, O >= S: the stop triggered at the open, so the whole bar comes after
          the trigger and the plain LIMIT rule applies to it: fills when L <= P, at min(O, P).
        * intrabar trigger, O < S <= H: we only know the price touched S at some point. If
          P >= S, the order was marketable at the trigger and fills at S (like a STOP). If P < S,
          whether the price came back down to P *after* touching S is unknowable from OHLC, so
          it does not fill on this bar.
      From the next bar on it is a plain LIMIT (its stop no longer matters).
      Sell mirror: triggers when L <= S; gapped (O <= S): fills when H >= P at max(O, P);
      intrabar (O > S >= L): fills at S if P <= S, otherwise not on this bar.

Slippage and commission
    - Slippage is applied on top of the rule price for every order type: buys fill at
      price x (1 + slippage_bps / 1e4), sells at price x (1 - slippage_bps / 1e4). So a limit buy
      can pay a little more than its limit: slippage models the cost of trading, not the book.
    - Commission of a fill is max(commission_per_unit x quantity, minimum still owed), where the
      minimum (``minimum_commission_per_order``) is owed once per *order*: each fill pays at
      least what remains of the minimum after the order's earlier fills. Orders fill completely
      in one fill here, so in practice every fill pays max(rate x quantity, minimum).

Requests
    A submission is rejected (``OrderRejected``, reason + sentence) for: an order id already
    used (reason UNKNOWN_ORDER, as no reason names a reused id), a quantity that is not a finite
    number > 0 (INVALID_QUANTITY), a missing limit price on LIMIT/STOP_LIMIT or stop price on
    STOP/STOP_LIMIT (MISSING_PRICE), a price that is not a finite number > 0 or that the order
    type does not use, e.g. a limit on a MARKET order (INVALID_PRICE), and an ``expiry_ns`` that
    is not an integer after the request's time (INVALID_EXPIRY). Symbols are not checked: an
    order for a symbol without bars never fills and expires at the end of data.
    Cancellations and modifications are rejected with UNKNOWN_ORDER for an id never seen (or an
    order of another strategy) and ORDER_NOT_OPEN for one filled, cancelled, expired or
    rejected; a modification with invalid values gets the submission's reasons and changes
    nothing. ``None`` in a modification keeps the field.

Cash and positions
    ``cash -= side.sign x quantity x fill_price + commission``; positions are signed per symbol;
    ``equity`` marks them at the last close seen per symbol. There is no cash or margin check:
    orders are never rejected for lack of cash, and leverage is the strategy's responsibility.

Design Decision: a symbol without open orders costs one dict lookup per bar
    On a 1M-bar run almost every bar finds no order of its symbol, so ``_on_bar`` stores the bar
    (for ``equity`` and the end-of-data time) and returns before anything else.

Design Decision: closed orders are remembered in about 9 bytes each
    To answer a late cancellation or modification with "no longer open: it was filled" (and
    to refuse a reused id) the broker must know every order id it has seen and what became of
    it, for the whole run. Keeping a dict entry or an order object per order made memory grow
    by hundreds of bytes an order; ``_OrderOutcomes`` keeps the ids in submission order in an
    ``array`` (they increase: the bus hands them out) with one outcome byte each, found by
    bisection. Ids that do not increase (hand-made requests) go to a small dict.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from numbers import Integral, Real

from tradecore.brokers.base import BrokerBase
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
from tradecore.messaging import EventBus
from tradecore.models import OrderType, RejectionReason, TradeSide

_NEEDS_LIMIT = (OrderType.LIMIT, OrderType.STOP_LIMIT)
_NEEDS_STOP = (OrderType.STOP, OrderType.STOP_LIMIT)

# What became of an order that is no longer open (for the ORDER_NOT_OPEN message).
_FILLED, _CANCELLED, _EXPIRED, _REJECTED = "filled", "cancelled", "expired", "rejected"
_OPEN = "open"
_OUTCOMES = (_OPEN, _FILLED, _CANCELLED, _EXPIRED, _REJECTED)
_OUTCOME_CODE = {outcome: code for code, outcome in enumerate(_OUTCOMES)}
_INT64 = (-(2**63), 2**63 - 1)

# No member of RejectionReason names a reused order id; the id is "unknown" as a *new* order.
_DUPLICATE_ORDER_REASON = RejectionReason.DUPLICATE_ORDER_ID


def _is_positive_finite(value: object) -> bool:
    if type(value) is float or type(value) is int:  # the usual case, without the ABC check
        return 0 < value < math.inf
    return (
        isinstance(value, Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _quantity_message(quantity: object) -> str:
    return f"Quantity must be a finite number greater than 0, not {quantity!r}."


class _OrderOutcomes:
    """Every order id the broker has seen and its outcome (``_OPEN`` while open); see the
    module docstring for why it is an array and not a dict."""

    __slots__ = ("_codes", "_ids", "_others")

    def __init__(self) -> None:
        self._ids = array("q")
        self._codes = bytearray()
        self._others: dict[object, str] = {}

    def get(self, order_id: object) -> str | None:
        ids = self._ids
        if type(order_id) is int and ids:
            at = bisect_left(ids, order_id) if _INT64[0] <= order_id <= _INT64[1] else len(ids)
            if at < len(ids) and ids[at] == order_id:
                return _OUTCOMES[self._codes[at]]
        return self._others.get(order_id)

    def set(self, order_id: object, outcome: str) -> None:
        """Record ``outcome`` for ``order_id`` (new ids should come in increasing order)."""
        ids = self._ids
        if type(order_id) is int and _INT64[0] <= order_id <= _INT64[1]:
            if not ids or order_id > ids[-1]:
                if order_id not in self._others:
                    ids.append(order_id)
                    self._codes.append(_OUTCOME_CODE[outcome])
                    return
            else:
                at = bisect_left(ids, order_id)
                if ids[at] == order_id:
                    self._codes[at] = _OUTCOME_CODE[outcome]
                    return
        self._others[order_id] = outcome


class _OpenOrder:
    """The broker's mutable view of one open order."""

    __slots__ = (
        "commission_paid", "expiry_ns", "limit_price", "order_id", "order_type", "quantity",
        "side", "stop_price", "strategy", "submitted_ns", "symbol", "triggered",
    )

    def __init__(self, request: OrderSubmissionRequest, order_type: OrderType,
                 side: TradeSide) -> None:
        (self.submitted_ns, self.order_id, self.strategy, self.symbol, _, _, quantity,
         limit_price, stop_price, self.expiry_ns) = request[:10]
        self.order_type = order_type
        self.side = side
        self.quantity = float(quantity)
        self.limit_price = None if limit_price is None else float(limit_price)
        self.stop_price = None if stop_price is None else float(stop_price)
        self.triggered = False  # a STOP_LIMIT whose stop has triggered (now a plain limit)
        self.commission_paid = 0.0


class SimulatedBroker(BrokerBase):
    """Fills orders on later bars of their symbol by the rules in the module docstring."""

    commission_per_unit: float = 0.0
    minimum_commission_per_order: float = 0.0
    slippage_bps: float = 0.0
    initial_cash: float = 100_000.0

    def __init__(self, event_bus: EventBus) -> None:
        self._open_by_symbol: dict[str, list[_OpenOrder]] = {}
        self._open_orders: dict[int, _OpenOrder] = {}  # insertion order = submission order
        self._outcomes = _OrderOutcomes()  # every order id seen -> _OPEN, _FILLED, ...
        self._last_bar: dict[str, BarReceived] = {}
        self._positions: dict[str, float] = {}
        self._cash = float(self.initial_cash)
        super().__init__(event_bus)

    @classmethod
    def configuration(cls) -> dict:
        return {
            "commission_per_unit": cls.commission_per_unit,
            "minimum_commission_per_order": cls.minimum_commission_per_order,
            "slippage_bps": cls.slippage_bps,
            "initial_cash": cls.initial_cash,
        }

    # -- account ------------------------------------------------------------------------------

    @property
    def cash(self) -> float:
        return self._cash

    def position(self, symbol: str) -> float:
        """Signed quantity held in ``symbol`` (0.0 if never traded)."""
        return self._positions.get(symbol, 0.0)

    @property
    def positions(self) -> dict[str, float]:
        """A copy of every non-zero position."""
        return {symbol: qty for symbol, qty in self._positions.items() if qty}

    @property
    def equity(self) -> float:
        """Cash plus positions marked at the last close seen for their symbol."""
        value = self._cash
        for symbol, quantity in self._positions.items():
            if quantity:
                value += quantity * self._last_bar[symbol].close
        return value

    # -- bars ---------------------------------------------------------------------------------

    def _on_bar(self, bar: BarReceived) -> None:
        symbol = bar[1]  # bar.symbol, without the property call: this runs once a bar
        self._last_bar[symbol] = bar
        if self._open_by_symbol:
            orders = self._open_by_symbol.get(symbol)
            if orders:
                self._work_orders(bar, orders)

    def _work_orders(self, bar: BarReceived, orders: list[_OpenOrder]) -> None:
        now = bar.ts_event_ns
        still_open: list[_OpenOrder] = []
        expired: list[_OpenOrder] = []
        for order in orders:
            if order.expiry_ns is not None and order.expiry_ns <= now:
                expired.append(order)
            else:
                still_open.append(order)
        for order in expired:
            self._close(order, _EXPIRED)
            self._publish(OrderExpired(ts_event_ns=now, order_id=order.order_id,
                                       symbol=order.symbol))
        # Events published below reach their subscribers only after this handler returns
        # (messaging's nested-event rule), so no request changes the list while we work on it.
        remaining: list[_OpenOrder] = []
        for order in still_open:
            price = self._fill_price(order, bar) if order.submitted_ns < now else None
            if price is None:
                remaining.append(order)
            else:
                self._fill(order, bar, price)
        if remaining:
            self._open_by_symbol[bar.symbol] = remaining
        else:
            del self._open_by_symbol[bar.symbol]

    @staticmethod
    def _fill_price(order: _OpenOrder, bar: BarReceived) -> float | None:
        """The rule price at which ``order`` fills on ``bar``, or None; may set ``triggered``."""
        order_type, buy = order.order_type, order.side is TradeSide.BUY
        open_ = bar.open
        if order_type is OrderType.MARKET:
            return open_
        if order_type is OrderType.LIMIT or order.triggered:
            return _limit_price(buy, order.limit_price, bar)
        stop = order.stop_price
        if order_type is OrderType.STOP:
            if buy:
                return max(open_, stop) if bar.high >= stop else None
            return min(open_, stop) if bar.low <= stop else None
        # STOP_LIMIT, not yet triggered.
        limit = order.limit_price
        if buy:
            if bar.high < stop:
                return None
            order.triggered = True
            if open_ >= stop:  # gapped through the stop: the whole bar follows the trigger
                return _limit_price(buy, limit, bar)
            return stop if limit >= stop else None
        if bar.low > stop:
            return None
        order.triggered = True
        if open_ <= stop:
            return _limit_price(buy, limit, bar)
        return stop if limit <= stop else None

    def _fill(self, order: _OpenOrder, bar: BarReceived, rule_price: float) -> None:
        side, quantity = order.side, order.quantity
        slip = self.slippage_bps / 1e4
        price = rule_price * (1.0 + slip) if side is TradeSide.BUY else rule_price * (1.0 - slip)
        owed = self.minimum_commission_per_order - order.commission_paid
        commission = max(self.commission_per_unit * quantity, owed, 0.0)
        order.commission_paid += commission
        sign = side.sign
        self._cash -= sign * quantity * price + commission
        self._positions[order.symbol] = self._positions.get(order.symbol, 0.0) + sign * quantity
        self._close(order, _FILLED)
        self._publish(FillEvent(
            ts_event_ns=bar.ts_event_ns,
            fill_id=self._event_bus.next_id(),
            associated_order_id=order.order_id,
            strategy=order.strategy,
            symbol=order.symbol,
            side=side,
            quantity_filled=quantity,
            fill_price=price,
            commission=commission,
        ))

    def _close(self, order: _OpenOrder, outcome: str) -> None:
        """Record ``order`` as no longer open; the caller removes it from its symbol's list."""
        del self._open_orders[order.order_id]
        self._outcomes.set(order.order_id, outcome)

    def _remove_from_symbol(self, order: _OpenOrder) -> None:
        orders = self._open_by_symbol[order.symbol]
        orders.remove(order)
        if not orders:
            del self._open_by_symbol[order.symbol]

    # -- submissions --------------------------------------------------------------------------

    def _on_submission(self, request: OrderSubmissionRequest) -> None:
        problem = self._submission_problem(request)
        if problem is not None:
            reason, message = problem
            if self._outcomes.get(request.order_id) is None:
                self._outcomes.set(request.order_id, _REJECTED)
            self._publish(OrderRejected(ts_event_ns=request.ts_event_ns,
                                        order_id=request.order_id, reason=reason,
                                        message=message))
            return
        order = _OpenOrder(request, _as_order_type(request.order_type), _as_side(request.side))
        self._open_orders[order.order_id] = order
        self._outcomes.set(order.order_id, _OPEN)
        self._open_by_symbol.setdefault(order.symbol, []).append(order)
        self._publish(OrderAccepted(request.ts_event_ns, order.order_id))

    def _submission_problem(
        self, request: OrderSubmissionRequest
    ) -> tuple[RejectionReason, str] | None:
        # A wrong order type or side is a programming error, not a market event: ValueError.
        order_id, order_type = request.order_id, _as_order_type(request.order_type)
        _as_side(request.side)
        if order_id in self._open_orders or self._outcomes.get(order_id) is not None:
            return (_DUPLICATE_ORDER_REASON,
                    f"Order id {order_id} is already in use; a new order needs a new id.")
        if not _is_positive_finite(request.quantity):
            return RejectionReason.INVALID_QUANTITY, _quantity_message(request.quantity)
        if order_type in _NEEDS_LIMIT and request.limit_price is None:
            return (RejectionReason.MISSING_PRICE,
                    f"A {order_type} order needs a limit price.")
        if order_type in _NEEDS_STOP and request.stop_price is None:
            return (RejectionReason.MISSING_PRICE,
                    f"A {order_type} order needs a stop price.")
        problem = _price_problem(order_type, request.limit_price, request.stop_price)
        if problem is not None:
            return RejectionReason.INVALID_PRICE, problem
        expiry = request.expiry_ns
        if expiry is not None and (
            not isinstance(expiry, Integral) or isinstance(expiry, bool)
            or expiry <= request.ts_event_ns
        ):
            message = (f"Expiry {expiry!r} must be a time in ns after the order's time "
                       f"{request.ts_event_ns}.")
            return RejectionReason.INVALID_EXPIRY, message
        return None

    # -- cancellations and modifications ------------------------------------------------------

    def _open_order_problem(
        self, order_id: int, strategy: str
    ) -> tuple[RejectionReason, str] | None:
        order = self._open_orders.get(order_id)
        if order is not None:
            if order.strategy != strategy:
                message = (f"Order {order_id} belongs to strategy {order.strategy!r}, "
                           f"not {strategy!r}.")
                return RejectionReason.UNKNOWN_ORDER, message
            return None
        outcome = self._outcomes.get(order_id)
        if outcome is None or outcome == _OPEN:
            return RejectionReason.UNKNOWN_ORDER, f"No order with id {order_id} is known."
        return RejectionReason.ORDER_NOT_OPEN, f"Order {order_id} is no longer open: it was {outcome}."

    def _on_cancellation(self, request: OrderCancellationRequest) -> None:
        problem = self._open_order_problem(request.order_id, request.strategy)
        if problem is not None:
            reason, message = problem
            self._publish(CancellationRejected(ts_event_ns=request.ts_event_ns,
                                               order_id=request.order_id, reason=reason,
                                               message=message))
            return
        order = self._open_orders[request.order_id]
        self._remove_from_symbol(order)
        self._close(order, _CANCELLED)
        self._publish(CancellationAccepted(ts_event_ns=request.ts_event_ns,
                                           order_id=request.order_id))

    def _on_modification(self, request: OrderModificationRequest) -> None:
        problem = self._open_order_problem(request.order_id, request.strategy)
        order = self._open_orders.get(request.order_id)
        if problem is None:
            if request.quantity is not None and not _is_positive_finite(request.quantity):
                problem = RejectionReason.INVALID_QUANTITY, _quantity_message(request.quantity)
            else:
                message = _price_problem(order.order_type, request.limit_price,
                                         request.stop_price)
                if message is not None:
                    problem = RejectionReason.INVALID_PRICE, message
        if problem is not None:
            reason, message = problem
            self._publish(ModificationRejected(ts_event_ns=request.ts_event_ns,
                                               order_id=request.order_id, reason=reason,
                                               message=message))
            return
        # Changing a triggered STOP_LIMIT's stop is accepted and has no effect: it is a limit now.
        if request.quantity is not None:
            order.quantity = float(request.quantity)
        if request.limit_price is not None:
            order.limit_price = float(request.limit_price)
        if request.stop_price is not None:
            order.stop_price = float(request.stop_price)
        self._publish(ModificationAccepted(
            ts_event_ns=request.ts_event_ns,
            order_id=order.order_id,
            quantity=order.quantity,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
        ))

    # -- end of data --------------------------------------------------------------------------

    def _expire_open_orders(self) -> None:
        """Expire every open order, in submission order, at the last bar time seen."""
        last_ts = max((bar.ts_event_ns for bar in self._last_bar.values()), default=None)
        for order in list(self._open_orders.values()):
            ts = order.submitted_ns if last_ts is None else max(last_ts, order.submitted_ns)
            self._close(order, _EXPIRED)
            self._publish(OrderExpired(ts_event_ns=ts, order_id=order.order_id,
                                       symbol=order.symbol))
        self._open_by_symbol.clear()


def _as_order_type(value: object) -> OrderType:
    return value if type(value) is OrderType else OrderType(value)


def _as_side(value: object) -> TradeSide:
    return value if type(value) is TradeSide else TradeSide(value)


def _limit_price(buy: bool, limit: float, bar: BarReceived) -> float | None:
    if buy:
        return min(bar.open, limit) if bar.low <= limit else None
    return max(bar.open, limit) if bar.high >= limit else None


def _price_problem(
    order_type: OrderType, limit_price: float | None, stop_price: float | None
) -> str | None:
    """Why these prices cannot belong to an order of ``order_type`` (None = they can)."""
    for label, price, allowed in (
        ("limit", limit_price, order_type in _NEEDS_LIMIT),
        ("stop", stop_price, order_type in _NEEDS_STOP),
    ):
        if price is None:
            continue
        if not allowed:
            return f"A {order_type} order has no {label} price (got {price!r})."
        if not _is_positive_finite(price):
            return f"The {label} price must be a finite number greater than 0, not {price!r}."
    return None
