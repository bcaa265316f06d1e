"""Indicators against independent pandas computations, plus history, naming, registry, errors.

Two symbols with different random walks are fed interleaved in an irregular order so that any
state shared between symbols shows up as a mismatch against the per-symbol pandas reference.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from tradecore.events.market import BarReceived
from tradecore.indicators import (
    ATR,
    EMA,
    MACD,
    ROC,
    RSI,
    SMA,
    BollingerBandwidth,
    BollingerLower,
    BollingerUpper,
    IndicatorBase,
    MACDHistogram,
    MACDSignal,
    crossover,
    get_registered_indicators,
)
from tradecore.indicators import base as indicators_base
from tradecore.models import BarPeriod

N_BARS = 400
SYMBOLS = ("AAA", "BBB")


def random_walk_ohlcv(seed: int, start: float) -> pd.DataFrame:
    """Geometric random walk with consistent OHLC (low <= open, close <= high)."""
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0.0, 0.015, N_BARS)))
    open_ = np.concatenate([[start], close[:-1]]) * np.exp(rng.normal(0.0, 0.003, N_BARS))
    wick = np.abs(rng.normal(0.0, 0.006, (2, N_BARS)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    volume = rng.integers(1_000, 50_000, N_BARS).astype(float)
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {"AAA": random_walk_ohlcv(1, 100.0), "BBB": random_walk_ohlcv(2, 2_500.0)}


@pytest.fixture(scope="module")
def bars(frames: dict[str, pd.DataFrame]) -> list[BarReceived]:
    """Both symbols' bars, each in its own order, interleaved irregularly."""
    rng = np.random.default_rng(3)
    order = np.array(["AAA"] * N_BARS + ["BBB"] * N_BARS)
    rng.shuffle(order)
    position = dict.fromkeys(SYMBOLS, 0)
    result = []
    for symbol in order:
        row = frames[symbol].iloc[position[symbol]]
        result.append(make_bar(symbol, position[symbol], **row.to_dict()))
        position[symbol] += 1
    return result


def make_bar(
    symbol: str, i: int, open: float, high: float, low: float, close: float, volume: float = 0.0
) -> BarReceived:
    return BarReceived(i, symbol, BarPeriod.DAY, open, high, low, close, volume)


def run(indicator: IndicatorBase, bars: list[BarReceived]) -> dict[str, np.ndarray]:
    """Feed every bar; return each symbol's returned values in bar order."""
    out: dict[str, list[float]] = {s: [] for s in SYMBOLS}
    for bar in bars:
        out[bar.symbol].append(indicator.update(bar))
    return {s: np.array(v) for s, v in out.items()}


def seeded_ewm(x: pd.Series, period: int, alpha: float) -> pd.Series:
    """EMA with adjust=False whose first value is the SMA of the first `period` valid inputs.

    With the seed as the first input, pandas' recursion y = (1 - alpha) * y + alpha * x is
    exactly the seeded EMA (alpha = 2 / (n + 1)) or Wilder smoothing (alpha = 1 / n).
    """
    valid = x.dropna()
    seed = pd.Series([valid.iloc[:period].mean()], index=[valid.index[period - 1]])
    seeded = pd.concat([seed, valid.iloc[period:]])
    return seeded.ewm(alpha=alpha, adjust=False).mean().reindex(x.index)


def reference_rsi(x: pd.Series, period: int) -> pd.Series:
    change = x.diff()
    avg_gain = seeded_ewm(change.clip(lower=0), period, 1 / period)
    avg_loss = seeded_ewm((-change).clip(lower=0), period, 1 / period)
    rsi = 100 - 100 / (1 + avg_gain / avg_loss)
    rsi[(avg_loss == 0) & (avg_gain > 0)] = 100.0
    rsi[(avg_loss == 0) & (avg_gain == 0)] = 50.0
    return rsi


def reference_atr(df: pd.DataFrame, period: int) -> pd.Series:
    previous_close = df["close"].shift()
    true_range = pd.concat(
        [
            df["high"] - df["low"],
            (df["high"] - previous_close).abs(),
            (df["low"] - previous_close).abs(),
        ],
        axis=1,
    ).max(axis=1)  # skips the NaN of the first bar, leaving high - low
    return seeded_ewm(true_range, period, 1 / period)


