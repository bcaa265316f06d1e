"""Real browser flows against ``streamlit run dashboard.py``: a backtest from the form to the
run page, a shared compare URL, a bad input, and a screenshot of every page."""

from __future__ import annotations

import json
import re
import sqlite3
from urllib.parse import quote

from playwright.sync_api import Page, expect

LOADED = ('[data-testid="stApp"][data-test-script-state="notRunning"]'
          '[data-test-connection-state="CONNECTED"]')
CHART = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(LOADED, timeout=90_000)


def expect_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_backtest_from_the_form_to_the_run_page(page: Page, app_url, e2e_data, screenshots):
    # A deep link as the first request of a fresh server still gets the navigation frame.
    open_page(page, f"{app_url}/backtest")
    expect(page.get_by_role("heading", name="Backtest")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="Home")).to_be_visible()
    choose(page, "Strategy", "Bollinger Breakout")
    expect(page.get_by_text("upper Bollinger band")).to_be_visible()

    thumb = page.get_by_test_id("stSlider").filter(has_text="Period").first.get_by_role("slider")
    expect(thumb).to_have_value("20")
    thumb.focus()
    page.keyboard.press("ArrowRight")
    expect(thumb).to_have_value("21")
    page.wait_for_selector(LOADED)
    page.screenshot(path=screenshots / "backtest.png", full_page=True)

    page.get_by_role("button", name="Run backtest").click()
    expect(page).to_have_url(re.compile(r"/run\?run="), timeout=90_000)
    page.wait_for_selector(LOADED, timeout=90_000)
    expect(page.locator(CHART).first).to_be_visible(timeout=90_000)
    expect_no_exception(page)
    page.screenshot(path=screenshots / "run.png", full_page=True)

    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    with sqlite3.connect(e2e_data["runs_db"]) as conn:
        config = conn.execute("SELECT config FROM runs WHERE run_id = ?",
                              (run_id.replace("+", " ").replace("%20", " "),)).fetchone()
    assert config is not None, run_id
    strategy = json.loads(config[0])["strategies"][0]
    assert strategy["class"] == "BollingerBreakout"
    assert strategy["parameters"]["period"] == 21


def test_compare_opens_from_a_shared_url(page: Page, app_url, e2e_data, screenshots):
    runs = ",".join(quote(run_id) for run_id in e2e_data["runs"])
    open_page(page, f"{app_url}/compare?runs={runs}")
    expect(page.locator(CHART).first).to_be_visible(timeout=90_000)
    expect_no_exception(page)
    page.screenshot(path=screenshots / "compare.png", full_page=True)


def test_no_symbol_shows_an_error(page: Page, app_url, screenshots):
    open_page(page, f"{app_url}/backtest")
    symbols = page.get_by_test_id("stMultiSelect").filter(has_text="Symbols")
    expect(symbols.get_by_text("ACME")).to_be_visible()
    symbols.locator("input").click()
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    expect(symbols.get_by_text("ACME")).to_have_count(0)
    page.wait_for_selector(LOADED)
    page.get_by_role("button", name="Run backtest").click()
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("choose at least one symbol")
    expect_no_exception(page)
    page.screenshot(path=screenshots / "backtest-error.png", full_page=True)


def test_every_page_renders(page: Page, app_url, e2e_data, screenshots):
    checks = {
        "home": ("", "tradecore"),
        "runs": ("/runs", "Runs"),
        "sweep": ("/sweep", "Parameter sweep"),
        "data": ("/data", "Data"),
    }
    for name, (path, heading) in checks.items():
        open_page(page, f"{app_url}{path}")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        if name in ("sweep", "data"):
            expect(page.locator(CHART).first).to_be_visible(timeout=60_000)
        if name == "runs":
            expect(page.get_by_test_id("stDataFrame")).to_be_visible()
        expect_no_exception(page)
        page.screenshot(path=screenshots / f"{name}.png", full_page=True)
