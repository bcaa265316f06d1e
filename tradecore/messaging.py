"""EventBus and Subscriber: the only way components talk to each other.

Routing is by exact event type. A subscriber registers a handler per type; the bus calls the
handlers of every subscriber of an event's type, in subscription order.

Design Decision: two ways to deliver an event
    The seed gives every subscriber its own worker thread and queue. That stays the default
    (``delivery = "thread"``) and is what a user-written Subscriber gets. But a thread hand-off
    per bar, plus a barrier per timestamp, costs more than the rest of a backtest together.
    Components that must act in lock-step with the datafeed anyway (broker, strategies) declare
    ``delivery = "inline"``: their handlers run in the publishing thread, under the bus's
    dispatch lock, so a run is deterministic whatever the thread timing.
    A pure sink such as the recorder (``is_sink = True``, never publishes) keeps its own worker
    thread and receives events in batches of ``batch_size``, so it writes beside the others
    instead of in front of them. A sink that files each event type apart anyway (the recorder:
    a table a type) sets ``batch_by_type``: its routes append to one list per type, and a batch
    is ``(type, events)`` pairs, in order within a type only. Sorting a mixed batch by type
    again (a byte a type, ``compress`` per type) was a third of packing a hand-over: 0.8 ->
    0.5 µs a bar of the engine's 5, 39,855 -> 38,820 engine instructions a bar (valgrind).

Design Decision: the order of nested events
    An event published by an inline handler is delivered, to all of its subscribers, as soon as
    that handler returns and before the event being handled goes on to the next subscriber.
    Subscription order is creation order (recorder, broker, strategies), so a fill the broker
    makes while handling a bar reaches the strategy before that same bar does: the strategy's
    ``on_bar`` sees its position already updated, as in backtesting.py.

Design Decision: fast paths for the replay loop, taken only with the plain ``publish``
    Two things run once a bar and cost more through the general ``publish`` than the work
    they deliver: the datafeed's bar and the per-timestamp barrier. ``replay_publisher(type)``
    returns both in one call, specialised for one event type and one calling thread (no
    thread check, no type lookup); its barrier only calls ``wait_until_system_idle`` when
    something can be pending: at every timestamp, when a worker thread holds work; every
    ``BARRIER_CLOCK_EVERY`` timestamps, also when a worker failed, a sink's batch is full
    (so a hand-over holds ``batch_size`` events and at most that many timestamps' more), a
    sink's last hand-over is older than ``HAND_OVER_INTERVAL_S`` (so a slow strategy still
    hands its fills over live) or a sink fell far behind. Inline handlers publish nested
    events with ``nested_publisher()``, a plain append to the list ``publish`` itself would
    append to.
    Delivery order and content are exactly those of ``publish``. When ``publish`` is
    overridden (a subclass, or instrumentation patching ``EventBus.publish``), all three hand
    back ``publish`` itself, so such a ``publish`` still sees every event.

Errors are never swallowed: an inline handler's exception propagates to the publisher (and so
to the orchestrator); a worker thread's exception is kept and raised, as ``SubscriberError``,
from the next ``publish`` or ``wait_until_system_idle`` in any thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from threading import get_ident
from time import monotonic
from typing import ClassVar

from tradecore.events import Event

Handler = Callable[[Event], None]

_STOP = object()
#: A batched sink gets what it has at least this often, full batch or not (live readers).
HAND_OVER_INTERVAL_S = 0.5
#: Events a sink may have queued before the datafeed's barrier waits for it.
MAX_SINK_BACKLOG = 200_000
#: The replay barrier looks at the sinks (full batch, time-based hand-over) every this many
#: timestamps.
BARRIER_CLOCK_EVERY = 8


class SubscriberError(RuntimeError):
    """A subscriber's worker thread raised; ``__cause__`` is the original exception."""


