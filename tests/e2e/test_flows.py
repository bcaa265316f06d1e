"""Real browser flows against ``streamlit run dashboard.py``: a backtest from the form to the
run page, a shared compare URL, a bad input, charts that fit their container at 1440 px, and
screenshots of every page at 1280 and 1920 px.

Every wait is a condition with a deadline (Playwright's ``expect``), never a sleep."""

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


#: Each chart's drawing (canvas or svg) against the element Streamlit gives it, and the page
#: against the window: widths in CSS pixels.
CHART_WIDTHS = """() => {
  const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
  return {
    charts: charts.map(c => {
      const drawing = c.querySelector('canvas, svg');
      const main = c.closest('[data-testid="stMainBlockContainer"]') || document.body;
      return {container: c.getBoundingClientRect().width,
              right: c.getBoundingClientRect().right,
              drawing: drawing ? drawing.getBoundingClientRect().width : 0,
              drawingRight: drawing ? drawing.getBoundingClientRect().right : 0,
              mainRight: main.getBoundingClientRect().right};
    }),
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  };
}"""


def expect_charts_fit(page: Page) -> None:
    """Every chart is drawn, none is wider than its container, nothing scrolls sideways."""
    expect(page.locator(CHART).first).to_be_visible()
    widths = page.evaluate(CHART_WIDTHS)
    assert widths["charts"], "no chart on the page"
    for chart in widths["charts"]:
        assert chart["drawing"] > 0.6 * chart["container"], chart  # it fills the width
        assert chart["drawing"] <= chart["container"] + 1, chart
        assert chart["drawingRight"] <= chart["mainRight"] + 1, chart
    assert widths["scroll"] <= widths["client"], widths


#: Height of the page's content: Streamlit scrolls inside its main container, so a "full
#: page" screenshot needs a window that tall.
CONTENT_HEIGHT = """() => Math.max(
  document.querySelector('[data-testid="stMain"]')?.scrollHeight || 0,
  document.documentElement.scrollHeight)"""


def screenshot_at(page: Page, folder, name: str, widths=(1280, 1920)) -> None:
    """Whole-page screenshots at each window width (back to 1440 afterwards)."""
    for width in widths:
        page.set_viewport_size({"width": width, "height": 1000})
        height = min(int(page.evaluate(CONTENT_HEIGHT)) + 40, 6000)
        page.set_viewport_size({"width": width, "height": max(height, 800)})
        expect(page.locator(LOADED)).to_have_count(1)
        if page.locator('[data-testid="stVegaLiteChart"]').count():
            expect(page.locator(CHART).last).to_be_visible()
        page.screenshot(path=folder / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1000})


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
    screenshot_at(page, screenshots, "backtest")

    page.get_by_role("button", name="Run backtest").click()
    expect(page).to_have_url(re.compile(r"/run\?run="), timeout=90_000)
    page.wait_for_selector(LOADED, timeout=90_000)
    expect(page.get_by_role("heading", name=re.compile("Bollinger Breakout"))).to_be_visible()
    expect(page.locator(CHART).first).to_be_visible(timeout=90_000)
    expect_no_exception(page)
    expect_charts_fit(page)
    screenshot_at(page, screenshots, "run")

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
    expect_charts_fit(page)
    screenshot_at(page, screenshots, "compare")


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
    page.screenshot(path=screenshots / "backtest-error-1440.png", full_page=True)


def test_every_page_renders(page: Page, app_url, e2e_data, screenshots):
    checks = {
        "home": ("", "tradecore"),
        "runs": ("/runs", "Runs"),
        "sweep": ("/sweep", "Parameter sweep"),
        "data": ("/data", "Data"),
        "run-picker": ("/run", "Run"),
    }
    for name, (path, heading) in checks.items():
        open_page(page, f"{app_url}{path}")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        if name in ("sweep", "data"):
            expect(page.locator(CHART).first).to_be_visible(timeout=60_000)
            expect_charts_fit(page)
        if name == "runs":
            expect(page.get_by_test_id("stDataFrame")).to_be_visible()
        expect_no_exception(page)
        screenshot_at(page, screenshots, name)
    # no Deploy button, and the favicon is served by the app itself
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    icon = page.evaluate("() => [...document.querySelectorAll('link[rel~=icon]')]"
                         ".map(l => l.href)")
    assert icon and all(href.startswith(app_url) for href in icon), icon


def test_failed_run_page_shows_its_traceback(page: Page, app_url, e2e_data, screenshots):
    open_page(page, f"{app_url}/run?run={quote(e2e_data['failed'])}")
    expect(page.get_by_test_id("stAlertContentError").first).to_contain_text("bad setup")
    expect(page.get_by_test_id("stCode").first).to_contain_text("Traceback")
    expect_no_exception(page)
    screenshot_at(page, screenshots, "run-failed")
