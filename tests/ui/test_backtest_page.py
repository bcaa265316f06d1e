"""Backtest page: generated widgets, validation errors, and a run in the background whose
recorded configuration holds what the widgets said."""

from __future__ import annotations

import json
import sqlite3
import time
from enum import Enum
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tradecore.models import BarPeriod
from tradecore.strategies import ParamSpec, StrategyBase
from tradecore.ui import runner

TIMEOUT = 30
ROOT = Path(__file__).resolve().parents[2]


class UiTestColour(Enum):
    RED = "red"
    BLUE = "blue"


class UiTestAllKinds(StrategyBase):
    """Holds one parameter of every kind; never trades."""

    name = "UI test: all kinds"
    symbols = ["ACME"]
    parameters = {
        "use_filter": ParamSpec(True, help="A bool"),
        "colour": ParamSpec(UiTestColour.RED, help="An enum"),
        "mode": ParamSpec("fast", choices=("fast", "slow", "off"), help="A choice"),
        "ratio": ParamSpec(0.5, min=0.0, max=2.0, step=0.25, help="A bounded float"),
        "threshold": ParamSpec(1.5, help="An unbounded float"),
        "lookback": ParamSpec(12, min=2, help="A half-bounded int"),
        "size": ParamSpec(100, min=1, max=100_000, step=1, help="A wide int range"),
    }

    def on_bar(self, bar) -> None:
        pass


class UiTestExploding(StrategyBase):
    """Raises on its fifth bar."""

    name = "UI test: exploding"
    symbols = ["ACME"]
    parameters = {"when": ParamSpec(5, min=1, max=50, step=1)}

    def setup(self) -> None:
        self.seen = 0

    def on_bar(self, bar) -> None:
        self.seen += 1
        if self.seen == self.when:
            raise RuntimeError("boom on purpose")


class UiTestSlow(StrategyBase):
    """Sleeps on every bar so a run lasts long enough to cancel."""

    name = "UI test: slow"
    symbols = ["ACME"]
    parameters = {"sleep_ms": ParamSpec(20, min=1, max=100, step=1)}

    def on_bar(self, bar) -> None:
        time.sleep(self.sleep_ms / 1000)


class _UiTestHidden(UiTestSlow):
    """Underscore classes never reach the dropdown."""


