"""Bars with indicator columns, down-sampled in SQL: bucket OHLC, exact ns times, no overflow."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.analytics.helpers import config
from tradecore import analytics

START = int(dt.datetime(2024, 1, 2, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
YEAR_NS = 366 * 86_400 * 1_000_000_000


def synthetic(n: int, seed: int) -> pd.DataFrame:
    """``n`` bars spread unevenly over 2024 (odd ns offsets), with an SMA(3) indicator."""
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.choice(YEAR_NS // 1_000, size=n, replace=False)) * 1_000
    ts = START + offsets + rng.integers(0, 999, n)  # not multiples of anything
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) + rng.uniform(0, 1, n)
    low = np.minimum(open_, close) - rng.uniform(0, 1, n)
    volume = rng.integers(1, 1_000, n).astype(float)
    sma = pd.Series(close).rolling(3).mean().to_numpy()
    return pd.DataFrame({"ts_event_ns": ts.astype(np.int64), "open": open_, "high": high,
                         "low": low, "close": close, "volume": volume, "SMA(3)": sma})


def record(new_run, run_id: str, frames: dict[str, pd.DataFrame]) -> str:
    run = new_run(run_id, config(sorted(frames)))
    rows = sorted((int(row.ts_event_ns), symbol, row) for symbol, frame in frames.items()
                  for row in frame.itertuples(index=False))
    for ts, symbol, row in rows:
        sma = None if np.isnan(row[6]) else float(row[6])
        run.bar(ts, symbol, row.open, row.high, row.low, row.close, row.volume,
                indicators={"SMA(3)": sma})
    return run.finish()


def expected_buckets(frame: pd.DataFrame, max_points: int, t0: int, t1: int) -> pd.DataFrame:
    """The documented bucket rule, in exact Python integers."""
    width = (t1 - t0) // max_points + 1
    keys = [(int(ts) - t0) // width for ts in frame["ts_event_ns"]]
    out = []
    for _, group in frame.groupby(keys, sort=True):
        valid = group["SMA(3)"].dropna()
        out.append({"ts_event_ns": int(group["ts_event_ns"].iloc[0]),
                    "open": group["open"].iloc[0], "high": group["high"].max(),
                    "low": group["low"].min(), "close": group["close"].iloc[-1],
                    "volume": group["volume"].sum(), "bar_count": len(group),
                    "SMA(3)": valid.iloc[-1] if len(valid) else np.nan})
    return pd.DataFrame(out)


def test_buckets_over_a_year_of_2024_ns_timestamps(new_run, db_path):
    frame = synthetic(5_000, seed=1)
    run_id = record(new_run, "year", {"AAA": frame})
    got = analytics.bars(run_id, db_path, max_points=2000)  # naive (ts - t0) * n overflows
    t0, t1 = int(frame["ts_event_ns"].iloc[0]), int(frame["ts_event_ns"].iloc[-1])
    assert (t1 - t0) * 2000 > np.iinfo(np.int64).max
    want = expected_buckets(frame, 2000, t0, t1)
    assert len(got) == len(want) <= 2000
    assert got["ts_event_ns"].dtype == np.int64
    assert list(got["ts_event_ns"]) == list(want["ts_event_ns"])  # exact to the ns
    assert (got["time"] == pd.to_datetime(got["ts_event_ns"], unit="ns")).all()
    for column in ("open", "high", "low", "close", "volume", "SMA(3)"):
        np.testing.assert_allclose(got[column], want[column], rtol=1e-12, err_msg=column)
    assert list(got["bar_count"]) == list(want["bar_count"])
    assert got["bar_count"].sum() == 5_000
    assert set(got["symbol"]) == {"AAA"}


def test_small_window_comes_back_bar_by_bar(new_run, db_path):
    frame = synthetic(3_000, seed=2)
    run_id = record(new_run, "zoom", {"AAA": frame})
    start, end = int(frame["ts_event_ns"].iloc[1000]), int(frame["ts_event_ns"].iloc[1499])
    got = analytics.bars(run_id, db_path, max_points=500, start_ns=start, end_ns=end)
    window = frame.iloc[1000:1500].reset_index(drop=True)
    assert list(got["ts_event_ns"]) == list(window["ts_event_ns"])
    assert (got["bar_count"] == 1).all()
    for column in ("open", "high", "low", "close", "volume", "SMA(3)"):
        np.testing.assert_array_equal(got[column], window[column], err_msg=column)
    # One more bar than max_points in the window: buckets again.
    fewer = analytics.bars(run_id, db_path, max_points=499, start_ns=start, end_ns=end)
    assert len(fewer) <= 499 and fewer["bar_count"].sum() == 500
    want = expected_buckets(window, 499, start, end)
    assert list(fewer["ts_event_ns"]) == list(want["ts_event_ns"])
    np.testing.assert_allclose(fewer["close"], want["close"])


def test_several_symbols_share_bucket_edges(new_run, db_path):
    a, b = synthetic(1_500, seed=3), synthetic(900, seed=4)
    run_id = record(new_run, "two", {"AAA": a, "BBB": b})
    got = analytics.bars(run_id, db_path, max_points=100)
    t0 = int(min(a["ts_event_ns"].iloc[0], b["ts_event_ns"].iloc[0]))
    t1 = int(max(a["ts_event_ns"].iloc[-1], b["ts_event_ns"].iloc[-1]))
    for symbol, frame in (("AAA", a), ("BBB", b)):
        mine = got[got["symbol"] == symbol].reset_index(drop=True)
        want = expected_buckets(frame, 100, t0, t1)
        assert list(mine["ts_event_ns"]) == list(want["ts_event_ns"])
        np.testing.assert_allclose(mine[["open", "high", "low", "close", "volume"]],
                                   want[["open", "high", "low", "close", "volume"]])
    only_b = analytics.bars(run_id, db_path, max_points=100, symbol="BBB")
    assert set(only_b["symbol"]) == {"BBB"} and only_b["bar_count"].sum() == 900
    assert list(got["ts_event_ns"]) == sorted(got["ts_event_ns"])


def test_indicator_columns_of_two_strategies(new_run, db_path):
    """Two strategies both recording an "SMA(3)": one column each, named after the strategy."""
    run = new_run("pair", config(["AAA"]))
    for d in range(5):
        ts = START + d * 86_400 * 1_000_000_000
        run.bar(ts, "AAA", 10, 11, 9, 10 + d, indicators={"SMA(3)": d, "RSI(14)": 50 + d},
                strategy="Fast")
        run.processed(ts, "AAA", "Slow", {"SMA(3)": 100 + d})
    run_id = run.finish()
    got = analytics.bars(run_id, db_path)
    assert list(got.columns[-3:]) == ["Fast: SMA(3)", "RSI(14)", "Slow: SMA(3)"]
    assert list(got["Fast: SMA(3)"]) == [0, 1, 2, 3, 4]
    assert list(got["Slow: SMA(3)"]) == [100, 101, 102, 103, 104]
    assert list(got["RSI(14)"]) == [50, 51, 52, 53, 54]
    assert len(got) == 5


def test_equity_curve_down_sampled_keeps_the_deepest_drawdown(new_run, db_path):
    frame = synthetic(3_000, seed=5)
    run = new_run("eq", config(["AAA"]))
    for i, row in enumerate(frame.itertuples(index=False)):
        if i == 10:
            run.fill(int(row.ts_event_ns), 1, "AAA", "BUY", 100, row.open)
        run.bar(int(row.ts_event_ns), "AAA", row.open, row.high, row.low, row.close)
    run_id = run.finish()
    full = analytics.equity_curve(run_id, db_path)
    small = analytics.equity_curve(run_id, db_path, max_points=50)
    assert len(full) == 3_000 and len(small) <= 50
    assert small["drawdown"].min() == pytest.approx(full["drawdown"].min())
    assert small["equity"].iloc[-1] == full["equity"].iloc[-1]
    assert small["ts_event_ns"].iloc[-1] == full["ts_event_ns"].iloc[-1]
    assert set(small["ts_event_ns"]) <= set(full["ts_event_ns"])
