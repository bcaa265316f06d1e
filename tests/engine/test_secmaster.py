"""secmaster.db: schema, CSV/DBN import, validation, resolution, the bar stream, the sample."""

from __future__ import annotations

import importlib
import io
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tradecore.models import BarPeriod
from tradecore.secmaster import (
    SecmasterError,
    build_sample,
    count_bars,
    coverage,
    create_secmaster,
    default_secmaster_path,
    ensure_secmaster,
    import_csv,
    import_dbn,
    list_instruments,
    list_symbols,
    preview_bars,
    resolve_symbols,
    stream_bars,
    time_range,
)
from tradecore.secmaster import schema as secmaster_schema

NS = 1_000_000_000
DAY_NS = 86_400 * NS
# 2024-01-02 00:00:00 UTC
JAN2 = 1_704_153_600 * NS

GOOD_CSV = """date,open,high,low,close,volume
2024-01-02,10.0,11.0,9.5,10.5,1000
2024-01-03,10.5,12.0,10.0,11.5,2000
2024-01-04,11.5,11.75,10.25,10.75,1500
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "secmaster.db"


def csv(text: str) -> io.StringIO:
    return io.StringIO(text)


def rows_of(db: Path, symbol: str, period: str = "DAY") -> list[tuple]:
    """Stored bars as ``(ts, symbol, o, h, l, c, v)`` (the stream's instrument id left off)."""
    ids = resolve_symbols(db, [symbol], period)
    return [row[:7] for row in stream_bars(db, ids, period)]


def utc_times(rows) -> pd.DatetimeIndex:
    return pd.to_datetime([row[0] for row in rows], unit="ns", utc=True)


def table_snapshot(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
            for table in ("publishers", "instruments", "symbology", "bars", "coverage")
        }
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------------------------


def test_create_secmaster_makes_parent_dirs_tables_and_wal_and_is_idempotent(db: Path) -> None:
    assert create_secmaster(db) == db
    assert create_secmaster(db) == db
    conn = sqlite3.connect(db)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"publishers", "instruments", "symbology", "bars", "coverage"} <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    bars_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name='bars'").fetchone()[0]
    assert "WITHOUT ROWID" in bars_sql
    conn.close()


def test_connections_enforce_foreign_keys(db: Path) -> None:
    create_secmaster(db)
    conn = secmaster_schema.connect(db)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO bars VALUES (999, 'DAY', 0, 1, 1, 1, 1, 1)")
    conn.close()


