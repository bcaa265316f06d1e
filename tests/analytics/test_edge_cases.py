"""Runs with nothing to measure give numbers or explicit NaN, never an exception."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.analytics.helpers import config, day
from tradecore import analytics


def nan(value) -> bool:
    return value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def every_reader(run_id, db_path):
    return {
        "fills": analytics.fills(run_id, db_path),
        "order_log": analytics.order_log(run_id, db_path),
        "bars": analytics.bars(run_id, db_path),
        "equity": analytics.equity_curve(run_id, db_path),
        "equity_2": analytics.equity_curve(run_id, db_path, max_points=2),
        "round_trips": analytics.round_trips(run_id, db_path),
        "statistics": analytics.statistics(run_id, db_path),
    }


def test_a_run_without_any_event(new_run, db_path):
    run_id = new_run("empty", config(["AAA"])).finish()
    got = every_reader(run_id, db_path)
    for name in ("fills", "order_log", "bars", "equity", "round_trips"):
        assert got[name].empty, name
    stats = got["statistics"]
    assert set(stats) == set(analytics.STATISTICS)
    assert stats["trades"] == 0 and stats["bars"] == 0
    assert nan(stats["total_return_pct"]) and nan(stats["sharpe"]) and nan(stats["start"])


def test_no_trades_flat_equity(new_run, db_path):
    run = new_run("flat", config(["AAA"]))
    for d in range(10):
        run.bar(day(d), "AAA", 10 + d, 11 + d, 9 + d, 10 + d)
    stats = every_reader(run.finish(), db_path)["statistics"]
    assert stats["trades"] == 0 and stats["open_trades"] == 0
    assert stats["total_return_pct"] == 0.0 and stats["equity_final"] == 100_000.0
    assert stats["max_drawdown_pct"] == 0.0 and stats["exposure_pct"] == 0.0
    assert stats["return_ann_pct"] == 0.0 and stats["volatility_ann_pct"] == 0.0
    for key in ("sharpe", "sortino", "calmar", "win_rate_pct", "profit_factor", "sqn",
                "expectancy", "avg_trade", "best_trade", "kelly_criterion"):
        assert nan(stats[key]), key
    assert nan(stats["max_drawdown_duration"])
    assert stats["buy_and_hold_return_pct"] == pytest.approx((19 / 10 - 1) * 100)
    assert stats["commissions"] == 0.0


def test_one_winning_trade(new_run, db_path):
    run = new_run("one", config(["AAA"]))
    for d in range(6):
        if d == 1:
            run.trade(day(d), 1, "AAA", "BUY", 10, 10.0)
        if d == 4:
            run.trade(day(d), 2, "AAA", "SELL", 10, 13.0)
        run.bar(day(d), "AAA", 10 + d, 11 + d, 9 + d, 10 + d)
    stats = analytics.statistics(run.finish(), db_path)
    assert stats["trades"] == 1
    assert stats["win_rate_pct"] == 100.0
    assert stats["best_trade"] == stats["worst_trade"] == pytest.approx(30.0)
    assert nan(stats["sqn"])  # the std of one P&L is undefined
    assert nan(stats["profit_factor"])  # no losing trade (backtesting.py's convention)
    assert stats["equity_final"] == pytest.approx(100_030.0)


def test_all_losing_trades(new_run, db_path):
    run = new_run("losers", config(["AAA"]))
    prices = [10, 10, 9, 9, 8, 8, 7, 7]
    for d, price in enumerate(prices):
        if d in (1, 3, 5):
            run.trade(day(d), d, "AAA", "BUY", 10, float(price))
        if d in (2, 4, 6):
            run.trade(day(d), d, "AAA", "SELL", 10, float(price))
        run.flat_bar(day(d), "AAA", float(price))
    stats = analytics.statistics(run.finish(), db_path)
    assert stats["trades"] == 3
    assert stats["win_rate_pct"] == 0.0
    assert stats["profit_factor"] == 0.0 and stats["profit_factor_pnl"] == 0.0
    assert stats["net_pnl"] == pytest.approx(-30.0)
    assert stats["gross_profit"] == 0.0
    assert nan(stats["kelly_criterion"])
    assert stats["max_drawdown_pct"] == pytest.approx((99_970 / 100_000 - 1) * 100)
    assert nan(stats["sqn"])  # equal losses: a zero std


def test_a_position_opened_on_the_last_bar(new_run, db_path):
    run = new_run("last", config(["AAA"]))
    for d in range(3):
        if d == 2:
            run.trade(day(d), 1, "AAA", "BUY", 5, 12.0, commission=1.0)
        run.bar(day(d), "AAA", 10 + d, 11 + d, 9 + d, 10 + d)
    run_id = run.finish()
    trips = analytics.round_trips(run_id, db_path)
    assert len(trips) == 1 and bool(trips["open"].iloc[0])
    assert trips["exit_price"].iloc[0] == 12.0  # the last close
    assert trips["pnl"].iloc[0] == pytest.approx(-1.0)
    stats = analytics.statistics(run_id, db_path)
    assert stats["trades"] == 0 and stats["open_trades"] == 1
    assert stats["open_pnl"] == pytest.approx(-1.0)


def test_weekday_only_data_is_annualised_with_252_periods(new_run, db_path):
    run = new_run("weekdays", config(["AAA"]))
    days = [d for d in range(21) if pd.Timestamp(day(d)).day_of_week < 5]
    for n, d in enumerate(days):
        if n == 1:
            run.trade(day(d), 1, "AAA", "BUY", 100, 10.0)
        run.flat_bar(day(d), "AAA", 10.0 + (n % 3))
    stats = analytics.statistics(run.finish(), db_path)
    assert stats["periods_per_year"] == 252
    assert math.isfinite(stats["sharpe"])


def test_unknown_run_and_missing_database(db_path, new_run, tmp_path):
    new_run("exists", config(["AAA"])).finish()
    with pytest.raises(analytics.RunNotFoundError):
        analytics.statistics("nope", db_path)
    with pytest.raises(analytics.RunNotFoundError):
        analytics.bars("nope", db_path)
    with pytest.raises(analytics.RunsDatabaseNotFoundError):
        analytics.fills("exists", tmp_path / "elsewhere.db")
    assert analytics.list_runs(tmp_path / "elsewhere.db").empty


def test_range_extremes_of_overlapping_and_empty_ranges():
    import numpy as np

    from tradecore.analytics.trades import range_extremes

    rng = np.random.default_rng(7)
    high, low = rng.normal(size=500), rng.normal(size=500)
    starts = rng.integers(0, 501, 300)
    stops = np.minimum(starts + rng.integers(0, 200, 300), 500)
    got_high, got_low = range_extremes(high, low, starts, stops)
    for a, b, h, lo in zip(starts, stops, got_high, got_low, strict=True):
        assert h == (high[a:b].max() if b > a else -np.inf)
        assert lo == (low[a:b].min() if b > a else np.inf)
