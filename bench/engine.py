"""Engine speed: SMA crossover over one-minute bars, tradecore beside backtesting.py.

    python bench/engine.py [--bars 1000000] [--data CSV [--period P]] [--repeat 3] [--scale-bars N]
                           [--backtrader-bars 100000] [--skip-peers] [--skip-scaling]
                           [--memory] [--profile FILE]
    python bench/engine.py --write-csv sessions.csv [--bars 500000]   # another data set

Same data, same logic: fast/slow SMA of close; buy 100 at the next open on a cross above while
flat, sell all at the next open on a cross below while long. The data is a seeded random walk
of one-minute bars, or ``--data CSV`` (any CSV the secmaster's importer reads: a time column and
open/high/low/close[/volume], of minute, hourly, daily ... bars: ``--period`` names it, else the
first period its spacing fits is used); ``--bars N`` takes its first N bars. Both engines read the same
bars: backtesting.py gets them back out of the secmaster tradecore replays from.

tradecore records every event to runs.db (full recording). Each tradecore run is a fresh
``python`` process (so nothing is warm and memory is the run's own) with a fresh runs.db; it
reports its wall time, the engine process's CPU (``RUSAGE_SELF``), the bar reader's CPU (a long
replay reads its bars in ``python -m tradecore.secmaster.stream``, which reports its CPU when it
ends), the writer process's CPU (``RUSAGE_CHILDREN`` less the reader's: the recorder starts
``python -m tradecore.runs_db.writer_process`` as a child of the engine process for long runs
and waits for it), peak RSS (``VmHWM``) and the fills
it recorded. Each tradecore run is followed by a backtesting.py run (in this process), so the
two meet the machine in the same state. Printed, each the median of ``--repeat`` runs, with
the load average: tradecore bars/s, backtesting.py bars/s, the wall-clock ratio of the
medians and of each pair of runs, each process's CPU µs/bar, whether both
engines made the same trades at the same prices, and how the engine's CPU grows with the
shape of a run: 1 vs 20 symbols at the same total bars, 1 vs 4 strategies in one run.

CPU time is what to read on a busy machine: wall time depends on who else holds the cores
(the engine and the writer only overlap when each gets one).
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAST, SLOW, QUANTITY = 10, 30, 100
SYMBOL = "BENCH"
SCALE_SYMBOLS, SCALE_STRATEGIES = 20, 4


# -- data ---------------------------------------------------------------------------------------

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


def make_session_bars(count: int, seed: int = 11) -> pd.DataFrame:
    """Another kind of data for ``--data``: US-equity-like sessions (09:30-16:00 New York on
    weekdays, so overnight and weekend gaps), volatility that switches between calm and busy
    regimes, and opening gaps; prices to the cent."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2015-01-02", periods=count // 390 + 2)
    minutes = pd.timedelta_range(start="14:30:00", periods=390, freq="min")  # 09:30 EST in UTC
    index = (days.values[:, None] + minutes.values[None, :]).ravel()[:count]
    regime = np.repeat(rng.choice([0.0004, 0.0012], size=count // 500 + 1), 500)[:count]
    steps = rng.normal(0, 1, count) * regime
    steps[::390] += rng.normal(0, 0.01, len(steps[::390]))  # the opening gap of each session
    close = 50 * np.exp(np.cumsum(steps))
    open_ = np.concatenate([[50.0], close[:-1]]) * (1 + rng.normal(0, 0.0001, count))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.0005, count)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.0005, count)))
    return pd.DataFrame({"open": open_.round(2), "high": high.round(2), "low": low.round(2),
                         "close": close.round(2),
                         "volume": rng.integers(1, 50_000, count).astype(float)},
                        index=pd.DatetimeIndex(index, name="timestamp"))


def import_frame(secmaster: Path, frame: pd.DataFrame, symbol: str,
                 period: str = "MINUTE") -> None:
    from tradecore.secmaster import import_csv

    buffer = io.StringIO()
    frame.to_csv(buffer, index_label="timestamp")
    buffer.seek(0)
    import_csv(secmaster, buffer, symbol, period)


def import_data(secmaster: Path, path: Path, period: str) -> str:
    """Import the ``--data`` CSV; with ``period`` "auto", under the first bar period whose
    spacing it fits (minute first): the bar period the run then replays."""
    from tradecore.models import BarPeriod
    from tradecore.secmaster import SecmasterError, import_csv

    if period != "auto":
        import_csv(secmaster, path, SYMBOL, period)
        return period.upper()
    *first, last = ["MINUTE", *(p.name for p in BarPeriod if p.name != "MINUTE")]
    for name in first:
        try:
            import_csv(secmaster, path, SYMBOL, name)
            return name
        except SecmasterError as error:
            if "median spacing" not in str(error):  # not a period mismatch: say so now
                raise
    import_csv(secmaster, path, SYMBOL, last)
    return last