def reference_macd(x: pd.Series, fast: int, slow: int, signal: int) -> tuple[pd.Series, ...]:
    line = seeded_ewm(x, fast, 2 / (fast + 1)) - seeded_ewm(x, slow, 2 / (slow + 1))
    signal_line = seeded_ewm(line, signal, 2 / (signal + 1))
    return line, signal_line, line - signal_line


def bollinger(df: pd.DataFrame, period: int, k: float, source: str = "close") -> tuple:
    mean = df[source].rolling(period).mean()
    std = df[source].rolling(period).std(ddof=0)
    return mean + k * std, mean - k * std, (2 * k * std) / mean


# Each case: indicator factory, pandas reference from a symbol's frame, expected warm-up NaNs.
CASES = {
    "SMA(10)": (lambda: SMA(10), lambda df: df["close"].rolling(10).mean(), 9),
    "SMA(7,high)": (lambda: SMA(7, "high"), lambda df: df["high"].rolling(7).mean(), 6),
    "SMA(1)": (lambda: SMA(1), lambda df: df["close"], 0),
    "SMA(30,volume)": (
        lambda: SMA(30, source="volume"), lambda df: df["volume"].rolling(30).mean(), 29
    ),
    "EMA(10)": (lambda: EMA(10), lambda df: seeded_ewm(df["close"], 10, 2 / 11), 9),
    "EMA(25,low)": (lambda: EMA(25, "low"), lambda df: seeded_ewm(df["low"], 25, 2 / 26), 24),
    "RSI(14)": (lambda: RSI(14), lambda df: reference_rsi(df["close"], 14), 14),
    "RSI(5,open)": (lambda: RSI(5, "open"), lambda df: reference_rsi(df["open"], 5), 5),
    "BB_UPPER(20,2)": (lambda: BollingerUpper(20, 2), lambda df: bollinger(df, 20, 2)[0], 19),
    "BB_LOWER(20,2)": (lambda: BollingerLower(20, 2), lambda df: bollinger(df, 20, 2)[1], 19),
    "BB_BANDWIDTH(20,2)": (
        lambda: BollingerBandwidth(20, 2), lambda df: bollinger(df, 20, 2)[2], 19
    ),
    "BB_UPPER(10,1.5,high)": (
        lambda: BollingerUpper(10, 1.5, "high"), lambda df: bollinger(df, 10, 1.5, "high")[0], 9
    ),
    "ATR(14)": (lambda: ATR(14), lambda df: reference_atr(df, 14), 13),
    "ATR(3)": (lambda: ATR(3), lambda df: reference_atr(df, 3), 2),
    "MACD(12,26,9)": (lambda: MACD(), lambda df: reference_macd(df["close"], 12, 26, 9)[0], 25),
    "MACD_SIGNAL(12,26,9)": (
        lambda: MACDSignal(), lambda df: reference_macd(df["close"], 12, 26, 9)[1], 33
    ),
    "MACD_HIST(5,13,4)": (
        lambda: MACDHistogram(5, 13, 4), lambda df: reference_macd(df["close"], 5, 13, 4)[2], 15
    ),
    "ROC(10)": (lambda: ROC(10), lambda df: 100 * (df["close"] / df["close"].shift(10) - 1), 10),
    "ROC(3,high)": (
        lambda: ROC(3, "high"), lambda df: 100 * (df["high"] / df["high"].shift(3) - 1), 3
    ),
}


@pytest.mark.parametrize("expected_name", list(CASES))
def test_matches_pandas_per_symbol(expected_name, frames, bars):
    factory, reference, warmup = CASES[expected_name]
    indicator = factory()
    assert indicator.name == expected_name
    values = run(indicator, bars)
    for symbol in SYMBOLS:
        expected = reference(frames[symbol]).to_numpy(dtype=float)
        actual = values[symbol]
        # Warm-up: exactly `warmup` leading NaNs, then finite values only.
        assert np.isnan(actual[:warmup]).all(), f"{symbol}: value before warm-up ended"
        assert np.isfinite(actual[warmup:]).all(), f"{symbol}: NaN after warm-up"
        assert indicator.warmup == warmup
        np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-9, err_msg=symbol)
        # The history holds the same values as update returned (the last max_history of them).
        np.testing.assert_array_equal(indicator.history(symbol), actual[-indicator.max_history:])
        assert indicator.latest(symbol) == actual[-1]


