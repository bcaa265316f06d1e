"""StrategyBase: what a quant subclasses.

Configuration is class attributes (``name``, ``symbols``, ``parameters``) so the dashboard and
sweeps can make configured subclasses with ``type()``. Parameter values are attributes
(``self.fast_period``). The hooks are ``setup()``, ``on_bar(bar)`` and optionally
``on_fill``, ``on_order_rejected``, ``on_order_expired`` (and the other ``on_*`` responses).

A strategy sees only the responses and fills of its own orders, and keeps its own position and
average entry price per symbol from its fills.

Position sizing: a strategy with ``sizing`` (a ``Sizing``) and ``size`` parameters
(``SIZING_PARAMETERS``) gets ``order_size(price)``: ``size`` units, ``size`` % of the account's
equity, or ``size`` in cash (shared evenly by the strategy's symbols), divided by the price and
rounded down to whole units. ``equity``
and ``cash`` read the broker's account (the orchestrator attaches it).

Design Decision: read the broker's account directly, not through events
    Sizing needs the equity at the moment of the decision. The broker is the one owner of cash
    and positions; mirroring them in every strategy would duplicate its bookkeeping (and
    disagree with it on commissions and marks). Broker and strategies are inline subscribers on
    the replay thread, and the broker sees each bar first, so reading it is deterministic: in
    ``on_bar`` the equity is marked at the current bar's close.

Design Decision: the strategy's clock follows every event it receives
    A fill arrives before the strategy's own ``on_bar`` for the bar it filled on; an order sent
    from ``on_fill`` is stamped with the fill's time, not the previous bar's.

Design Decision: a strategy keeps its open orders, not every order it ever sent
    Memory must stay flat in the number of bars. An order's record is dropped when it closes
    (filled, cancelled, rejected, expired). What is still needed to route responses is small:
    an order is this strategy's while it is open, and a cancellation or modification this
    strategy sent awaits exactly one response (``_awaiting``), even for an order that has
    closed meanwhile (the broker answers "no longer open").

Design Decision: the per-bar path
    ``_on_bar_received`` runs once a bar per strategy. Indicator updates are (name, update)
    pairs made once in ``add_indicator``; ``BarProcessed`` is built as a plain tuple and handed
    to the bus with ``nested_publisher()`` (see messaging), which delivers it exactly as
    ``publish`` would from inside a handler.
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar

from tradecore.events import (
    BarProcessed,
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
from tradecore.models import ActionType, BarPeriod, OrderType, Sizing, TradeSide
from tradecore.strategies.params import ParameterError, ParamSpec
from tradecore.strategies.registry import register

_new_tuple = tuple.__new__
_now_ns = time.time_ns
_DEFAULT_BAR_PERIOD = ParamSpec(BarPeriod.DAY, help="Length of one bar")

#: The sizing pair a strategy declares to use ``order_size``; the examples size 95 % of equity
#: a trade (a fully invested book, with room for a gap between the signal and the fill).
SIZING_PARAMETERS: dict[str, ParamSpec] = {
    "sizing": ParamSpec(Sizing.PERCENT_OF_EQUITY, label="Position sizing",
                        help="How each entry is sized: a fixed quantity, a percentage of "
                             "equity or a fixed cash amount"),
    "size": ParamSpec(95.0, min=0.0, label="Size",
                      help="Units (fixed quantity), percent of equity, or cash per entry"),
}


class StrategyBase(Subscriber):
    """Subclass, set ``symbols`` and ``parameters``, implement ``on_bar``."""

    delivery = "inline"
    name: ClassVar[str] = ""
    symbols: ClassVar[list[str]] = []
    parameters: ClassVar[dict[str, ParamSpec]] = {"bar_period": _DEFAULT_BAR_PERIOD}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("parameters")
        if declared is not None and "bar_period" not in declared:
            inherited = next(
                (base.parameters["bar_period"] for base in cls.__mro__[1:]
                 if "bar_period" in getattr(base, "parameters", {})),
                _DEFAULT_BAR_PERIOD,
            )
            cls.parameters = {"bar_period": inherited, **declared}
        register(cls)

    # -- class-level helpers (used before any instance exists) -------------------------------

    @classmethod
    def registered_name(cls) -> str:
        """The registry name: the first class in the MRO not starting with ``_``."""
        return next(k.__name__ for k in cls.__mro__ if not k.__name__.startswith("_"))

    @classmethod
    def display_name(cls) -> str:
        return cls.name or cls.registered_name()

    @classmethod
    def parameter_values(cls) -> dict[str, Any]:
        """Every parameter's value, validated; raises ParameterError naming the bad one."""
        values = {}
        for key, spec in cls.parameters.items():
            if not isinstance(spec, ParamSpec):
                raise ParameterError(f"{cls.display_name()}: parameter {key} is not a ParamSpec")
            values[key] = spec.validate(key, spec.default)
        return values

    @classmethod
    def validate_configuration(cls) -> None:
        values = cls.parameter_values()
        if "sizing" in values and "size" in values:
            _check_size(Sizing(values["sizing"]), values["size"])
        if not cls.symbols or not all(isinstance(s, str) and s for s in cls.symbols):
            raise ParameterError(f"{cls.display_name()}: choose at least one symbol")

    # -- lifecycle -----------------------------------------------------------------------------

    def __init__(self, event_bus: EventBus) -> None:
        super().__init__(event_bus)
        cls = type(self)
        for key, value in cls.parameter_values().items():
            setattr(self, key, value)
        self.strategy_name = cls.display_name()
        self._symbol_set = frozenset(cls.symbols)
        self._indicators: list = []
        self._indicator_names: tuple[str, ...] = ()
        self._indicator_pairs: tuple = ()
        self._positions: dict[str, float] = {}
        self._average_prices: dict[str, float] = {}
        self._open_orders: dict[int, OrderSubmissionRequest] = {}
        self._filled: dict[int, float] = {}  # open orders partly filled: quantity so far
        self._awaiting: dict[int, int] = {}  # order id -> cancel/modify requests unanswered
        self._bar: BarReceived | None = None
        self._now_ns = 0
        self._emit = event_bus.nested_publisher() if self.delivery == "inline" else self._publish
        self._account = None
        self._subscribe(BarReceived, self._on_bar_received)
        for event_type, handler in (
            (FillEvent, self._on_fill_event),
            (OrderAccepted, self._own(self.on_order_accepted)),
            (OrderRejected, self._closing(self.on_order_rejected)),
            (OrderExpired, self._closing(self.on_order_expired)),
            (CancellationAccepted, self._closing(self.on_cancellation_accepted,
                                                 answers_request=True)),
            (CancellationRejected, self._own(self.on_cancellation_rejected,
                                             answers_request=True)),
            (ModificationAccepted, self._own(self._on_modification_accepted,
                                             answers_request=True)),
            (ModificationRejected, self._own(self.on_modification_rejected,
                                             answers_request=True)),
        ):
            self._subscribe(event_type, handler)
        self.setup()

    def setup(self) -> None:
        """Create indicators (``self.add_indicator``) and state. Called once."""

    def on_bar(self, bar: BarReceived) -> None:
        """Called for every bar of this strategy's symbols, after its indicators updated."""

    def on_fill(self, fill: FillEvent) -> None: ...
    def on_order_accepted(self, event: OrderAccepted) -> None: ...
    def on_order_rejected(self, event: OrderRejected) -> None: ...
    def on_order_expired(self, event: OrderExpired) -> None: ...
    def on_cancellation_accepted(self, event: CancellationAccepted) -> None: ...
    def on_cancellation_rejected(self, event: CancellationRejected) -> None: ...
    def on_modification_accepted(self, event: ModificationAccepted) -> None: ...
    def on_modification_rejected(self, event: ModificationRejected) -> None: ...

    # -- helpers for subclasses ----------------------------------------------------------------

    def add_indicator(self, indicator):
        """Register an indicator: it is updated before ``on_bar`` and recorded with each bar."""
        self._indicators.append(indicator)
        self._indicator_names = tuple(ind.name for ind in self._indicators)
        self._indicator_pairs = tuple((ind.name, ind.update) for ind in self._indicators)
        return indicator

    @property
    def position(self) -> float:
        """Signed position in the current bar's symbol (the first symbol before any bar)."""
        return self._positions.get(self._current_symbol(), 0.0)

    def position_of(self, symbol: str) -> float:
        return self._positions.get(symbol, 0.0)

    def average_price_of(self, symbol: str) -> float:
        """Average entry price of the open position in ``symbol`` (NaN when flat)."""
        return self._average_prices.get(symbol, math.nan)

    @property
    def average_price(self) -> float:
        return self.average_price_of(self._current_symbol())

    @property
    def open_orders(self) -> dict[int, OrderSubmissionRequest]:
        """This strategy's orders not yet filled, cancelled, rejected or expired."""
        return dict(self._open_orders)

    @property
    def bar(self) -> BarReceived | None:
        return self._bar

    def attach_account(self, account) -> None:
        """Give the strategy read access to the broker's account (anything with ``cash`` and
        ``equity``); the orchestrator calls it once the broker exists."""
        self._account = account

    @property
    def cash(self) -> float:
        """The account's cash now (shared by every strategy of the run)."""
        return self._require_account().cash

    @property
    def equity(self) -> float:
        """The account's cash plus positions marked at their last close (in ``on_bar``: this
        bar's close)."""
        return self._require_account().equity

    def order_size(self, price: float | None = None, *, sizing: Sizing | str | None = None,
                   size: float | None = None) -> float:
        """Units for one entry at ``price`` (default: the current bar's close) by ``sizing``
        and ``size`` (default: the strategy's parameters of those names): ``size`` units, or
        ``size`` % of equity / ``size`` in cash, shared evenly by the strategy's symbols,
        divided by the price and rounded down to whole units. 0 when that buys less than one
        unit."""
        sizing = Sizing(sizing if sizing is not None else self.sizing)
        size = float(size if size is not None else self.size)
        if sizing is Sizing.QUANTITY:
            return size
        if price is None:
            if self._bar is None:
                raise RuntimeError("order_size needs a price before the first bar")
            price = self._bar.close
        if not price > 0:
            raise ValueError(f"cannot size an order at price {price!r}")
        budget = self.equity * size / 100 if sizing is Sizing.PERCENT_OF_EQUITY else size
        # Shared by the symbols, so a three-symbol strategy at 95 % is not 285 % invested.
        budget /= max(len(self._symbol_set), 1)
        # Whole units; the epsilon keeps 95,000 / 9.5 at 10,000 despite binary rounding.
        return float(max(math.floor(budget / price + 1e-9), 0))

    def _require_account(self):
        if self._account is None:
            raise RuntimeError(f"{self.strategy_name} has no broker account attached (the "
                               "Orchestrator attaches it; call attach_account in a test)")
        return self._account

    def submit_order(
        self,
        order_type: OrderType | str,
        side: TradeSide | str,
        quantity: float,
        *,
        symbol: str | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
        action: ActionType | str | None = None,
        signal: str | None = None,
        expiry_ns: int | None = None,
    ) -> int:
        """Send an order to the broker; returns its id. The answer arrives as an event."""
        order_id = self._event_bus.next_id()
        # Enum calls are slow even on a member: convert only what is not one already.
        request = _new_tuple(OrderSubmissionRequest, (
            self._now_ns,
            order_id,
            self.strategy_name,
            symbol or self._current_symbol(),
            order_type if type(order_type) is OrderType else OrderType(order_type),
            side if type(side) is TradeSide else TradeSide(side),
            quantity,
            limit_price,
            stop_price,
            expiry_ns,
            action if action is None or type(action) is ActionType else ActionType(action),
            signal,
            _now_ns(),
        ))
        self._open_orders[order_id] = request
        self._publish(request)
        return order_id

    def submit_modification(self, order_id: int, *, quantity: float | None = None,
                            limit_price: float | None = None,
                            stop_price: float | None = None) -> None:
        self._await(order_id)
        self._publish(OrderModificationRequest(
            self._now_ns, order_id=order_id, strategy=self.strategy_name, quantity=quantity,
            limit_price=limit_price, stop_price=stop_price))

    def submit_cancellation(self, order_id: int) -> None:
        self._await(order_id)
        self._publish(OrderCancellationRequest(
            self._now_ns, order_id=order_id, strategy=self.strategy_name))

    # -- event handling ------------------------------------------------------------------------

    def _current_symbol(self) -> str:
        if self._bar is not None:
            return self._bar.symbol
        return type(self).symbols[0]

    def _on_bar_received(self, bar: BarReceived) -> None:
        # Hot path (every bar): unpack the tuple once instead of a property per field.
        ts, symbol, period = bar[0], bar[1], bar[2]
        if symbol not in self._symbol_set:
            return
        self._bar = bar
        self._now_ns = ts
        pairs = self._indicator_pairs
        if len(pairs) == 2:  # the common case, unrolled
            (name_a, update_a), (name_b, update_b) = pairs
            indicators = ((name_a, update_a(bar)), (name_b, update_b(bar)))
        else:
            indicators = tuple([(name, update(bar)) for name, update in pairs])
        self.on_bar(bar)
        self._emit(_new_tuple(BarProcessed, (
            ts, symbol, self.strategy_name, period, indicators, _now_ns())))

    def _mine(self, order_id: int) -> bool:
        return order_id in self._open_orders or order_id in self._awaiting

    def _await(self, order_id: int) -> None:
        self._awaiting[order_id] = self._awaiting.get(order_id, 0) + 1

    def _answered(self, order_id: int) -> None:
        """A cancellation or modification response arrived: one fewer awaited."""
        left = self._awaiting.get(order_id, 0) - 1
        if left > 0:
            self._awaiting[order_id] = left
        else:
            self._awaiting.pop(order_id, None)

    def _close_order(self, order_id: int) -> None:
        self._open_orders.pop(order_id, None)
        self._filled.pop(order_id, None)

    def _on_fill_event(self, fill: FillEvent) -> None:
        order_id = fill.associated_order_id
        order = self._open_orders.get(order_id)
        if order is None:
            return
        if fill.ts_event_ns > self._now_ns:
            self._now_ns = fill.ts_event_ns  # before on_bar of the bar it filled on
        filled = self._filled.get(order_id, 0.0) + fill.quantity_filled
        if filled >= order.quantity - 1e-12:
            self._close_order(order_id)
        else:
            self._filled[order_id] = filled
        self._apply_fill(fill)
        self.on_fill(fill)

    def _apply_fill(self, fill: FillEvent) -> None:
        symbol = fill.symbol
        signed = fill.quantity_filled if fill.side is TradeSide.BUY else -fill.quantity_filled
        before = self._positions.get(symbol, 0.0)
        after = before + signed
        if abs(after) < 1e-12:
            after = 0.0
        average = self._average_prices.get(symbol, math.nan)
        if before == 0 or (before > 0) != (after > 0) and after != 0:
            average = fill.fill_price  # opened, or reversed through zero
        elif abs(after) > abs(before):
            average = (average * abs(before) + fill.fill_price * abs(signed)) / abs(after)
        self._positions[symbol] = after
        if after == 0:
            self._average_prices.pop(symbol, None)
        else:
            self._average_prices[symbol] = average

    def _on_modification_accepted(self, event: ModificationAccepted) -> None:
        order = self._open_orders.get(event.order_id)
        if order is not None:
            self._open_orders[event.order_id] = order.replace(
                quantity=event.quantity, limit_price=event.limit_price,
                stop_price=event.stop_price)
        self.on_modification_accepted(event)

    def _own(self, hook, *, answers_request: bool = False):
        """Call ``hook`` for responses about this strategy's orders only."""
        mine = self._mine

        def handle(event):
            order_id = event.order_id
            if mine(order_id):
                if answers_request:
                    self._answered(order_id)
                self._advance_clock(event.ts_event_ns)
                hook(event)

        return handle

    def _closing(self, hook, *, answers_request: bool = False):
        """Like ``_own``, for responses after which the order is no longer open."""
        mine, close = self._mine, self._close_order

        def handle(event):
            order_id = event.order_id
            if mine(order_id):
                if answers_request:
                    self._answered(order_id)
                close(order_id)
                self._advance_clock(event.ts_event_ns)
                hook(event)

        return handle

    def _advance_clock(self, ts_ns: int) -> None:
        if ts_ns > self._now_ns:
            self._now_ns = ts_ns


def _check_size(sizing: Sizing, size: float) -> None:
    if not size > 0:
        raise ParameterError(f"size must be more than 0 ({sizing.label}), not {size:g}")
    if sizing is Sizing.PERCENT_OF_EQUITY and size > 1000:
        raise ParameterError(f"size is a percentage of equity: at most 1000 (10x leverage), "
                             f"not {size:g}")
