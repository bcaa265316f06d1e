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


def _field(df: pd.DataFrame, name: str) -> np.ndarray:
    return df[name].to_numpy(dtype=float)


def _bbands(df: pd.DataFrame, n: int, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return talib.BBANDS(_close(df), n, k, k, 0)


def _percent_b(df: pd.DataFrame, n: int, k: float) -> np.ndarray:
    upper, _, lower = _bbands(df, n, k)
    return (_close(df) - lower) / (upper - lower)


def _atr(df: pd.DataFrame, n: int) -> np.ndarray:
    _, h, low, c, _ = _ohlcv(df)
    return talib.ATR(h, low, c, n)


def _keltner(df: pd.DataFrame, n: int, m: float, atr_n: int, side: float) -> np.ndarray:
    return talib.EMA(_close(df), n) + side * m * _atr(df, atr_n)


def _stoch(df: pd.DataFrame, k: int, smooth: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    _, h, low, c, _ = _ohlcv(df)
    return talib.STOCH(h, low, c, k, smooth, 0, d, 0)


def _stochrsi(rsi_n: int, n: int, smooth: int, d: int, df: pd.DataFrame) -> tuple:
    rsi = talib.RSI(_close(df), rsi_n)
    return talib.STOCH(rsi, rsi, rsi, n, smooth, 0, d, 0)


def _dmi(df: pd.DataFrame, func, n: int) -> np.ndarray:
    _, h, low, c, _ = _ohlcv(df)
    return func(h, low, c, n)


def _aroon(df: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    down, up = talib.AROON(_field(df, "high"), _field(df, "low"), n)
    return up, down


def _midprice(df: pd.DataFrame, n: int) -> np.ndarray:
    return talib.MIDPRICE(_field(df, "high"), _field(df, "low"), n)


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    return pd.Series(x).shift(k).to_numpy()


def _cmf(df: pd.DataFrame, n: int) -> np.ndarray:
    _, h, low, c, v = _ohlcv(df)
    accumulation = talib.AD(h, low, c, v)  # cumulative money-flow volume
    flow = accumulation - _shift(accumulation, n)
    flow[n - 1] = accumulation[n - 1]  # the first window: the AD line starts from 0
    return flow / talib.SUM(v, n)


#: ATR seeds differently from TA-Lib (first TR = high - low at bar 0, first ATR at bar n-1;
#: TA-Lib starts TR at bar 1, first ATR at bar n). Wilder smoothing forgets the seed by a factor
#: (1 - 1/n) per bar: after 300 bars (n = 14) about 2e-10 of the seed difference is left.
ATR_SEED = "ATR seeded with TR[0] = high - low (TA-Lib starts at bar 1): decays as (1-1/n)^t"
ATR_SETTLE = 300


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
    # -- bands and channels ----------------------------------------------------------------
    "BB_UPPER(20,2)": Case(lambda: ind.BollingerUpper(20, 2), lambda df: _bbands(df, 20, 2)[0],
                           rtol=1e-9, atol=1e-7,
                           reason="TA-Lib's STDDEV is sqrt(E[x^2] - E[x]^2), which cancels"
                                  " at price levels; ours is a sliding Welford update"),
    "BB_LOWER(20,2)": Case(lambda: ind.BollingerLower(20, 2), lambda df: _bbands(df, 20, 2)[2],
                           rtol=1e-9, atol=1e-7, reason="as BB_UPPER"),
    "BB_BANDWIDTH(20,2)": Case(
        lambda: ind.BollingerBandwidth(20, 2),
        lambda df: (lambda u, m, lo: (u - lo) / m)(*_bbands(df, 20, 2)),
        rtol=1e-7, atol=1e-9, reason="as BB_UPPER"),
    "BB_PERCENT_B(20,2)": Case(lambda: ind.BollingerPercentB(20, 2),
                               lambda df: _percent_b(df, 20, 2),
                               rtol=1e-7, atol=1e-7, reason="as BB_UPPER"),
    "KC_UPPER(20,2,10)": Case(lambda: ind.KeltnerUpper(), lambda df: _keltner(df, 20, 2, 10, 1),
                              rtol=1e-9, atol=1e-6, settle=ATR_SETTLE, reason=ATR_SEED),
    "KC_MIDDLE(20,2,10)": Case(lambda: ind.KeltnerMiddle(),
                               lambda df: talib.EMA(_close(df), 20)),
    "KC_LOWER(20,1.5,14)": Case(lambda: ind.KeltnerLower(20, 1.5, 14),
                                lambda df: _keltner(df, 20, 1.5, 14, -1),
                                rtol=1e-9, atol=1e-6, settle=ATR_SETTLE, reason=ATR_SEED),
    "DC_UPPER(20)": Case(lambda: ind.DonchianUpper(20),
                         lambda df: talib.MAX(_field(df, "high"), 20)),
    "DC_MIDDLE(20)": Case(lambda: ind.DonchianMiddle(20), lambda df: _midprice(df, 20)),
    "DC_LOWER(20)": Case(lambda: ind.DonchianLower(20),
                         lambda df: talib.MIN(_field(df, "low"), 20)),
    # -- momentum and oscillators ----------------------------------------------------------
    "RSI(14)": Case(lambda: ind.RSI(14), lambda df: talib.RSI(_close(df), 14),
                    reason="TA-Lib also seeds Wilder's averages with the first period's means"),
    "STOCH_K(14,3,3)": Case(lambda: ind.StochasticK(), lambda df: _stoch(df, 14, 3, 3)[0]),
    "STOCH_D(14,3,3)": Case(lambda: ind.StochasticD(), lambda df: _stoch(df, 14, 3, 3)[1]),
    "STOCH_K(5,1,3)": Case(lambda: ind.StochasticK(5, 1, 3), lambda df: _stoch(df, 5, 1, 3)[0],
                           reason="k_smooth=1 is the fast stochastic"),
    "STOCHRSI_K(14,14,3,3)": Case(lambda: ind.StochRSIK(),
                                  lambda df: _stochrsi(14, 14, 3, 3, df)[0],
                                  rtol=1e-9, atol=1e-7,
                                  reason="TA-Lib STOCH over TA-Lib RSI; %K divides by a RSI"
                                         " range, amplifying RSI rounding"),
    "STOCHRSI_D(14,14,3,3)": Case(lambda: ind.StochRSID(),
                                  lambda df: _stochrsi(14, 14, 3, 3, df)[1],
                                  rtol=1e-9, atol=1e-7, reason="as STOCHRSI_K"),
    "MACD(12,26,9)": Case(lambda: ind.MACD(), lambda df: talib.MACD(_close(df))[0],
                          settle=300,
                          reason="TA-Lib seeds the fast EMA with the SMA of bars slow-fast .."
                                 " slow-1 (so both EMAs start at bar slow-1); ours (as EMA) with"
                                 " bars 0 .. fast-1. The difference decays as (11/13)^t: gone"
                                 " to rounding within 300 bars"),
    "MACD_SIGNAL(12,26,9)": Case(lambda: ind.MACDSignal(), lambda df: talib.MACD(_close(df))[1],
                                 settle=300, reason="as MACD"),
    "MACD_HIST(12,26,9)": Case(lambda: ind.MACDHistogram(), lambda df: talib.MACD(_close(df))[2],
                               settle=300, reason="as MACD"),
    "CCI(20)": Case(lambda: ind.CCI(20),
                    lambda df: talib.CCI(*_ohlcv(df)[1:4], 20), rtol=1e-9, atol=1e-8),
    "WILLR(14)": Case(lambda: ind.WilliamsR(14), lambda df: talib.WILLR(*_ohlcv(df)[1:4], 14)),
    "ROC(10)": Case(lambda: ind.ROC(10), lambda df: talib.ROC(_close(df), 10)),
    "MOM(10)": Case(lambda: ind.Momentum(10), lambda df: talib.MOM(_close(df), 10)),
    "DPO(20)": Case(lambda: ind.DetrendedPrice(20),
                    lambda df: _shift(_close(df), 11) - talib.SMA(_close(df), 20),
                    reason="TA-Lib has no DPO: close shifted by n//2+1 minus TA-Lib's SMA"),
    # -- trend ----------------------------------------------------------------------------
    "ADX(14)": Case(lambda: ind.ADX(14), lambda df: _dmi(df, talib.ADX, 14)),
    "PLUS_DI(14)": Case(lambda: ind.PlusDI(14), lambda df: _dmi(df, talib.PLUS_DI, 14)),
    "MINUS_DI(14)": Case(lambda: ind.MinusDI(14), lambda df: _dmi(df, talib.MINUS_DI, 14)),
    "AROON_UP(14)": Case(lambda: ind.AroonUp(14), lambda df: _aroon(df, 14)[0]),
    "AROON_DOWN(14)": Case(lambda: ind.AroonDown(14), lambda df: _aroon(df, 14)[1]),
    "AROON_OSC(25)": Case(lambda: ind.AroonOscillator(25),
                          lambda df: talib.AROONOSC(_field(df, "high"), _field(df, "low"), 25)),
    "SAR(0.02,0.2)": Case(lambda: ind.ParabolicSAR(),
                          lambda df: talib.SAR(_field(df, "high"), _field(df, "low"), 0.02, 0.2)),
    "SAR(0.01,0.1)": Case(lambda: ind.ParabolicSAR(0.01, 0.1),
                          lambda df: talib.SAR(_field(df, "high"), _field(df, "low"), 0.01, 0.1)),
    "ICHIMOKU_TENKAN(9)": Case(lambda: ind.IchimokuTenkan(), lambda df: _midprice(df, 9),
                               reason="TA-Lib has no Ichimoku: MIDPRICE(9)"),
    "ICHIMOKU_KIJUN(26)": Case(lambda: ind.IchimokuKijun(), lambda df: _midprice(df, 26),
                               reason="MIDPRICE(26)"),
    "ICHIMOKU_SENKOU_A(9,26,26)": Case(
        lambda: ind.IchimokuSenkouA(),
        lambda df: _shift((_midprice(df, 9) + _midprice(df, 26)) / 2, 26),
        reason="(MIDPRICE(9) + MIDPRICE(26)) / 2, 26 bars later"),
    "ICHIMOKU_SENKOU_B(52,26)": Case(lambda: ind.IchimokuSenkouB(),
                                     lambda df: _shift(_midprice(df, 52), 26),
                                     reason="MIDPRICE(52), 26 bars later"),
    # -- volatility -----------------------------------------------------------------------
    "ATR(14)": Case(lambda: ind.ATR(14), lambda df: _atr(df, 14), rtol=1e-9, atol=1e-8,
                    settle=ATR_SETTLE, reason=ATR_SEED),
    "NATR(14)": Case(lambda: ind.NATR(14),
                     lambda df: talib.NATR(*_ohlcv(df)[1:4], 14), rtol=1e-9, atol=1e-8,
                     settle=ATR_SETTLE, reason=ATR_SEED),
    "STDDEV(20)": Case(lambda: ind.StdDev(20), lambda df: talib.STDDEV(_close(df), 20, 1),
                       rtol=1e-7, atol=1e-7, reason="as BB_UPPER"),
    # -- volume ---------------------------------------------------------------------------
    "OBV": Case(lambda: ind.OBV(), lambda df: talib.OBV(_close(df), _field(df, "volume"))),
    "MFI(14)": Case(lambda: ind.MFI(14), lambda df: talib.MFI(*_ohlcv(df)[1:], 14)),
    "CMF(20)": Case(lambda: ind.ChaikinMoneyFlow(20), lambda df: _cmf(df, 20),
                    rtol=1e-9, atol=1e-9,
                    reason="TA-Lib has no CMF: windowed differences of TA-Lib's AD line over"
                           " TA-Lib's SUM of volume"),
    # -- rolling max/min and fields -------------------------------------------------------
    "MAX(RSI(14),20)": Case(lambda: ind.RollingMax(ind.RSI(14), 20),
                            lambda df: talib.MAX(talib.RSI(_close(df), 14), 20)),
    "MIN(SMA(10),5)": Case(lambda: ind.RollingMin(ind.SMA(10), 5),
                           lambda df: talib.MIN(talib.SMA(_close(df), 10), 5)),
    "MAX(high,10)": Case(lambda: ind.RollingMax("high", 10),
                         lambda df: talib.MAX(_field(df, "high"), 10)),
    "FIELD(close)": Case(lambda: ind.Field("close"), _close, reason="the close itself"),
    "FIELD(volume)": Case(lambda: ind.Field("volume"), lambda df: _field(df, "volume"),
                          reason="the volume itself"),
}
