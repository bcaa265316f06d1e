"""Sweep scaling and per-point overhead on dask.distributed.

    python bench/sweep.py [--bars 100000] [--small-bars 20000]

1. A 4x4 grid (fast 5..20 x slow 30..60) of ``--bars``-bar SMA-crossover runs on a LocalCluster
   of 1 worker, then of 2: wall time of the sweep (cluster start printed apart), speed-up.
2. Per-point overhead from the timings the sweep records: cluster start, building and
   shipping the data slice, writing the slice on a worker, merging a run into runs.db,
   and what is left (scheduling, pickling the run's bytes back), each per point; and the
   overhead in CPU seconds: every process's CPU over the sweep minus the CPU the points'
   runs used (``run_cpu``: replay, recording, statistics and stored overviews), per point,
   split into the coordinator's process, the worker around each run, the setup and the rest.
   Wall-based figures stretch when other users load the machine; the CPU figure does not.
3. 16 points (``--small-bars`` bars) on a LocalCluster of 2 workers against a plain
   ``ProcessPoolExecutor`` of 2 running the same worker function (the alternative local
   executor), start-up included, since that is what a user waits for.

The machine is shared: the load average and each phase's CPU use (the cluster's processes'
CPU seconds over wall seconds) are printed beside every figure.

Local workers are forked from a forkserver (tradecore.sweep.cluster) that outlives a sweep in
its process. Every cluster sweep here stops it at its end, inside its CPU meter, so each one
pays the server's start and exit, as a sweep from the CLI does (one sweep a process); the
workers' CPU is read through the server's children times, since it reaps them.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tradecore.configure import RunRequest  # noqa: E402
from tradecore.secmaster import schema  # noqa: E402
from tradecore.secmaster.writer import write_bars  # noqa: E402
from tradecore.sweep import coordinator, grid_points, run_sweep  # noqa: E402
from tradecore.sweep.coordinator import new_sweep_id, prepare  # noqa: E402
from tradecore.sweep.data import build_slice  # noqa: E402
from tradecore.sweep.merge import handback_folder, merge_outcome, open_merger  # noqa: E402
from tradecore.sweep.worker import PointTask, run_point  # noqa: E402

GRID = {"fast_period": [5, 10, 15, 20], "slow_period": [30, 40, 50, 60]}
_POOL_SLICE: tuple[bytes, str] | None = None


def make_secmaster(path: Path, bars: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0008, bars)))
    open_ = np.concatenate([[100.0], close[:-1]]) * (1 + rng.normal(0, 0.0002, bars))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.0004, bars)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.0004, bars)))
    ts = pd.date_range("2020-01-01", periods=bars, freq="min", unit="ns").asi8
    values = {"open": open_, "high": high, "low": low, "close": close,
              "volume": rng.integers(100, 10_000, bars).astype(float)}
    from tradecore.models import BarPeriod

    with schema.writing(path) as conn:
        write_bars(conn, publisher="bench", dataset="synthetic", symbol="BENCH",
                   symbol_type="raw_symbol", period=BarPeriod.MINUTE, ts=ts, values=values)


def request(folder: Path, secmaster: Path) -> RunRequest:
    return RunRequest(strategy="SMACrossover", symbols=["BENCH"],
                      parameters={"bar_period": "MINUTE"}, secmaster_path=str(secmaster),
                      runs_db_path=str(folder / f"runs-{time.monotonic_ns()}.db"))


class CpuMeter:
    """CPU seconds of this process and all its descendants (the cluster) over wall time."""

    def __enter__(self) -> CpuMeter:
        self.load = os.getloadavg()[0]
        self.started = time.perf_counter()
        self.cpu = self._cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.started
        # children that already exited are counted through os.times() (children_* fields)
        self.used = self._cpu() - self.cpu
        self.load_after = os.getloadavg()[0]

    @staticmethod
    def _cpu() -> float:
        total = sum(os.times()[:4])
        for child in psutil.Process().children(recursive=True):
            try:
                times = child.cpu_times()
                # children_*: the local workers are forked by a forkserver, which reaps them,
                # so their CPU lands in its children fields once they exit
                total += (times.user + times.system + times.children_user
                          + times.children_system)
            except psutil.Error:
                pass
        return total

    def text(self) -> str:
        return (f"CPU {self.used:.1f} s over {self.wall:.1f} s wall = {self.used / self.wall:.2f} "
                f"cores busy for us; load average {self.load:.1f} -> {self.load_after:.1f} "
                f"on {os.cpu_count()} cores")


def cluster_sweep(folder: Path, secmaster: Path, workers: int, grid: dict) -> tuple:
    original = coordinator._Session.run

    def run(session, *args, **kwargs):
        # The CPU every process used before the first point was submitted: validation, the
        # slice, the cluster's start. Taken here because run_sweep has no such hook.
        session.result.timings["setup_cpu"] = CpuMeter._cpu() - meter.cpu
        return original(session, *args, **kwargs)

    coordinator._Session.run = run
    try:
        with CpuMeter() as meter:
            result = run_sweep(request(folder, secmaster), grid, workers=workers)
            # Each sweep pays for the forkserver its workers fork from (tradecore.sweep.cluster):
            # its start inside run_sweep and, here, its exit -- as a sweep from the CLI does
            # (one sweep, then the process and its forkserver end). A process running several
            # sweeps pays both once; this measures every sweep cold.
            stop_forkserver()
    finally:
        coordinator._Session.run = original
    failed = [r.error for r in result.points if r.status != "completed"]
    if failed:
        raise SystemExit(f"bench points failed: {failed[:2]}")
    return result, meter


def stop_forkserver() -> None:
    """Stop this process's multiprocessing forkserver (the next cluster starts a new one).
    ``_stop`` is what CPython's own tests use; there is no public way."""
    from multiprocessing import forkserver

    forkserver._forkserver._stop()


