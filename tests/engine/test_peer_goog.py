"""Against a peer on real data: backtesting.py's GOOG daily bars, the same SMA crossover.

GOOG goes in through the CLI's ``import csv``; SMACrossover (10/30, 100 shares) runs through
the Orchestrator; backtesting.py runs the same logic. Every fill must match: same bar, same
price, same side and size.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.engine.helpers import configured, run, table_rows
from tests.peers import backtesting_py_sma_cross
from tradecore.cli import main as cli
from tradecore.strategies.examples import SMACrossover


def backtesting_py_trades(data: pd.DataFrame) -> pd.DataFrame:
    return backtesting_py_sma_cross(data, finalize_trades=True)["_trades"]


def test_goog_fills_equal_backtesting_py(tmp_path, isolated_databases):
    from backtesting.test import GOOG

    secmaster, runs_db = isolated_databases
    csv = tmp_path / "goog.csv"
    GOOG.to_csv(csv)
    assert cli(["import", "csv", str(csv), "--symbol", "GOOG", "--period", "DAY",
                "--secmaster", str(secmaster)]) == 0

    orchestrator = run([configured(SMACrossover, ["GOOG"], fast_period=10, slow_period=30,
                                   quantity=100)])
    fills = table_rows(runs_db, "fills", orchestrator.run_id)
    ours = [(pd.Timestamp(ts, unit="ns"), side, qty, price)
            for ts, _fill_id, _order, _strategy, _symbol, side, qty, price, _commission in fills]

    # finalize_trades closes a trade still open at the end (at the last bar's open); we keep
    # it open. It is a real exit only if the SMAs crossed down on the bar before the last.
    fast, slow = GOOG["Close"].rolling(10).mean(), GOOG["Close"].rolling(30).mean()
    crossed_down_before_last = fast.iloc[-3] > slow.iloc[-3] and fast.iloc[-2] < slow.iloc[-2]
    theirs = []
    for trade in backtesting_py_trades(GOOG).itertuples():
        theirs.append((pd.Timestamp(trade.EntryTime), "BUY", float(trade.Size), trade.EntryPrice))
        if trade.ExitBar < len(GOOG) - 1 or crossed_down_before_last:
            theirs.append((pd.Timestamp(trade.ExitTime), "SELL", float(trade.Size),
                           trade.ExitPrice))

    assert len(ours) >= 20
    assert [(t, s, q) for t, s, q, _ in ours] == [(t, s, q) for t, s, q, _ in theirs]
    assert [p for *_, p in ours] == pytest.approx([p for *_, p in theirs], abs=1e-9)
