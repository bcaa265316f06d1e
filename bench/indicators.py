"""Indicator hot-path costs: µs per SMA update and per ``sma[symbol, -n]`` read, plus talipp.

The engine bench's SMA 10/30 crossover calls ``SMA.update`` twice a bar and reads
``sma[symbol, -1]``/``[symbol, -2]`` four times a bar; this prints those unit costs (best of 5
repeats of timeit, so a busy machine blurs them less) and talipp 2.7.0's per-update cost and
memory for comparison. The reads are also timed with the read path tradecore had before
issue 13 (``_BeforeReads``, copied from commit d888dfc), interleaved in the same process, so the
before/after ratio holds even when the machine's load moves the absolute figures.
Run: ``python3 bench/indicators.py``.
"""

from __future__ import annotations

import math
import os
import sys
import timeit
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tradecore.events.market import BarReceived  # noqa: E402
from tradecore.indicators import SMA  # noqa: E402
from tradecore.indicators.base import NAN  # noqa: E402
from tradecore.models import BarPeriod  # noqa: E402

N = 200_000
REPEAT = 5


class _BeforeReads(SMA):
    """SMA with the read path of commit d888dfc (validate the key, then index)."""

    def __getitem__(self, key):
        if type(key) is tuple and len(key) == 2:
            symbol, offset = key
            if type(offset) is int and offset < 0:
                history = self._history.get(symbol)
                if history is not None and -offset <= len(history):
                    return history[offset]
                return NAN
        return self._getitem_checked(key)

    def latest(self, symbol):
        history = self._history.get(symbol)
        return history[-1] if history else NAN


def best_us(stmt, number: int) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=REPEAT)) / number * 1e6


def print_every_builtin(bars: list[BarReceived], loop_us: float) -> None:
    """µs per update of one instance of every built-in class with its default arguments."""
    from tradecore import indicators

    row = []
    for name in sorted(indicators.__all__):
        cls = getattr(indicators, name)
        if not (isinstance(cls, type) and issubclass(cls, indicators.IndicatorBase)) or \
                cls is indicators.IndicatorBase:
            continue
        if cls in (indicators.SMA, indicators.EMA, indicators.WMA, indicators.DEMA,
                   indicators.TEMA, indicators.HMA):
            make = lambda cls=cls: cls(20)  # noqa: E731 - a period is required
        elif cls in (indicators.RollingMax, indicators.RollingMin):
            make = lambda cls=cls: cls("high", 20)  # noqa: E731
        else:
            make = cls

        def feed(make=make) -> None:
            update = make().update
            for bar in bars:
                update(bar)

        row.append(f"{name} {(best_us(feed, 1) - loop_us) / len(bars):.2f}")
    print("µs per update, default arguments:", ", ".join(row))


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
    # Before/after reads alternate within each round, and each figure is the least disturbed
    # (minimum) over the rounds, the empty call's included, so load shifts hit both alike.
    smas = {"before": _BeforeReads(10), "after": SMA(10)}
    for sma in smas.values():
        for bar in bars[:100]:
            sma.update(bar)
    raw: dict[tuple[str, int], float] = {}
    empty = math.inf
    for _round in range(7):
        empty = min(empty, best_us(lambda: None, 100_000))
        for i in range(3):
            for label, sma in smas.items():
                stmt = ((lambda sma=sma: sma["ACME", -1]), (lambda sma=sma: sma["ACME", -2]),
                        (lambda sma=sma: sma.latest("ACME")))[i]
                raw[label, i] = min(raw.get((label, i), math.inf), best_us(stmt, 100_000))
    reads = {label: [raw[label, i] - empty for i in range(3)] for label in smas}
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"SMA.update                 {update_us:6.3f} µs per update (unchanged code)")
    for i, what in enumerate(("sma[symbol, -1]", "sma[symbol, -2]", "sma.latest(symbol)")):
        before, after = reads["before"][i], reads["after"][i]
        print(f"{what:26s} {after:6.3f} µs per read, before {before:6.3f} µs"
              f" ({before / after:.2f}x faster)")
    per_bar = {label: 2 * update_us + 2 * r[0] + 2 * r[1] for label, r in reads.items()}
    print(f"crossover per bar (2 updates + 4 reads) {per_bar['after']:6.3f} µs,"
          f" before {per_bar['before']:6.3f} µs")

    print_every_builtin(bars[:20_000], best_us(lambda: [None for _ in bars[:20_000]], 1))

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
