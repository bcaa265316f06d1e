"""Rolling symbols: ES means ESH4 until the roll, then ESM4; the datafeed follows and the run
records which instrument each bar came from."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from tests.data.helpers import file_state, recorded, table_snapshot, to_csv
from tests.engine.helpers import configured, run
from tradecore.secmaster import (
    SecmasterError,
    Segment,
    count_bars,
    coverage,
    import_csv,
    import_symbology,
    list_mappings,
    list_symbols,
    preview_bars,
    resolve_symbols,
    stream_bars,
    time_range,
)
from tradecore.strategies.examples import SMACrossover

ROLLS = (b"symbol,instrument,start_date,end_date\n"
         b"ES,ESH4,2024-01-01,2024-03-15\n"
         b"ES,ESM4,2024-03-15,\n")


def contract(first: str, last: str, level: float) -> pd.DataFrame:
    days = pd.bdate_range(first, last)
    i = np.arange(len(days))
    close = np.round(level + 5 * np.sin(i / 4), 2)
    return pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "open": close, "high": close + 1,
                         "low": close - 1, "close": close, "volume": 100 + i})


@pytest.fixture
def futures(isolated_databases):
    """Two overlapping contracts at different price levels, imported under their own symbols."""
    secmaster, _ = isolated_databases
    esh4 = contract("2024-01-02", "2024-03-20", 4800.0)
    esm4 = contract("2024-02-01", "2024-06-20", 5100.0)
    ids = {
        "ESH4": import_csv(secmaster, to_csv(esh4), "ESH4", "DAY").instrument_id,
        "ESM4": import_csv(secmaster, to_csv(esm4), "ESM4", "DAY").instrument_id,
    }
    return secmaster, ids, esh4, esm4


def expected_es(esh4: pd.DataFrame, esm4: pd.DataFrame, ids: dict[str, int]) -> list[tuple]:
    """By hand: ESH4's bars before 2024-03-15, ESM4's from then on."""
    before = esh4[esh4["date"] < "2024-03-15"].assign(id=ids["ESH4"])
    after = esm4[esm4["date"] >= "2024-03-15"].assign(id=ids["ESM4"])
    both = pd.concat([before, after])
    return [(pd.Timestamp(row.date, tz="UTC").value, "ES", row.open, row.high, row.low,
             row.close, float(row.volume), row.id) for row in both.itertuples()]


def test_a_mapping_file_makes_the_symbol_roll(futures) -> None:
    secmaster, ids, esh4, esm4 = futures
    summary = import_symbology(secmaster, ROLLS)
    assert (summary.symbols, summary.mappings) == (("ES",), 2)
    resolved = resolve_symbols(secmaster, ["ES", "ESH4"], "DAY")
    assert resolved["ESH4"] == ids["ESH4"]  # a plain symbol is still one instrument id
    roll = pd.Timestamp("2024-03-15", tz="UTC").value
    assert resolved["ES"][0] == Segment(ids["ESH4"], pd.Timestamp("2024-01-01", tz="UTC").value,
                                        roll - 1)
    assert resolved["ES"][1].instrument_id == ids["ESM4"]
    assert resolved["ES"][1].start_ns == roll
    expected = expected_es(esh4, esm4, ids)
    assert list(stream_bars(secmaster, {"ES": resolved["ES"]}, "DAY")) == expected
    assert count_bars(secmaster, resolved, "DAY") == len(expected) + len(esh4)
    assert time_range(secmaster, {"ES": resolved["ES"]}, "DAY") == (expected[0][0],
                                                                     expected[-1][0])
    cover = coverage(secmaster, "ES", "DAY")
    assert (cover.bar_count, cover.first_ts_ns, cover.last_ts_ns) == (
        len(expected), expected[0][0], expected[-1][0])
    preview = preview_bars(secmaster, "ES", "DAY", 3, last=True)
    assert preview["close"].tolist() == [row[5] for row in expected[-3:]]
    assert "ES" in list_symbols(secmaster, "DAY")
    listed = list_mappings(secmaster)
    assert listed[["symbol", "instrument", "start_date", "end_date"]].values.tolist() == [
        ["ES", "ESH4", "2024-01-01", "2024-03-15"], ["ES", "ESM4", "2024-03-15", ""]]


def test_a_run_on_the_rolling_symbol_records_each_bars_instrument(futures) -> None:
    secmaster, ids, esh4, esm4 = futures
    import_symbology(secmaster, ROLLS)
    strategy = configured(SMACrossover, ["ES"], fast_period=2, slow_period=5, quantity=1)
    run_id = run([strategy]).run_id
    bars = recorded(run_id, "bars", "ts_event_ns, symbol, close, instrument_id")
    expected = expected_es(esh4, esm4, ids)
    assert bars == [(row[0], "ES", row[5], row[7]) for row in expected]
    assert {row[3] for row in bars} == set(ids.values())


def test_a_plain_run_records_its_single_instrument(futures) -> None:
    secmaster, ids, esh4, _ = futures
    strategy = configured(SMACrossover, ["ESH4"], fast_period=2, slow_period=5, quantity=1)
    bars = recorded(run([strategy]).run_id, "bars", "instrument_id")
    assert bars == [(ids["ESH4"],)] * len(esh4)


def test_importing_the_mapping_again_changes_nothing_and_a_new_file_replaces_it(futures) -> None:
    secmaster, ids, *_ = futures
    import_symbology(secmaster, ROLLS)
    before = table_snapshot(secmaster)
    import_symbology(secmaster, ROLLS)
    assert table_snapshot(secmaster) == before
    import_symbology(secmaster, b"symbol,contract,start,end\nES,ESM4,2024-03-01,2024-07-01\n")
    assert resolve_symbols(secmaster, ["ES"], "DAY")["ES"] == (Segment(
        ids["ESM4"], pd.Timestamp("2024-03-01", tz="UTC").value,
        pd.Timestamp("2024-07-01", tz="UTC").value - 1),)
    # One mapping that covers all of the instrument's bars is just that instrument.
    import_symbology(secmaster, b"symbol,contract,start,end\nES,ESM4,2024-02-01,\n")
    assert resolve_symbols(secmaster, ["ES"], "DAY")["ES"] == ids["ESM4"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (b"symbol,instrument,start_date,end_date\nES,ESZ9,2024-01-01,2024-03-15\n",
         "row 1, column 'instrument': no instrument ESZ9 in local/csv; import its bars first"),
        (b"symbol,instrument,start_date,end_date\nES,ESH4,2024-01-01,2024-03-20\n"
         b"ES,ESM4,2024-03-15,\n", "row 2, column 'start_date': ES from 2024-03-15 overlaps"),
        (b"symbol,instrument,start_date,end_date\nES,ESH4,15/01/2024,2024-03-20\n",
         "is not a YYYY-MM-DD date"),
        (b"symbol,instrument,start_date,end_date\nES,ESH4,2024-03-20,2024-03-20\n",
         "is not after start"),
        (b"symbol,start_date\nES,2024-01-01\n", "missing column instrument"),
    ],
)
def test_bad_mapping_files_are_refused_and_change_nothing(futures, text, match) -> None:
    secmaster, *_ = futures
    import_symbology(secmaster, ROLLS)
    rows, on_disk = table_snapshot(secmaster), file_state(secmaster)
    with pytest.raises(SecmasterError, match=match):
        import_symbology(secmaster, text)
    assert table_snapshot(secmaster) == rows and file_state(secmaster) == on_disk


def test_overlapping_mappings_from_plain_imports_are_reported_at_resolution(futures) -> None:
    secmaster, *_ = futures
    import_symbology(secmaster, ROLLS)
    # Importing bars under the rolling name itself adds a second, overlapping mapping.
    import_csv(secmaster, to_csv(contract("2024-03-01", "2024-03-29", 10.0)), "ES", "DAY")
    with pytest.raises(SecmasterError, match="symbology of ES overlaps"):
        resolve_symbols(secmaster, ["ES"], "DAY")
    conn = sqlite3.connect(secmaster)
    assert conn.execute("SELECT count(*) FROM symbology WHERE symbol = 'ES'").fetchone()[0] == 3
    conn.close()
