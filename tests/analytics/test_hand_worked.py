"""A hand-worked two-symbol run: scale-in, partial exit, reversal through zero, a short held
open to the end across a gap in its bars, commissions on every fill.

Cash 10,000. Bars (open, high, low, close), days 0..7 from Monday 2024-01-01:

    AAA  d0 10 11  9 10 | d1 10 12 10 11 | d2 11 13 11 12 | d3 12 12  9 10
         d4 10 11  8  9 | d5  9 10  8  8 | d6  8  9  7  9 | d7  9 10  8 10
    BBB  d0 20 21 19 20 | d1 20 22 20 21 | (no d2 bar)     | d3 21 23 20 22
         d4 22 22 18 19 | d5 19 20 17 18 | d6 18 19 16 17 | d7 17 18 15 16

Fills (at the day's open):
    F1 d1 AAA BUY  10 @ 10 comm 1.0   lot L1 long 10 @ 10 (0.1/unit)
    F6 d1 BBB SELL  4 @ 20 comm 0.4   lot short 4 @ 20 (0.1/unit), held to the end
    F2 d2 AAA BUY  10 @ 11 comm 1.0   scale-in: lot L2 long 10 @ 11 (0.1/unit)
    F3 d3 AAA SELL 15 @ 12 comm 1.5   partial exit: closes L1 and 5 of L2 (0.1/unit)
    F4 d5 AAA SELL 10 @  9 comm 2.0   reversal: closes L2's last 5, opens short 5 @ 9 (0.2/unit)
    F5 d7 AAA BUY   5 @  9 comm 0.5   closes the short (0.1/unit)
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pandas as pd
import pytest

from tests.analytics.helpers import config, day
from tradecore import analytics

AAA = [(10, 11, 9, 10), (10, 12, 10, 11), (11, 13, 11, 12), (12, 12, 9, 10),
       (10, 11, 8, 9), (9, 10, 8, 8), (8, 9, 7, 9), (9, 10, 8, 10)]
BBB = {0: (20, 21, 19, 20), 1: (20, 22, 20, 21), 3: (21, 23, 20, 22), 4: (22, 22, 18, 19),
       5: (19, 20, 17, 18), 6: (18, 19, 16, 17), 7: (17, 18, 15, 16)}
# AAA's indicator is warming up on days 0 and 1 (NaN); BBB records none.
SMA = [None, None, 10.5, 11.0, 9.5, 8.5, 8.5, 9.5]

EXPECTED_EQUITY = [10000.0, 10004.6, 10023.6, 10008.1, 10015.1, 10022.1, 10021.1, 10024.6]
EXPECTED_CASH = [10000.0, 9978.6, 9867.6, 10046.1, 10046.1, 10134.1, 10134.1, 10088.6]


@pytest.fixture
def hand_run(new_run):
    run = new_run("hand", config(["AAA", "BBB"], cash=10_000.0))
    fills = {
        1: [(1, "AAA", "BUY", 10, 10.0, 1.0), (6, "BBB", "SELL", 4, 20.0, 0.4)],
        2: [(2, "AAA", "BUY", 10, 11.0, 1.0)],
        3: [(3, "AAA", "SELL", 15, 12.0, 1.5)],
        5: [(4, "AAA", "SELL", 10, 9.0, 2.0)],
        7: [(5, "AAA", "BUY", 5, 9.0, 0.5)],
    }
    for d in range(8):
        # The broker fills at the open, before the strategy sees the bar (as the engine does).
        for order_id, symbol, side, quantity, price, commission in fills.get(d, []):
            run.submit(day(d - 1), order_id, symbol, side, quantity, signal=f"signal {order_id}")
            run.accept(day(d - 1), order_id)
            run.fill(day(d), order_id, symbol, side, quantity, price, commission)
        run.bar(day(d), "AAA", *AAA[d], indicators={"SMA(2)": SMA[d]})
        if d in BBB:
            run.bar(day(d), "BBB", *BBB[d])
    return run.finish()


def test_fills_are_recorded_in_time_order(hand_run, db_path):
    fills = analytics.fills(hand_run, db_path)
    assert list(fills["associated_order_id"]) == [1, 6, 2, 3, 4, 5]
    assert list(fills["side"]) == ["BUY", "SELL", "BUY", "SELL", "SELL", "BUY"]
    assert fills["commission"].sum() == pytest.approx(6.4)
    assert fills["ts_event_ns"].dtype == np.int64
    assert fills["time"].iloc[0] == pd.Timestamp("2024-01-02")


def test_equity_cash_positions_and_drawdown(hand_run, db_path):
    curve = analytics.equity_curve(hand_run, db_path)
    assert list(curve.columns) == ["ts_event_ns", "time", "cash", "position_value", "equity",
                                   "drawdown"]
    assert list(curve["ts_event_ns"]) == [day(d) for d in range(8)]  # BBB's gap adds no row
    assert list(curve["cash"]) == pytest.approx(EXPECTED_CASH)
    # Day 2: AAA 20 x 12, BBB -4 x 21 (its last close, day 1: no bar on day 2).
    assert list(curve["position_value"]) == pytest.approx(
        [0, 26, 156, -38, -31, -112, -113, -64])
    assert list(curve["equity"]) == pytest.approx(EXPECTED_EQUITY)
    peak = np.maximum.accumulate(EXPECTED_EQUITY)
    assert list(curve["drawdown"]) == pytest.approx(list(np.array(EXPECTED_EQUITY) / peak - 1))
    assert (curve["drawdown"] <= 0).all()
    assert curve["drawdown"].min() == pytest.approx(10008.1 / 10023.6 - 1)


def test_round_trips_fifo_with_partial_exit_scale_in_reversal_and_open_position(hand_run,
                                                                              db_path):
    trips = analytics.round_trips(hand_run, db_path)
    rows = trips[["symbol", "direction", "quantity", "entry_ts_ns", "exit_ts_ns", "entry_price",
                  "exit_price", "pnl", "commission", "open"]].itertuples(index=False)
    expected = [
        # L1 closed by F3: (12 - 10) x 10 - (1.0 + 10 x 0.1)
        ("AAA", "long", 10, day(1), day(3), 10, 12, 18.0, 2.0, False),
        # BBB short, still open: marked at the last close 16, entry commission only
        ("BBB", "short", 4, day(1), day(7), 20, 16, 15.6, 0.4, True),
        # 5 of L2 closed by F3: (12 - 11) x 5 - (5 x 0.1 + 5 x 0.1)
        ("AAA", "long", 5, day(2), day(3), 11, 12, 4.0, 1.0, False),
        # the rest of L2 closed by the first half of F4: (9 - 11) x 5 - (0.5 + 5 x 0.2)
        ("AAA", "long", 5, day(2), day(5), 11, 9, -11.5, 1.5, False),
        # the other half of F4 opened a short, closed by F5: 0 - (5 x 0.2 + 0.5)
        ("AAA", "short", 5, day(5), day(7), 9, 9, -1.5, 1.5, False),
    ]
    got = [tuple(row) for row in rows]
    assert len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        assert row[:2] == want[:2] and row[9] == want[9]
        assert row[2:9] == pytest.approx(want[2:9])
    assert list(trips["return_pct"]) == pytest.approx(
        [18.0, 15.6 / 80 * 100, 4 / 55 * 100, -11.5 / 55 * 100, -1.5 / 45 * 100])
    assert list(trips["duration"]) == [pd.Timedelta(days=n) for n in (2, 6, 1, 3, 2)]
    # Excursions from the bars between entry and exit (exit bar excluded) and the exit price:
    # L1 long @10 on d1-d2: high 13, low 10; BBB short @20 on d1..d7: high 23, low 15;
    # 5 of L2 @11 on d2: high 13, low 11; L2's rest @11 on d2-d4: high 13, low 8;
    # short @9 on d5-d6: high 10, low 7.
    assert list(trips["mfe"]) == pytest.approx([30, 20, 10, 10, 10])
    assert list(trips["mae"]) == pytest.approx([0, -12, 0, -15, -5])
    assert trips["commission"].sum() == pytest.approx(6.4)  # every fill's commission, once
    # Closed trips plus the open one add up to the equity's gain.
    assert trips["pnl"].sum() == pytest.approx(EXPECTED_EQUITY[-1] - 10_000)


def test_statistics_of_the_hand_run(hand_run, db_path):
    stats = analytics.statistics(hand_run, db_path)
    closed_pnl = np.array([18.0, 4.0, -11.5, -1.5])
    closed_returns = np.array([18 / 100, 4 / 55, -11.5 / 55, -1.5 / 45])
    assert stats["trades"] == 4 and stats["open_trades"] == 1
    assert stats["open_pnl"] == pytest.approx(15.6)
    assert stats["equity_final"] == pytest.approx(10024.6)
    assert stats["equity_peak"] == pytest.approx(10024.6)
    assert stats["total_return_pct"] == pytest.approx(0.246)
    assert stats["commissions"] == pytest.approx(6.4)
    assert stats["win_rate_pct"] == pytest.approx(50.0)
    assert stats["best_trade"] == pytest.approx(18.0)
    assert stats["worst_trade"] == pytest.approx(-11.5 / 55 * 100)
    assert stats["expectancy"] == pytest.approx(closed_returns.mean() * 100)
    assert stats["expectancy_pnl"] == pytest.approx(2.25)
    assert stats["avg_trade"] == pytest.approx(
        (np.prod(1 + closed_returns) ** (1 / 4) - 1) * 100)
    assert stats["profit_factor"] == pytest.approx(
        (18 / 100 + 4 / 55) / (11.5 / 55 + 1.5 / 45))
    assert stats["profit_factor_pnl"] == pytest.approx(22 / 13)
    assert stats["sqn"] == pytest.approx(2 * closed_pnl.mean() / closed_pnl.std(ddof=1))
    assert stats["net_pnl"] == pytest.approx(9.0)
    assert stats["max_drawdown_pct"] == pytest.approx((10008.1 / 10023.6 - 1) * 100)
    assert stats["max_drawdown_duration"] == pd.Timedelta(days=5)  # peak d2, back above d7
    assert stats["exposure_pct"] == pytest.approx(7 / 8 * 100)  # a position on d1..d7
    # From the first bar of the range, whatever the warm-up: AAA 10 -> 10; BBB 20 -> 16.
    assert stats["buy_and_hold_return_pct"] == pytest.approx(((10 / 10 - 1) + (16 / 20 - 1))
                                                             / 2 * 100)
    assert stats["start"] == pd.Timestamp("2024-01-01")
    assert stats["end"] == pd.Timestamp("2024-01-08")
    # Saturday and Sunday bars: 2 of 8 > 60 % of 2/7 -> 365 periods a year.
    assert stats["periods_per_year"] == 365 and stats["resample_rule"] == "D"
    assert stats["risk_free_rate"] == 0.0
    assert stats["definitions_version"] == analytics.DEFINITIONS_VERSION


def test_ratios_match_a_direct_pandas_computation_of_the_documented_formulas(hand_run,
                                                                            db_path):
    stats = analytics.statistics(hand_run, db_path)
    equity = pd.Series(EXPECTED_EQUITY, index=pd.to_datetime([day(d) for d in range(8)]))
    returns = equity.resample("D").last().dropna().pct_change().dropna()
    periods = 365
    g = math.exp(np.log1p(returns).mean()) - 1
    annual = (1 + g) ** periods - 1
    volatility = math.sqrt((returns.var(ddof=1) + (1 + g) ** 2) ** periods
                           - (1 + g) ** (2 * periods))
    downside = math.sqrt((returns.clip(upper=0) ** 2).mean()) * math.sqrt(periods)
    max_dd = (equity / equity.cummax() - 1).min()
    years = 7 / 365.25
    assert stats["return_ann_pct"] == pytest.approx(annual * 100)
    assert stats["volatility_ann_pct"] == pytest.approx(volatility * 100)
    assert stats["sharpe"] == pytest.approx(annual / volatility)
    assert stats["sortino"] == pytest.approx(annual / downside)
    assert stats["calmar"] == pytest.approx(annual / abs(max_dd))
    assert stats["cagr_pct"] == pytest.approx(((10024.6 / 10000) ** (1 / years) - 1) * 100)


def test_ratios_with_a_configured_risk_free_rate(hand_run, db_path):
    base = analytics.statistics(hand_run, db_path)
    with_rate = analytics.statistics(hand_run, db_path, risk_free_rate=0.02)
    annual = base["return_ann_pct"] / 100
    assert with_rate["risk_free_rate"] == 0.02
    assert with_rate["sharpe"] == pytest.approx((annual - 0.02)
                                                / (base["volatility_ann_pct"] / 100))
    # An explicit rate is not kept: the stored statistics stay the run's own convention.
    assert analytics.statistics(hand_run, db_path)["risk_free_rate"] == 0.0


@pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofweek is deprecated")  # in backtesting.py
def test_statistics_agree_with_backtesting_py_compute_stats_on_the_same_equity(hand_run,
                                                                             db_path):
    """backtesting.py's own statistics code, fed our equity curve and closed trades."""
    compute_stats = importlib.import_module("backtesting._stats").compute_stats
    curve = analytics.equity_curve(hand_run, db_path)
    trips = analytics.round_trips(hand_run, db_path)
    closed = trips[~trips["open"]]
    index = pd.DatetimeIndex(curve["time"])
    bar_of = {ts: i for i, ts in enumerate(curve["ts_event_ns"])}
    trades = pd.DataFrame({
        "Size": closed["quantity"].to_numpy(),
        "EntryBar": closed["entry_ts_ns"].map(bar_of).to_numpy(),
        "ExitBar": closed["exit_ts_ns"].map(bar_of).to_numpy(),
        "EntryPrice": closed["entry_price"].to_numpy(),
        "ExitPrice": closed["exit_price"].to_numpy(),
        "PnL": closed["pnl"].to_numpy(),
        "ReturnPct": closed["return_pct"].to_numpy() / 100,
        "EntryTime": closed["entry_time"].to_numpy(),
        "ExitTime": closed["exit_time"].to_numpy(),
        "Duration": closed["duration"].to_numpy(),
    })
    ohlc = pd.DataFrame({"Close": [c for *_, c in AAA]}, index=index)
    theirs = compute_stats(trades, curve["equity"].to_numpy(), ohlc, None, 0)
    ours = analytics.statistics(hand_run, db_path)
    pairs = {
        "total_return_pct": "Return [%]", "return_ann_pct": "Return (Ann.) [%]",
        "volatility_ann_pct": "Volatility (Ann.) [%]", "cagr_pct": "CAGR [%]",
        "sharpe": "Sharpe Ratio", "sortino": "Sortino Ratio", "calmar": "Calmar Ratio",
        "max_drawdown_pct": "Max. Drawdown [%]", "avg_drawdown_pct": "Avg. Drawdown [%]",
        "trades": "# Trades", "win_rate_pct": "Win Rate [%]", "best_trade": "Best Trade [%]",
        "worst_trade": "Worst Trade [%]", "avg_trade": "Avg. Trade [%]",
        "profit_factor": "Profit Factor", "expectancy": "Expectancy [%]", "sqn": "SQN",
        "kelly_criterion": "Kelly Criterion", "equity_final": "Equity Final [$]",
        "equity_peak": "Equity Peak [$]",
    }
    for key, label in pairs.items():
        assert ours[key] == pytest.approx(theirs[label], rel=1e-9), key
    assert ours["max_drawdown_duration"] == theirs["Max. Drawdown Duration"]
    assert ours["avg_drawdown_duration"] == theirs["Avg. Drawdown Duration"]