def test_default_path_reads_env_var_at_call_time(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRADECORE_SECMASTER", raising=False)
    # Without the variable: the checkout's data/ folder, whatever the working directory.
    assert default_secmaster_path() == Path(__file__).resolve().parents[2] / "data" / "secmaster.db"
    monkeypatch.setenv("TRADECORE_SECMASTER", str(tmp_path / "x.db"))
    assert default_secmaster_path() == tmp_path / "x.db"
    import_csv(None, csv(GOOD_CSV), "ENV", "DAY")
    assert (tmp_path / "x.db").is_file()


def test_reading_a_missing_database_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(SecmasterError, match="python -m tradecore sample"):
        list_instruments(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_secmaster_error_is_a_value_error() -> None:
    assert issubclass(SecmasterError, ValueError)


# ---------------------------------------------------------------------------------------------
# CSV import: values, times, column names
# ---------------------------------------------------------------------------------------------


def test_import_csv_stores_known_values_exactly(db: Path) -> None:
    summary = import_csv(db, csv(GOOD_CSV), "ACME", "DAY")
    assert (summary.rows, summary.first_ts_ns, summary.last_ts_ns) == (3, JAN2, JAN2 + 2 * DAY_NS)
    assert (summary.publisher, summary.dataset) == ("local", "csv")
    assert summary.bar_period is BarPeriod.DAY
    assert rows_of(db, "ACME") == [
        (JAN2, "ACME", 10.0, 11.0, 9.5, 10.5, 1000.0),
        (JAN2 + DAY_NS, "ACME", 10.5, 12.0, 10.0, 11.5, 2000.0),
        (JAN2 + 2 * DAY_NS, "ACME", 11.5, 11.75, 10.25, 10.75, 1500.0),
    ]


def test_rows_in_any_order_are_stored_sorted(db: Path) -> None:
    lines = GOOD_CSV.splitlines()
    shuffled = "\n".join([lines[0], lines[3], lines[1], lines[2]])
    import_csv(db, csv(shuffled), "ACME", "DAY")
    assert [row[0] for row in rows_of(db, "ACME")] == [JAN2, JAN2 + DAY_NS, JAN2 + 2 * DAY_NS]


@pytest.mark.parametrize(
    ("text", "expected_ns"),
    [
        ("2024-01-02 09:30:00", JAN2 + (9 * 3600 + 1800) * NS),  # naive: UTC
        ("2024-01-02T09:30:00-05:00", JAN2 + (14 * 3600 + 1800) * NS),  # offset: converted
        ("2024-01-02T09:30:00+01:00", JAN2 + (8 * 3600 + 1800) * NS),
        ("2024-01-02T09:30:00.123456789Z", JAN2 + (9 * 3600 + 1800) * NS + 123_456_789),
        ("2024-01-02", JAN2),
    ],
)
def test_times_without_zone_are_utc_and_zoned_times_are_converted(
    db: Path, text: str, expected_ns: int
) -> None:
    text = f"datetime,open,high,low,close,volume\n{text},1,2,0.5,1.5,10\n"
    import_csv(db, csv(text), "T", "MINUTE")
    assert rows_of(db, "T", "MINUTE")[0][0] == expected_ns


def test_mixed_offsets_in_one_column_are_each_converted(db: Path) -> None:
    text = (
        "timestamp,open,high,low,close\n"
        "2024-03-08T09:30:00-05:00,1,1,1,1\n"  # EST
        "2024-03-11T09:30:00-04:00,1,1,1,1\n"  # EDT
    )
    import_csv(db, csv(text), "T", "MINUTE")
    stamps = [pd.Timestamp(row[0], unit="ns", tz="UTC") for row in rows_of(db, "T", "MINUTE")]
    assert [stamp.strftime("%H:%M") for stamp in stamps] == ["14:30", "13:30"]


@pytest.mark.parametrize(
    "header",
    [
        "Date,Open,High,Low,Close,Volume",
        "DATETIME,OPEN,HIGH,LOW,CLOSE,VOLUME",
        " Timestamp , open , HIGH , Low , close , Volume ",
        "ts_event,open,high,low,close,volume",
        "Time,Open,High,Low,Close,Volume",
        ",Open,High,Low,Close,Volume",  # unnamed first column (DataFrame.to_csv of an index)
    ],
)
def test_column_name_variants(db: Path, header: str) -> None:
    body = "\n".join(GOOD_CSV.splitlines()[1:])
    import_csv(db, csv(f"{header}\n{body}\n"), "ACME", "DAY")
    assert rows_of(db, "ACME")[1] == (JAN2 + DAY_NS, "ACME", 10.5, 12.0, 10.0, 11.5, 2000.0)


def test_time_column_priority_and_extra_columns_ignored(db: Path) -> None:
    text = (
        "Symbol,Date,Timestamp,Open,High,Low,Close,Adj Close,Volume\n"
        "X,1999-01-01,2024-01-02T00:00:00Z,1,2,0.5,1.5,1.4,7\n"
    )
    import_csv(db, csv(text), "ACME", "DAY")
    assert rows_of(db, "ACME") == [(JAN2, "ACME", 1.0, 2.0, 0.5, 1.5, 7.0)]


def test_separate_date_and_time_columns_are_joined(db: Path) -> None:
    text = "Date,Time,Open,High,Low,Close,Volume\n2024-01-02,09:31,1,2,0.5,1.5,7\n"
    import_csv(db, csv(text), "ACME", "MINUTE")
    assert rows_of(db, "ACME", "MINUTE")[0][0] == JAN2 + (9 * 3600 + 31 * 60) * NS


def test_semicolon_separated_file_from_a_path(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(GOOD_CSV.replace(",", ";"))
    import_csv(db, path, "ACME", "DAY")
    assert len(rows_of(db, "ACME")) == 3


def test_binary_buffer_like_an_upload(db: Path) -> None:
    upload = io.BytesIO(GOOD_CSV.encode())
    upload.name = "upload.csv"
    assert import_csv(db, upload, "ACME", "day").rows == 3


@pytest.mark.parametrize(
    ("values", "label"),
    [
        ((1_704_153_600, 1_704_240_000), "seconds"),
        ((1_704_153_600_000, 1_704_240_000_000), "milliseconds"),
        ((1_704_153_600_000_000, 1_704_240_000_000_000), "microseconds"),
        ((1_704_153_600_000_000_000, 1_704_240_000_000_000_000), "nanoseconds"),
        ((20240102, 20240103), "YYYYMMDD"),
    ],
)
def test_numeric_epoch_times_detect_their_unit(
    db: Path, values: tuple[int, int], label: str
) -> None:
    text = "ts_event,open,high,low,close,volume\n" + "".join(f"{v},1,2,0.5,1.5,7\n" for v in values)
    import_csv(db, csv(text), "ACME", "DAY")
    assert [row[0] for row in rows_of(db, "ACME")] == [JAN2, JAN2 + DAY_NS], label


def test_missing_volume_column_is_stored_as_zero_and_noted(db: Path) -> None:
    text = "date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n"
    summary = import_csv(db, csv(text), "ACME", "DAY")
    assert rows_of(db, "ACME")[0][6] == 0.0
    assert "volume" in " ".join(summary.notes)


def test_goog_from_backtesting_py_imports(db: Path) -> None:
    test_data = importlib.import_module("backtesting.test")
    goog = test_data.GOOG
    summary = import_csv(db, io.StringIO(goog.to_csv()), "GOOG", "DAY")
    assert summary.rows == len(goog)
    first = rows_of(db, "GOOG")[0]
    expected_ts = pd.Timestamp(goog.index[0], tz="UTC").value
    assert first == (expected_ts, "GOOG", *map(float, goog.iloc[0][["Open", "High", "Low", "Close",
                                                                   "Volume"]]))


# ---------------------------------------------------------------------------------------------
# CSV import: validation (messages name the row and the column) and atomicity
# ---------------------------------------------------------------------------------------------

HEADER = "date,open,high,low,close,volume\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("2024-01-02,1,2,0.5,1.5,7\nyesterday,1,2,0.5,1.5,7\n",
         "row 2, column 'date': cannot parse time 'yesterday'"),
        ("2024-01-02,1,2,0.5,1.5,7\n,1,2,0.5,1.5,7\n2024-01-04,1,2,0.5,1.5,7\n",
         "row 2, column 'date': empty time"),
        ("2024-01-02,1,2,0.5,1.5,7\n2024-01-03,1,2,0.5,abc,7\n",
         "row 2, column 'close': not a number: 'abc'"),
        ("2024-01-02,1,2,0.5,1.5,7\n2024-01-03,1,2,0.5,1.5,7\n2024-01-04,,2,0.5,1.5,7\n",
         "row 3, column 'open': empty value"),
        ("2024-01-02,1,2,0.5,NaN,7\n", "row 1, column 'close': empty value"),
        ("2024-01-02,1,2,0.5,1.5,\n", "row 1, column 'volume': empty value"),
        ("2024-01-02,1,2,-0.5,1.5,7\n", "row 1, column 'low': negative low -0.5"),
        ("2024-01-02,1,2,0.5,1.5,-7\n", "row 1, column 'volume': negative volume -7"),
        ("2024-01-02,1,2,0.5,1.5,7\n2024-01-03,10,9,9.5,9.5,7\n",
         "row 2, column 'high': high 9 is below low 9.5"),
        ("2024-01-02,2.5,2,0.5,1.5,7\n", "row 1, column 'open': open 2.5 is outside"),
        ("2024-01-02,1,2,0.5,0.25,7\n", "row 1, column 'close': close 0.25 is outside"),
        ("2024-01-02,1,2,0.5,1.5,7\n2024-01-03,1,2,0.5,1.5,7\n2024-01-02,1,2,0.5,1.5,7\n",
         "row 3, column 'date': duplicate time 2024-01-02 00:00:00+00:00 (same as row 1)"),
        ("2024-01-02,1,2,0.5,inf,7\n", "row 1, column 'close': inf is not finite"),
    ],
)
def test_validation_errors_name_row_and_column(db: Path, body: str, expected: str) -> None:
    with pytest.raises(SecmasterError) as info:
        import_csv(db, csv(HEADER + body), "ACME", "DAY")
    assert expected in str(info.value)


