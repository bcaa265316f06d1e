"""Run-page and compare latency of ``tradecore.analytics``, cold, with 1 and with 50+ runs stored.

Builds a temporary runs.db through the recorder's own writer (``tradecore.runs_db``: the
schema has one owner): synthetic one-minute random walks, two SMA indicators per bar, an
SMA-crossover fill at every cross, then ``finalize_run`` as the orchestrator does when a run
ends. Then, each in a FRESH process (cold: nothing prepared beyond what the run wrote at its
end), times what a run page loads -- ``statistics``, ``equity_curve(max_points=2000)``,
``bars(max_points=2000)``, ``round_trips``, ``order_log``, ``fills`` -- and a compare of five
1M-bar runs (statistics and equity overviews), plus ``list_runs`` with 500 runs. Prints the
median of ``--reps`` fresh processes, with CPU time beside wall time and the load average.

    python bench/analytics.py [--big-bars 1000000] [--compare 5] [--others 50]
                              [--other-bars 200000] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics as stats_mod
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MINUTE_NS = 60 * 1_000_000_000
START_NS = 1_704_067_200 * 1_000_000_000  # 2024-01-01T00:00:00Z
CHUNK = 100_000


def _sma(values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    csum = np.cumsum(np.r_[0.0, values])
    out[n - 1:] = (csum[n:] - csum[:-n]) / n
    return out


def write_run(db: Path, run_id: str, n_bars: int, *, seed: int, symbol: str = "ACME") -> str:
    """One synthetic SMA-crossover run recorded through the recorder's writer, finalized."""
    from tradecore.analytics.finalize import finalize_run
    from tradecore.events import BarReceived
    from tradecore.models import BarPeriod, OrderType, TradeSide
    from tradecore.runs_db import RunConfig, connect, create_run
    from tradecore.runs_db.recorder import SQLiteWriter

    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.001, n_bars)))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.0005, n_bars))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.0005, n_bars))
    volume = rng.integers(100, 10_000, n_bars).astype(float)
    ts = START_NS + np.arange(n_bars, dtype=np.int64) * MINUTE_NS
    fast, slow = _sma(close, 10), _sma(close, 30)
    config = RunConfig.from_dict({
        "strategies": [{"class": "SMACrossover", "module": "bench", "name": "SMA Crossover",
                        "symbols": [symbol],
                        "parameters": {"bar_period": "MINUTE", "fast_period": 10,
                                       "slow_period": 30, "quantity": 100}}],
        "symbols": [symbol], "bar_period": "MINUTE",
        "broker": {"class": "SimulatedBroker", "commission_per_unit": 0.01,
                   "initial_cash": 100_000.0},
        "datafeed": {"class": "SimulatedDatafeed"}, "tradecore_version": "bench"})
    conn = connect(db)
    key, run_id = create_run(conn, run_id, "SMA Crossover", config)
    conn.close()
    writer = SQLiteWriter(db, key)
    now, minute = time.time_ns(), BarPeriod.MINUTE
    for lo in range(0, n_bars, CHUNK):
        hi = min(n_bars, lo + CHUNK)
        stamps = ts[lo:hi].tolist()
        count = hi - lo
        columns = {"ts_event_ns": stamps, "symbol": [symbol] * count,
                   "bar_period": [minute] * count, "open": open_[lo:hi].tolist(),
                   "high": high[lo:hi].tolist(), "low": low[lo:hi].tolist(),
                   "close": close[lo:hi].tolist(), "volume": volume[lo:hi].tolist(),
                   "instrument_id": [1] * count, "ts_created_ns": [now] * count}
        _add(writer, "bars", list(zip(*(columns[f] for f in BarReceived.fields), strict=True)))
        _add(writer, "bars_processed", [
            (t, symbol, "SMA Crossover", minute, (("SMA(10)", f), ("SMA(30)", s)), now)
            for t, f, s in zip(stamps, fast[lo:hi].tolist(), slow[lo:hi].tolist(),
                               strict=True)])
    diff = fast - slow
    above = diff > 0
    crosses = np.nonzero((above[1:] != above[:-1]) & ~np.isnan(diff[:-1]))[0] + 1
    submissions, accepted, fills = [], [], []
    position, order_id = 0, 0
    for i in crosses:
        if i + 1 >= n_bars:
            break
        side = TradeSide.BUY if above[i] else TradeSide.SELL
        if (side is TradeSide.BUY) != (position == 0):
            continue
        order_id += 1
        submissions.append((int(ts[i]), order_id, "SMA Crossover", symbol, OrderType.MARKET,
                            side, 100.0, None, None, None, None, "cross", now))
        accepted.append((int(ts[i]), order_id, now))
        fills.append((int(ts[i + 1]), order_id, order_id, "SMA Crossover", symbol, side, 100.0,
                      float(open_[i + 1]), 1.0, now))
        position = 100 if side is TradeSide.BUY else 0
    _add(writer, "order_submissions", submissions)
    _add(writer, "orders_accepted", accepted)
    _add(writer, "fills", fills)
    writer.finish("completed", None, None)
    finalize_run(run_id, db)
    return run_id