def stored_bars(secmaster: Path, symbol: str, count: int | None) -> pd.DataFrame:
    """The bars of ``symbol`` as the secmaster holds them (the first ``count``), in
    backtesting.py's shape: what tradecore replays is exactly what the peer gets."""
    with sqlite3.connect(secmaster) as conn:
        rows = conn.execute(
            "SELECT b.ts_event, b.open, b.high, b.low, b.close, b.volume"
            " FROM bars AS b JOIN instruments AS i USING (instrument_id)"
            " WHERE i.raw_symbol = ? ORDER BY b.ts_event LIMIT ?",
            (symbol, -1 if count is None else count)).fetchall()
    if not rows:
        raise SystemExit(f"no bars stored for {symbol}")
    ts, *columns = zip(*rows)
    return pd.DataFrame(dict(zip(("Open", "High", "Low", "Close", "Volume"), columns)),
                        index=pd.to_datetime(np.array(ts, dtype="int64"), unit="ns"))


def prepare_data(args: argparse.Namespace, workdir: Path) -> tuple[Path, pd.DataFrame, str]:
    """Fill ``workdir/secmaster.db`` with the bench data; return it, the replayed frame and
    its bar period."""
    secmaster = workdir / "secmaster.db"
    period = "MINUTE"
    if args.data:
        period = import_data(secmaster, Path(args.data), args.period)
    else:
        import_frame(secmaster, make_bars(args.bars), SYMBOL)
    return secmaster, stored_bars(secmaster, SYMBOL, args.bars), period


def prepare_many_symbols(frame: pd.DataFrame, workdir: Path, symbols: int,
                         period: str = "MINUTE") -> tuple[Path, list]:
    """The same total bars as ``frame`` spread over ``symbols`` instruments sharing timestamps
    (piece k of the series re-stamped onto the first timestamps)."""
    secmaster = workdir / f"secmaster-{symbols}.db"
    per_symbol = len(frame) // symbols
    names = [f"S{k:02d}" for k in range(symbols)]
    for k, name in enumerate(names):
        piece = frame.iloc[k * per_symbol:(k + 1) * per_symbol].copy()
        piece.index = frame.index[:per_symbol]
        import_frame(secmaster, piece, name, period)
    return secmaster, names


# -- one tradecore run, in a fresh process ------------------------------------------------------

def child_run(spec: dict) -> dict:
    """Runs in the fresh process: one orchestrated run, its CPU split by process."""
    import resource

    from tradecore.brokers import SimulatedBroker
    from tradecore.configure import configured_strategy
    from tradecore.datafeeds import SimulatedDatafeed
    from tradecore.orchestrator import Orchestrator
    from tradecore.secmaster.stream import readers_cpu_seconds
    from tradecore.strategies.examples import SMACrossover

    strategies = []
    for index in range(spec["strategies"]):
        base = configured_strategy(SMACrossover, spec["symbols"], {
            "bar_period": spec.get("period", "MINUTE"), "fast_period": FAST, "slow_period": SLOW,
            "quantity": QUANTITY})
        strategies.append(type(f"_Bench{index}", (base,), {"name": f"SMA {index + 1}"}))
    datafeed = type("BenchDatafeed", (SimulatedDatafeed,), {
        "db_path": spec["secmaster"], "end_ns": spec.get("end_ns")})
    # The run's statistics are stored as it ends (analytics' finalize, in the writer process
    # for a long run): timed apart here, as that process does it, after the replay, which is
    # what the engine's figures are about.
    orchestrator_cls = type("BenchOrchestrator", (Orchestrator,),
                            {"runs_db_path": spec["runs_db"], "finalize_results": False})
    orchestrator = orchestrator_cls(strategies=strategies, broker=SimulatedBroker,
                                    datafeed=datafeed)
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    before = resource.getrusage(resource.RUSAGE_SELF)
    reader_before = readers_cpu_seconds()
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    orchestrator.run()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(spec["profile"])
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the writer and the bar reader
    reader_cpu = readers_cpu_seconds() - reader_before
    peak_kb = _peak_rss_kb()
    finalize_cpu = finalize_wall = 0.0
    if orchestrator.status.has_statistics:
        from tradecore.analytics.finalize import finalize_run

        started, cpu = time.perf_counter(), time.process_time()
        finalize_run(orchestrator.run_id, spec["runs_db"], apsw=True)  # the writer's way
        finalize_cpu, finalize_wall = time.process_time() - cpu, time.perf_counter() - started
    with sqlite3.connect(spec["runs_db"]) as conn:  # a fresh runs.db: one run in it
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("bars", "bars_processed", "order_submissions", "fills")}
        fills = conn.execute("SELECT ts_event_ns, side, fill_price FROM fills"
                             " ORDER BY rowid").fetchall() if spec.get("fills") else []
    return {
        "wall": wall,
        "engine_cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "writer_cpu": children.ru_utime + children.ru_stime - reader_cpu,
        "reader_cpu": reader_cpu,
        "peak_mb": peak_kb / 1024,
        "finalize_cpu": finalize_cpu,
        "finalize_wall": finalize_wall,
        "finalize_peak_mb": _peak_rss_kb() / 1024,
        "counts": counts,
        "fills": fills,
    }


