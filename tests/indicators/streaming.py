"""Feeding frames through indicators bar by bar, and comparing with a vectorised reference."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.indicators.references import Case
from tradecore.events.market import BarReceived
from tradecore.indicators import IndicatorBase
from tradecore.models import BarPeriod


def bars_of(symbol: str, frame: pd.DataFrame) -> list[BarReceived]:
    columns = [frame[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close", "volume")]
    return [
        BarReceived(i, symbol, BarPeriod.DAY, *(float(col[i]) for col in columns))
        for i in range(len(frame))
    ]


def stream(
    indicator: IndicatorBase, frames: dict[str, pd.DataFrame], seed: int | None = None
) -> dict[str, np.ndarray]:
    """Feed every symbol's bars (interleaved in a seeded random order when several); return
    each symbol's values as ``update`` returned them, in bar order."""
    per_symbol = {symbol: bars_of(symbol, frame) for symbol, frame in frames.items()}
    order = np.concatenate([[s] * len(b) for s, b in per_symbol.items()])
    if seed is not None:
        np.random.default_rng(seed).shuffle(order)
    position = dict.fromkeys(per_symbol, 0)
    out: dict[str, list[float]] = {s: [] for s in per_symbol}
    for symbol in order:
        bar = per_symbol[symbol][position[symbol]]
        position[symbol] += 1
        out[symbol].append(indicator.update(bar))
    return {s: np.array(v) for s, v in out.items()}


def assert_matches_reference(
    indicator: IndicatorBase, values: np.ndarray, case: Case, frame: pd.DataFrame
) -> None:
    expected = np.asarray(case.reference(frame), dtype=float)
    assert expected.shape == values.shape
    warmup = indicator.warmup
    # Exactly `warmup` leading NaNs, then values.
    assert np.isnan(values[:warmup]).all(), f"{indicator.name}: a value before warm-up ended"
    assert not np.isnan(values[warmup]), f"{indicator.name}: NaN right after warm-up"
    compare = ~np.isnan(expected)
    compare[: warmup + case.settle] = False
    assert compare.sum() > len(values) // 2, f"{indicator.name}: too few comparable bars"
    assert not np.isnan(values[compare]).any(), f"{indicator.name}: NaN where TA-Lib has values"
    np.testing.assert_allclose(
        values[compare], expected[compare], rtol=case.rtol, atol=case.atol,
        err_msg=f"{indicator.name} ({case.reason})",
    )
