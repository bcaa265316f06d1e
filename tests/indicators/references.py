"""Every built-in indicator with its vectorised reference (TA-Lib where it has the indicator).

A case is ``Case(factory, reference, rtol, atol, settle, reason)``: ``reference(frame)`` is the
whole-series result (a NumPy array aligned with the frame's rows) computed by TA-Lib 0.8.2 —
directly, or composed from TA-Lib functions where TA-Lib has no such indicator (HMA from WMA,
Keltner from EMA and ATR, ...). Values are compared where both are defined, after ``settle``
extra bars beyond the indicator's own warm-up; ``settle`` is non-zero only where the definition
differs from TA-Lib's in a way that decays (``reason`` says how), and the tolerance is then
chosen for the remaining difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import talib

from tradecore import indicators as ind

#: Exact-algorithm tolerance: the same formula, summed in a different order.
EXACT = (1e-9, 1e-9)


@dataclass(frozen=True)
class Case:
    factory: Callable[[], ind.IndicatorBase]
    reference: Callable[[pd.DataFrame], np.ndarray]
    rtol: float = EXACT[0]
    atol: float = EXACT[1]
    settle: int = 0
    reason: str = "same definition as TA-Lib"


def _ohlcv(df: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(df[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close", "volume"))


def _close(df: pd.DataFrame) -> np.ndarray:
    return df["close"].to_numpy(dtype=float)


def _hma(x: np.ndarray, n: int) -> np.ndarray:
    raw = 2 * talib.WMA(x, n // 2) - talib.WMA(x, n)
    return talib.WMA(raw, int(np.sqrt(n)))


def _vwap(df: pd.DataFrame, n: int) -> np.ndarray:
    _, h, low, c, v = _ohlcv(df)
    return talib.SUM(talib.TYPPRICE(h, low, c) * v, n) / talib.SUM(v, n)


CASES: dict[str, Case] = {
    # -- moving averages -------------------------------------------------------------------
    "SMA(10)": Case(lambda: ind.SMA(10), lambda df: talib.SMA(_close(df), 10)),
    "SMA(30,high)": Case(lambda: ind.SMA(30, "high"),
                         lambda df: talib.SMA(df["high"].to_numpy(float), 30)),
    "EMA(20)": Case(lambda: ind.EMA(20), lambda df: talib.EMA(_close(df), 20),
                    reason="TA-Lib also seeds the EMA with the SMA of the first period values"),
    "WMA(15)": Case(lambda: ind.WMA(15), lambda df: talib.WMA(_close(df), 15)),
    "DEMA(10)": Case(lambda: ind.DEMA(10), lambda df: talib.DEMA(_close(df), 10)),
    "TEMA(10)": Case(lambda: ind.TEMA(10), lambda df: talib.TEMA(_close(df), 10)),
    "HMA(16)": Case(lambda: ind.HMA(16), lambda df: _hma(_close(df), 16),
                    reason="TA-Lib has no HMA: composed from TA-Lib WMAs"),
    "HMA(9)": Case(lambda: ind.HMA(9), lambda df: _hma(_close(df), 9),
                   reason="TA-Lib has no HMA: composed from TA-Lib WMAs (odd period)"),
    "KAMA(10,2,30)": Case(lambda: ind.KAMA(10), lambda df: talib.KAMA(_close(df), 10)),
    "VWAP(20)": Case(lambda: ind.VWAP(20), lambda df: _vwap(df, 20),
                     reason="TA-Lib has no VWAP: SUM(TYPPRICE * volume) / SUM(volume)"),
}
