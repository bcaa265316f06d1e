"""The order log: one row per submission with its final outcome."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.analytics.helpers import config, day
from tradecore import analytics
from tradecore.models import OrderType


@pytest.fixture
def orders_run(new_run):
    run = new_run("orders", config(["AAA"]))
    for d in range(6):
        run.bar(day(d), "AAA", 10, 11, 9, 10)
    # 1: market buy, accepted, filled next day
    run.submit(day(0), 1, "AAA", "BUY", 10, signal="entry")
    run.accept(day(0), 1)
    run.fill(day(1), 1, "AAA", "BUY", 10, 10.0, 0.5)
    # 2: rejected (no limit price)
    run.submit(day(1), 2, "AAA", "BUY", 5, order_type=OrderType.LIMIT)
    run.reject(day(1), 2, "MISSING_PRICE", "A LIMIT order needs a limit price.")
    # 3: limit sell, modified twice, then filled in two parts
    run.submit(day(1), 3, "AAA", "SELL", 10, order_type=OrderType.LIMIT, limit_price=12.0)
    run.accept(day(1), 3)
    run.modify(day(2), 3, 8, limit_price=11.5)
    run.modify(day(3), 3, 6, limit_price=11.0)
    run.fill(day(4), 3, "AAA", "SELL", 2, 11.0, 0.1)
    run.fill(day(5), 3, "AAA", "SELL", 4, 11.2, 0.2)
    # 4: stop buy, cancelled after part of it filled
    run.submit(day(2), 4, "AAA", "BUY", 10, order_type=OrderType.STOP, stop_price=10.5)
    run.accept(day(2), 4)
    run.fill(day(3), 4, "AAA", "BUY", 3, 10.5, 0.0)
    run.cancel(day(4), 4)
    # 5: limit buy with an expiry, expired at it; 6: limit buy left open at the end of data
    run.submit(day(2), 5, "AAA", "BUY", 1, order_type=OrderType.LIMIT, limit_price=5.0,
               expiry_ns=day(4))
    run.accept(day(2), 5)
    run.expire(day(4), 5, "AAA")
    run.submit(day(3), 6, "AAA", "BUY", 1, order_type=OrderType.LIMIT, limit_price=5.0)
    run.accept(day(3), 6)
    run.expire(day(5), 6, "AAA")
    # 1 again: a reused id, rejected without touching order 1
    run.submit(day(5), 1, "AAA", "SELL", 1)
    run.reject(day(5), 1, "UNKNOWN_ORDER", "Order id 1 is already in use.")
    return run.finish()


def test_one_row_per_submission_with_its_outcome(orders_run, db_path):
    log = analytics.order_log(orders_run, db_path)
    assert list(log["order_id"]) == [1, 2, 3, 4, 5, 6, 1]
    assert list(log["status"]) == ["filled", "rejected", "filled", "cancelled", "expired",
                                   "expired", "rejected"]
    rows = {i: row for i, row in enumerate(log.to_dict("records"))}

    filled = rows[0]
    assert filled["signal"] == "entry" and filled["order_type"] == "MARKET"
    assert filled["submitted_ts_ns"] == day(0) and filled["accepted_ts_ns"] == day(0)
    assert filled["fill_price"] == 10.0 and filled["fill_ts_ns"] == day(1)
    assert filled["closed_ts_ns"] == day(1) and filled["commission"] == 0.5
    assert pd.isna(filled["reason"])

    rejected = rows[1]
    assert rejected["reason"] == "MISSING_PRICE"
    assert "limit price" in rejected["message"]
    assert rejected["closed_ts_ns"] == day(1) and rejected["filled_quantity"] == 0

    modified = rows[2]
    assert modified["quantity"] == 10 and modified["limit_price"] == 12.0
    assert modified["final_quantity"] == 6 and modified["final_limit_price"] == 11.0
    assert modified["modifications"] == 2 and modified["fills"] == 2
    assert modified["filled_quantity"] == 6
    assert modified["fill_price"] == pytest.approx((2 * 11.0 + 4 * 11.2) / 6)
    assert modified["fill_ts_ns"] == day(5) and modified["commission"] == pytest.approx(0.3)

    cancelled = rows[3]
    assert cancelled["reason"] == "CANCELLED" and cancelled["filled_quantity"] == 3
    assert cancelled["cancel_requested_ts_ns"] == day(4)
    assert cancelled["closed_ts_ns"] == day(4) and cancelled["stop_price"] == 10.5

    assert rows[4]["reason"] == "EXPIRED" and "expiry" in rows[4]["message"]
    assert rows[4]["expiry_ns"] == day(4)
    assert rows[5]["reason"] == "EXPIRED" and "data ended" in rows[5]["message"]
    assert math.isnan(rows[5]["fill_price"])

    duplicate = rows[6]
    assert duplicate["reason"] == "UNKNOWN_ORDER" and duplicate["side"] == "SELL"
    assert duplicate["filled_quantity"] == 0 and pd.isna(duplicate["accepted_ts_ns"])
    # ... and order 1 keeps its own outcome
    assert rows[0]["filled_quantity"] == 10


def test_orders_still_working_when_the_run_ended(new_run, db_path):
    """A broker that leaves orders open (the SimulatedBroker expires them at the end)."""
    run = new_run("working", config(["AAA"]))
    run.submit(day(0), 1, "AAA", "BUY", 10, order_type=OrderType.LIMIT, limit_price=9.0)
    run.accept(day(0), 1)
    run.submit(day(0), 2, "AAA", "BUY", 10, order_type=OrderType.LIMIT, limit_price=9.0)
    run.accept(day(0), 2)
    run.fill(day(1), 2, "AAA", "BUY", 4, 9.0)
    run.submit(day(1), 3, "AAA", "BUY", 1)
    run.bar(day(1), "AAA", 10, 11, 9, 10)
    log = analytics.order_log(run.finish(), db_path)
    assert list(log["status"]) == ["open", "partially_filled", "pending"]