def backtest_page(via_dashboard: bool = True) -> AppTest:
    if via_dashboard:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
        at.switch_page("pages/backtest.py").run()
    else:
        at = AppTest.from_file(str(ROOT / "pages" / "backtest.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def choose_strategy(at: AppTest, class_name: str) -> AppTest:
    at.selectbox(key="backtest.strategy").set_value(class_name).run()
    assert not at.exception, at.exception
    return at


def set_dates(at: AppTest, start: str, end: str) -> AppTest:
    import datetime as dt

    at.date_input(key="backtest.data.start").set_value(dt.date.fromisoformat(start))
    at.date_input(key="backtest.data.end").set_value(dt.date.fromisoformat(end))
    return at.run()


def finish(at: AppTest, timeout: float = 30) -> runner.BackgroundRun:
    """Rerun the page (as the fragment would) until the background run has ended."""
    job = at.session_state[runner.BACKTEST_KEY]
    deadline = time.monotonic() + timeout
    while job.running:
        assert time.monotonic() < deadline, "the background run did not finish"
        time.sleep(0.1)
        at.run()
    at.run()
    return job


def recorded(runs_db, run_id: str) -> tuple[str, dict, str | None]:
    with sqlite3.connect(runs_db) as conn:
        status, config, error = conn.execute(
            "SELECT status, config, error FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return status, json.loads(config), error


def run_count(runs_db) -> int:
    if not runs_db.exists():
        return 0
    with sqlite3.connect(runs_db) as conn:
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0]


def test_slider_value_reaches_the_recorded_config(sample_secmaster, runs_db):
    at = backtest_page()
    assert at.selectbox(key="backtest.strategy").value == "SMACrossover"
    fast = at.slider(key="backtest.param.SMACrossover.fast_period")
    assert (fast.min, fast.max, fast.value) == (2, 100, 10)
    fast.set_value(7)
    at.slider(key="backtest.param.SMACrossover.slow_period").set_value(21)
    at.number_input(key="backtest.broker.slippage").set_value(2.5)
    at.run()
    set_dates(at, "2023-01-02", "2023-12-29")
    at.button(key="backtest.run").click().run()
    assert not at.error, [e.value for e in at.error]

    job = finish(at)
    assert job.status.value == "completed"
    status, config, _ = recorded(runs_db, job.run_id)
    assert status == "completed"
    assert config["strategies"][0]["parameters"]["fast_period"] == 7
    assert config["strategies"][0]["parameters"]["slow_period"] == 21
    assert config["broker"]["slippage_bps"] == 2.5
    assert config["symbols"] == ["ACME"]
    # ...and the page went on to the run's page, linkable by ?run=
    assert at.query_params["run"] == [job.run_id] or at.query_params["run"] == job.run_id


def test_widgets_follow_each_param_spec_kind(sample_secmaster, runs_db):
    at = choose_strategy(backtest_page(), "UiTestAllKinds")
    options = at.selectbox(key="backtest.strategy").options
    assert "UI test: all kinds" in options and "SMA Crossover" in options
    assert not any("Hidden" in option for option in options)
    assert "one parameter of every kind" in " ".join(m.value for m in at.markdown)

    key = "backtest.param.UiTestAllKinds.{}".format
    assert at.checkbox(key=key("use_filter")).value is True
    assert at.selectbox(key=key("colour")).options == ["RED", "BLUE"]
    assert at.selectbox(key=key("mode")).options == ["fast", "slow", "off"]
    ratio = at.slider(key=key("ratio"))
    assert (ratio.min, ratio.max, ratio.step, ratio.value) == (0.0, 2.0, 0.25, 0.5)
    assert at.number_input(key=key("threshold")).value == 1.5
    assert at.number_input(key=key("lookback")).min == 2
    size = at.number_input(key=key("size"))  # 100,000 stops: an input, still bounded
    assert (size.min, size.max, size.value) == (1, 100_000, 100)
    assert at.slider(key=key("ratio")).help == "A bounded float"

    at.checkbox(key=key("use_filter")).uncheck()
    at.selectbox(key=key("colour")).set_value(UiTestColour.BLUE)
    at.selectbox(key=key("mode")).set_value("off")
    at.slider(key=key("ratio")).set_value(1.75)
    at.number_input(key=key("threshold")).set_value(-3.0)
    at.run()
    set_dates(at, "2024-06-03", "2024-06-28")
    at.button(key="backtest.run").click().run()
    job = finish(at)
    parameters = recorded(runs_db, job.run_id)[1]["strategies"][0]["parameters"]
    assert parameters == {"bar_period": "DAY", "use_filter": False, "colour": "BLUE",
                          "mode": "off", "ratio": 1.75, "threshold": -3.0, "lookback": 12,
                          "size": 100}


def test_end_before_start_is_an_error_and_records_nothing(sample_secmaster, runs_db):
    at = backtest_page()
    set_dates(at, "2024-06-01", "2024-01-01")
    at.button(key="backtest.run").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["the end date is before the start date"]
    assert run_count(runs_db) == 0


def test_no_symbol_is_an_error(sample_secmaster, runs_db):
    at = backtest_page()
    at.multiselect(key="backtest.data.symbols.DAY").set_value([]).run()
    at.button(key="backtest.run").click().run()
    assert not at.exception
    assert any("choose at least one symbol" in e.value for e in at.error)
    assert run_count(runs_db) == 0


def test_bar_period_drives_the_symbols_and_dates(sample_secmaster, runs_db):
    at = backtest_page()
    assert at.multiselect(key="backtest.data.symbols.DAY").options == [
        "ACME", "GLOBX", "INITECH", "UMBRL", "WAYNE"]
    at.selectbox(key="backtest.data.bar_period").set_value(BarPeriod.MINUTE).run()
    minute = at.multiselect(key="backtest.data.symbols.MINUTE")
    assert minute.options == ["ACME", "GLOBX", "INITECH"]
    start = at.date_input(key="backtest.data.start")
    assert (str(start.min), str(start.max)) == ("2024-10-01", "2024-12-31")


def test_a_strategy_exception_shows_its_error_and_links_the_failed_run(sample_secmaster,
                                                                         runs_db):
    at = choose_strategy(backtest_page(), "UiTestExploding")
    set_dates(at, "2024-01-01", "2024-03-01")
    at.button(key="backtest.run").click().run()
    job = finish(at)
    assert not at.exception
    assert any("boom on purpose" in e.value for e in at.error), [e.value for e in at.error]
    links = at.get("page_link")
    assert any(job.run_id in link.proto.label for link in links)
    status, _, error = recorded(runs_db, job.run_id)
    assert status == "failed" and "boom on purpose" in error


def test_cancel_stops_the_run_as_cancelled(sample_secmaster, runs_db):
    at = choose_strategy(backtest_page(), "UiTestSlow")
    # ~260 bars x 100 ms: long enough to see it run and cancel it, after the child starts
    at.slider(key="backtest.param.UiTestSlow.sleep_ms").set_value(100)
    set_dates(at, "2023-01-02", "2023-12-29")
    at.button(key="backtest.run").click().run()
    job = at.session_state[runner.BACKTEST_KEY]
    deadline = time.monotonic() + 60
    while job.run_id is None and time.monotonic() < deadline:
        time.sleep(0.05)
    at.run()
    assert at.get("progress"), "a progress bar shows while the run replays"
    live = [c.value for c in at.caption] + [c.type for c in at.get("vega_lite_chart")]
    assert "Waiting for the first bars..." in live or "vega_lite_chart" in live, live
    assert at.button(key="backtest.run").disabled
    at.button(key="backtest.cancel").click().run()
    job = finish(at)
    assert job.status.value == "cancelled"
    assert recorded(runs_db, job.run_id)[0] == "cancelled"
    assert any("cancelled" in w.value for w in at.warning)


def test_the_page_runs_on_its_own(sample_secmaster, runs_db):
    at = backtest_page(via_dashboard=False)
    assert at.title[0].value == "Backtest"
    assert at.selectbox(key="backtest.strategy").value == "SMACrossover"


def test_choices_survive_a_visit_to_another_page(sample_secmaster, runs_db):
    at = choose_strategy(backtest_page(), "BollingerBreakout")
    at.slider(key="backtest.param.BollingerBreakout.period").set_value(33).run()
    at.switch_page("pages/runs.py").run()
    at.switch_page("pages/backtest.py").run()
    assert at.selectbox(key="backtest.strategy").value == "BollingerBreakout"
    assert at.slider(key="backtest.param.BollingerBreakout.period").value == 33


def test_dates_follow_the_coverage_and_keep_a_range_that_fits(sample_secmaster, runs_db):
    """Defect 6: switching to data with other coverage collapsed the range to one day."""
    import datetime as dt

    at = backtest_page()
    set_dates(at, "2015-03-02", "2016-06-30")
    at.selectbox(key="backtest.data.bar_period").set_value(BarPeriod.MINUTE).run()
    start, end = at.date_input(key="backtest.data.start"), at.date_input(key="backtest.data.end")
    assert (start.value, end.value) == (dt.date(2024, 10, 1), dt.date(2024, 12, 31))
    # a range chosen inside the minute coverage survives a symbol change that still covers it
    set_dates(at, "2024-11-04", "2024-11-29")
    at.multiselect(key="backtest.data.symbols.MINUTE").set_value(["GLOBX"]).run()
    assert (at.date_input(key="backtest.data.start").value,
            at.date_input(key="backtest.data.end").value) == (dt.date(2024, 11, 4),
                                                               dt.date(2024, 11, 29))
    # and back on daily bars it still fits, so it stays; never a single day
    at.selectbox(key="backtest.data.bar_period").set_value(BarPeriod.DAY).run()
    start, end = at.date_input(key="backtest.data.start"), at.date_input(key="backtest.data.end")
    assert (start.value, end.value) == (dt.date(2024, 11, 4), dt.date(2024, 11, 29))
    assert not at.exception and not at.warning
