"""The peer side of cross-checks: backtesting.py running our SMACrossover's logic."""

from __future__ import annotations

import pandas as pd


def backtesting_py_sma_cross(data: pd.DataFrame, *, fast: int = 10, slow: int = 30,
                             quantity: int = 100, finalize_trades: bool = False) -> pd.Series:
    """backtesting.py's stats for: buy ``quantity`` at the next open when SMA(fast) crosses
    above SMA(slow) while flat; close at the next open when it crosses below while long."""
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    def sma(values, n):
        return pd.Series(values).rolling(n).mean()

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, fast)
            self.slow = self.I(sma, self.data.Close, slow)

        def next(self):
            if crossover(self.fast, self.slow) and not self.position:
                self.buy(size=quantity)
            elif crossover(self.slow, self.fast) and self.position.is_long:
                self.position.close()

    return Backtest(data, SmaCross, cash=100_000, commission=0,
                    finalize_trades=finalize_trades).run()