def test_missing_columns_are_named_with_the_columns_found(db: Path) -> None:
    with pytest.raises(SecmasterError) as info:
        import_csv(db, csv("date,open,close\n2024-01-02,1,1\n"), "ACME", "DAY")
    message = str(info.value)
    assert "missing columns high, low" in message
    assert "'date', 'open', 'close'" in message


def test_missing_time_column_explains_the_accepted_names(db: Path) -> None:
    with pytest.raises(SecmasterError, match="time column .*date, datetime, time, timestamp"):
        import_csv(db, csv("when,open,high,low,close\n2024-01-02,1,1,1,1\n"), "ACME", "DAY")


def test_epoch_times_in_different_units_are_refused(db: Path) -> None:
    body = (
        "ts_event,open,high,low,close\n"
        "1704153600,1,1,1,1\n1704240000,1,1,1,1\n1704326400000,1,1,1,1\n"
    )
    with pytest.raises(SecmasterError, match=r"row 3, column 'ts_event': epoch time .* unit \(s\)"):
        import_csv(db, csv(body), "ACME", "DAY")


def test_at_most_five_problems_are_listed_with_a_count_of_the_rest(db: Path) -> None:
    body = "".join(f"2024-01-{day:02d},1,2,0.5,x,7\n" for day in range(2, 10))  # 8 bad closes
    with pytest.raises(SecmasterError) as info:
        import_csv(db, csv(HEADER + body), "ACME", "DAY")
    message = str(info.value)
    assert "8 problems" in message
    assert message.count("column 'close'") == 5
    assert "row 5," in message and "row 6," not in message
    assert "and 3 more" in message


@pytest.mark.parametrize("text", ["", HEADER])
def test_empty_files_are_refused(db: Path, text: str) -> None:
    with pytest.raises(SecmasterError, match="empty|no data rows"):
        import_csv(db, csv(text), "ACME", "DAY")


def test_bad_symbol_and_period_are_refused(db: Path) -> None:
    with pytest.raises(SecmasterError, match="symbol"):
        import_csv(db, csv(GOOD_CSV), "  ", "DAY")
    with pytest.raises(SecmasterError, match="unknown bar period"):
        import_csv(db, csv(GOOD_CSV), "ACME", "fortnight")


def test_a_bad_row_in_the_middle_leaves_the_database_unchanged(db: Path) -> None:
    import_csv(db, csv(GOOD_CSV), "ACME", "DAY")
    before = table_snapshot(db)
    good_rows = "".join(f"2024-02-{day:02d},1,2,0.5,1.5,7\n" for day in range(1, 29))
    bad = HEADER + good_rows[:200] + "2024-03-01,1,2,0.5,oops,7\n" + good_rows[200:]
    with pytest.raises(SecmasterError, match="oops"):
        import_csv(db, csv(bad), "ACME", "DAY")
    with pytest.raises(SecmasterError):
        import_csv(db, csv(bad), "NEWSYM", "DAY", publisher="other", dataset="x")
    assert table_snapshot(db) == before


