"""Server-side render time of the run and compare pages for 1M-bar runs, with others stored.

    python bench/dashboard.py [--big-bars 1000000] [--big-runs 5] [--others 50]
                              [--other-bars 100000] [--reps 5]

Builds a temporary runs.db (``bench/analytics.py``'s synthetic runs), builds each big run's
cache once (as the CLI and dashboard do when a run ends), then times ``pages/run.py`` for one
big run and ``pages/compare.py`` for all big runs through ``streamlit.testing.v1.AppTest``:
the full script run, queries and chart building included. Fresh Streamlit caches each time,
median of ``--reps``. DESIGN's targets: run page under 2 s, compare of 5 under 3 s.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import streamlit as st  # noqa: E402
from analytics import write_run  # noqa: E402  (bench/analytics.py)
from streamlit.testing.v1 import AppTest  # noqa: E402

from tradecore import analytics  # noqa: E402
from tradecore.recorder import connect_runs_db  # noqa: E402

logging.getLogger("streamlit").setLevel(logging.ERROR)  # "no runtime" notes of bare AppTest


def time_page(page: str, params: dict[str, str], reps: int) -> list[float]:
    times = []
    for _ in range(reps):
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=120)
        for key, value in params.items():
            at.query_params[key] = value
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise SystemExit(f"{page} raised: {at.exception}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-bars", type=int, default=1_000_000)
    parser.add_argument("--big-runs", type=int, default=5)
    parser.add_argument("--others", type=int, default=50)
    parser.add_argument("--other-bars", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tradecore-bench-"))
    db = workdir / "runs.db"
    os.environ["TRADECORE_RUNS_DB"] = str(db)
    os.environ["TRADECORE_SECMASTER"] = str(workdir / "secmaster.db")
    try:
        conn = connect_runs_db(db)
        big = [f"big-{k}" for k in range(args.big_runs)]
        for k, run_id in enumerate(big):
            write_run(conn, run_id, args.big_bars, seed=k + 1)
        for k in range(args.others):
            write_run(conn, f"other-{k:03d}", args.other_bars, seed=100 + k)
        conn.close()
        started = time.perf_counter()
        for run_id in big:
            analytics.statistics(run_id, db)
        print(f"{args.big_runs} runs of {args.big_bars:,} bars + {args.others} of "
              f"{args.other_bars:,}; caches built in {time.perf_counter() - started:.1f} s")
        from tradecore.secmaster import build_sample

        build_sample(workdir / "secmaster.db")  # the pages' setup expects a secmaster
        run_times = time_page("run.py", {"run": big[0]}, args.reps)
        compare_times = time_page("compare.py", {"runs": ",".join(big)}, args.reps)
        for label, times, target in (("run page", run_times, 2.0),
                                     (f"compare page ({args.big_runs} runs)", compare_times, 3.0)):
            print(f"{label:24s} median {statistics.median(times):.2f} s "
                  f"(min {min(times):.2f}, max {max(times):.2f}; target {target:.0f} s)")
    finally:
        analytics.close_connections()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
