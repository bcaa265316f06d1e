"""Orchestrator: assembles a run from classes, replays it, records it, shuts it down.

Creation order (seed): run id, EventBus, RunRecorder (subscribed to everything before anyone
publishes), broker, strategies, datafeed; then connect, subscribe, replay, wait until idle,
status, shutdown in reverse dependency order (datafeed, broker, strategies, recorder).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import re
import threading
import traceback
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from tradecore import paths
from tradecore.brokers import BrokerBase, SimulatedBroker
from tradecore.datafeeds import DatafeedBase, SimulatedDatafeed
from tradecore.messaging import EventBus
from tradecore.models import BarPeriod, RunStatus
from tradecore.runs_db.recorder import RunRecorder
from tradecore.strategies import ParameterError, StrategyBase

log = logging.getLogger(__name__)


class Orchestrator:
    """``Orchestrator(strategies=[Cls, ...], broker=Cls, datafeed=Cls).run() -> run_id``."""

    runs_db_path: ClassVar[str | None] = None  # None: env TRADECORE_RUNS_DB or data/runs.db
    #: Store the finished run's statistics and overviews in runs.db as it ends (analytics).
    finalize_results: ClassVar[bool] = True

    def __init__(
        self,
        strategies: list[type[StrategyBase]],
        broker: type[BrokerBase] = SimulatedBroker,
        datafeed: type[DatafeedBase] = SimulatedDatafeed,
        *,
        sweep_id: str | None = None,
        role: str | None = None,
    ) -> None:
        strategies = list(strategies)
        if not strategies:
            raise ParameterError("a run needs at least one strategy")
        for cls, base, role in [*((s, StrategyBase, "strategy") for s in strategies),
                                (broker, BrokerBase, "broker"),
                                (datafeed, DatafeedBase, "datafeed")]:
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise TypeError(f"the {role} must be a {base.__name__} subclass (a class, "
                                f"not an instance), got {cls!r}")
        self._strategy_classes = strategies
        self._broker_class = broker
        self._datafeed_class = datafeed
        self._sweep_id = sweep_id
        self._role = role
        self.run_id: str | None = None
        self.status: RunStatus | None = None
        self._cancel_requested = threading.Event()
        self._event_bus: EventBus | None = None
        self._recorder: RunRecorder | None = None
        self._broker: BrokerBase | None = None
        self._strategies: list[StrategyBase] = []
        self._datafeed: DatafeedBase | None = None

    @classmethod
    def resolved_runs_db_path(cls) -> Path:
        return Path(cls.runs_db_path) if cls.runs_db_path else paths.runs_db_path()

    # -- public --------------------------------------------------------------------------------

    @property
    def progress(self) -> float:
        """Share of the data replayed so far (0..1)."""
        return self._datafeed.progress if self._datafeed is not None else 0.0

    def cancel(self) -> None:
        """Stop the run early (from any thread); it ends ``cancelled``."""
        self._cancel_requested.set()
        datafeed = self._datafeed
        if datafeed is not None:
            datafeed.cancel()

    def run(self) -> str:
        """Replay the data through the strategies; return the run id.

        A strategy's exception is re-raised after the run is marked ``failed`` with the error
        text stored and everything recorded so far flushed.
        """
        bar_period = self._validate()
        config = self.configuration(bar_period)
        names = [cls.display_name() for cls in self._strategy_classes]
        # A slug of each name ("SMA Crossover" -> "SMA-Crossover"): ids go unquoted into shells
        # and URLs, and "_" stays the separator between strategies.
        slugs = [re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-") or cls.registered_name()
                 for name, cls in zip(names, self._strategy_classes, strict=True)]
        run_id = f"{dt.datetime.now(dt.UTC):%Y-%m-%d_%H-%M-%S}_{'_'.join(slugs)}"
        self._event_bus = EventBus()
        self._recorder = RunRecorder(self._event_bus, run_id, self.resolved_runs_db_path(),
                                     config, name=" + ".join(names), sweep_id=self._sweep_id,
                                     role=self._role)
        self.run_id = self._recorder.run_id
        self._recorder.finalize_results = self.finalize_results
        failed = False
        try:
            self._broker = self._broker_class(self._event_bus)
            self._strategies = [cls(self._event_bus) for cls in self._strategy_classes]
            for strategy in self._strategies:
                strategy.attach_account(self._broker)  # read access for sizing (equity, cash)
                self._recorder.describe_indicators(strategy.strategy_name,
                                                   strategy._indicators)
            self._datafeed = self._datafeed_class(self._event_bus)
            self._broker.connect()
            self._datafeed.connect()
            self._datafeed.subscribe(config["symbols"], bar_period)
            expected = self._datafeed.expected_bars
            # A bar makes one BarReceived plus one BarProcessed per strategy.
            self._recorder.expect(None if expected is None
                                  else expected * (1 + len(self._strategies)))
            if self._cancel_requested.is_set():
                self._datafeed.cancel()
            with _fewer_gc_passes():
                self._datafeed.wait_until_complete()
            self._broker.end_of_data()
            self._event_bus.wait_until_system_idle()
            cancelled = self._cancel_requested.is_set()
            self._set_status(RunStatus.CANCELLED if cancelled else RunStatus.COMPLETED)
        except BaseException as error:
            failed = True
            if isinstance(error, KeyboardInterrupt):
                self._set_status(RunStatus.CANCELLED, "cancelled: interrupted by the user")
            else:
                self._set_status(RunStatus.FAILED, f"{type(error).__name__}: {error}",
                                 traceback.format_exc())
            raise
        finally:
            self._shutdown(expire_open_orders=not failed)
        self._finalize()
        return self.run_id

    def _finalize(self) -> None:
        """Compute and keep the finished run's statistics and overviews in runs.db now, so
        it opens fast wherever it was recorded (imported lazily: the engine itself never
        needs analytics). A failure here is logged, never the run's: its page computes the
        same on first read."""
        if (not self.finalize_results or not self.status.has_statistics
                or self._recorder.finalized):  # the writer process did it
            return
        try:
            from tradecore.analytics.finalize import finalize_run

            finalize_run(self.run_id, self.resolved_runs_db_path())
        except Exception:  # noqa: BLE001 - the run is recorded; its results are a cache
            log.exception("results of run %s not stored at its end", self.run_id)

    def configuration(self, bar_period: BarPeriod | None = None) -> dict[str, Any]:
        """Everything needed to reproduce the run, as JSON-ready values."""
        from tradecore import __version__

        bar_period = bar_period or self._validate()
        symbols = sorted({s for cls in self._strategy_classes for s in cls.symbols})
        return {
            "strategies": [
                {
                    "class": cls.registered_name(),
                    "module": next(k.__module__ for k in cls.__mro__
                                   if not k.__name__.startswith("_")),
                    "name": cls.display_name(),
                    "symbols": list(cls.symbols),
                    "parameters": {k: _jsonable(v) for k, v in cls.parameter_values().items()},
                }
                for cls in self._strategy_classes
            ],
            "symbols": symbols,
            "bar_period": bar_period.name,
            "broker": {"class": _base_name(self._broker_class),
                       **self._broker_class.configuration()},
            "datafeed": {"class": _base_name(self._datafeed_class),
                         **self._datafeed_class.configuration()},
            "tradecore_version": __version__,
        }

    # -- internals -----------------------------------------------------------------------------

    def _validate(self) -> BarPeriod:
        periods = set()
        for cls in self._strategy_classes:
            cls.validate_configuration()
            periods.add(BarPeriod.parse(cls.parameter_values()["bar_period"]))
        if len(periods) > 1:
            shown = ", ".join(sorted(p.name for p in periods))
            raise ParameterError(f"all strategies of a run must use one bar period, got {shown}")
        return periods.pop()

    def _set_status(self, status: RunStatus, error: str | None = None,
                    error_traceback: str | None = None) -> None:
        self.status = status
        self._recorder.final_status = status
        self._recorder.final_error = error
        self._recorder.final_traceback = error_traceback

    def _shutdown(self, *, expire_open_orders: bool) -> None:
        # Each step runs even if an earlier one fails, so the recorder always flushes.
        try:
            if self._datafeed is not None:
                self._datafeed.disconnect()
            if self._broker is not None:
                self._broker.disconnect(expire_open_orders=expire_open_orders)
            for strategy in self._strategies:
                strategy.shutdown()
        finally:
            if self._recorder is not None:
                self._recorder.shutdown()


@contextmanager
def _fewer_gc_passes():
    """During the replay, run the cyclic collector less often and leave older objects out.

    Events are GC-tracked tuples made by the million; with the default thresholds the collector
    rescans the long-lived ones (open orders, history, queued batches) so often that it costs
    a third of the run. Reference counting frees events anyway; thresholds are restored after.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 50_000), max(thresholds[1], 50), max(thresholds[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _jsonable(value: Any) -> Any:
    return value.name if isinstance(value, Enum) else value


def _base_name(cls: type) -> str:
    return next(k.__name__ for k in cls.__mro__ if not k.__name__.startswith("_"))