def test_a_failure_while_writing_rolls_everything_back(db: Path, monkeypatch) -> None:
    import_csv(db, csv(GOOD_CSV), "ACME", "DAY")
    before = table_snapshot(db)
    monkeypatch.setattr(secmaster_schema, "REFRESH_COVERAGE", "SELECT * FROM no_such_table")
    more = HEADER + "2024-01-05,1,2,0.5,1.5,7\n2024-01-06,1,2,0.5,1.5,7\n"
    with pytest.raises(sqlite3.OperationalError):
        import_csv(db, csv(more), "ACME", "DAY")
    with pytest.raises(sqlite3.OperationalError):
        import_csv(db, csv(more), "OTHER", "DAY")
    assert table_snapshot(db) == before


def test_reimport_merges_and_replaces_conflicting_bars_only_when_asked(db: Path) -> None:
    import_csv(db, csv(GOOD_CSV), "ACME", "DAY")
    before = table_snapshot(db)
    update = HEADER + "2024-01-04,20,21,19,20.5,5\n2024-01-05,20,21,19,20.5,5\n"
    with pytest.raises(SecmasterError, match=r"1 bar differs .*first at 2024-01-04.*--replace"):
        import_csv(db, csv(update), "ACME", "DAY")
    assert table_snapshot(db) == before
    summary = import_csv(db, csv(update), "ACME", "DAY", replace=True)
    assert (summary.rows, summary.added, summary.replaced, summary.bar_count) == (2, 1, 1, 4)
    rows = rows_of(db, "ACME")
    assert [row[0] for row in rows] == [JAN2 + k * DAY_NS for k in range(4)]
    assert rows[1][2] == 10.5  # untouched
    assert rows[2][2:] == (20.0, 21.0, 19.0, 20.5, 5.0)  # replaced
    cover = coverage(db, "ACME", "DAY")
    assert (cover.first_ts_ns, cover.last_ts_ns, cover.bar_count) == (JAN2, JAN2 + 3 * DAY_NS, 4)


def test_coverage_and_listing_follow_imports(db: Path) -> None:
    import_csv(db, csv(GOOD_CSV), "ACME", "DAY")
    import_csv(db, csv(HEADER + "2024-01-02 09:30,1,2,0.5,1.5,7\n"), "ACME", "MINUTE")
    import_csv(db, csv(GOOD_CSV), "BETA", "DAY", publisher="vendor", dataset="eod")
    listing = list_instruments(db)
    assert list(listing.columns[:8]) == [
        "symbol", "publisher", "dataset", "symbol_type", "bar_period", "first_ts", "last_ts",
        "bar_count",
    ]
    got = listing[["symbol", "publisher", "dataset", "bar_period", "bar_count"]].values.tolist()
    assert got == [
        ["ACME", "local", "csv", "MINUTE", 1],
        ["ACME", "local", "csv", "DAY", 3],
        ["BETA", "vendor", "eod", "DAY", 3],
    ]
    assert listing.loc[1, "first_ts"] == pd.Timestamp("2024-01-02", tz="UTC")
    assert listing.loc[1, "last_ts"] == pd.Timestamp("2024-01-04", tz="UTC")
    assert list_symbols(db, "DAY") == ["ACME", "BETA"]
    assert list_symbols(db, "MINUTE") == ["ACME"]
    assert list_symbols(db) == ["ACME", "BETA"]
    conn = sqlite3.connect(db)
    assert conn.execute(
        "SELECT symbol, start_date, end_date FROM symbology ORDER BY symbol"
    ).fetchall() == [("ACME", "2024-01-02", "2024-01-05"), ("BETA", "2024-01-02", "2024-01-05")]
    conn.close()


def test_preview_bars_is_a_frame_indexed_by_utc_time(db: Path) -> None:
    import_csv(db, csv(GOOD_CSV), "ACME", "DAY")
    first = preview_bars(db, "ACME", "DAY", limit=2)
    assert list(first.columns) == ["open", "high", "low", "close", "volume"]
    assert list(first.index) == [
        pd.Timestamp("2024-01-02", tz="UTC"),
        pd.Timestamp("2024-01-03", tz="UTC"),
    ]
    last = preview_bars(db, "ACME", "DAY", limit=2, last=True)
    assert last.index[-1] == pd.Timestamp("2024-01-04", tz="UTC")
    assert last["close"].tolist() == [11.5, 10.75]


# ---------------------------------------------------------------------------------------------
# Symbol resolution
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def two_sources(db: Path) -> Path:
    import_csv(db, csv(GOOD_CSV), "ACME", "DAY")
    import_csv(db, csv(GOOD_CSV), "ACME", "DAY", publisher="vendor", dataset="eod")
    import_csv(db, csv(GOOD_CSV), "SOLO", "DAY")
    return db


def test_resolve_unambiguous_symbol_across_publishers(two_sources: Path) -> None:
    ids = resolve_symbols(two_sources, ["SOLO"], "DAY")
    assert list(ids) == ["SOLO"]


def test_resolve_ambiguous_symbol_names_the_choices(two_sources: Path) -> None:
    with pytest.raises(SecmasterError) as info:
        resolve_symbols(two_sources, ["ACME", "SOLO"], "DAY")
    assert str(info.value) == (
        "ACME exists in local/csv and vendor/eod; set publisher_name and dataset to choose one"
    )


