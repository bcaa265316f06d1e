"""Against backtesting.py on its GOOG daily data: the same SMA crossover (10/30, 100 shares at
the next open, long only, 100,000 cash, no commission) run by the full engine and read back
through ``tradecore.analytics`` gives the same statistics.

backtesting.py runs with ``finalize_trades=False`` (its default): a trade still open at the end
stays out of its trade statistics but in its equity, as an open round trip stays out of ours.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.peers import backtesting_py_sma_cross
from tradecore import analytics
from tradecore.orchestrator import Orchestrator
from tradecore.secmaster import import_csv


def backtesting_py_stats(data: pd.DataFrame) -> pd.Series:
    return backtesting_py_sma_cross(data)


@pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofweek is deprecated")  # in backtesting.py
@pytest.mark.filterwarnings("ignore:Some trades remain open")  # finalize_trades=False
def test_statistics_agree_with_backtesting_py_on_goog(tmp_path, isolated_databases):
    from backtesting.test import GOOG

    from tradecore.configure import configured_strategy
    from tradecore.strategies.examples import SMACrossover

    secmaster, runs_db = isolated_databases
    csv = tmp_path / "goog.csv"
    GOOG.to_csv(csv)
    import_csv(secmaster, csv, "GOOG", "DAY")
    strategy = configured_strategy(SMACrossover, ["GOOG"],
                                   {"fast_period": 10, "slow_period": 30, "quantity": 100})
    run_id = Orchestrator(strategies=[strategy]).run()

    ours = analytics.statistics(run_id, runs_db)
    theirs = backtesting_py_stats(GOOG)
    assert ours["trades"] == theirs["# Trades"] >= 20
    for key, label in {
        "total_return_pct": "Return [%]",
        "max_drawdown_pct": "Max. Drawdown [%]",
        "win_rate_pct": "Win Rate [%]",
        "equity_final": "Equity Final [$]",
        "equity_peak": "Equity Peak [$]",
        "return_ann_pct": "Return (Ann.) [%]",
        "volatility_ann_pct": "Volatility (Ann.) [%]",
        "cagr_pct": "CAGR [%]",
        "sharpe": "Sharpe Ratio",
        "sortino": "Sortino Ratio",
        "calmar": "Calmar Ratio",
        "avg_drawdown_pct": "Avg. Drawdown [%]",
        "best_trade": "Best Trade [%]",
        "worst_trade": "Worst Trade [%]",
        "avg_trade": "Avg. Trade [%]",
        "profit_factor": "Profit Factor",
        "expectancy": "Expectancy [%]",
        "sqn": "SQN",
    }.items():
        assert ours[key] == pytest.approx(theirs[label], rel=1e-9, abs=1e-9), key
    assert ours["max_drawdown_duration"] == theirs["Max. Drawdown Duration"]
    # Buy & hold starts at the first bar of the range (backtesting.py's after the SMAs' warm-up,
    # so it differs there by design: see tradecore.analytics.metrics).
    close = GOOG["Close"]
    assert ours["buy_and_hold_return_pct"] == pytest.approx(
        (close.iloc[-1] / close.iloc[0] - 1) * 100, rel=1e-12)
    assert theirs["Buy & Hold Return [%]"] == pytest.approx(
        (close.iloc[-1] / close.iloc[29] - 1) * 100, rel=1e-12)
    assert ours["periods_per_year"] == 252

    # The same closed trades: entry and exit bars and prices.
    trips = analytics.round_trips(run_id, runs_db)
    closed = trips[~trips["open"]].reset_index(drop=True)
    bt_trades = theirs["_trades"].reset_index(drop=True)
    assert list(closed["entry_time"]) == list(pd.to_datetime(bt_trades["EntryTime"]))
    assert list(closed["exit_time"]) == list(pd.to_datetime(bt_trades["ExitTime"]))
    assert list(closed["entry_price"]) == pytest.approx(list(bt_trades["EntryPrice"]))
    assert list(closed["exit_price"]) == pytest.approx(list(bt_trades["ExitPrice"]))
    assert list(closed["pnl"]) == pytest.approx(list(bt_trades["PnL"]))
    curve = analytics.equity_curve(run_id, runs_db)
    assert list(curve["equity"]) == pytest.approx(list(theirs["_equity_curve"]["Equity"]))