def _pool_init(content: bytes, digest: str) -> None:
    global _POOL_SLICE
    _POOL_SLICE = (content, digest)


def _pool_point(task: PointTask):
    content, digest = _POOL_SLICE
    return run_point(task, content, digest)


def pool_sweep(folder: Path, secmaster: Path, workers: int, grid: dict) -> tuple[float, CpuMeter]:
    """The same points through a ProcessPoolExecutor (slice shipped once per process through
    the initializer), the same hand-over of each run and the same merge."""
    with CpuMeter() as meter:
        prepared, grid, folds, (first, last) = prepare(request(folder, secmaster), grid)
        data = build_slice(prepared, first, last)
        sweep_id = new_sweep_id()
        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(workers, mp_context=context, initializer=_pool_init,
                                    initargs=(data.content, data.digest)) as pool, \
                open_merger(prepared.runs_db_path) as merger, handback_folder() as handback:
            key = merger.first_free_key_below()  # as the coordinator does
            tasks = [PointTask(RunRequest(**{**prepared.__dict__,
                                             "parameters": {**prepared.parameters, **p},
                                             "sweep_id": sweep_id}), p, 0, None,
                               run_key=key - i, handback=handback)
                     for i, p in enumerate(grid_points(grid))]
            for future in cf.as_completed([pool.submit(_pool_point, t) for t in tasks]):
                outcome = future.result()
                if outcome.status != "completed":
                    raise SystemExit(f"pool point failed: {outcome.error}")
                merge_outcome(merger, outcome, sweep_id=sweep_id, role=None)
    return meter.wall, meter


def overhead(result, workers: int, meter: CpuMeter) -> dict[str, float]:
    """Per point: each component, the overhead a user waits for (wall time per point times
    workers, minus the points' own runs, which include storing their statistics), and the
    same in CPU seconds. Returns the figures the summary takes medians of."""
    points = result.points
    n = len(points)
    mean = lambda key: sum(p.timings.get(key, 0.0) for p in points) / n  # noqa: E731
    t = result.timings
    start = t["cluster_start"] / n
    setup = t["setup"] / n  # prepare + the longer of cluster start and slice building
    merge, merge_cpu = t["merge"] / n, t["merge_cpu"] / n
    busy = t["total"] - t["setup"]
    visible = busy * workers / n - mean("run")
    cpu_overhead = meter.used / n - mean("run_cpu")
    print(f"  per point ({n} points, {workers} worker(s)), seconds:")
    print(f"    cluster start            {start:7.3f}   ({t['cluster_start']:.2f} s once per "
          f"sweep, while the slice is built: {t['slice']:.2f} s)")
    print(f"    setup, all of it         {setup:7.3f}   (validation {t['prepare']:.2f} s + the "
          f"longer of the two above)")
    print(f"    data: scatter            {t['ship'] / n:7.3f}   ({t['ship']:.3f} s once per sweep)")
    print(f"    data: write on worker    {mean('slice'):7.3f}   (once per worker, ~0 after)")
    print(f"    merge into runs.db       {merge:7.3f}   wall, {merge_cpu:.3f} CPU (coordinator, "
          f"overlaps the next runs)")
    print(f"    engine run (+ its stats) {mean('run'):7.3f}   wall, {mean('run_cpu'):.3f} CPU")
    print(f"    overhead seen in wall    {visible + setup:7.3f}   (wall x workers / points - "
          f"engine run, + setup per point; target < 0.3)")
    print(f"    overhead in CPU          {cpu_overhead:7.3f}   (all processes' CPU / points - "
          f"engine run CPU; setup included; without it "
          f"{cpu_overhead - t['setup_cpu'] / n:.3f})")
    session = t["session_cpu"] / n
    outside = mean("total_cpu") - mean("run_cpu")
    rest = meter.used / n - mean("total_cpu") - t["setup_cpu"] / n - session
    print(f"      of which: coordinator process {session:.3f} (merge {merge_cpu:.3f}, the rest "
          f"dask: client, scheduler, nannies), worker around the run {outside:.3f}, setup "
          f"{t['setup_cpu'] / n:.3f}, elsewhere {rest:.3f} (workers between points: results "
          f"out, imports, shutdown)")
    return {"wall_overhead": visible + setup, "cpu_overhead": cpu_overhead,
            "cpu_overhead_no_setup": cpu_overhead - t["setup_cpu"] / n,
            "merge_cpu": merge_cpu, "start": start}