class EventBus:
    """Routes events by exact type to subscribers' handlers."""

    def __init__(self) -> None:
        # type -> the handlers the bus calls, in subscription order (see ``Subscriber._route``).
        self._routes: dict[type, tuple[Handler, ...]] = {}
        self._subscribers: list[Subscriber] = []
        self._batched_sinks: list[Subscriber] = []
        self._dispatch_lock = threading.Lock()
        self._dispatching_thread: int | None = None
        self._pending: list[Event] = []
        # Work handed to worker threads and not yet finished, split so a per-timestamp barrier
        # can skip sinks (which cannot produce work for anyone else).
        self._idle = threading.Condition()
        self._unfinished = 0
        self._unfinished_non_sink = 0
        self._errors: list[tuple[str, BaseException]] = []
        self._next_id = 0
        self._id_lock = threading.Lock()

    # -- subscription -------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber, event_type: type[Event], handler: Handler) -> None:
        """Route events of exactly ``event_type`` to ``handler`` of ``subscriber``."""
        with self._dispatch_lock:
            if subscriber not in self._subscribers:
                self._subscribers.append(subscriber)
                if subscriber.batch_size > 1:
                    self._batched_sinks.append(subscriber)
            route = subscriber._route(event_type, handler)
            self._routes[event_type] = (*self._routes.get(event_type, ()), route)
            subscriber._routes.append((event_type, route))

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._dispatch_lock:
            for event_type, route in subscriber._routes:
                routes = list(self._routes.get(event_type, ()))
                # This subscriber's route: the first one that is this very object (another
                # subscriber may route to the same function).
                at = next((k for k, r in enumerate(routes) if r is route), None)
                if at is not None:
                    del routes[at]
                self._routes[event_type] = tuple(routes)
            subscriber._routes.clear()

    # -- publishing ---------------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber of its exact type."""
        if self._dispatching_thread == get_ident():
            # Published by an inline handler: delivered once that handler returns.
            self._pending.append(event)
            return
        if self._errors:
            self._raise_worker_error()
        with self._dispatch_lock:
            self._dispatching_thread = get_ident()
            try:
                self._dispatch(event)
            except BaseException:
                self._pending.clear()  # a handler failed half-way: drop what it left behind
                raise
            finally:
                self._dispatching_thread = None

    def _dispatch(self, event: Event) -> None:
        # ``pending`` is empty whenever a handler starts: what a handler publishes is taken
        # out and delivered before the next handler runs. Only an inline handler can leave
        # something there (``publish`` from the dispatching thread); a route to a sink's batch
        # or a worker's queue never publishes.
        pending = self._pending
        for handler in self._routes.get(type(event), ()):
            handler(event)
            if pending:
                self._deliver_pending()

    def _deliver_pending(self) -> None:
        """Deliver what a handler just published, in order (each with what it causes)."""
        pending = self._pending
        if len(pending) == 1:
            self._dispatch(pending.pop())
            return
        nested = pending[:]
        pending.clear()
        for item in nested:
            self._dispatch(item)

    # -- fast paths for the replay loop (see the module docstring) ----------------------------

    def _publish_is_plain(self) -> bool:
        return type(self).publish is _PLAIN_PUBLISH

    def replay_publisher(self, event_type: type[Event]) -> Callable[[Event, bool], None]:
        """``publish(event, new_timestamp)`` for events of exactly ``event_type`` sent from the
        calling thread, from outside any handler (the datafeed's loop). With
        ``new_timestamp`` it first runs the per-timestamp barrier,
        ``wait_until_system_idle(False)``, whenever that could do anything."""
        if not self._publish_is_plain():
            def publish_plain(event: Event, new_timestamp: bool) -> None:
                if new_timestamp:
                    self.wait_until_system_idle(False)
                self.publish(event)

            return publish_plain
        routes, lock, pending, deliver_pending = (self._routes, self._dispatch_lock,
                                                  self._pending, self._deliver_pending)
        errors, me, wait = self._errors, get_ident(), self.wait_until_system_idle
        sinks = [(sink, sink._batch_lists(), sink.batch_size) for sink in self._batched_sinks]
        ticks = 0

        def publish_fast(event: Event, new_timestamp: bool) -> None:
            nonlocal ticks
            if new_timestamp:
                # The barrier, when something can be pending (see the module docstring).
                ticks += 1
                if ticks >= BARRIER_CLOCK_EVERY or self._unfinished_non_sink:
                    ticks = 0
                    if len(self._batched_sinks) != len(sinks):  # a sink joined meanwhile
                        sinks[:] = [(sink, sink._batch_lists(), sink.batch_size)
                                    for sink in self._batched_sinks]
                    if (self._unfinished_non_sink or errors or self._unfinished
                            - self._unfinished_non_sink > MAX_SINK_BACKLOG or any(
                                sum(map(len, lists)) >= size
                                or monotonic() - sink._handed_at > HAND_OVER_INTERVAL_S
                                for sink, lists, size in sinks)):
                        wait(False)
            if errors:
                self._raise_worker_error()
            with lock:
                self._dispatching_thread = me
                try:
                    for handler in routes.get(event_type, ()):
                        handler(event)
                        if pending:
                            if len(pending) == 1:
                                # Usually a strategy's BarProcessed: ``_dispatch`` written
                                # out here, one call fewer a bar.
                                item = pending.pop()
                                for nested in routes.get(type(item), ()):
                                    nested(item)
                                    if pending:
                                        deliver_pending()
                            else:
                                deliver_pending()
                except BaseException:
                    pending.clear()
                    raise
                finally:
                    self._dispatching_thread = None

        return publish_fast

    def nested_publisher(self) -> Callable[[Event], None]:
        """``publish`` for inline handlers, valid only while they handle an event (the bus's
        dispatching thread): the event joins those delivered when the handler returns."""
        if not self._publish_is_plain():
            return self.publish
        return self._pending.append

    # -- waiting ------------------------------------------------------------------------------

    def wait_until_system_idle(self, include_sinks: bool = True) -> None:
        """Block until no subscriber has work left, including work one hands to another.

        Inline work is finished when ``publish`` returns; this waits for the worker threads.
        ``include_sinks=False`` skips subscribers that never publish (the datafeed's
        per-timestamp barrier): waiting for them cannot change what anyone else sees; their
        full batches are handed over.
        """
        for sink in self._batched_sinks:
            if (include_sinks or sum(map(len, sink._batch_lists())) >= sink.batch_size
                    or monotonic() - sink._handed_at > HAND_OVER_INTERVAL_S):
                self._hand_over(sink)
        if not (include_sinks or self._unfinished or self._errors):
            return  # the datafeed's barrier with nothing on worker threads: the common case
        if self._unfinished - self._unfinished_non_sink > MAX_SINK_BACKLOG:
            # A sink fell far behind: let it catch up so memory stays flat in run length.
            with self._idle:
                self._idle.wait_for(lambda: self._unfinished - self._unfinished_non_sink
                                    <= MAX_SINK_BACKLOG // 2 or bool(self._errors))
        if include_sinks:
            if self._unfinished or self._errors:
                with self._idle:
                    self._idle.wait_for(lambda: self._unfinished == 0 or bool(self._errors))
        elif self._unfinished_non_sink or self._errors:
            with self._idle:
                self._idle.wait_for(lambda: self._unfinished_non_sink == 0 or bool(self._errors))
        if self._errors:
            self._raise_worker_error()

    def _hand_over(self, sink: Subscriber) -> None:
        # Under the dispatch lock: no event is appended meanwhile, and batches reach the sink
        # in order even when several threads publish.
        with self._dispatch_lock:
            items = sink._take_batch()
            sink._handed_at = monotonic()
            if items:
                sink._receive_batch(items)

    def _task_added(self, sink: bool, count: int = 1) -> None:
        with self._idle:
            self._unfinished += count
            if not sink:
                self._unfinished_non_sink += count

    def _task_done(self, sink: bool, count: int = 1) -> None:
        with self._idle:
            self._unfinished -= count
            if not sink:
                self._unfinished_non_sink -= count
            self._idle.notify_all()

    def _report_error(self, who: str, error: BaseException) -> None:
        with self._idle:
            self._errors.append((who, error))
            self._idle.notify_all()

    def _raise_worker_error(self) -> None:
        who, error = self._errors[0]
        raise SubscriberError(f"{who} failed: {error}") from error

    # -- ids ----------------------------------------------------------------------------------

    def next_id(self) -> int:
        """A run-wide increasing id (orders, fills); deterministic because dispatch is ordered."""
        with self._id_lock:
            self._next_id += 1
            return self._next_id


_PLAIN_PUBLISH = EventBus.publish


class Subscriber:
    """Base of every component on the bus.

    Subclasses call ``self._subscribe(EventType, self._on_something)`` in ``__init__`` and
    ``self._publish(event)`` to talk. ``shutdown()`` stops delivery, drains the worker thread
    and calls ``_cleanup()``.
    """

    delivery: ClassVar[str] = "thread"
    is_sink: ClassVar[bool] = False
    batch_size: ClassVar[int] = 1
    #: A batched sink's batches as ``(event type, events)`` pairs (see the module docstring).
    batch_by_type: ClassVar[bool] = False

    def __init__(self, event_bus: EventBus) -> None:
        if self.delivery not in ("thread", "inline"):
            raise ValueError(f"delivery must be 'thread' or 'inline', not {self.delivery!r}")
        if self.batch_size > 1 and (not self.is_sink or self.delivery != "thread"):
            raise ValueError("only a sink (is_sink = True) with its own thread may receive "
                             "events in batches")
        self._event_bus = event_bus
        self._routes: list[tuple[type, Handler]] = []
        self._handlers: dict[type, Handler] = {}
        self._batch: list[Event] = []
        # batch_by_type, for a sink that batches at all: one list per type, and batches of
        # (type, events) pairs.
        self._by_type = self.batch_by_type and self.batch_size > 1
        self._typed_batches: list[tuple[type[Event], list[Event]]] = []
        self._handed_at = monotonic()
        self._is_shut_down = False
        self._queue: queue.SimpleQueue | None = None
        self._thread: threading.Thread | None = None
        if self.delivery == "thread":
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(
                target=self._work, name=f"{type(self).__name__}-worker", daemon=True
            )
            self._thread.start()

    # -- wiring -------------------------------------------------------------------------------

    def _subscribe(self, event_type: type[Event], handler: Handler) -> None:
        self._event_bus.subscribe(self, event_type, handler)

    def _publish(self, event: Event) -> None:
        self._event_bus.publish(event)

    def _route(self, event_type: type[Event], handler: Handler) -> Handler:
        """What the bus calls for one event: the handler itself (inline), a list append
        (batched sink: the bus hands the list over at idle waits), or a queue put."""
        if event_type in self._handlers:
            raise ValueError(f"{type(self).__name__} already subscribes to {event_type.__name__}")
        self._handlers[event_type] = handler
        if self.delivery == "inline":
            return handler
        if self.batch_size > 1:
            if self._by_type:
                batch: list[Event] = []
                self._typed_batches.append((event_type, batch))
                return batch.append
            return self._batch.append
        bus, put = self._event_bus, self._queue.put
        sink = self.is_sink

        def deliver_threaded(event: Event) -> None:
            bus._task_added(sink)
            put([event])

        return deliver_threaded

    def _work(self) -> None:
        bus = self._event_bus
        while True:
            items = self._queue.get()
            if items is _STOP:
                return
            count = self._count(items)
            try:
                self._handle_batch(items)
            except BaseException as error:  # noqa: BLE001 - handed to the orchestrator, not lost
                bus._report_error(type(self).__name__, error)
                bus._task_done(self.is_sink, count)
                return
            bus._task_done(self.is_sink, count)

    def _batch_lists(self) -> list[list[Event]]:
        """The lists this sink's routes append to: its batch, or one a type."""
        if self._by_type:
            return [batch for _, batch in self._typed_batches]
        return [self._batch]

    def _take_batch(self) -> list:
        """What waits for a hand-over, taken out: events in order, or with ``batch_by_type``
        ``(event type, events)`` pairs for the types that have some."""
        if not self._by_type:
            items = self._batch[:]
            self._batch.clear()
            return items
        groups = []
        for event_type, batch in self._typed_batches:
            if batch:
                groups.append((event_type, batch[:]))
                batch.clear()
        return groups

    def _count(self, items: list) -> int:
        """Events in what the worker thread receives (a batch, or a one-event list)."""
        if self._by_type:
            return sum(len(events) for _, events in items)
        return len(items)

    def _receive_batch(self, items: list) -> None:
        """A batched sink's hand-over: queued for the worker thread (a sink may override)."""
        self._event_bus._task_added(True, self._count(items))
        self._queue.put(items)

    def _handle_batch(self, items: list) -> None:
        """Handle what the worker thread received, in order (a sink may override): events,
        or with ``batch_by_type`` a batch's ``(event type, events)`` pairs."""
        handlers = self._handlers
        if self._by_type:
            for event_type, events in items:
                handler = handlers[event_type]
                for event in events:
                    handler(event)
            return
        for event in items:
            handlers[type(event)](event)

    # -- lifecycle ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop receiving, finish queued work, then ``_cleanup()``. Safe to call twice."""
        if self._is_shut_down:
            return
        self._is_shut_down = True
        self._event_bus.unsubscribe(self)
        try:
            if self._thread is not None and self.batch_size > 1:
                self._event_bus._hand_over(self)
        finally:
            # Even if the last hand-over failed: stop the thread and release resources.
            if self._thread is not None:
                self._queue.put(_STOP)
                self._thread.join()
            self._cleanup()

    def _cleanup(self) -> None:
        """Release resources; called once by ``shutdown()`` after the last event."""