def test_resolve_with_publisher_and_dataset_picks_one(two_sources: Path) -> None:
    local = resolve_symbols(two_sources, ["ACME"], "DAY", "local", "csv")
    vendor = resolve_symbols(two_sources, ["ACME"], "DAY", publisher_name="vendor", dataset="eod")
    assert local["ACME"] != vendor["ACME"]
    with pytest.raises(SecmasterError, match="SOLO is not in vendor/eod; it exists in local/csv"):
        resolve_symbols(two_sources, ["SOLO"], "DAY", "vendor", "eod")


def test_resolve_unknown_symbol_lists_available_ones(two_sources: Path) -> None:
    with pytest.raises(SecmasterError, match="unknown symbol NOPE; available: ACME, SOLO"):
        resolve_symbols(two_sources, ["NOPE"], "DAY")


def test_resolve_symbol_without_bars_for_the_period_names_the_periods(two_sources: Path) -> None:
    with pytest.raises(SecmasterError, match="SOLO has no MINUTE bars; it has DAY"):
        resolve_symbols(two_sources, ["SOLO"], BarPeriod.MINUTE)


def test_resolve_accepts_an_open_connection(two_sources: Path) -> None:
    conn = secmaster_schema.connect(two_sources)
    assert resolve_symbols(conn, ["SOLO"], "1d") == resolve_symbols(two_sources, ["SOLO"], "DAY")
    conn.close()


# ---------------------------------------------------------------------------------------------
# The bar stream
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def three_symbols(db: Path) -> tuple[Path, dict[str, int], list[tuple]]:
    """C, A and B sharing some timestamps; returns the expected stream in order."""
    minute = 60 * NS
    start = JAN2 + 14 * 3600 * NS
    expected = []
    for symbol, offsets in {"C": [0, 1, 2, 4], "A": [0, 2, 3, 4], "B": [1, 2, 4, 5]}.items():
        lines = []
        for k in offsets:
            ts = start + k * minute
            price = 100.0 + k + ord(symbol) / 100
            lines.append(f"{ts},{price},{price + 1},{price - 1},{price},{k}")
            expected.append((ts, symbol, price, price + 1, price - 1, price, float(k)))
        text = "ts_event,open,high,low,close,volume\n" + "\n".join(lines)
        import_csv(db, csv(text), symbol, "MINUTE")
    ids = resolve_symbols(db, ["C", "A", "B"], "MINUTE")
    # Each row ends with the instrument it came from.
    return db, ids, sorted((*row, ids[row[1]]) for row in expected)


def test_stream_orders_by_time_then_symbol(three_symbols) -> None:
    db, ids, expected = three_symbols
    got = list(stream_bars(db, ids, "MINUTE"))
    assert got == expected
    assert [row[1] for row in got[:3]] == ["A", "C", "B"]  # ts0: A, C; ts1: B, C
    assert got[:4] == [row for row in expected[:4]]


@pytest.mark.parametrize("chunk_rows", [1, 3, 7, 2048])
def test_many_symbols_with_gaps_merge_in_time_then_symbol_order(db, monkeypatch,
                                                                 chunk_rows) -> None:
    """Symbols with irregular, partly shared timestamps, read in chunks small enough that the
    merge takes many rounds: the stream is exactly the rows sorted by (time, symbol), in
    chunks and row by row; read ahead by the bar reader process, the same rows."""
    from tradecore.secmaster import stream

    monkeypatch.setattr(stream, "CHUNK_ROWS", chunk_rows)
    rng = np.random.default_rng(5)
    minute = 60 * NS
    start = JAN2 + 14 * 3600 * NS
    expected = []
    symbols = ["F", "A", "E", "B", "D", "C"]
    for n, symbol in enumerate(symbols):
        offsets = sorted(rng.choice(200, size=140 + 8 * n, replace=False).tolist())
        lines = []
        for k in offsets:
            ts = start + k * minute
            price = 50.0 + k + n / 10
            lines.append(f"{ts},{price},{price + 1},{price - 1},{price},{k}")
            expected.append((ts, symbol, price, price + 1, price - 1, price, float(k)))
        import_csv(db, csv("ts_event,open,high,low,close,volume\n" + "\n".join(lines)),
                   symbol, "MINUTE")
    ids = resolve_symbols(db, symbols, "MINUTE")
    expected = sorted((*row, ids[row[1]]) for row in expected)
    assert list(stream_bars(db, ids, "MINUTE")) == expected
    chunks = list(stream_bars(db, ids, "MINUTE", chunks=True))
    assert [row for chunk in chunks for row in chunk] == expected
    assert all(chunks)  # no empty chunk
    indexed = list(stream_bars(db, ids, "MINUTE", symbol_as_index=True))
    order = sorted(ids)
    assert [(row[0], order[row[1]]) for row in indexed] == [row[:2] for row in expected]
    ahead = list(stream_bars(db, ids, "MINUTE", chunks=True, read_ahead=True))
    assert [list(chunk) for chunk in ahead] == chunks
    assert list(stream_bars(db, ids, "MINUTE", symbol_as_index=True, read_ahead=True)) == indexed


def _bar_readers() -> list:
    import psutil

    return [child for child in psutil.Process().children()
            if "tradecore.secmaster.stream" in " ".join(child.cmdline())]


def _many_bars(db: Path, count: int) -> dict:
    minute = 60 * NS
    start = JAN2 + 14 * 3600 * NS
    lines = [f"{start + k * minute},{100.0 + k % 7},{101.0 + k % 7},{99.0},{100.5},{k}"
             for k in range(count)]
    import_csv(db, csv("ts_event,open,high,low,close,volume\n" + "\n".join(lines)), "A",
               "MINUTE")
    return resolve_symbols(db, ["A"], "MINUTE")


