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
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tradecore import analytics  # noqa: E402
from tradecore.recorder import connect_runs_db  # noqa: E402

MINUTE_NS = 60 * 1_000_000_000
START_NS = 1_704_067_200 * 1_000_000_000  # 2024-01-01T00:00:00Z
PAGE = ("statistics", "equity_curve", "bars", "round_trips", "order_log")


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
    for lo in range(0, n_bars, chunk):
        hi = min(n_bars, lo + chunk)
        bars = [(run_id, int(ts[i]), int(ts[i]), symbol, "MINUTE", float(open_[i]),
                 float(high[i]), float(low[i]), float(close[i]), float(volume[i]))
                for i in range(lo, hi)]
        processed = [
            (run_id, *row[1:4], "SMA Crossover", *row[4:],
             json.dumps({"SMA(10)": None if np.isnan(fast[i]) else float(fast[i]),
                         "SMA(30)": None if np.isnan(slow[i]) else float(slow[i])}))
            for i, row in zip(range(lo, hi), bars, strict=True)
        ]
        with conn:
            conn.executemany("INSERT INTO bars VALUES (?,?,?,?,?,?,?,?,?,?)", bars)
            conn.executemany("INSERT INTO bars_processed VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                             processed)
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
        submissions.append((run_id, int(ts[i]), int(ts[i]), order_id, "SMA Crossover", symbol,
                            "MARKET", side, 100.0, None, None, None,
                            "ENTRY" if side == "BUY" else "EXIT", "cross"))
        accepted.append((run_id, int(ts[i]), int(ts[i]), order_id))
        fills.append((run_id, int(ts[i + 1]), int(ts[i + 1]), order_id, order_id,
                      "SMA Crossover", symbol, side, 100.0, float(open_[i + 1]), 1.0))
        position = 100 if side == "BUY" else 0
    with conn:
        conn.executemany("INSERT INTO order_submissions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         submissions)
        conn.executemany("INSERT INTO orders_accepted VALUES (?,?,?,?)", accepted)
        conn.executemany("INSERT INTO fills VALUES (?,?,?,?,?,?,?,?,?,?,?)", fills)


def _time_page(run_id: str, db: Path) -> dict[str, float]:
    times = {}
    for name in PAGE:
        started = time.perf_counter()
        if name == "bars":
            analytics.bars(run_id, db, max_points=2000)
        else:
            getattr(analytics, name)(run_id, db)
        times[name] = time.perf_counter() - started
    times["page total"] = sum(times.values())
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-bars", type=int, default=1_000_000)
    parser.add_argument("--others", type=int, default=50)
    parser.add_argument("--other-bars", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the runs.db here and keep it")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tradecore-bench-"))
    db = args.keep or workdir / "runs.db"
    try:
        conn = connect_runs_db(db)
        started = time.perf_counter()
        write_run(conn, "big", args.big_bars, seed=1)
        print(f"built the {args.big_bars:,}-bar run in {time.perf_counter() - started:.1f} s")
        analytics.statistics("big", db)  # connection + extension load, outside the timings
        one = measure(db, "big", args.reps)

        started = time.perf_counter()
        for k in range(args.others):
            write_run(conn, f"other-{k:03d}", args.other_bars, seed=100 + k)
        conn.close()
        total = args.big_bars + args.others * args.other_bars
        print(f"built {args.others} more runs of {args.other_bars:,} bars in "
              f"{time.perf_counter() - started:.1f} s: {total:,} rows in bars and "
              f"{total:,} in bars_processed, runs.db {db.stat().st_size / 1e9:.2f} GB")
        many = measure(db, "big", args.reps)

        started = time.perf_counter()
        runs = analytics.list_runs(db)
        list_time = time.perf_counter() - started

        print(f"\nmedian of {args.reps} repetitions; cold = first access (cache built)")
        _print("1 run stored", *one)
        _print(f"{args.others + 1} runs stored", *many)
        print(f"\nlist_runs ({len(runs)} runs): {list_time:.3f} s")
    finally:
        analytics.close_connections()
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
