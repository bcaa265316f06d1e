"""Runs recorded the real way for the analytics tests: an EventBus, a RunRecorder writing to a
runs.db, and hand-made events published on the bus."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from tradecore.events import (
    BarProcessed,
    BarReceived,
    CancellationAccepted,
    FillEvent,
    ModificationAccepted,
    OrderAccepted,
    OrderCancellationRequest,
    OrderExpired,
    OrderModificationRequest,
    OrderRejected,
    OrderSubmissionRequest,
)
from tradecore.messaging import EventBus
from tradecore.models import BarPeriod, OrderType, RunStatus, TradeSide
from tradecore.recorder import RunRecorder

DAY = BarPeriod.DAY.nanoseconds
#: Monday 2024-01-01 00:00 UTC, in ns: real 2024 timestamps.
T0 = int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000_000


def day(n: int) -> int:
    """The ns time of calendar day ``n`` after T0."""
    return T0 + n * DAY


def config(symbols: list[str], *, cash: float = 100_000.0, commission: float = 0.0,
           strategy: str = "Test", parameters: dict | None = None,
           bar_period: str = "DAY", extra: dict | None = None) -> dict:
    return {
        "strategies": [{"class": strategy, "module": "tests", "name": strategy,
                        "symbols": symbols,
                        "parameters": {"bar_period": bar_period, **(parameters or {})}}],
        "symbols": symbols,
        "bar_period": bar_period,
        "broker": {"class": "SimulatedBroker", "commission_per_unit": commission,
                   "minimum_commission_per_order": 0.0, "slippage_bps": 0.0,
                   "initial_cash": cash},
        "datafeed": {"class": "SimulatedDatafeed"},
        "tradecore_version": "test",
        **(extra or {}),
    }


class RunBuilder:
    """Publishes hand-made events for one run; ``finish()`` shuts the recorder down."""

    def __init__(self, db_path: Path, run_id: str, cfg: dict, strategy: str = "Test") -> None:
        self.bus = EventBus()
        self.recorder = RunRecorder(self.bus, run_id, db_path, cfg, name=strategy)
        self.run_id = self.recorder.run_id
        self.db_path = db_path
        self.strategy = strategy
        self._fill_id = 0

    def bar(self, ts: int, symbol: str, open_: float, high: float, low: float, close: float,
            volume: float = 1_000.0, indicators: dict | None = None,
            strategy: str | None = None) -> None:
        self.bus.publish(BarReceived(ts, symbol, BarPeriod.DAY, open_, high, low, close, volume))
        self.processed(ts, symbol, strategy or self.strategy, indicators)

    def processed(self, ts: int, symbol: str, strategy: str,
                  indicators: dict | None = None) -> None:
        """A strategy's BarProcessed (None values are NaN: warm-up)."""
        values = tuple((name, math.nan if value is None else float(value))
                       for name, value in (indicators or {}).items())
        self.bus.publish(BarProcessed(ts, symbol, strategy, BarPeriod.DAY, values))

    def flat_bar(self, ts: int, symbol: str, price: float, **kwargs) -> None:
        self.bar(ts, symbol, price, price, price, price, **kwargs)

    def submit(self, ts: int, order_id: int, symbol: str, side: str, quantity: float, *,
               order_type: OrderType = OrderType.MARKET, limit_price: float | None = None,
               stop_price: float | None = None, expiry_ns: int | None = None,
               signal: str | None = None) -> None:
        self.bus.publish(OrderSubmissionRequest(
            ts, order_id, self.strategy, symbol, order_type, TradeSide(side), quantity,
            limit_price, stop_price, expiry_ns, None, signal))

    def accept(self, ts: int, order_id: int) -> None:
        self.bus.publish(OrderAccepted(ts, order_id))

    def reject(self, ts: int, order_id: int, reason: str, message: str) -> None:
        self.bus.publish(OrderRejected(ts, order_id, reason, message))

    def modify(self, ts: int, order_id: int, quantity: float, limit_price: float | None = None,
               stop_price: float | None = None) -> None:
        self.bus.publish(OrderModificationRequest(ts, order_id, self.strategy, quantity,
                                                  limit_price, stop_price))
        self.bus.publish(ModificationAccepted(ts, order_id, quantity, limit_price, stop_price))

    def cancel(self, ts: int, order_id: int) -> None:
        self.bus.publish(OrderCancellationRequest(ts, order_id, self.strategy))
        self.bus.publish(CancellationAccepted(ts, order_id))

    def expire(self, ts: int, order_id: int, symbol: str) -> None:
        self.bus.publish(OrderExpired(ts, order_id, symbol))

    def fill(self, ts: int, order_id: int, symbol: str, side: str, quantity: float,
             price: float, commission: float = 0.0) -> None:
        self._fill_id += 1
        self.bus.publish(FillEvent(ts, self._fill_id, order_id, self.strategy, symbol,
                                   TradeSide(side), quantity, price, commission))

    def trade(self, ts: int, order_id: int, symbol: str, side: str, quantity: float,
              price: float, commission: float = 0.0) -> None:
        """Submit (on the previous day), accept and fill a market order."""
        self.submit(ts - DAY, order_id, symbol, side, quantity)
        self.accept(ts - DAY, order_id)
        self.fill(ts, order_id, symbol, side, quantity, price, commission)

    def flush(self) -> None:
        """Hand everything published to the recorder; full batches reach runs.db."""
        self.bus.wait_until_system_idle()

    def finish(self, status: RunStatus = RunStatus.COMPLETED) -> str:
        self.flush()  # raises here if the recorder failed
        self.recorder.final_status = status
        self.recorder.shutdown()
        return self.run_id