def test_a_read_ahead_closed_early_stops_its_reader(db, monkeypatch) -> None:
    """A cancelled replay closes its stream after a chunk or two: the bar reader process is
    gone when ``close()`` returns."""
    from tradecore.secmaster import stream

    monkeypatch.setattr(stream, "CHUNK_ROWS", 100)
    ids = _many_bars(db, 20_000)
    chunks = stream_bars(db, ids, "MINUTE", chunks=True, read_ahead=True)
    first = list(next(chunks))
    assert [row[0] for row in first] == sorted(row[0] for row in first) and len(first) == 100
    assert len(_bar_readers()) == 1
    chunks.close()
    assert _bar_readers() == []


def test_a_read_ahead_starts_its_reader_at_once_and_stops_it_unread(db) -> None:
    """The reader starts when the stream is opened (it reads while the run sets up), and a
    stream closed before its first chunk (a run that fails before its replay) stops it."""
    ids = _many_bars(db, 2_000)
    chunks = stream_bars(db, ids, "MINUTE", chunks=True, read_ahead=True)
    assert len(_bar_readers()) == 1
    chunks.close()
    assert _bar_readers() == []
    chunks = stream_bars(db, ids, "MINUTE", chunks=True, read_ahead=True)
    assert sum(len(list(chunk)) for chunk in chunks) == 2_000
    assert _bar_readers() == []


def test_a_killed_reader_fails_the_stream_in_words(db, monkeypatch) -> None:
    """The reader dies mid-way (killed): what it sent is read, then the stream raises saying
    so instead of ending as if the bars had run out."""
    from tradecore.secmaster import stream

    monkeypatch.setattr(stream, "CHUNK_ROWS", 100)
    monkeypatch.setattr(stream, "widen_pipe", lambda pipe: None)  # 64 kB: the reader waits
    ids = _many_bars(db, 20_000)
    chunks = stream_bars(db, ids, "MINUTE", chunks=True, read_ahead=True)
    rows = len(list(next(chunks)))
    (reader,) = _bar_readers()
    reader.kill()
    with pytest.raises(RuntimeError, match="bar reader process ended without a word"):
        for chunk in chunks:
            rows += len(list(chunk))
    assert rows < 20_000
    assert _bar_readers() == []


def test_a_reader_that_fails_reports_its_error(tmp_path: Path) -> None:
    """A read that fails in the reader (here: a file with no bars table) raises in the replay
    with SQLite's words, not an end of the bars."""
    from tradecore.secmaster import stream

    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(RuntimeError, match="no such table: bars"):
        list(stream.read_ahead(tmp_path / "other.db", [[(0, 1, 0, 10)]], "MINUTE"))
    assert _bar_readers() == []