def test_symbols_do_not_share_state(frames, bars):
    """One symbol's values are the same whether or not another symbol is interleaved."""
    for factory, _, _ in CASES.values():
        shared = run(factory(), bars)
        alone = run(factory(), [bar for bar in bars if bar.symbol == "AAA"])
        np.testing.assert_array_equal(shared["AAA"], alone["AAA"])


def test_values_worked_out_by_hand():
    closes = [1.0, 2.0, 3.0, 4.0, 5.0, 4.0]
    sma, ema, rsi, roc = SMA(3), EMA(3), RSI(2), ROC(2)
    out = {ind.name: [] for ind in (sma, ema, rsi, roc)}
    for i, c in enumerate(closes):
        bar = make_bar("X", i, c, c, c, c)
        for ind in (sma, ema, rsi, roc):
            out[ind.name].append(ind.update(bar))
    np.testing.assert_allclose(out["SMA(3)"], [math.nan, math.nan, 2, 3, 4, 13 / 3])
    # EMA: seed 2 (mean of 1,2,3), alpha 0.5: 3, 4, 4
    np.testing.assert_allclose(out["EMA(3)"], [math.nan, math.nan, 2, 3, 4, 4])
    # RSI(2): gains 1,1 -> 100; then 100; then avg gain .5, avg loss .5 -> 50
    np.testing.assert_allclose(out["RSI(2)"], [math.nan, math.nan, 100, 100, 100, 50])
    np.testing.assert_allclose(out["ROC(2)"], [math.nan, math.nan, 200, 100, 200 / 3, 0])


def test_rsi_is_50_on_a_flat_series_and_100_when_only_rising():
    flat, rising = RSI(3), RSI(3)
    for i in range(10):
        flat.update(make_bar("X", i, 5, 5, 5, 5))
        rising.update(make_bar("X", i, i, i, i, i))
    assert flat.latest("X") == 50.0
    assert rising.latest("X") == 100.0


def test_atr_first_true_range_is_high_minus_low_then_uses_previous_close():
    atr = ATR(2)
    assert math.isnan(atr.update(make_bar("X", 0, 10, 11, 9, 10)))  # TR 2
    assert atr.update(make_bar("X", 1, 14, 15, 14, 14)) == 3.5  # TR max(1, 5, 4) = 5
    assert atr.update(make_bar("X", 2, 14, 14, 13, 13)) == 2.25  # TR 1: (3.5 * 1 + 1) / 2


def test_division_by_zero_gives_nan():
    roc, bandwidth = ROC(1), BollingerBandwidth(2, 2)
    for i, c in enumerate([0.0, 1.0, -1.0]):
        roc.update(make_bar("X", i, c, c, c, c))
        bandwidth.update(make_bar("X", i, c, c, c, c))
    assert math.isnan(roc["X", -2])  # 1 / 0
    assert roc["X", -1] == -200.0
    assert bandwidth["X", -2] == 4.0  # std .5, mean .5: 2 * 2 * .5 / .5
    assert math.isnan(bandwidth["X", -1])  # mean 0


def test_sma_recovers_after_a_nan_input_leaves_the_window():
    sma = SMA(3)
    for i, c in enumerate([1.0, math.nan, 3.0, 4.0, 5.0, 6.0]):
        sma.update(make_bar("X", i, c, c, c, c))
    assert sma.latest("X") == 5.0
    assert math.isnan(sma["X", -3])  # window (nan, 3, 4)


def test_history_indexing():
    sma = SMA(2)
    for i, c in enumerate([1.0, 3.0, 5.0, 9.0]):
        sma.update(make_bar("X", i, c, c, c, c))
    assert sma["X", -1] == 7.0 == sma.latest("X")
    assert sma["X", -2] == 4.0
    assert sma["X", -3] == 2.0
    assert math.isnan(sma["X", -4])  # warm-up
    assert math.isnan(sma["X", -5])  # before the first bar
    assert math.isnan(sma["UNKNOWN", -1])
    assert math.isnan(sma.latest("UNKNOWN"))
    assert sma.symbols == ["X"]
    with pytest.raises(IndexError):
        sma["X", 0]
    with pytest.raises(TypeError):
        sma["X"]
    with pytest.raises(TypeError):
        sma["X", 1.5]