def _peak_rss_kb() -> int:
    # VmHWM, not ru_maxrss: the latter keeps the forking parent's size across exec.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def run_tradecore(workdir: Path, secmaster: Path, symbols: list[str], *, strategies: int = 1,
                  end_ns: int | None = None, fills: bool = False,
                  profile: str | None = None, period: str = "MINUTE") -> dict:
    """One run in a fresh process, of the bars of ``period``."""
    runs_db = workdir / "runs.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{runs_db}{suffix}").unlink(missing_ok=True)
    spec = {"secmaster": str(secmaster), "runs_db": str(runs_db), "symbols": symbols,
            "strategies": strategies, "end_ns": end_ns, "fills": fills, "profile": profile,
            "period": period}
    result = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                            capture_output=True, text=True, cwd=workdir)
    if result.returncode != 0:
        raise SystemExit(f"tradecore run failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


# -- peers --------------------------------------------------------------------------------------

def bench_backtesting(frame: pd.DataFrame, repeat: int) -> tuple[list[float], list[float], object]:
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

    walls, cpus, trades = [], [], None
    for _ in range(repeat):
        bt = Backtest(frame, SmaCross, cash=1e12, commission=0, finalize_trades=True)
        started, cpu = time.perf_counter(), time.process_time()
        stats = bt.run()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - started)
        trades = stats["_trades"]
    return walls, cpus, trades


def running_sma(values: np.ndarray, period: int) -> np.ndarray:
    """The SMA as tradecore's indicator computes it, to the last bit: a running sum (add the
    new value, subtract the one leaving), NaN during the warm-up."""
    out = np.full(len(values), np.nan)
    window: deque[float] = deque(maxlen=period)
    total = 0.0
    for index, x in enumerate(values.tolist()):
        if len(window) == period:
            total = total - window[0] + x
        else:
            total = total + x
        window.append(x)
        if len(window) == period:
            out[index] = total / period
    return out


def expected_fills(frame: pd.DataFrame, fast: np.ndarray, slow: np.ndarray) -> list[tuple]:
    """``(ts_event_ns, side, price)`` of the strategy's fills worked out without either engine:
    a cross is fast below slow on the bar before and above on this bar (as backtesting.py's
    ``crossover``); the order fills at the next bar's open; the last bar's order never fills."""
    up = np.nonzero((fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:]))[0] + 1
    down = np.nonzero((fast[:-1] > slow[:-1]) & (fast[1:] < slow[1:]))[0] + 1
    crosses = sorted([(i, "BUY") for i in up] + [(i, "SELL") for i in down])
    ts = frame.index.to_numpy().astype("datetime64[ns]").astype("int64")
    opens = frame["Open"].to_numpy()
    fills, long = [], False
    for bar, side in crosses:
        if bar + 1 >= len(frame) or (side == "BUY") == long:
            continue
        fills.append((int(ts[bar + 1]), side, float(opens[bar + 1])))
        long = side == "BUY"
    return fills