def test_the_bar_reader_starts_without_pandas() -> None:
    """The reader is started per long replay: it must not pay for pandas (about a second)."""
    import subprocess
    import sys

    code = ("import sys, tradecore.secmaster.stream; "
            "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.strip() == "[]"


def test_stream_window_is_inclusive_at_both_ends(three_symbols) -> None:
    db, ids, expected = three_symbols
    start, end = expected[0][0] + 2 * 60 * NS, expected[0][0] + 4 * 60 * NS
    got = list(stream_bars(db, ids, "MINUTE", start_ns=start, end_ns=end))
    assert got == [row for row in expected if start <= row[0] <= end]
    assert {row[0] for row in got} == {start, start + 60 * NS, end}
    assert count_bars(db, ids, "MINUTE", start, end) == len(got)
    assert time_range(db, ids, "MINUTE", start, end) == (start, end)
    assert time_range(db, ids, "MINUTE") == (expected[0][0], expected[-1][0])
    assert list(stream_bars(db, ids, "MINUTE", start_ns=end + 1, end_ns=end + 1)) == []
    assert time_range(db, ids, "MINUTE", end + 10**15, None) == (None, None)


def test_count_bars_is_what_the_stream_yields_for_any_window(three_symbols) -> None:
    """Whole ranges are counted from ``coverage``, parts in ``bars``: either way the count is
    what the replay gets, for windows holding all, some or none of each symbol's bars."""
    db, ids, expected = three_symbols
    first, last = expected[0][0], expected[-1][0]
    minute = 60 * NS
    edges = [None, first - minute, first, first + minute, first + 3 * minute, last, last + minute]
    for start in edges:
        for end in edges:
            got = list(stream_bars(db, ids, "MINUTE", start_ns=start, end_ns=end))
            assert count_bars(db, ids, "MINUTE", start, end) == len(got), (start, end)
    assert count_bars(db, ids, "MINUTE") == len(expected) == 12


def test_stream_is_lazy_and_closable(three_symbols) -> None:
    db, ids, expected = three_symbols
    stream = stream_bars(db, ids, "MINUTE")
    assert not isinstance(stream, list | tuple)
    assert next(stream) == expected[0]
    stream.close()
    with pytest.raises(StopIteration):
        next(stream)


def test_stream_fails_at_call_time_without_a_database(tmp_path: Path) -> None:
    with pytest.raises(SecmasterError):
        stream_bars(tmp_path / "none.db", {"A": 1}, "DAY")


def test_stream_single_symbol_is_one_range_scan(three_symbols) -> None:
    db, ids, expected = three_symbols
    assert list(stream_bars(db, {"A": ids["A"]}, "MINUTE")) == [r for r in expected if r[1] == "A"]


# ---------------------------------------------------------------------------------------------
# Sample data
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "secmaster.db"
    assert ensure_secmaster(path) is True
    return path


def test_sample_has_weekday_day_bars_and_session_minute_bars(sample_db: Path) -> None:
    listing = list_instruments(sample_db)
    assert set(listing["publisher"]) == {"sample"} and set(listing["dataset"]) == {"synthetic"}
    day_symbols = sorted(listing.loc[listing["bar_period"] == "DAY", "symbol"])
    minute_symbols = sorted(listing.loc[listing["bar_period"] == "MINUTE", "symbol"])
    assert len(day_symbols) == 5 and 2 <= len(minute_symbols) <= 3
    day_counts = listing.loc[listing["bar_period"] == "DAY", "bar_count"]
    assert (day_counts > 2400).all()  # ~10 years of weekdays

    ids = resolve_symbols(sample_db, day_symbols, "DAY")
    stamps = utc_times(stream_bars(sample_db, ids, "DAY"))
    assert (stamps.day_of_week < 5).all()
    assert (stamps.hour == 0).all()

    ids = resolve_symbols(sample_db, minute_symbols, "MINUTE")
    stamps = utc_times(stream_bars(sample_db, ids, "MINUTE"))
    local = stamps.tz_convert("America/New_York")
    minutes = local.hour * 60 + local.minute
    assert minutes.min() == 9 * 60 + 30 and minutes.max() == 15 * 60 + 59
    assert (local.day_of_week < 5).all()
    assert set(local.normalize().month) >= {10, 11, 12}


def test_sample_bars_are_consistent(sample_db: Path) -> None:
    for period in ("DAY", "MINUTE"):
        symbols = list_symbols(sample_db, period)
        rows = np.array([row[2:7] for row in stream_bars(sample_db, resolve_symbols(
            sample_db, symbols, period), period)])
        open_, high, low, close, volume = rows.T
        assert (low <= np.minimum(open_, close)).all() and (np.maximum(open_, close) <= high).all()
        assert (low > 0).all() and (volume > 0).all() and (volume == np.round(volume)).all()


def test_sample_is_seeded_and_rebuilding_keeps_user_data(sample_db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    build_sample(other, seed=42)
    import_csv(other, csv(GOOD_CSV), "MINE", "DAY")
    build_sample(other, seed=42)  # rebuild replaces the sample, keeps MINE
    assert "MINE" in list_symbols(other, "DAY")
    same = preview_bars(other, "ACME", "DAY", 50)
    assert same.equals(preview_bars(sample_db, "ACME", "DAY", 50))
    build_sample(other, seed=7)
    assert not preview_bars(other, "ACME", "DAY", 50).equals(same)
    assert ensure_secmaster(other) is False


# ---------------------------------------------------------------------------------------------
# DBN import (files written here with databento_dbn)
# ---------------------------------------------------------------------------------------------


def write_dbn(path: Path, schema: str, bars: list[tuple], mappings: dict[str, int] | None,
              compress: bool = False) -> Path:
    """bars: (instrument_id, ts_event_ns, open, high, low, close, volume) with float prices."""
    dbn = importlib.import_module("databento_dbn")
    start = min(bar[1] for bar in bars)
    end = max(bar[1] for bar in bars) + DAY_NS
    day = pd.Timestamp(start, unit="ns").date()
    until = pd.Timestamp(end, unit="ns").date()
    metadata = dbn.Metadata(
        dataset="XNAS.ITCH",
        start=start,
        end=end,
        stype_in=dbn.SType.RAW_SYMBOL if mappings else None,
        stype_out=dbn.SType.INSTRUMENT_ID,
        schema=dbn.Schema(schema),
        symbols=list(mappings or []),
        mappings=[
            SimpleNamespace(raw_symbol=symbol, intervals=[
                SimpleNamespace(start_date=day, end_date=until, symbol=str(instrument))])
            for symbol, instrument in (mappings or {}).items()
        ],
    )
    rtype = dbn.RType.from_schema(dbn.Schema(schema))
    data = metadata.encode() + b"".join(
        bytes(dbn.OHLCVMsg(rtype, 2, instrument, ts, *(round(p * 1e9) for p in prices), volume))
        for instrument, ts, *prices, volume in bars
    )
    if compress:
        zstandard = importlib.import_module("zstandard")
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


DBN_BARS = [
    (17, JAN2, 100.5, 101.25, 99.75, 100.0, 1234),
    (18, JAN2, 50.0, 51.0, 49.0, 50.5, 99),
    (17, JAN2 + DAY_NS, 100.0, 102.0, 99.5, 101.5, 2000),
]


@pytest.mark.parametrize("compress", [False, True])
def test_dbn_round_trip_with_symbology(db: Path, tmp_path: Path, compress: bool) -> None:
    importlib.import_module("databento")
    suffix = ".dbn.zst" if compress else ".dbn"
    path = write_dbn(tmp_path / f"bars{suffix}", "ohlcv-1d", DBN_BARS, {"ACME": 17, "BETA": 18},
                     compress=compress)
    summaries = import_dbn(db, path)
    assert sorted((s.symbol, s.rows, s.bar_period) for s in summaries) == [
        ("ACME", 2, BarPeriod.DAY), ("BETA", 1, BarPeriod.DAY)]
    assert {(s.publisher, s.dataset) for s in summaries} == {("databento", "XNAS.ITCH")}
    assert rows_of(db, "ACME") == [
        (JAN2, "ACME", 100.5, 101.25, 99.75, 100.0, 1234.0),
        (JAN2 + DAY_NS, "ACME", 100.0, 102.0, 99.5, 101.5, 2000.0),
    ]
    assert rows_of(db, "BETA") == [(JAN2, "BETA", 50.0, 51.0, 49.0, 50.5, 99.0)]
    conn = sqlite3.connect(db)
    assert conn.execute(
        "SELECT raw_symbol, source_instrument_id FROM instruments ORDER BY raw_symbol"
    ).fetchall() == [("ACME", 17), ("BETA", 18)]
    conn.close()


def test_dbn_without_symbology_needs_a_symbol(db: Path, tmp_path: Path) -> None:
    importlib.import_module("databento")
    bars = [(17, JAN2 + k * 60 * NS, 10.0, 10.5, 9.5, 10.25, 5) for k in range(3)]
    path = write_dbn(tmp_path / "minutes.dbn", "ohlcv-1m", bars, None)
    with pytest.raises(SecmasterError, match="no symbology for instrument_id 17.*symbol"):
        import_dbn(db, path)
    (summary,) = import_dbn(db, path, symbol="ZETA")
    assert (summary.symbol, summary.rows, summary.bar_period) == ("ZETA", 3, BarPeriod.MINUTE)
    assert [row[0] for row in rows_of(db, "ZETA", "MINUTE")] == [bar[1] for bar in bars]


def test_dbn_symbol_selects_one_instrument_of_several(db: Path, tmp_path: Path) -> None:
    importlib.import_module("databento")
    path = write_dbn(tmp_path / "bars.dbn", "ohlcv-1h", DBN_BARS, {"ACME": 17, "BETA": 18})
    (summary,) = import_dbn(db, path, symbol="BETA")
    assert (summary.symbol, summary.bar_period) == ("BETA", BarPeriod.HOUR)
    with pytest.raises(SecmasterError, match="not one of them"):
        import_dbn(db, path, symbol="GAMMA")


def test_dbn_inconsistent_bar_is_refused_atomically(db: Path, tmp_path: Path) -> None:
    importlib.import_module("databento")
    bad = [*DBN_BARS[:2], (17, JAN2 + DAY_NS, 100.0, 99.0, 99.5, 99.5, 1)]  # high < low
    path = write_dbn(tmp_path / "bad.dbn", "ohlcv-1d", bad, {"ACME": 17, "BETA": 18})
    with pytest.raises(SecmasterError, match="row 2, column 'high'"):
        import_dbn(db, path)
    assert not db.exists() or table_snapshot(db)["bars"] == []


def test_dbn_non_ohlcv_schema_and_garbage_are_refused(db: Path, tmp_path: Path) -> None:
    importlib.import_module("databento")
    dbn = importlib.import_module("databento_dbn")
    trades = tmp_path / "trades.dbn"
    trades.write_bytes(dbn.Metadata(dataset="XNAS.ITCH", start=JAN2, stype_in=None,
                                    stype_out=dbn.SType.INSTRUMENT_ID,
                                    schema=dbn.Schema.TRADES).encode())
    with pytest.raises(SecmasterError, match="schema trades holds no OHLCV bars"):
        import_dbn(db, trades)
    garbage = tmp_path / "garbage.dbn"
    garbage.write_bytes(b"not a dbn file at all")
    with pytest.raises(SecmasterError, match="garbage.dbn"):
        import_dbn(db, garbage)
    with pytest.raises(SecmasterError, match="not found"):
        import_dbn(db, tmp_path / "missing.dbn")


def test_dbn_conflict_in_one_symbol_refuses_the_whole_file(db: Path, tmp_path: Path) -> None:
    importlib.import_module("databento")
    mappings = {"ACME": 17, "BETA": 18}
    import_dbn(db, write_dbn(tmp_path / "a.dbn", "ohlcv-1d", DBN_BARS, mappings))
    before = table_snapshot(db)
    again = import_dbn(db, write_dbn(tmp_path / "a.dbn", "ohlcv-1d", DBN_BARS, mappings))
    assert sorted((s.symbol, s.added, s.unchanged) for s in again) == [
        ("ACME", 0, 2), ("BETA", 0, 1)]
    corrected = [*DBN_BARS[:1], (18, JAN2, 50.0, 51.0, 49.0, 50.75, 99),
                 (17, JAN2 + 2 * DAY_NS, 101.5, 103.0, 101.0, 102.0, 10)]
    path = write_dbn(tmp_path / "b.dbn", "ohlcv-1d", corrected, mappings)
    with pytest.raises(SecmasterError, match=r"'b.dbn' \(BETA\): 1 bar differs .*close 50.5 "
                                             r"stored, 50.75 in the file.*--replace"):
        import_dbn(db, path)
    assert table_snapshot(db) == before  # ACME's new bar did not land either
    summaries = import_dbn(db, path, replace=True)
    assert sorted((s.symbol, s.added, s.replaced) for s in summaries) == [
        ("ACME", 1, 0), ("BETA", 0, 1)]