def test_history_is_bounded():
    class _ShortSMA(SMA):
        max_history = 5

    sma = _ShortSMA(1)
    for i in range(20):
        sma.update(make_bar("X", i, i, i, i, float(i)))
    assert sma.history("X") == [15.0, 16.0, 17.0, 18.0, 19.0]
    assert sma["X", -5] == 15.0
    assert math.isnan(sma["X", -6])
    assert SMA.max_history == 500


def test_default_history_length_is_max_history():
    sma = SMA(1)
    for i in range(SMA.max_history + 50):
        sma.update(make_bar("X", i, i, i, i, float(i)))
    assert len(sma.history("X")) == SMA.max_history
    assert sma["X", -SMA.max_history] == 50.0
    assert math.isnan(sma["X", -SMA.max_history - 1])


def test_names_are_unique_per_configuration():
    indicators = [
        SMA(10), SMA(10, "high"), SMA(20), EMA(10), EMA(10, "open"), RSI(14), RSI(7),
        BollingerUpper(20, 2), BollingerUpper(20, 2.5), BollingerLower(20, 2),
        BollingerBandwidth(20, 2), ATR(14), ATR(10), MACD(12, 26, 9), MACD(12, 26, 5),
        MACDSignal(12, 26, 9), MACDHistogram(12, 26, 9), ROC(10), ROC(10, "volume"),
    ]
    names = [ind.name for ind in indicators]
    assert len(set(names)) == len(names)
    assert names[:3] == ["SMA(10)", "SMA(10,high)", "SMA(20)"]
    assert BollingerUpper(20, 2.5).name == "BB_UPPER(20,2.5)"
    assert MACD(12, 26, 9, "open").name == "MACD(12,26,9,open)"


def test_plot_panels():
    overlays = {SMA, EMA, BollingerUpper, BollingerLower}
    oscillators = {RSI, ROC, MACD, MACDSignal, MACDHistogram, ATR, BollingerBandwidth}
    assert all(cls.plot_in_price_panel is True is cls.overlay for cls in overlays)
    assert all(cls.plot_in_price_panel is False is cls.overlay for cls in oscillators)
    assert RSI.levels == (30.0, 70.0)


def test_reads_of_unusual_keys():
    """The try-based read path gives the same answers as the checked one for odd keys."""
    sma = SMA(1)
    for i, c in enumerate([1.0, 2.0, 3.0]):
        sma.update(make_bar("X", i, c, c, c, c))
    assert sma["X", np.int64(-2)] == 2.0
    assert sma[["X", -1]] == 3.0
    assert math.isnan(sma["X", -(10**30)])
    assert math.isnan(sma["UNKNOWN", -1])
    for bad_offset in (True, -1.0, "1", None):
        with pytest.raises(TypeError, match="offset must be a negative int"):
            sma["X", bad_offset]
    with pytest.raises(TypeError, match=r"ind\[symbol, -n\]"):
        sma["X", -1, 2]
    with pytest.raises(IndexError, match="offset must be negative"):
        sma["X", 3]


@pytest.fixture
def clean_registry():
    saved = dict(indicators_base._REGISTRY)
    yield
    indicators_base._REGISTRY.clear()
    indicators_base._REGISTRY.update(saved)


def test_registry_has_builtins_and_returns_a_copy():
    registered = get_registered_indicators()
    for cls in (SMA, EMA, RSI, BollingerUpper, BollingerLower, BollingerBandwidth, ATR, MACD,
                MACDSignal, ROC):
        assert registered[cls.__name__] is cls
    assert not any(name.startswith("_") for name in registered)
    assert "IndicatorBase" not in registered
    registered.pop("SMA")
    assert "SMA" in get_registered_indicators()


