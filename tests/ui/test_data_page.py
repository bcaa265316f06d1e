"""Data page: holdings, preview, CSV import (good and bad), rebuild of the sample."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

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
