"""The secmaster slice a sweep ships (tradecore.sweep.data): exactly the source's bars of the
request's symbols and period in range, resolvable in the slice as in the source."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from tradecore.configure import RunRequest, to_ns
from tradecore.secmaster import resolve_symbols, stream_bars
from tradecore.sweep.data import build_slice, request_range

SYMBOLS = ["ACME", "GLOBX"]


def _request(secmaster: Path, **dates) -> RunRequest:
    return RunRequest(strategy="SMACrossover", symbols=SYMBOLS,
                      parameters={"bar_period": "DAY"}, secmaster_path=str(secmaster), **dates)


def _bars(path: Path, first_ns: int, last_ns: int) -> pd.DataFrame:
    """Bars as the replay reads them (stream_bars), by symbol and time."""
    instruments = resolve_symbols(path, SYMBOLS, "DAY", "", "")
    rows = list(stream_bars(path, instruments, "DAY", first_ns, last_ns))
    frame = pd.DataFrame(rows, columns=["ts", "symbol", "open", "high", "low", "close",
                                        "volume", "instrument_id"])
    return frame.drop(columns="instrument_id").sort_values(["symbol", "ts"],
                                                           ignore_index=True)


def test_slice_holds_exactly_the_range_of_each_symbol(sample_secmaster, tmp_path):
    request = _request(sample_secmaster, start="2023-03-01", end="2023-06-30")
    first, last, _ = request_range(request)
    data = build_slice(request, first, last)
    sliced = tmp_path / "slice.db"
    sliced.write_bytes(data.content)

    expected = _bars(sample_secmaster, first, last)
    got = _bars(sliced, None, None)  # everything the slice holds
    assert len(expected) > 100 and set(expected["symbol"]) == set(SYMBOLS)
    pd.testing.assert_frame_equal(got, expected)
    assert data.bars == len(expected)
    assert expected["ts"].min() >= to_ns("2023-03-01")

    with sqlite3.connect(sliced) as conn:
        coverage = conn.execute("SELECT i.raw_symbol, c.first_ts, c.last_ts, c.bar_count"
                                " FROM coverage c JOIN instruments i USING (instrument_id)"
                                " ORDER BY 1").fetchall()
    per_symbol = expected.groupby("symbol")["ts"].agg(["min", "max", "count"])
    assert coverage == [(s, int(r["min"]), int(r["max"]), int(r["count"]))
                        for s, r in per_symbol.iterrows()]


def test_slice_of_a_single_bar(sample_secmaster, tmp_path):
    request = _request(sample_secmaster)
    first, _, _ = request_range(request)
    data = build_slice(request, first, first)
    sliced = tmp_path / "slice.db"
    sliced.write_bytes(data.content)
    expected = _bars(sample_secmaster, first, first)
    pd.testing.assert_frame_equal(_bars(sliced, None, None), expected)
    assert data.bars == len(expected) >= 1
