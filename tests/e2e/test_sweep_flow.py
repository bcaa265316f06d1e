"""Real browser: a held-out sweep from the sweep page's form to its heatmap and its
out-of-sample table, on a real ``streamlit run`` (local dask workers started by the server)."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import Page, expect

from tests.e2e.test_flows import CHART, LOADED, expect_no_exception, open_page

# Cluster start, five runs of ten years of daily bars and the merges, on a shared machine.
SWEEP_TIMEOUT_MS = 300_000


def test_a_held_out_sweep_from_the_form_to_the_heatmap_and_out_of_sample(
        page: Page, app_url, e2e_data, screenshots):
    open_page(page, f"{app_url}/sweep")
    expect(page.get_by_role("heading", name="Parameter sweep", exact=True)).to_be_visible()
    # 2 x 2 grid: fast 5 and 20, slow 15 and 60 (default ranges, wide steps)
    for label, step in (("Fast period: step", "15"), ("Slow period: step", "45")):
        box = page.get_by_role("spinbutton", name=label)
        box.fill(step)
        box.press("Enter")
        page.wait_for_selector(LOADED)
    expect(page.get_by_text("4 runs + 1 out-of-sample run", exact=False)).to_have_count(0)
    page.get_by_text("Hold out the end").click()
    expect(page.get_by_text("4 runs + 1 out-of-sample run")).to_be_visible()
    page.wait_for_selector(LOADED)
    page.screenshot(path=screenshots / "sweep-form.png", full_page=True)

    page.get_by_role("button", name="Run sweep").click()
    expect(page.get_by_test_id("stProgress").first).to_be_visible()
    expect(page.get_by_role("heading", name="In sample against out of sample")).to_be_visible(
        timeout=SWEEP_TIMEOUT_MS)
    expect(page.locator(CHART).first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Best plateau (cell + neighbours)")).to_be_visible()
    # the fold table, in-sample against out-of-sample statistics, and the grid's own table
    expect(page.get_by_test_id("stDataFrame")).to_have_count(3)
    expect(page.get_by_test_id("stMetric").filter(has_text="out of sample")).to_be_visible()
    expect_no_exception(page)
    page.screenshot(path=screenshots / "sweep-result.png", full_page=True)

    with sqlite3.connect(e2e_data["runs_db"]) as conn:
        roles = conn.execute(
            "SELECT role, count(*) FROM runs WHERE sweep_id = (SELECT sweep_id FROM runs "
            "WHERE role = 'out_of_sample' ORDER BY ts_start DESC LIMIT 1) GROUP BY role"
        ).fetchall()
    assert dict(roles) == {"in_sample": 4, "out_of_sample": 1}
