"""Run-page latency of ``tradecore.analytics``: one 1M-bar run, alone and beside 50+ others.

Builds a temporary runs.db with the recorder's schema (rows written straight with sqlite3
``executemany``: a synthetic one-minute random walk, two SMA indicators per bar, an SMA-style
fill every few hundred bars), then times what a run page loads -- ``statistics``,
``equity_curve``, ``bars(max_points=2000)``, ``round_trips``, ``order_log`` -- cold (first
access of the run: the per-run cache is built) and warm, median of several repetitions.

    python bench/analytics.py [--big-bars 1000000] [--others 50] [--other-bars 200000] [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics as stats_mod
import subprocess
import sys
import tempfile
import time
from itertools import repeat
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tradecore import analytics  # noqa: E402
from tradecore.analytics.connection import attach, query_df  # noqa: E402
from tradecore.recorder import connect_runs_db  # noqa: E402

MINUTE_NS = 60 * 1_000_000_000
START_NS = 1_704_067_200 * 1_000_000_000  # 2024-01-01T00:00:00Z
#: What a run page loads: (label, call); the full equity curve is timed apart (the page
#: reads it only to zoom).
PAGE = (
    ("statistics", lambda run, db: analytics.statistics(run, db)),
    ("equity(2000)", lambda run, db: analytics.equity_curve(run, db, max_points=2000)),
    ("bars(2000)", lambda run, db: analytics.bars(run, db, max_points=2000)),
    ("round_trips", lambda run, db: analytics.round_trips(run, db)),
    ("order_log", lambda run, db: analytics.order_log(run, db)),
    ("fills", lambda run, db: analytics.fills(run, db)),
)
EXTRA = (("equity (full)", lambda run, db: analytics.equity_curve(run, db)),)


def _sma(values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    csum = np.cumsum(np.r_[0.0, values])
    out[n - 1:] = (csum[n:] - csum[:-n]) / n
    return out


def write_run(conn, run_id: str, n_bars: int, *, seed: int, symbol: str = "ACME",
              status: str = "completed", chunk: int = 200_000) -> None:
    """One synthetic SMA-crossover run of ``n_bars`` one-minute bars, written with executemany."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.001, n_bars)))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.0005, n_bars))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.0005, n_bars))
    volume = rng.integers(100, 10_000, n_bars).astype(float)
    ts = START_NS + np.arange(n_bars, dtype=np.int64) * MINUTE_NS
    fast, slow = _sma(close, 10), _sma(close, 30)
    config = {
        "strategies": [{"class": "SMACrossover", "module": "bench", "name": "SMA Crossover",
                        "symbols": [symbol],
                        "parameters": {"bar_period": "MINUTE", "fast_period": 10,
                                       "slow_period": 30, "quantity": 100}}],
        "symbols": [symbol], "bar_period": "MINUTE",
        "broker": {"class": "SimulatedBroker", "commission_per_unit": 0.01,
                   "minimum_commission_per_order": 0.0, "slippage_bps": 0.0,
                   "initial_cash": 100_000.0},
        "datafeed": {"class": "SimulatedDatafeed"}, "tradecore_version": "bench",
    }
    with conn:
        conn.execute(
            "INSERT INTO runs (run_id, name, status, ts_start, ts_end, config, pid, host)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, "SMA Crossover", status, time.time_ns(), time.time_ns(),
             json.dumps(config), 0, "bench"),
        )
    bars_sql = ("INSERT INTO bars (run_id, ts_event_ns, symbol, bar_period, open, high, low,"
                " close, volume, ts_created_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    processed_sql = ("INSERT INTO bars_processed (run_id, ts_event_ns, symbol, strategy,"
                     " bar_period, indicators, ts_created_ns) VALUES (?, ?, ?, ?, ?, ?, ?)")
    fast_json = [("null" if np.isnan(v) else repr(v)) for v in fast.tolist()]
    slow_json = [("null" if np.isnan(v) else repr(v)) for v in slow.tolist()]
    now = time.time_ns()
    for lo in range(0, n_bars, chunk):
        hi = min(n_bars, lo + chunk)
        stamps = ts[lo:hi].tolist()
        count = hi - lo
        bars = zip(repeat(run_id, count), stamps, repeat(symbol), repeat("MINUTE"),
                   open_[lo:hi].tolist(), high[lo:hi].tolist(), low[lo:hi].tolist(),
                   close[lo:hi].tolist(), volume[lo:hi].tolist(), repeat(now), strict=False)
        indicators = [f'{{"SMA(10)": {f}, "SMA(30)": {s}}}'
                      for f, s in zip(fast_json[lo:hi], slow_json[lo:hi], strict=True)]
        processed = zip(repeat(run_id, count), stamps, repeat(symbol), repeat("SMA Crossover"),
                        repeat("MINUTE"), indicators, repeat(now), strict=False)
        with conn:
            conn.executemany(bars_sql, bars)
            conn.executemany(processed_sql, processed)
    # Crosses of fast over slow: order on bar i, filled at the open of bar i + 1.
    diff = fast - slow
    above = diff > 0
    crosses = np.nonzero((above[1:] != above[:-1]) & ~np.isnan(diff[:-1]))[0] + 1
    submissions, accepted, fills = [], [], []
    position, order_id = 0, 0
    for i in crosses:
        if i + 1 >= n_bars:
            break
        side = "BUY" if above[i] else "SELL"
        if (side == "BUY") != (position == 0):
            continue
        order_id += 1
        submissions.append((run_id, int(ts[i]), order_id, "SMA Crossover", symbol, "MARKET",
                            side, 100.0, None, None, None,
                            "ENTRY" if side == "BUY" else "EXIT", "cross", now))
        accepted.append((run_id, int(ts[i]), order_id, now))
        fills.append((run_id, int(ts[i + 1]), order_id, order_id, "SMA Crossover", symbol,
                      side, 100.0, float(open_[i + 1]), 1.0, now))
        position = 100 if side == "BUY" else 0
    with conn:
        conn.executemany(
            "INSERT INTO order_submissions (run_id, ts_event_ns, order_id, strategy, symbol,"
            " order_type, side, quantity, limit_price, stop_price, expiry_ns, action, signal,"
            " ts_created_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", submissions)
        conn.executemany("INSERT INTO orders_accepted (run_id, ts_event_ns, order_id,"
                         " ts_created_ns) VALUES (?, ?, ?, ?)", accepted)
        conn.executemany(
            "INSERT INTO fills (run_id, ts_event_ns, fill_id, associated_order_id, strategy,"
            " symbol, side, quantity_filled, fill_price, commission, ts_created_ns)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", fills)


def _time_page(run_id: str, db: Path) -> dict[str, float]:
    times = {}
    for label, call in PAGE:
        started = time.perf_counter()
        call(run_id, db)
        times[label] = time.perf_counter() - started
    times["page total"] = sum(times.values())
    for label, call in EXTRA:
        started = time.perf_counter()
        call(run_id, db)
        times[label] = time.perf_counter() - started
    return times


def measure(db: Path, run_id: str, reps: int) -> tuple[dict[str, float], dict[str, float]]:
    """(cold, warm) medians: cold = the run's cache deleted before each repetition."""
    cold, warm = [], []
    for _ in range(reps):
        analytics.drop_cache(run_id, db)
        cold.append(_time_page(run_id, db))
        warm.append(_time_page(run_id, db))
    med = lambda rows: {k: stats_mod.median(r[k] for r in rows) for k in rows[0]}  # noqa: E731
    return med(cold), med(warm)


def _print(title: str, cold: dict[str, float], warm: dict[str, float]) -> None:
    print(f"\n{title}")
    print(f"  {'':14s} {'cold [s]':>9s} {'warm [s]':>9s}")
    for key in cold:
        print(f"  {key:14s} {cold[key]:9.3f} {warm[key]:9.3f}")


def _time_naive_scan(db: Path, reps: int) -> float:
    """For contrast: one DuckDB query on the attached runs.db, as every read would cost without
    the per-run design (DuckDB's SQLite scanner reads all runs' rows whatever the WHERE).

    Run in a child process: DuckDB's copy of SQLite must not open runs.db beside this
    process's sqlite3 connections (see ``tradecore.analytics.connection``).
    """
    child = subprocess.run(
        [sys.executable, __file__, "--naive-scan", str(db), "--reps", str(reps)],
        capture_output=True, text=True, check=True)
    return float(child.stdout.strip().splitlines()[-1])


def _naive_scan_child(db: Path, reps: int) -> None:
    alias = attach(db)
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        query_df(f"SELECT count(*), max(high) FROM {alias}.bars WHERE run_id = 'big'")
        samples.append(time.perf_counter() - started)
    print(stats_mod.median(samples))


def _time_list_runs(db: Path, reps: int) -> tuple[int, float]:
    samples, count = [], 0
    for _ in range(reps):
        started = time.perf_counter()
        count = len(analytics.list_runs(db))
        samples.append(time.perf_counter() - started)
    return count, stats_mod.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-bars", type=int, default=1_000_000)
    parser.add_argument("--others", type=int, default=50)
    parser.add_argument("--other-bars", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the runs.db here and keep it")
    parser.add_argument("--naive-scan", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_scan:
        _naive_scan_child(args.naive_scan, args.reps)
        return

    workdir = Path(tempfile.mkdtemp(prefix="tradecore-bench-"))
    db = args.keep or workdir / "runs.db"
    try:
        conn = connect_runs_db(db)
        started = time.perf_counter()
        write_run(conn, "big", args.big_bars, seed=1)
        print(f"built the {args.big_bars:,}-bar run in {time.perf_counter() - started:.1f} s")
        analytics.statistics("big", db)  # connection + extension load, outside the timings
        one = measure(db, "big", args.reps)
        naive_one = _time_naive_scan(db, args.reps)

        started = time.perf_counter()
        for k in range(args.others):
            write_run(conn, f"other-{k:03d}", args.other_bars, seed=100 + k)
        conn.close()
        total = args.big_bars + args.others * args.other_bars
        print(f"built {args.others} more runs of {args.other_bars:,} bars in "
              f"{time.perf_counter() - started:.1f} s: {total:,} rows in bars and "
              f"{total:,} in bars_processed, runs.db {db.stat().st_size / 1e9:.2f} GB")
        many = measure(db, "big", args.reps)
        naive_many = _time_naive_scan(db, args.reps)

        list_times = _time_list_runs(db, args.reps)
        conn = connect_runs_db(db)
        for k in range(args.others + 1, 500):
            write_run(conn, f"tiny-{k:03d}", 50, seed=k)
        conn.close()
        list_500 = _time_list_runs(db, args.reps)

        print(f"\nmedian of {args.reps} repetitions; cold = first access (cache built),"
              " warm = the next one")
        _print("1 run stored", *one)
        _print(f"{args.others + 1} runs stored", *many)
        print(f"\nfor contrast, one DuckDB query on the attached bars table WHERE run_id:"
              f" {naive_one:.3f} s with 1 run, {naive_many:.3f} s with {args.others + 1}")
        print(f"list_runs: {list_times[1]:.3f} s with {list_times[0]} runs,"
              f" {list_500[1]:.3f} s with {list_500[0]} runs")
    finally:
        analytics.close_connections()
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