def compare_trades(frame: pd.DataFrame, fills: list, trades) -> list[str]:
    """Does each engine make the trades its SMA arithmetic implies, and where do they differ?

    tradecore's SMA is a running sum, backtesting.py's pandas' rolling mean. Prices with four
    decimals make exact ties (fast == slow) possible, and there the last bit of rounding picks
    the side of the cross; so the two engines are each checked against a simulation with their
    own arithmetic, and the simulations are compared with each other.
    """
    close = frame["Close"].to_numpy()
    ours_expected = expected_fills(frame, running_sma(close, FAST), running_sma(close, SLOW))
    pandas_fast = pd.Series(close).rolling(FAST).mean().to_numpy()
    pandas_slow = pd.Series(close).rolling(SLOW).mean().to_numpy()
    theirs_expected = expected_fills(frame, pandas_fast, pandas_slow)
    ours = [(int(ts), side, float(price)) for ts, side, price in fills]
    entry_ns = trades["EntryTime"].to_numpy().astype("datetime64[ns]").astype("int64")
    exit_ns = trades["ExitTime"].to_numpy().astype("datetime64[ns]").astype("int64")
    theirs = []
    for entry, entry_price, exit_, exit_price in zip(entry_ns, trades["EntryPrice"], exit_ns,
                                                     trades["ExitPrice"]):
        theirs.append((int(entry), "BUY", float(entry_price)))
        theirs.append((int(exit_), "SELL", float(exit_price)))
    if theirs and len(theirs) == len(theirs_expected) + 1:
        theirs.pop()  # backtesting.py closed the trade still open at the end (finalize_trades)

    def same(a: list, b: list) -> bool:
        return len(a) == len(b) and all(x[:2] == y[:2] and abs(x[2] - y[2]) < 1e-9
                                        for x, y in zip(a, b))

    shared = len(set((t, s) for t, s, _ in ours) & set((t, s) for t, s, _ in theirs))
    ties = int(np.sum(np.isclose(pandas_fast, pandas_slow, rtol=0, atol=1e-9)))
    return [
        f"tradecore's {len(ours):,} fills = a simulation with its running-sum SMA: "
        f"{'yes' if same(ours, ours_expected) else 'NO'}",
        f"backtesting.py's {len(theirs):,} fills = a simulation with pandas' rolling mean: "
        f"{'yes' if same(theirs, theirs_expected) else 'NO'}",
        f"the engines share {shared:,} fills (bar, side; prices equal); the rest follow the "
        f"{ties:,} bars where the two SMAs tie exactly and rounding picks the side"
        if not same(ours, theirs) else "the two engines' fills are identical (bar, side, price)",
    ]


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
    cerebro.broker.setcash(1e12)
    started = time.perf_counter()
    cerebro.run(preload=True, runonce=False)
    return time.perf_counter() - started


# -- report -------------------------------------------------------------------------------------

def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def per_bar_us(seconds: float, bars: int) -> float:
    return seconds / bars * 1e6


