"""Data page: holdings, preview, CSV import (good and bad), rebuild of the sample."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tradecore.models import BarPeriod
from tradecore.secmaster import list_instruments

ROOT = Path(__file__).resolve().parents[2]

GOOD_CSV = (b"Date,Open,High,Low,Close,Volume\n"
            b"2024-01-02,10,11,9,10.5,1000\n"
            b"2024-01-03,10.5,12,10,11.5,1100\n"
            b"2024-01-04,11.5,12.5,11,12,1200\n")
BAD_CSV = (b"date,open,high,low,close,volume\n"
           b"2024-01-02,10,11,9,10.5,1000\n"
           b"2024-01-03,10.5,9,10,11.5,1100\n")  # high below low


def data_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def test_shows_holdings_and_a_preview_chart(sample_secmaster):
    at = data_page()
    held = at.dataframe[0].value
    assert set(held["symbol"]) == {"ACME", "GLOBX", "INITECH", "UMBRL", "WAYNE"}
    assert set(held["bar_period"]) == {"DAY", "MINUTE"}
    assert at.metric[0].value == "5"
    charts = at.get("vega_lite_chart")
    assert charts, "a price preview chart"
    at.selectbox(key="data.preview_symbol").set_value("WAYNE").run()
    assert not at.exception


def test_builds_the_sample_when_missing(isolated_databases):
    secmaster, _ = isolated_databases
    assert not secmaster.exists()
    at = data_page()
    assert secmaster.exists()
    assert [status.label for status in at.status] == ["Sample data ready"]
    assert at.metric[0].value == "5"


def test_csv_upload_imports_the_bars(sample_secmaster):
    at = data_page()
    at.file_uploader(key="data.csv_file").set_value(("mine.csv", GOOD_CSV, "text/csv"))
    at.run()
    at.text_input(key="data.csv_symbol").input("MINE")
    at.run()
    at.button(key="data.csv_import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Imported 3 DAY bars of MINE" in s.value for s in at.success), [
        s.value for s in at.success]
    held = list_instruments(sample_secmaster)
    mine = held[held["symbol"] == "MINE"].iloc[0]
    assert (mine["publisher"], mine["dataset"], mine["bar_count"]) == ("local", "csv", 3)
    assert "MINE" in set(at.dataframe[0].value["symbol"])


def test_symbol_defaults_to_the_file_name(sample_secmaster):
    at = data_page()
    at.file_uploader(key="data.csv_file").set_value(("goog.csv", GOOD_CSV, "text/csv"))
    at.run()
    at.button(key="data.csv_import").click().run()
    assert "GOOG" in set(list_instruments(sample_secmaster)["symbol"])


def test_a_bad_csv_shows_the_error_and_imports_nothing(sample_secmaster):
    at = data_page()
    at.file_uploader(key="data.csv_file").set_value(("bad.csv", BAD_CSV, "text/csv"))
    at.run()
    at.button(key="data.csv_import").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "Nothing imported" in at.error[0].value
    assert "row 2" in at.error[0].value
    assert "BAD" not in set(list_instruments(sample_secmaster)["symbol"])


def test_rebuild_sample_keeps_imported_data(sample_secmaster):
    at = data_page()
    at.file_uploader(key="data.csv_file").set_value(("mine.csv", GOOD_CSV, "text/csv"))
    at.run()
    at.button(key="data.csv_import").click().run()
    at.button(key="data.rebuild_sample").click().run()
    assert not at.exception
    assert any("Rebuilt the sample" in s.value for s in at.success)
    assert "MINE" in set(list_instruments(sample_secmaster)["symbol"])


def test_a_bad_dbn_file_shows_an_error(sample_secmaster):
    at = data_page()
    at.file_uploader(key="data.dbn_file").set_value(
        ("x.dbn", b"not a dbn file", "application/octet-stream"))
    at.run()
    at.button(key="data.dbn_import").click().run()
    assert not at.exception
    assert any("not a readable DBN file" in e.value for e in at.error)


# ---- issue 12: vendor shapes, refusals, symbology ------------------------------------------

def _day_first_csv(days: int = 30) -> bytes:
    import pandas as pd

    dates = pd.bdate_range("2024-01-02", periods=days)
    rows = "".join(f"{d:%d/%m/%Y},{10 + k % 3},{12 + k % 3},{9 + k % 3},{11 + k % 3},{100 + k}\n"
                   for k, d in enumerate(dates))
    return b"Date,O,H,L,C,Vol\n" + rows.encode()


def _upload(at: AppTest, data: bytes, name: str, symbol: str) -> None:
    at.file_uploader(key="data.csv_file").set_value((name, data, "text/csv"))
    at.run()
    at.text_input(key="data.csv_symbol").input(symbol)
    at.run()


def test_a_day_first_ohlc_letters_file_imports_with_the_date_format_field(sample_secmaster):
    at = data_page()
    _upload(at, _day_first_csv()[:200], "eu.csv", "EU")  # the first rows only: days <= 12
    at.button(key="data.csv_import").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "'Date format' field" in at.error[0].value
    assert "EU" not in set(list_instruments(sample_secmaster)["symbol"])

    at.text_input(key="data.csv_date_format").input("%d/%m/%Y")
    at.run()
    at.button(key="data.csv_import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    held = list_instruments(sample_secmaster)
    eu = held[held["symbol"] == "EU"].iloc[0]
    assert str(eu["first_ts"].date()) == "2024-01-02"
    assert any("Imported" in s.value and "EU" in s.value for s in at.success)


def test_a_daily_file_declared_minute_is_refused_and_changes_nothing(sample_secmaster):
    from tests.data.helpers import file_state, table_snapshot

    before, on_disk = table_snapshot(sample_secmaster), file_state(sample_secmaster)
    at = data_page()
    _upload(at, _day_first_csv(), "eu.csv", "EU")
    at.selectbox(key="data.csv_period").set_value(BarPeriod.MINUTE).run()
    at.button(key="data.csv_import").click().run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Nothing imported" in message and "1 day apart" in message
    assert "declare the bar period DAY" in message
    assert table_snapshot(sample_secmaster) == before
    assert file_state(sample_secmaster)[0] == on_disk[0]


def test_time_zone_field_and_replace_checkbox(sample_secmaster):
    text = (b"datetime,open,high,low,close,volume\n2024-07-01 09:30,1,2,0.5,1.5,1\n"
            b"2024-07-01 09:31,1,2,0.5,1.5,1\n2024-07-01 09:32,1,2,0.5,1.5,1\n")
    at = data_page()
    _upload(at, text, "ny.csv", "NY")
    at.selectbox(key="data.csv_period").set_value(BarPeriod.MINUTE)
    at.text_input(key="data.csv_tz").input("America/New_York")
    at.run()
    at.button(key="data.csv_import").click().run()
    assert not at.error, [e.value for e in at.error]
    held = list_instruments(sample_secmaster)
    first = held[held["symbol"] == "NY"].iloc[0]["first_ts"]
    assert (first.hour, first.minute) == (13, 30)  # 09:30 EDT

    changed = text.replace(b"1.5,1\n2024-07-01 09:31", b"1.25,1\n2024-07-01 09:31")
    _upload(at, changed, "ny.csv", "NY")
    at.button(key="data.csv_import").click().run()
    assert any("--replace" in e.value and "Replace conflicting bars" in e.value for e in at.error)
    at.checkbox(key="data.csv_replace").check().run()
    at.button(key="data.csv_import").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("1 replaced" in s.value for s in at.success)


def test_symbology_tab_imports_mappings_and_lists_them(sample_secmaster):
    at = data_page()
    at.file_uploader(key="data.symbology_file").set_value((
        "roll.csv", b"symbol,instrument,start_date,end_date\nBIG,ACME,2015-01-01,2020-01-01\n"
                    b"BIG,WAYNE,2020-01-01,\n", "text/csv"))
    at.run()
    at.text_input(key="data.symbology_publisher").set_value("sample")
    at.text_input(key="data.symbology_dataset").set_value("synthetic")
    at.run()
    at.button(key="data.symbology_import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("2 symbology mappings for BIG" in s.value for s in at.success)
    mappings = at.dataframe[1].value  # below the holdings table
    assert mappings[["symbol", "instrument"]].values.tolist() == [["BIG", "ACME"],
                                                                  ["BIG", "WAYNE"]]