def test_user_subclass_registered_and_underscore_class_not(clean_registry):
    class BarRange(IndicatorBase):
        """High minus low, via the default update/compute path."""

        def __init__(self, scale: float = 1.0) -> None:
            super().__init__(name=f"RANGE({scale:g})")
            self.scale = scale

        def new_state(self) -> list[int]:
            return [0]

        def compute(self, state: list[int], bar: BarReceived) -> float:
            state[0] += 1
            return (bar.high - bar.low) * self.scale if state[0] > 1 else math.nan

    class _Private(IndicatorBase):
        pass

    registered = get_registered_indicators()
    assert registered["BarRange"] is BarRange
    assert "_Private" not in registered

    ind = BarRange(2)
    assert ind.name == "RANGE(2)"
    assert math.isnan(ind.update(make_bar("A", 0, 1, 3, 0, 2)))
    assert ind.update(make_bar("B", 0, 1, 3, 0, 2)) != ind.update(make_bar("A", 1, 1, 3, 0, 2))
    assert ind["A", -1] == 6.0
    assert math.isnan(ind["B", -1])
    with pytest.raises(NotImplementedError):
        _Private().update(make_bar("A", 0, 1, 1, 1, 1))


@pytest.mark.parametrize(
    "factory",
    [
        lambda: SMA(0),
        lambda: SMA(-3),
        lambda: SMA(2.5),
        lambda: SMA("10"),
        lambda: SMA(True),
        lambda: SMA(10, source="price"),
        lambda: SMA(10, source="Close"),
        lambda: EMA(0),
        lambda: RSI(0),
        lambda: RSI(14, source="vwap"),
        lambda: ATR(0),
        lambda: ROC(0),
        lambda: BollingerUpper(0),
        lambda: BollingerUpper(20, 0),
        lambda: BollingerLower(20, -2),
        lambda: BollingerBandwidth(20, math.nan),
        lambda: BollingerBandwidth(20, "2"),
        lambda: MACD(26, 12, 9),
        lambda: MACD(12, 12, 9),
        lambda: MACDSignal(12, 26, 0),
        lambda: MACDHistogram(0, 26, 9),
        lambda: MACD(12, 26, 9, source="typical"),
    ],
)
def test_invalid_arguments_raise_value_error(factory):
    with pytest.raises(ValueError):
        factory()


def test_invalid_max_history_raises_value_error():
    class _NoHistory(SMA):
        max_history = 0

    with pytest.raises(ValueError, match="max_history"):
        _NoHistory(3)


def test_crossover_matches_the_four_reads_it_replaces_and_takes_a_level(bars):
    """``crossover(a, b, symbol)`` against the comparison of ``a[s, -2], b[s, -2], a[s, -1],
    b[s, -1]`` worked out by hand, bar by bar, on two interleaved symbols (NaN warm-up, ties,
    a symbol never seen), and against a fixed level."""
    fast, slow = SMA(2), SMA(4)
    seen = set()
    for bar in bars:
        fast.update(bar)
        slow.update(bar)
        symbol = bar.symbol
        a_now, a_before = fast[symbol, -1], fast[symbol, -2]
        b_now, b_before = slow[symbol, -1], slow[symbol, -2]
        wanted = (1 if a_before < b_before and a_now > b_now
                  else -1 if a_before > b_before and a_now < b_now else 0)
        assert crossover(fast, slow, symbol) == wanted
        assert crossover(slow, fast, symbol) == -wanted
        level = 100.0
        wanted_level = (1 if a_before < level < a_now else -1 if a_before > level > a_now
                        else 0)
        assert crossover(fast, level, symbol) == wanted_level
        assert crossover(level, fast, symbol) == -wanted_level
        # A level of any number type: int, numpy's float64, Decimal.
        for other in (100, np.float64(level), Decimal(100)):
            assert crossover(fast, other, symbol) == wanted_level
            assert crossover(other, fast, symbol) == -wanted_level
        seen |= {("lines", wanted), ("level", wanted_level)}
    # The data did cross both ways, between the lines and through the level.
    assert seen == {(kind, sign) for kind in ("lines", "level") for sign in (-1, 0, 1)}
    assert crossover(fast, slow, "NEVER-SEEN") == 0
    first = SMA(3)
    first.update(bars[0])
    assert crossover(first, fast, bars[0].symbol) == 0  # fewer than two values
    with pytest.raises(TypeError, match="crossover compares indicators or numbers"):
        crossover(fast, "100", bars[0].symbol)
