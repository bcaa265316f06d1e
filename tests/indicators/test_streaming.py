"""Bar-by-bar values equal the whole-series (vectorised) result on a second data set, symbols do
not share state, memory per symbol stays bounded, and each indicator says how it is drawn.

The second data set is backtesting.py's EURUSD hourly bars (prices near 1.1, so a scale unlike
GOOG's) interleaved in a seeded random order with a seeded geometric random walk near 2,500.
"""

from __future__ import annotations

import json
import math
from collections import deque

import numpy as np
import pandas as pd
import pytest
from backtesting.test import EURUSD

from tests.indicators.references import CASES
from tests.indicators.streaming import assert_matches_reference, bars_of, stream
from tradecore import indicators as ind
from tradecore.events.market import BarReceived
from tradecore.models import BarPeriod


def random_walk(seed: int, n: int, start: float) -> pd.DataFrame:
    """Geometric random walk with consistent OHLC (low <= open, close <= high) and volume."""
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    open_ = np.concatenate([[start], close[:-1]]) * np.exp(rng.normal(0.0, 0.003, n))
    wick = np.abs(rng.normal(0.0, 0.006, (2, n)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    volume = rng.integers(1_000, 50_000, n).astype(float)
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": volume})


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    eurusd = EURUSD.rename(columns=str.lower).astype(float).iloc[:1500].reset_index(drop=True)
    return {"EURUSD": eurusd, "WALK": random_walk(7, 1200, 2_500.0)}


@pytest.mark.parametrize("name", list(CASES))
def test_streaming_equals_whole_series(name: str, frames: dict[str, pd.DataFrame]) -> None:
    case = CASES[name]
    indicator = case.factory()
    interleaved = stream(indicator, frames, seed=11)
    for symbol, frame in frames.items():
        values = interleaved[symbol]
        assert_matches_reference(indicator, values, case, frame)
        # Another symbol in between changes nothing: the same values as this symbol alone.
        alone = stream(case.factory(), {symbol: frame})[symbol]
        np.testing.assert_array_equal(values, alone, err_msg=f"{name} {symbol}")
        # The history is the last max_history values update returned.
        np.testing.assert_array_equal(
            indicator.history(symbol), values[-indicator.max_history:])
        assert indicator.latest(symbol) == values[-1] or math.isnan(values[-1])
        assert indicator[symbol, -2] == values[-2] or math.isnan(values[-2])


def _size(obj: object, seen: set[int] | None = None) -> int:
    """Number of values held in containers reachable from ``obj`` (state objects included)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, (list, tuple, deque, set)):
        return len(obj) + sum(_size(item, seen) for item in obj)
    if isinstance(obj, dict):
        return len(obj) + sum(_size(item, seen) for item in obj.values())
    if isinstance(obj, ind.IndicatorBase):  # a private input indicator
        return _size(obj._state, seen) + _size(obj._history, seen)
    slots = getattr(type(obj), "__slots__", ())
    return sum(_size(getattr(obj, slot), seen) for slot in slots if hasattr(obj, slot))


@pytest.mark.parametrize("name", list(CASES))
def test_memory_per_symbol_is_bounded(name: str, frames: dict[str, pd.DataFrame]) -> None:
    """State and history hold as many values after 2,400 bars as after 1,200."""
    indicator = CASES[name].factory()
    walk = frames["WALK"]
    bars = bars_of("WALK", walk)
    for bar in bars:
        indicator.update(bar)
    after_one = _size(indicator._state["WALK"]), len(indicator.history("WALK"))
    for bar in bars:  # the same prices again: only the amount of data matters here
        indicator.update(bar)
    after_two = _size(indicator._state["WALK"]), len(indicator.history("WALK"))
    assert after_two == after_one
    assert after_one[1] == indicator.max_history


def bar(i: int, high: float, low: float, close: float, volume: float = 1.0) -> BarReceived:
    return BarReceived(i, "X", BarPeriod.DAY, close, high, low, close, volume)


def feed(indicator: ind.IndicatorBase, rows: list[tuple[float, ...]]) -> list[float]:
    return [indicator.update(bar(i, *row)) for i, row in enumerate(rows)]


def test_flat_ranges_are_neutral() -> None:
    """Where TA-Lib returns 0 on a flat range, these return the middle of their scale."""
    flat = [(10.0, 10.0, 10.0, 0.0)] * 6
    assert feed(ind.StochasticK(3, 1, 1), flat)[-1] == 50.0
    assert feed(ind.WilliamsR(3), flat)[-1] == -50.0
    assert feed(ind.MFI(3), flat)[-1] == 50.0
    assert feed(ind.CCI(3), flat)[-1] == 0.0
    assert math.isnan(feed(ind.ChaikinMoneyFlow(3), flat)[-1])  # no volume at all
    assert math.isnan(feed(ind.BollingerPercentB(3), flat)[-1])


def test_values_worked_out_by_hand() -> None:
    rows = [(11.0, 9.0, 10.0, 100.0), (13.0, 10.0, 12.0, 200.0), (12.0, 8.0, 9.0, 300.0),
            (15.0, 11.0, 14.0, 400.0)]
    assert feed(ind.DonchianUpper(2), rows)[1:] == [13.0, 13.0, 15.0]
    assert feed(ind.DonchianLower(3), rows)[2:] == [8.0, 8.0]
    assert feed(ind.OBV(), rows) == [100.0, 300.0, 0.0, 400.0]
    # Williams %R(2) on bar 3: HH 15, LL 8, close 14 -> -100 * 1 / 7
    assert feed(ind.WilliamsR(2), rows)[-1] == pytest.approx(-100 / 7)
    # Momentum(2): 9 - 10, 14 - 12
    assert feed(ind.Momentum(2), rows)[2:] == [-1.0, 2.0]
    # WMA(3) of closes 10, 12, 9, 14: (10 + 24 + 27) / 6, (12 + 18 + 42) / 6
    assert feed(ind.WMA(3), rows)[2:] == pytest.approx([61 / 6, 12.0])
    # Aroon up(2) on bar 3: the highest high of bars 1..3 is today's -> 100; down: low 8 one
    # bar ago -> 100 * (2 - 1) / 2
    assert feed(ind.AroonUp(2), rows)[-1] == 100.0
    assert feed(ind.AroonDown(2), rows)[-1] == 50.0
    # RollingMax of a bar field and of an indicator (SMA(2) of closes: nan, 11, 10.5, 11.5)
    assert feed(ind.RollingMax("high", 3), rows)[2:] == [13.0, 15.0]
    assert feed(ind.RollingMin(ind.SMA(2), 2), rows)[2:] == [10.5, 10.5]


def test_rolling_max_owns_a_copy_of_its_input() -> None:
    """Adding the input too (as a strategy would, to plot it) does not update it twice."""
    sma = ind.SMA(2)
    highest = ind.RollingMax(sma, 3)
    rows = [(1.0, 1.0, float(c), 1.0) for c in (1, 5, 3, 2, 8)]
    for i, row in enumerate(rows):
        sma.update(bar(i, *row))
        highest.update(bar(i, *row))
    assert sma.history("X")[1:] == [3.0, 4.0, 2.5, 5.0]
    assert highest.history("X")[3:] == [4.0, 5.0]
    assert highest.warmup == 3


def test_plot_info_of_every_builtin() -> None:
    for case in CASES.values():
        indicator = case.factory()
        info = indicator.plot_info()
        assert set(info) == {"overlay", "levels", "panel"}
        assert isinstance(info["overlay"], bool)
        assert all(isinstance(level, float) for level in info["levels"])
        assert isinstance(info["panel"], str) and info["panel"]
        if info["overlay"]:
            assert info["panel"] == "price" and info["levels"] == []
        else:
            assert info["panel"] != "price"
        # The run records it as JSON: it must round-trip unchanged.
        assert json.loads(json.dumps(info)) == info
        # The older spelling agrees with the new one on every built-in class.
        assert type(indicator).plot_in_price_panel == type(indicator).overlay


def test_plot_info_examples() -> None:
    assert ind.RSI(14).plot_info() == {"overlay": False, "levels": [30.0, 70.0],
                                       "panel": "RSI(14)"}
    assert ind.SMA(10).plot_info() == {"overlay": True, "levels": [], "panel": "price"}
    assert ind.StochasticK().plot_info()["levels"] == [20.0, 80.0]
    assert ind.StochasticD().plot_info()["panel"] == ind.StochasticK().plot_info()["panel"]
    macd_panels = {cls().plot_info()["panel"] for cls in
                   (ind.MACD, ind.MACDSignal, ind.MACDHistogram)}
    assert macd_panels == {"MACD(12,26,9)"}
    assert {cls(14).plot_info()["panel"] for cls in (ind.ADX, ind.PlusDI, ind.MinusDI)} == {
        "DMI(14)"}
    assert ind.ParabolicSAR().plot_info()["overlay"] is True
    assert ind.IchimokuSenkouB().plot_info()["panel"] == "price"
    # Instances override: a rolling max is drawn where its input is drawn.
    assert ind.RollingMax(ind.SMA(20), 5).plot_info()["panel"] == "price"
    assert ind.RollingMax(ind.RSI(14), 5).plot_info() == {
        "overlay": False, "levels": [30.0, 70.0], "panel": "RSI(14)"}
    assert ind.RollingMin("volume", 5).plot_info()["overlay"] is False
    assert ind.Field("volume").plot_info()["overlay"] is False
    assert ind.Field("high").plot_info()["overlay"] is True


def test_user_subclass_setting_only_the_old_spelling_is_an_overlay() -> None:
    class _MyBand(ind.SMA):
        plot_in_price_panel = True

    class _MyOscillator(ind.SMA):
        overlay = False

    assert _MyBand(3).plot_info()["overlay"] is True
    assert _MyOscillator.plot_in_price_panel is False
    assert _MyOscillator(3).plot_info()["panel"] == "SMA(3)"


def test_names_are_unique_and_builtins_registered() -> None:
    names = [case.factory().name for case in CASES.values()]
    assert len(set(names)) == len(names)
    registered = ind.get_registered_indicators()
    exported = {name for name in ind.__all__ if isinstance(getattr(ind, name), type)
                and issubclass(getattr(ind, name), ind.IndicatorBase)} - {"IndicatorBase"}
    assert exported <= set(registered)
    assert len(exported) >= 30


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: ind.WMA(0), "WMA: period must be an int >= 1"),
        (lambda: ind.HMA(1), "HMA: period must be an int >= 2"),
        (lambda: ind.KAMA(10, 30, 2), "fast"),
        (lambda: ind.VWAP(-1), "VWAP: period"),
        (lambda: ind.KeltnerUpper(20, 0), "multiplier"),
        (lambda: ind.DonchianUpper(2.5), "period"),
        (lambda: ind.StochasticK(14, 0), "k_smooth"),
        (lambda: ind.StochRSID(14, 14, 3, 0), "d_period"),
        (lambda: ind.CCI("20"), "CCI: period"),
        (lambda: ind.Momentum(10, "price"), "source must be one of"),
        (lambda: ind.ADX(0), "ADX: period"),
        (lambda: ind.AroonUp(True), "AroonUp: period"),
        (lambda: ind.ParabolicSAR(0.3, 0.2), "must not exceed"),
        (lambda: ind.ParabolicSAR(-0.02), "acceleration"),
        (lambda: ind.IchimokuSenkouA(9, 26, -1), "displacement"),
        (lambda: ind.NATR(0), "NATR: period"),
        (lambda: ind.StdDev(20, "vwap"), "source"),
        (lambda: ind.MFI(0), "MFI: period"),
        (lambda: ind.ChaikinMoneyFlow(0), "ChaikinMoneyFlow: period"),
        (lambda: ind.RollingMax(42, 5), "input must be an indicator or a bar field"),
        (lambda: ind.RollingMin("typical", 5), "source must be one of"),
        (lambda: ind.RollingMax(ind.SMA(5), 0), "period"),
        (lambda: ind.Field("Close"), "source must be one of"),
    ],
)
def test_invalid_arguments_raise_one_line_value_errors(factory, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        factory()
    assert "\n" not in str(raised.value)