def cpu_line(label: str, runs: list[dict], bars: int, units: int = 1) -> str:
    engine = per_bar_us(median_of(runs, "engine_cpu"), bars * units)
    writer = per_bar_us(median_of(runs, "writer_cpu"), bars * units)
    reader = per_bar_us(median_of(runs, "reader_cpu"), bars * units)
    return (f"{label}: engine {engine:5.2f} µs, writer {writer:5.2f} µs, bar reader "
            f"{reader:5.2f} µs per bar"
            f"{'-strategy' if units > 1 else ''}  (wall {median_of(runs, 'wall'):.2f}s, "
            f"peak RSS {median_of(runs, 'peak_mb'):.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=None,
                        help="bars to replay (default 1,000,000 synthetic, or all of --data)")
    parser.add_argument("--data", help="a CSV of bars (any period) to use instead of the "
                                       "synthetic random walk")
    parser.add_argument("--period", default="auto",
                        help="bar period of --data (default: the first that fits its spacing, "
                             "minute first)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale-bars", type=int, default=None,
                        help="total bars of the 1-vs-20-symbol and 1-vs-4-strategy runs "
                             "(default: --bars)")
    parser.add_argument("--backtrader-bars", type=int, default=0,
                        help="also time backtrader on this many bars (it is slow; 0: skip)")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--memory", action="store_true",
                        help="also the engine's peak RSS at a tenth of the bars")
    parser.add_argument("--profile", help="cProfile one engine run into this file")
    parser.add_argument("--write-csv", metavar="PATH",
                        help="write --bars (default 500,000) bars of session-shaped minute data "
                             "(gaps, volatility regimes) to PATH for --data, and stop")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_run(json.loads(args.child))))
        return
    if args.write_csv:
        make_session_bars(args.bars or 500_000).to_csv(args.write_csv)
        print(f"wrote {args.write_csv}")
        return
    if args.bars is None and not args.data:
        args.bars = 1_000_000

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        secmaster, frame, period = prepare_data(args, workdir)
        replay = functools.partial(run_tradecore, period=period)
        bars = len(frame)
        source = args.data or "synthetic random walk"
        print(f"{bars:,} {period.lower()} bars ({source}), SMA({FAST}) x SMA({SLOW}), every event "
              f"recorded, median of {args.repeat}; {os.cpu_count()} CPUs, {load()}")
        end_ns = int(frame.index[-1].value)
        # Each tradecore run is followed by a backtesting.py run, so both meet the machine in
        # the same state (its speed drifts over minutes: other users, CPU clocks).
        runs, their_walls, their_cpus, trades = [], [], [], None
        for _ in range(args.repeat):
            runs.append(replay(workdir, secmaster, [SYMBOL], end_ns=end_ns, fills=True))
            if not args.skip_peers:
                walls, cpus, trades = bench_backtesting(frame, 1)
                their_walls += walls
                their_cpus += cpus
        if args.profile:
            replay(workdir, secmaster, [SYMBOL], end_ns=end_ns, profile=args.profile)
            print(f"profile of one engine run in {args.profile}")
        ours = bars / median_of(runs, "wall")
        walls = ", ".join(f"{run['wall']:.2f}s" for run in runs)
        print(f"tradecore:       {ours:>10,.0f} bars/s  runs {walls}  rows {runs[0]['counts']}")
        print("  " + cpu_line("CPU", runs, bars))
        if median_of(runs, "finalize_wall"):
            print(f"  then storing the run's statistics (analytics' finalize, as the writer process "
                  f"does it): "
                  f"{median_of(runs, 'finalize_wall'):.2f}s, CPU "
                  f"{per_bar_us(median_of(runs, 'finalize_cpu'), bars):.2f} µs/bar, peak RSS "
                  f"{median_of(runs, 'finalize_peak_mb'):.0f} MB")
        if args.memory:
            tenth = replay(workdir, secmaster, [SYMBOL],
                                  end_ns=int(frame.index[bars // 10 - 1].value))
            print(f"  peak RSS of the engine process: {tenth['peak_mb']:.0f} MB at "
                  f"{bars // 10:,} bars, {median_of(runs, 'peak_mb'):.0f} MB at {bars:,}")
        if not args.skip_peers:
            theirs = bars / statistics.median(their_walls)
            print(f"backtesting.py:  {theirs:>10,.0f} bars/s  runs "
                  f"{', '.join(f'{t:.2f}s' for t in their_walls)}  CPU "
                  f"{per_bar_us(statistics.median(their_cpus), bars):.2f} µs/bar")
            for line in compare_trades(frame, runs[0]["fills"], trades):
                print(f"  {line}")
            with_finalize = bars / (median_of(runs, "wall") + median_of(runs, "finalize_wall"))
            pairs = ", ".join(f"{theirs_s / run['wall']:.2f}x"
                              for run, theirs_s in zip(runs, their_walls, strict=True))
            print(f"  tradecore / backtesting.py (wall clock): {ours / theirs:.2f}x, "
                  f"{with_finalize / theirs:.2f}x with finalize; run by run {pairs}  ({load()})")
            if args.backtrader_bars:
                count = min(args.backtrader_bars, bars)
                elapsed = bench_backtrader(frame.iloc[:count])
                print(f"backtrader (first {count:,}): {count / elapsed:>10,.0f} bars/s  "
                      f"-> tradecore is {ours / (count / elapsed):.1f}x")
        if not args.skip_scaling:
            scale = min(args.scale_bars or bars, bars)
            scale -= scale % SCALE_SYMBOLS
            print(f"How engine CPU grows with the shape of a run ({scale:,} bars in total):")
            one_end = int(frame.index[scale - 1].value)
            one = [replay(workdir, secmaster, [SYMBOL], end_ns=one_end)
                   for _ in range(args.repeat)]
            many_db, names = prepare_many_symbols(frame.iloc[:scale], workdir, SCALE_SYMBOLS,
                                                  period)
            many = [replay(workdir, many_db, names) for _ in range(args.repeat)]
            four = [replay(workdir, secmaster, [SYMBOL], end_ns=one_end,
                                  strategies=SCALE_STRATEGIES) for _ in range(args.repeat)]
            base = median_of(one, "engine_cpu")
            print("  " + cpu_line(f"{'1 symbol, 1 strategy':<24}", one, scale))
            print("  " + cpu_line(f"{f'{SCALE_SYMBOLS} symbols, 1 strategy':<24}", many, scale))
            print(f"    -> {median_of(many, 'engine_cpu') / base:.2f}x linear "
                  f"(engine CPU per bar, 20 symbols / 1)")
            print("  " + cpu_line(f"{f'1 symbol, {SCALE_STRATEGIES} strategies':<24}", four,
                                  scale, SCALE_STRATEGIES))
            print(f"    -> {median_of(four, 'engine_cpu') / (SCALE_STRATEGIES * base):.2f}x "
                  f"linear (engine CPU of 4 strategies / 4 x 1 strategy)")
        print(f"done ({load()})")


if __name__ == "__main__":
    main()
