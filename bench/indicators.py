"""Indicator hot-path costs: µs per SMA update and per ``sma[symbol, -n]`` read, plus talipp.

The engine bench's SMA 10/30 crossover calls ``SMA.update`` twice a bar and reads
``sma[symbol, -1]``/``[symbol, -2]`` four times a bar; this prints those unit costs (best of 5
repeats of timeit, so a busy machine blurs them less) and talipp 2.7.0's per-update cost and
memory for comparison. Run: ``python3 bench/indicators.py``.
"""

from __future__ import annotations

import os
import sys
import timeit
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tradecore.events.market import BarReceived  # noqa: E402
from tradecore.indicators import SMA  # noqa: E402
from tradecore.models import BarPeriod  # noqa: E402

N = 200_000
REPEAT = 5


def best_us(stmt, number: int) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=REPEAT)) / number * 1e6


def main() -> None:
    rng = np.random.default_rng(0)
    closes = (100 * np.exp(np.cumsum(rng.normal(0, 0.01, N)))).tolist()
    bars = [BarReceived(i, "ACME", BarPeriod.MINUTE, c, c, c, c, 1.0) for i, c in enumerate(closes)]

    def sma_updates() -> None:
        fast, slow = SMA(10), SMA(30)
        fu, su = fast.update, slow.update
        for bar in bars:
            fu(bar)
            su(bar)

    def loop_only() -> None:
        for _bar in bars:
            pass

    update_us = (best_us(sma_updates, 1) - best_us(loop_only, 1)) / (2 * N) * 1e6 / 1e6
    sma = SMA(10)
    for bar in bars[:100]:
        sma.update(bar)
    read_1 = best_us(lambda: sma["ACME", -1], 200_000)
    read_2 = best_us(lambda: sma["ACME", -2], 200_000)
    latest = best_us(lambda: sma.latest("ACME"), 200_000)
    empty = best_us(lambda: None, 200_000)
    print(f"SMA.update                 {update_us:6.3f} µs per update")
    print(f"sma[symbol, -1]            {read_1 - empty:6.3f} µs per read (call overhead removed)")
    print(f"sma[symbol, -2]            {read_2 - empty:6.3f} µs per read")
    print(f"sma.latest(symbol)         {latest - empty:6.3f} µs per read")
    crossover_bar = 2 * update_us + 2 * (read_1 - empty) + 2 * (read_2 - empty)
    print(f"crossover per bar (2 updates + 4 reads) {crossover_bar:6.3f} µs")

    try:
        from talipp.indicators import SMA as TalippSMA
    except ImportError:
        print("talipp not installed")
        return

    def talipp_updates() -> None:
        fast, slow = TalippSMA(10), TalippSMA(30)
        for c in closes:
            fast.add(c)
            slow.add(c)

    talipp_us = (best_us(talipp_updates, 1) - best_us(loop_only, 1)) / (2 * N)
    tracemalloc.start()
    kept = TalippSMA(10)
    for c in closes:
        kept.add(c)
    talipp_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    tracemalloc.start()
    ours = SMA(10)
    for bar in bars:
        ours.update(bar)
    our_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"talipp SMA.add             {talipp_us:6.3f} µs per update")
    print(f"memory after {N} bars: talipp SMA {talipp_bytes / 1e6:.1f} MB (keeps all output),"
          f" tradecore SMA {our_bytes / 1e3:.1f} kB (max_history {SMA.max_history})")


if __name__ == "__main__":
    main()