def _add(writer, table: str, rows: list[tuple]) -> None:
    """Rows of one event table into the recorder's writer, as the columns it takes."""
    if rows:
        writer.add_columns([(table, [list(column) for column in zip(*rows, strict=True)])])


def _build(db: Path, specs: list[tuple[str, int, int]]) -> None:
    """Write runs in a child process: this process never opens runs.db with sqlite3."""
    subprocess.run([sys.executable, __file__, "--write", str(db), json.dumps(specs)],
                   check=True)


# -- measurements, each in a fresh process ------------------------------------------------------

def _child_page(db: Path, run_id: str) -> dict[str, float]:
    from tradecore import analytics
    from tradecore.analytics.connection import attach

    started = time.perf_counter()
    attach(db)  # DuckDB start, extension load and ATTACH: reported apart
    times = {"attach": time.perf_counter() - started}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for label, call in (
            ("statistics", lambda: analytics.statistics(run_id, db)),
            ("equity(2000)", lambda: analytics.equity_curve(run_id, db, max_points=2000)),
            ("bars(2000)", lambda: analytics.bars(run_id, db, max_points=2000)),
            ("round_trips", lambda: analytics.round_trips(run_id, db)),
            ("order_log", lambda: analytics.order_log(run_id, db)),
            ("fills", lambda: analytics.fills(run_id, db))):
        started = time.perf_counter()
        call()
        times[label] = time.perf_counter() - started
    times["page total"] = time.perf_counter() - wall0
    times["page CPU"] = time.process_time() - cpu0
    return times


def _child_compare(db: Path, run_ids: list[str]) -> dict[str, float]:
    from tradecore import analytics
    from tradecore.analytics.connection import attach

    attach(db)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    analytics.compare(run_ids, db)
    for run_id in run_ids:
        analytics.equity_curve(run_id, db, max_points=2000)
    return {"compare total": time.perf_counter() - wall0,
            "compare CPU": time.process_time() - cpu0}


def _child_list(db: Path) -> dict[str, float]:
    from tradecore import analytics

    analytics.list_runs(db)  # attach and extension load outside the timing
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        count = len(analytics.list_runs(db))
        samples.append(time.perf_counter() - started)
    return {"runs": count, "list_runs": stats_mod.median(samples)}


def _fresh(kind: str, db: Path, arg: object, reps: int) -> dict[str, float]:
    rows = []
    for _ in range(reps):
        out = subprocess.run([sys.executable, __file__, "--child", kind, str(db),
                              json.dumps(arg)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {k: stats_mod.median(r[k] for r in rows) for k in rows[0]}


def _print(title: str, figures: dict[str, float]) -> None:
    print(f"\n{title}")
    for key, value in figures.items():
        print(f"  {key:14s} {value:9.3f}" + ("" if key == "runs" else " s"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-bars", type=int, default=1_000_000)
    parser.add_argument("--compare", type=int, default=5, help="big runs for the compare")
    parser.add_argument("--others", type=int, default=50)
    parser.add_argument("--other-bars", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the runs.db here and keep it")
    parser.add_argument("--write", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        for run_id, bars, seed in json.loads(args.write[1]):
            write_run(Path(args.write[0]), run_id, bars, seed=seed)
        return
    if args.child:
        kind, db, arg = args.child[0], Path(args.child[1]), json.loads(args.child[2])
        call = {"page": _child_page, "compare": _child_compare, "list": _child_list}[kind]
        print(json.dumps(call(db, arg) if kind != "list" else call(db)))
        return

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the start")
    workdir = Path(tempfile.mkdtemp(prefix="tradecore-bench-"))
    db = args.keep or workdir / "runs.db"
    try:
        reuse = args.keep is not None and db.exists()  # measure a runs.db built earlier
        started = time.perf_counter()
        big = [f"big-{i}" for i in range(args.compare)]
        stored = 1 + len(big[1:]) + args.others
        if not reuse:
            _build(db, [(big[0], args.big_bars, 1)])
            print(f"built one {args.big_bars:,}-bar run in {time.perf_counter() - started:.1f}"
                  f" s; runs.db {db.stat().st_size / 1e6:.0f} MB for it")
            one = _fresh("page", db, big[0], args.reps)
            _build(db, [(run_id, args.big_bars, i + 1) for i, run_id in enumerate(big[1:], 1)])
            _build(db, [(f"other-{k:03d}", args.other_bars, 100 + k)
                        for k in range(args.others)])
        else:
            one = None
        many = _fresh("page", db, big[0], args.reps)
        compare = _fresh("compare", db, big, args.reps)
        if not reuse:
            _build(db, [(f"tiny-{k:03d}", 50, k) for k in range(500 - stored)])
        listing = _fresh("list", db, None, 1)
        print(f"\nmedian of {args.reps} fresh processes (cold); load average now "
              f"{os.getloadavg()[0]:.1f}")
        if one is not None:
            _print(f"run page of a {args.big_bars:,}-bar run, 1 run stored", one)
        _print(f"the same, {stored} runs stored ({db.stat().st_size / 1e9:.2f} GB)", many)
        _print(f"compare of {len(big)} runs of {args.big_bars:,} bars", compare)
        _print("runs list", listing)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
