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
    instead of in front of them.

Design Decision: the order of nested events
    An event published by an inline handler is delivered, to all of its subscribers, as soon as
    that handler returns and before the event being handled goes on to the next subscriber.
    Subscription order is creation order (recorder, broker, strategies), so a fill the broker
    makes while handling a bar reaches the strategy before that same bar does: the strategy's
    ``on_bar`` sees its position already updated, as in backtesting.py.

Errors are never swallowed: an inline handler's exception propagates to the publisher (and so
to the orchestrator); a worker thread's exception is kept and raised, as ``SubscriberError``,
from the next ``publish`` or ``wait_until_system_idle`` in any thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import ClassVar

from tradecore.events import Event

Handler = Callable[[Event], None]

_STOP = object()


class SubscriberError(RuntimeError):
    """A subscriber's worker thread raised; ``__cause__`` is the original exception."""


class EventBus:
    """Routes events by exact type to subscribers' handlers."""

    def __init__(self) -> None:
        self._routes: dict[type, tuple[Callable[[Event], None], ...]] = {}
        self._subscribers: list[Subscriber] = []
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
        if subscriber not in self._subscribers:
            self._subscribers.append(subscriber)
        deliver = subscriber._deliverer(handler)
        with self._dispatch_lock:
            self._routes[event_type] = (*self._routes.get(event_type, ()), deliver)
            subscriber._deliverers.append((event_type, deliver))

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._dispatch_lock:
            for event_type, deliver in subscriber._deliverers:
                routes = tuple(d for d in self._routes.get(event_type, ()) if d is not deliver)
                self._routes[event_type] = routes
            subscriber._deliverers.clear()

    # -- publishing ---------------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber of its exact type."""
        if self._errors:
            self._raise_worker_error()
        if self._dispatching_thread == threading.get_ident():
            # Published by an inline handler: delivered once that handler returns.
            self._pending.append(event)
            return
        with self._dispatch_lock:
            self._dispatching_thread = threading.get_ident()
            try:
                self._dispatch(event)
            finally:
                self._dispatching_thread = None
                self._pending = []

    def _dispatch(self, event: Event) -> None:
        for deliver in self._routes.get(type(event), ()):
            deliver(event)

    def _run_inline(self, handler: Handler, event: Event) -> None:
        outer = self._pending
        self._pending = published = []
        try:
            handler(event)
        finally:
            self._pending = outer
        for nested in published:
            self._dispatch(nested)

    # -- waiting ------------------------------------------------------------------------------

    def wait_until_system_idle(self, include_sinks: bool = True) -> None:
        """Block until no subscriber has work left, including work one hands to another.

        Inline work is finished when ``publish`` returns; this waits for the worker threads.
        ``include_sinks=False`` skips subscribers that never publish (the datafeed's
        per-timestamp barrier): waiting for them cannot change what anyone else sees.
        """
        if include_sinks:
            for subscriber in list(self._subscribers):
                subscriber._hand_over_batch()
        with self._idle:
            if include_sinks:
                self._idle.wait_for(lambda: self._unfinished == 0 or bool(self._errors))
            else:
                self._idle.wait_for(lambda: self._unfinished_non_sink == 0 or bool(self._errors))
        if self._errors:
            self._raise_worker_error()

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
            if self._unfinished_non_sink == 0 or self._unfinished == 0:
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


class Subscriber:
    """Base of every component on the bus.

    Subclasses call ``self._subscribe(EventType, self._on_something)`` in ``__init__`` and
    ``self._publish(event)`` to talk. ``shutdown()`` stops delivery, drains the worker thread
    and calls ``_cleanup()``.
    """

    delivery: ClassVar[str] = "thread"
    is_sink: ClassVar[bool] = False
    batch_size: ClassVar[int] = 1

    def __init__(self, event_bus: EventBus) -> None:
        if self.delivery not in ("thread", "inline"):
            raise ValueError(f"delivery must be 'thread' or 'inline', not {self.delivery!r}")
        if self.batch_size > 1 and not self.is_sink:
            raise ValueError("only a sink (is_sink = True) may receive events in batches")
        self._event_bus = event_bus
        self._deliverers: list[tuple[type, Callable[[Event], None]]] = []
        self._batch: list[tuple[Handler, Event]] = []
        self._batch_lock = threading.Lock()
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

    def _deliverer(self, handler: Handler) -> Callable[[Event], None]:
        bus = self._event_bus
        if self.delivery == "inline":
            run_inline = bus._run_inline
            return lambda event: run_inline(handler, event)
        if self.batch_size > 1:
            size, lock = self.batch_size, self._batch_lock

            def deliver_batched(event: Event) -> None:
                with lock:
                    self._batch.append((handler, event))
                    full = len(self._batch) >= size
                if full:
                    self._hand_over_batch()

            return deliver_batched
        sink, put = self.is_sink, self._queue.put

        def deliver_threaded(event: Event) -> None:
            bus._task_added(sink)
            put([(handler, event)])

        return deliver_threaded

    def _hand_over_batch(self) -> None:
        with self._batch_lock:
            if not self._batch:
                return
            items, self._batch = self._batch, []
        self._event_bus._task_added(self.is_sink, len(items))
        self._queue.put(items)

    def _work(self) -> None:
        bus = self._event_bus
        while True:
            items = self._queue.get()
            if items is _STOP:
                return
            try:
                for handler, event in items:
                    handler(event)
            except BaseException as error:  # noqa: BLE001 - handed to the orchestrator, not lost
                bus._report_error(type(self).__name__, error)
                bus._task_done(self.is_sink, len(items))
                return
            bus._task_done(self.is_sink, len(items))

    # -- lifecycle ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop receiving, finish queued work, then ``_cleanup()``. Safe to call twice."""
        if self._is_shut_down:
            return
        self._is_shut_down = True
        self._event_bus.unsubscribe(self)
        if self._thread is not None:
            self._hand_over_batch()
            self._queue.put(_STOP)
            self._thread.join()
        self._cleanup()

    def _cleanup(self) -> None:
        """Release resources; called once by ``shutdown()`` after the last event."""
