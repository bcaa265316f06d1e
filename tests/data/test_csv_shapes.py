"""The same bars in every common CSV shape import to the same stored bars and replay into the
same fills as the plain ISO file (issue 12)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from tests.data.helpers import NY, daily_bars, hourly_bars, replay_fills, stored_bars, to_csv
from tradecore.secmaster import import_csv

Shape = Callable[[pd.DataFrame], tuple[bytes, dict]]


def _fmt(times: pd.Series, pattern: str) -> pd.Series:
    return times.dt.strftime(pattern)


def _epoch(times: pd.Series, per_second: int) -> pd.Series:
    return times.astype("datetime64[ns]").astype("int64") // (1_000_000_000 // per_second)


def _renamed(frame: pd.DataFrame, names: list[str], time: pd.Series) -> pd.DataFrame:
    out = frame.assign(time=time)
    out.columns = names
    return out


# ---- DAY bars ----------------------------------------------------------------------------------

def plain_day(b: pd.DataFrame) -> tuple[bytes, dict]:
    return to_csv(b.assign(time=_fmt(b.time, "%Y-%m-%d")).rename(columns={"time": "date"})), {}


DAY_SHAPES: dict[str, Shape] = {
    "letters o/h/l/c/v, upper case": lambda b: (to_csv(_renamed(
        b, ["TIMESTAMP", "O", "H", "L", "C", "V"], _fmt(b.time, "%Y-%m-%d"))), {}),
    "open_price ... and vol": lambda b: (to_csv(_renamed(
        b, ["Date", "Open_Price", "High_Price", "Low_Price", "Close_Price", "Vol"],
        _fmt(b.time, "%Y-%m-%d"))), {}),
    "date and time columns": lambda b: (to_csv(
        b.assign(time="00:00").rename(columns={"time": "Time"}).assign(
            Date=_fmt(b.time, "%Y-%m-%d"))[["Date", "Time", "open", "high", "low", "close",
                                            "volume"]]), {}),
    "day first, detected": lambda b: (to_csv(_renamed(
        b, ["date", "open", "high", "low", "close", "volume"], _fmt(b.time, "%d/%m/%Y"))), {}),
    "day first, --date-format": lambda b: (to_csv(_renamed(
        b, ["date", "open", "high", "low", "close", "volume"], _fmt(b.time, "%d/%m/%Y"))),
        {"date_format": "%d/%m/%Y"}),
    "month first, --date-format": lambda b: (to_csv(_renamed(
        b, ["date", "open", "high", "low", "close", "volume"], _fmt(b.time, "%m/%d/%Y"))),
        {"date_format": "%m/%d/%Y"}),
    "dukascopy dd.mm.yyyy with ms": lambda b: (to_csv(_renamed(
        b, ["Gmt time", "Open", "High", "Low", "Close", "Volume"],
        _fmt(b.time, "%d.%m.%Y %H:%M:%S.000"))), {}),
    "metatrader, tab separated": lambda b: (to_csv(
        b.assign(**{"<DATE>": _fmt(b.time, "%Y.%m.%d"), "<TIME>": "00:00:00",
                    "<SPREAD>": 0})[["<DATE>", "<TIME>", "open", "high", "low", "close",
                                     "volume", "<SPREAD>"]].rename(columns={
            "open": "<OPEN>", "high": "<HIGH>", "low": "<LOW>", "close": "<CLOSE>",
            "volume": "<TICKVOL>"}), sep="\t"), {}),
    "stooq, YYYYMMDD and HHMMSS": lambda b: (to_csv(
        b.assign(**{"<TICKER>": "X.US", "<PER>": "D", "<DATE>": _fmt(b.time, "%Y%m%d"),
                    "<TIME>": 0, "<OPENINT>": 0})[["<TICKER>", "<PER>", "<DATE>", "<TIME>",
                                                  "open", "high", "low", "close", "volume",
                                                  "<OPENINT>"]].rename(columns={
            "open": "<OPEN>", "high": "<HIGH>", "low": "<LOW>", "close": "<CLOSE>",
            "volume": "<VOL>"})), {}),
    "semicolons, rows reversed": lambda b: (to_csv(_renamed(
        b, ["date", "open", "high", "low", "close", "volume"], _fmt(b.time, "%Y-%m-%d")
    ).iloc[::-1], sep=";"), {}),
    "unnamed index (DataFrame.to_csv)": lambda b: (
        b.set_index("time").rename_axis(None).to_csv().encode(), {}),
    "YYYYMMDD integers": lambda b: (to_csv(_renamed(
        b, ["date", "open", "high", "low", "close", "volume"],
        _fmt(b.time, "%Y%m%d").astype("int64"))), {}),
    "epoch seconds": lambda b: (to_csv(_renamed(
        b, ["ts", "open", "high", "low", "close", "volume"], _epoch(b.time, 1))), {}),
    "epoch milliseconds": lambda b: (to_csv(_renamed(
        b, ["ts", "open", "high", "low", "close", "volume"], _epoch(b.time, 1000))), {}),
    "epoch microseconds": lambda b: (to_csv(_renamed(
        b, ["ts", "open", "high", "low", "close", "volume"], _epoch(b.time, 10**6))), {}),
    "epoch nanoseconds": lambda b: (to_csv(_renamed(
        b, ["ts", "open", "high", "low", "close", "volume"], _epoch(b.time, 10**9))), {}),
    "epoch ms, --time-unit ms": lambda b: (to_csv(_renamed(
        b, ["ts", "open", "high", "low", "close", "volume"], _epoch(b.time, 1000))),
        {"time_unit": "ms"}),
    "no header, epoch ms and extra columns (Binance klines)": lambda b: (
        b.assign(time=_epoch(b.time, 1000), close_time=_epoch(b.time, 1000) + 86_399_999,
                 trades=7).to_csv(index=False, header=False).encode(), {}),
    "no header, YYYYMMDD HHMMSS with semicolons (histdata.com)": lambda b: (
        b.assign(time=_fmt(b.time, "%Y%m%d %H%M%S")).to_csv(
            index=False, header=False, sep=";").encode(), {}),
    "no header, date and clock columns (Kibot), --date-format": lambda b: (
        b.assign(time=_fmt(b.time, "%m/%d/%Y"), clock="00:00")[
            ["time", "clock", "open", "high", "low", "close", "volume"]].to_csv(
            index=False, header=False).encode(), {"date_format": "%m/%d/%Y"}),
    "yfinance three-line header, columns reordered": lambda b: (
        b"Price,Close,High,Low,Open,Volume\nTicker,X,X,X,X,X\nDate,,,,,\n"
        + b[["close", "high", "low", "open", "volume"]].set_index(_fmt(b.time, "%Y-%m-%d")).to_csv(
            header=False).encode(), {}),
    "polygon flat file, window_start in ns": lambda b: (to_csv(
        b.assign(ticker="X", window_start=_epoch(b.time, 10**9), transactions=3)[
            ["ticker", "volume", "open", "close", "high", "low", "window_start",
             "transactions"]]), {}),
    "local dates, --tz keeps the date": lambda b: (plain_day(b)[0], {"tz": "Asia/Tokyo"}),
    "local midnights with offsets, --tz": lambda b: (to_csv(_renamed(
        b, ["datetime", "open", "high", "low", "close", "volume"],
        b.time.dt.tz_localize(NY).dt.strftime("%Y-%m-%dT%H:%M:%S%z"))), {"tz": NY}),
}


# ---- HOUR bars across the US daylight-saving change ----------------------------------------

def plain_hour(b: pd.DataFrame) -> tuple[bytes, dict]:
    return to_csv(_renamed(b, ["timestamp", "open", "high", "low", "close", "volume"],
                           _fmt(b.time, "%Y-%m-%dT%H:%M:%SZ"))), {}


def _local(b: pd.DataFrame) -> pd.Series:
    return b.time.dt.tz_localize("UTC").dt.tz_convert(NY)


HOUR_SHAPES: dict[str, Shape] = {
    "naive New York times, --tz": lambda b: (to_csv(_renamed(
        b, ["datetime", "open", "high", "low", "close", "volume"],
        _local(b).dt.strftime("%Y-%m-%d %H:%M"))), {"tz": NY}),
    "times with UTC offsets": lambda b: (to_csv(_renamed(
        b, ["datetime", "open", "high", "low", "close", "volume"],
        _local(b).dt.strftime("%Y-%m-%dT%H:%M:%S%z"))), {}),
    "day-first date + time columns in New York, --tz --date-format": lambda b: (to_csv(
        b.assign(Date=_local(b).dt.strftime("%d/%m/%Y"), Time=_local(b).dt.strftime("%H:%M"))[
            ["Date", "Time", "open", "high", "low", "close", "volume"]]),
        {"tz": NY, "date_format": "%d/%m/%Y"}),
    "epoch ms, --time-unit ms": lambda b: (to_csv(_renamed(
        b, ["open_time", "open", "high", "low", "close", "volume"], _epoch(b.time, 1000))),
        {"time_unit": "ms"}),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, tuple[list[tuple], list[tuple]]]:
    """Stored bars and replayed fills of the plain files, in databases of their own."""
    out = {}
    for period, bars, plain in (("DAY", daily_bars(), plain_day),
                                ("HOUR", hourly_bars(), plain_hour)):
        folder = tmp_path_factory.mktemp(f"reference_{period}")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TRADECORE_SECMASTER", str(folder / "secmaster.db"))
            patch.setenv("TRADECORE_RUNS_DB", str(folder / "runs.db"))
            data, options = plain(bars)
            import_csv(None, data, "X", period, **options)
            fills = replay_fills("X", period)
            out[period] = (stored_bars(folder / "secmaster.db"), fills)
        assert len(fills) >= 4, "the reference must trade, or the comparison proves nothing"
    return out


def _check_same_as_reference(reference, isolated_databases, period, data, options):
    secmaster, _ = isolated_databases
    summary = import_csv(None, data, "X", period, **options)
    expected_bars, expected_fills = reference[period]
    assert summary.rows == len(expected_bars)
    assert stored_bars(secmaster) == expected_bars
    assert replay_fills("X", period) == expected_fills


@pytest.mark.parametrize("shape", DAY_SHAPES, ids=list(DAY_SHAPES))
def test_day_shapes_store_and_replay_like_the_plain_file(reference, isolated_databases, shape):
    data, options = DAY_SHAPES[shape](daily_bars())
    _check_same_as_reference(reference, isolated_databases, "DAY", data, options)


@pytest.mark.parametrize("shape", HOUR_SHAPES, ids=list(HOUR_SHAPES))
def test_hour_shapes_across_dst_store_and_replay_like_the_plain_file(
    reference, isolated_databases, shape
):
    data, options = HOUR_SHAPES[shape](hourly_bars())
    _check_same_as_reference(reference, isolated_databases, "HOUR", data, options)


def test_the_reference_hours_really_cross_the_clock_change() -> None:
    """Independent check of the fixture: 09:00 New York is 14:00 UTC before 2024-03-10 and
    13:00 UTC after, so a file read in the wrong zone would be off by hours."""
    utc = hourly_bars().time
    firsts = utc.groupby(utc.dt.date).min().dt.hour
    assert firsts[pd.Timestamp("2024-03-08").date()] == 14
    assert firsts[pd.Timestamp("2024-03-11").date()] == 13
