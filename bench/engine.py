"""Engine speed: SMA crossover over one-minute bars, tradecore beside backtesting.py and backtrader.

    python bench/engine.py [--bars 1000000] [--repeat 3] [--backtrader-bars 100000]

Same data (a seeded random walk of 1-minute bars), same logic (fast/slow SMA of close; buy 100
at the next open on a cross above while flat, sell all at the next open on a cross below).
tradecore records every event to runs.db (full recording). Prints bars per second, the median
of ``--repeat`` runs, and each peer's figure relative to tradecore. backtrader is slow enough
that it runs on the first ``--backtrader-bars`` bars only (bars/s is what is compared).
"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FAST, SLOW, QUANTITY = 10, 30, 100


def make_bars(count: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0008, count)))
    open_ = np.concatenate([[100.0], close[:-1]]) * (1 + rng.normal(0, 0.0002, count))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.0004, count)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.0004, count)))
    index = pd.date_range("2020-01-01", periods=count, freq="min", unit="ns")
    return pd.DataFrame({"Open": open_.round(4), "High": high.round(4), "Low": low.round(4),
                         "Close": close.round(4),
                         "Volume": rng.integers(100, 10_000, count).astype(float)}, index=index)


def bench_tradecore(frame: pd.DataFrame, workdir: Path, repeat: int) -> tuple[list[float], dict]:
    from tradecore.configure import RunRequest, build_orchestrator
    from tradecore.secmaster import import_csv

    secmaster, runs = workdir / "secmaster.db", workdir / "runs.db"
    buffer = io.StringIO()
    frame.to_csv(buffer, index_label="timestamp")
    buffer.seek(0)
    import_csv(secmaster, buffer, "BENCH", "MINUTE")
    times, detail = [], {}
    for _ in range(repeat):
        request = RunRequest(strategy="SMACrossover", symbols=["BENCH"],
                             parameters={"bar_period": "MINUTE", "fast_period": FAST,
                                         "slow_period": SLOW, "quantity": QUANTITY},
                             secmaster_path=str(secmaster), runs_db_path=str(runs))
        orchestrator = build_orchestrator(request)
        started = time.perf_counter()
        run_id = orchestrator.run()
        times.append(time.perf_counter() - started)
        with sqlite3.connect(runs) as conn:
            detail = {t: conn.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?",
                                      (run_id,)).fetchone()[0]
                      for t in ("bars", "bars_processed", "fills")}
    return times, detail


def bench_tradecore_memory(frame: pd.DataFrame, workdir: Path, count: int) -> float:
    """Peak resident memory (MB) of a fresh process that runs the first ``count`` bars."""
    end = frame.index[count - 1].isoformat()
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})\n"
        "from tradecore.configure import RunRequest, build_orchestrator\n"
        "build_orchestrator(RunRequest(strategy='SMACrossover', symbols=['BENCH'],"
        f" parameters={{'bar_period': 'MINUTE'}}, end={end!r},"
        f" secmaster_path={str(workdir / 'secmaster.db')!r},"
        f" runs_db_path={str(workdir / 'runs-mem.db')!r})).run()\n"
        # VmHWM, not ru_maxrss: the latter keeps the forking parent's size across exec.
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return int(result.stdout.strip().splitlines()[-1]) / 1024


def bench_backtesting(frame: pd.DataFrame, repeat: int) -> tuple[list[float], int]:
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    def sma(values, n):
        return pd.Series(values).rolling(n).mean()

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self):
            if crossover(self.fast, self.slow) and not self.position:
                self.buy(size=QUANTITY)
            elif crossover(self.slow, self.fast) and self.position.is_long:
                self.position.close()

    times, trades = [], 0
    for _ in range(repeat):
        bt = Backtest(frame, SmaCross, cash=1e9, commission=0, finalize_trades=True)
        started = time.perf_counter()
        stats = bt.run()
        times.append(time.perf_counter() - started)
        trades = int(stats["# Trades"])
    return times, trades


def bench_backtrader(frame: pd.DataFrame) -> float:
    import backtrader as bt

    class SmaCross(bt.Strategy):
        def __init__(self):
            self.fast = bt.ind.SMA(period=FAST)
            self.slow = bt.ind.SMA(period=SLOW)
            self.cross = bt.ind.CrossOver(self.fast, self.slow)

        def next(self):
            if self.cross > 0 and not self.position:
                self.buy(size=QUANTITY)
            elif self.cross < 0 and self.position.size > 0:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame.rename(columns=str.lower)))
    cerebro.addstrategy(SmaCross)
    cerebro.broker.setcash(1e9)
    started = time.perf_counter()
    cerebro.run(preload=True, runonce=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backtrader-bars", type=int, default=100_000)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--memory", action="store_true",
                        help="also measure peak memory at a tenth of the bars and at all")
    args = parser.parse_args()

    frame = make_bars(args.bars)
    print(f"{args.bars:,} one-minute bars, SMA({FAST}) x SMA({SLOW}), median of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TRADECORE_RUNS_DB"] = str(Path(tmp) / "runs.db")
        times, detail = bench_tradecore(frame, Path(tmp), args.repeat)
        ours = args.bars / statistics.median(times)
        print(f"tradecore (full recording): {ours:>10,.0f} bars/s  runs "
              f"{', '.join(f'{t:.2f}s' for t in times)}  rows {detail}")
        if args.memory:
            for count in (args.bars // 10, args.bars):
                peak = bench_tradecore_memory(frame, Path(tmp), count)
                print(f"tradecore peak RSS (engine process), {count:,} bars: {peak:.0f} MB")
    if args.skip_peers:
        return
    times, trades = bench_backtesting(frame, args.repeat)
    theirs = args.bars / statistics.median(times)
    print(f"backtesting.py 0.6.6:       {theirs:>10,.0f} bars/s  runs "
          f"{', '.join(f'{t:.2f}s' for t in times)}  trades {trades}  "
          f"-> tradecore is {ours / theirs:.2f}x")
    count = min(args.backtrader_bars, args.bars)
    elapsed = bench_backtrader(frame.iloc[:count])
    print(f"backtrader (first {count:,}): {count / elapsed:>10,.0f} bars/s  {elapsed:.2f}s  "
          f"-> tradecore is {ours / (count / elapsed):.1f}x")


if __name__ == "__main__":
    main()