def once(folder: Path, big: Path, small: Path, bars: int, small_bars: int) -> dict:
    figures: dict[str, float] = {"load_before": os.getloadavg()[0]}
    print(f"\n1. 4x4 grid of {bars:,}-bar runs")
    walls = {}
    for workers in (1, 2):
        result, meter = cluster_sweep(folder, big, workers, GRID)
        walls[workers] = result.timings["total"] - result.timings["cluster_start"]
        print(f"  {workers} worker(s): {walls[workers]:.1f} s sweep "
              f"(+ {result.timings['cluster_start']:.1f} s cluster start); {meter.text()}")
        for key, value in overhead(result, workers, meter).items():
            figures[f"{key}_{workers}w"] = value
        figures[f"cores_{workers}w"] = meter.used / meter.wall
        figures[f"cpu_{workers}w"] = meter.used
        figures[f"wall_{workers}w"] = walls[workers]
    figures["speedup"] = walls[1] / walls[2]
    print(f"  speed-up 2 vs 1 workers: {figures['speedup']:.2f}x (target >= 1.8x); "
          f"cores busy for us: {figures['cores_1w']:.2f} with 1 worker, "
          f"{figures['cores_2w']:.2f} with 2")

    print(f"\n2. 16 points of {small_bars:,} bars, start-up included")
    result, meter = cluster_sweep(folder, small, 2, GRID)
    print(f"  LocalCluster of 2 (the default here: one worker per core): "
          f"{meter.wall:.1f} s; {meter.text()}")
    pool_wall, pool_meter = pool_sweep(folder, small, 2, GRID)
    print(f"  ProcessPoolExecutor of 2, same worker function: {pool_wall:.1f} s; "
          f"{pool_meter.text()}")
    figures["cluster_vs_pool"] = meter.wall / pool_wall
    figures["cluster_vs_pool_cpu"] = meter.used / pool_meter.used
    print(f"  LocalCluster / pool: {figures['cluster_vs_pool']:.2f} wall (within 10% means "
          f"0.90..1.10), {figures['cluster_vs_pool_cpu']:.2f} CPU")
    figures["load_after"] = os.getloadavg()[0]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--small-bars", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=1,
                        help="run everything N times and print the medians (shared machine)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        folder = Path(tmp)
        big, small = folder / "big.db", folder / "small.db"
        make_secmaster(big, args.bars)
        make_secmaster(small, args.small_bars)
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()}")
        runs = []
        for number in range(args.repeat):
            if args.repeat > 1:
                print(f"\n=== repetition {number + 1} of {args.repeat}")
            runs.append(once(folder, big, small, args.bars, args.small_bars))
    if args.repeat > 1:
        print(f"\nmedians over {args.repeat} repetitions (each value: median [min .. max]):")
        for key in runs[0]:
            values = sorted(r[key] for r in runs)
            print(f"  {key:28s} {statistics.median(values):8.3f}  "
                  f"[{values[0]:.3f} .. {values[-1]:.3f}]")


if __name__ == "__main__":
    main()
