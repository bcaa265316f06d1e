"""Run page: real runs recorded by the engine, rendered by AppTest, checked against analytics."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from tradecore import analytics
from tradecore.analytics import catalogue
from tradecore.brokers import SimulatedBroker
from tradecore.configure import RunRequest, build_orchestrator
from tradecore.datafeeds import SimulatedDatafeed
from tradecore.orchestrator import Orchestrator
from tradecore.strategies import StrategyBase
from tradecore.ui import formatting as fmt
from tradecore.ui import run_data

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "run.py")
TIMEOUT = 30


class _ExplodingStrategy(StrategyBase):
    """Raises on its 40th bar (underscore: kept out of the strategy registry)."""

    name = "Exploding"
    symbols = ["ACME"]

    def setup(self) -> None:
        self.seen = 0

    def on_bar(self, bar) -> None:
        self.seen += 1
        if self.seen == 40:
            raise RuntimeError("boom on bar 40")


@pytest.fixture
def sma_run(sample_secmaster):
    """SMA crossover on ACME over the whole daily sample: about 2,600 bars (> 2,000)."""
    return build_orchestrator(RunRequest(strategy="SMACrossover", symbols=["ACME"],
                                         parameters={"fast_period": 10, "slow_period": 30})
                              ).run()


@pytest.fixture
def multi_run(sample_secmaster):
    """RSI mean reversion on two symbols over two years."""
    return build_orchestrator(RunRequest(strategy="RSIMeanReversion", symbols=["ACME", "GLOBX"],
                                         start="2019-01-01", end="2020-12-31")).run()


def open_page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts_of(at: AppTest) -> list:
    return at.get("vega_lite_chart")


def spec_and_data(chart) -> tuple[dict, dict[str, pd.DataFrame]]:
    spec = json.loads(chart.proto.spec)
    datasets = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas()
                for d in chart.proto.datasets}
    return spec, datasets


def layers(view: dict) -> list[dict]:
    return view.get("layer", [view])


def mark_type(view: dict) -> str:
    mark = view["mark"]
    return mark if isinstance(mark, str) else mark["type"]


def data_of(view: dict, datasets: dict[str, pd.DataFrame], *parents: dict) -> pd.DataFrame:
    """The dataset a view draws: its own, else the nearest parent's (Altair lifts data shared
    by every view to the top)."""
    for node in (view, *parents):
        if "data" in node:
            return datasets[node["data"]["name"]]
    (only,) = datasets.values()
    return only


def price_chart(at: AppTest) -> tuple[dict, dict[str, pd.DataFrame]]:
    return spec_and_data(charts_of(at)[0])


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_metrics_match_analytics_statistics(sma_run):
    at = open_page(run=sma_run)
    stats = analytics.statistics(sma_run)
    shown = metrics(at)
    assert list(shown) == [catalogue.label(key) for key in catalogue.KPI_TILES]
    for key in catalogue.KPI_TILES:
        expected = (fmt.format_money(stats[key], decimals=0)
                    if catalogue.STATISTICS[key].unit == "money"
                    else catalogue.format_value(key, stats[key]))
        assert shown[catalogue.label(key)] == expected, key
    final = float(analytics.equity_curve(sma_run)["equity"].iloc[-1])
    assert stats["equity_final"] == pytest.approx(final)
    assert stats["trades"] > 0
    ret = next(m for m in at.metric if m.label == catalogue.label("total_return_pct"))
    expected = stats["total_return_pct"] - stats["buy_and_hold_return_pct"]
    assert ret.proto.delta == f"{expected:+.2f} pp vs B&H"
    assert any("periods a year" in c.value for c in at.caption)
    assert "SMA Crossover" in at.title[0].value and "ACME" in at.title[0].value


def test_price_chart_candles_downsampled_markers_and_indicators(sma_run):
    at = open_page(run=sma_run)
    spec, datasets = price_chart(at)
    price = layers(spec["vconcat"][0])
    wick, body = price[0], price[1]
    assert (mark_type(wick), wick["encoding"]["y"]["field"], wick["encoding"]["y2"]["field"]) \
        == ("rule", "low", "high")
    assert (mark_type(body), body["encoding"]["y"]["field"], body["encoding"]["y2"]["field"]) \
        == ("bar", "open", "close")
    candles = data_of(wick, datasets)
    expected = analytics.bars(sma_run, max_points=2000, symbol="ACME")
    assert len(candles) <= 2000
    assert len(candles) == len(expected)
    assert candles["close"].tolist() == pytest.approx(expected["close"].tolist())

    markers = data_of(next(v for v in price if mark_type(v) == "point"), datasets)
    fills = analytics.fills(sma_run)
    assert len(markers) == len(fills) > 0
    assert set(markers["side"]) == {"BUY", "SELL"}
    assert markers["signal"].str.contains("SMA").all()

    # indicators go where the run recorded them (analytics.indicator_info), nowhere else
    info = analytics.indicator_info(sma_run)
    assert set(info["column"]) == {"SMA(10)", "SMA(30)"}
    on_price = set(info[info["overlay"]]["column"])
    lines = [v for v in price if mark_type(v) == "line"]
    assert {i for v in lines for i in data_of(v, datasets)["indicator"]} == on_price
    panels = spec["vconcat"][1:-1]
    assert len(panels) == info[~info["overlay"]]["panel"].nunique()
    volume = layers(spec["vconcat"][-1])[0]
    assert volume["encoding"]["y"]["field"] == "volume"
    assert spec["params"][0]["bind"] == "scales"
    assert len(spec["params"][0]["views"]) == len(spec["vconcat"])


def test_equity_chart_matches_equity_curve(multi_run):
    at = open_page(run=multi_run)
    spec, datasets = spec_and_data(charts_of(at)[1])
    view = layers(spec["vconcat"][0])[0]
    rows = data_of(view, datasets)
    curve = analytics.equity_curve(multi_run)
    assert len(curve) < 2000  # small enough to be drawn point for point
    strategy = rows[rows["series"] == "Strategy"]
    assert strategy["equity"].tolist() == pytest.approx(curve["equity"].tolist())
    drawdown = data_of(layers(spec["vconcat"][1])[0], datasets)
    assert drawdown["drawdown_pct"].tolist() == pytest.approx((curve["drawdown"] * 100).tolist())


def test_multi_symbol_run_switches_symbol(multi_run):
    at = open_page(run=multi_run)
    picker = at.selectbox(key="run.symbol")
    assert picker.options == ["ACME", "GLOBX"] and picker.value == "ACME"
    picker.select("GLOBX").run()
    assert not at.exception
    spec, datasets = price_chart(at)
    price = layers(spec["vconcat"][0])
    fills = analytics.fills(multi_run)
    points = [v for v in price if mark_type(v) == "point"]
    globx_fills = fills[fills["symbol"] == "GLOBX"]
    if len(globx_fills):
        assert len(data_of(points[0], datasets)) == len(globx_fills)
    candles = data_of(price[0], datasets)
    globx = analytics.bars(multi_run, max_points=2000, symbol="GLOBX")
    assert candles["close"].tolist() == pytest.approx(globx["close"].tolist())
    rsi_panel = spec["vconcat"][1]
    assert layers(rsi_panel)[0]["encoding"]["y"]["axis"]["title"].startswith("RSI")
    assert "Symbol" in at.dataframe[0].value.columns or len(at.dataframe) >= 1


def test_zoom_window_requeries_bars_at_full_detail(sma_run):
    at = open_page(run=sma_run)
    overview = analytics.bars(sma_run, max_points=2000, symbol="ACME")
    assert overview["bar_count"].max() > 1  # the overview is down-sampled
    start_ns = int(overview["ts_event_ns"].iloc[100])
    end_ns = int(overview["ts_event_ns"].iloc[400])
    at.session_state["run.window"] = {"run": sma_run, "ms": (start_ns / 1e6, end_ns / 1e6)}
    at.run()
    assert not at.exception
    spec, datasets = price_chart(at)
    wick = layers(spec["vconcat"][0])[0]
    candles = data_of(wick, datasets)
    detail = analytics.bars(sma_run, max_points=2000, symbol="ACME", start_ns=start_ns,
                            end_ns=end_ns)
    assert (detail["bar_count"] == 1).all()
    assert len(candles) == len(detail)
    domain = wick["encoding"]["x"]["scale"]["domain"]
    assert [(d["year"], d["month"], d["date"]) for d in domain] == [
        (t.year, t.month, t.day) for t in (pd.Timestamp(start_ns), pd.Timestamp(end_ns))]
    # the equity chart follows the same window, point for point
    eq_spec, eq_data = spec_and_data(charts_of(at)[1])
    rows = data_of(layers(eq_spec["vconcat"][0])[0], eq_data)
    curve = analytics.equity_curve(sma_run)
    inside = curve[(curve["ts_event_ns"] >= start_ns) & (curve["ts_event_ns"] <= end_ns)]
    assert rows["equity"].tolist() == pytest.approx(inside["equity"].tolist())
    assert at.button(key="run.reset_zoom")
    at.button(key="run.reset_zoom").click().run()
    spec, datasets = price_chart(at)
    assert len(data_of(layers(spec["vconcat"][0])[0], datasets)) == len(overview)


def test_tables_configuration_and_downloads(sma_run):
    at = open_page(run=sma_run)
    trips = analytics.round_trips(sma_run)
    frames = [d.value for d in at.dataframe]
    trades = next(f for f in frames if "mfe" in f.columns)
    assert len(trades) == len(trips) and {"mae", "pnl", "entry", "exit"} <= set(trades.columns)
    orders = next(f for f in frames if "order_type" in f.columns)
    assert len(orders) == len(analytics.order_log(sma_run))
    assert at.json[0].value and json.loads(at.json[0].value)["symbols"] == ["ACME"]
    assert "python -m tradecore run SMACrossover" in at.code[0].value
    downloads = {b.proto.label for b in at.get("download_button")}
    assert {"Download round trips (CSV)", "Download fills (CSV)"} <= downloads


def test_unknown_run_shows_a_message_and_a_link(sample_secmaster, sma_run):
    at = open_page(run="no-such-run")
    assert at.error and "no-such-run" in at.error[0].value
    links = at.get("page_link") or []
    assert links or any("Runs" in m.value for m in at.markdown)


def test_no_run_selected_points_to_the_runs(sma_run):
    at = open_page()
    assert at.info and "No run selected" in at.info[0].value


def test_failed_run_shows_its_error_and_what_it_recorded(sample_secmaster):
    with pytest.raises(RuntimeError, match="boom on bar 40"):
        Orchestrator(strategies=[_ExplodingStrategy], broker=SimulatedBroker,
                     datafeed=SimulatedDatafeed).run()
    runs = analytics.list_runs()
    failed = runs[runs["status"] == "failed"]["run_id"].iloc[0]
    at = open_page(run=failed)
    assert any("boom on bar 40" in e.value for e in at.error)
    assert any(m.value.startswith(":red-badge[") and "failed" in m.value for m in at.markdown)
    spec, datasets = price_chart(at)
    candles = data_of(layers(spec["vconcat"][0])[0], datasets)
    assert 0 < len(candles) <= 40


def test_running_run_shows_a_note(sma_run):
    db = run_data.runs_db()
    with sqlite3.connect(db) as conn:  # pretend this very process is still recording it
        conn.execute("UPDATE runs SET status = 'running', ts_end = NULL, pid = ?, host = ?"
                     " WHERE run_id = ?", (os.getpid(), socket.gethostname(), sma_run))
    at = open_page(run=sma_run)
    assert any("still recording" in i.value for i in at.info)
    assert len(charts_of(at)) == 2


class _SetupFails(StrategyBase):
    """Raises in setup(), before any bar (underscore: kept out of the registry)."""

    name = "SetupFails"
    symbols = ["ACME"]

    def setup(self) -> None:
        raise ValueError("bad setup on purpose")

    def on_bar(self, bar) -> None:  # pragma: no cover - never reached
        pass


def _failed_in_setup() -> str:
    with pytest.raises(ValueError, match="bad setup on purpose"):
        Orchestrator(strategies=[_SetupFails], broker=SimulatedBroker,
                     datafeed=SimulatedDatafeed).run()
    runs = analytics.list_runs()
    return runs[runs["status"] == "failed"]["run_id"].iloc[0]


def test_run_that_failed_in_setup_shows_status_error_and_traceback(sample_secmaster):
    """Defects 1 and 3: no equity must not crash the page (it did: 'Selections are
    activated, but the provided chart spec does not have any selections defined'), and the
    traceback runs.db holds is shown."""
    run_id = _failed_in_setup()
    at = open_page(run=run_id)
    assert any("bad setup on purpose" in e.value for e in at.error)
    assert any(m.value.startswith(":red-badge[") and "failed" in m.value for m in at.markdown)
    tracebacks = [c.value for c in at.code if "Traceback (most recent call last)" in c.value]
    assert tracebacks and "bad setup on purpose" in tracebacks[0]
    assert "in setup" in tracebacks[0]


def test_failed_run_traceback_is_shown(sample_secmaster):
    """Defect 3: a run failing mid-way shows the traceback stored with it."""
    with pytest.raises(RuntimeError, match="boom on bar 40"):
        Orchestrator(strategies=[_ExplodingStrategy], broker=SimulatedBroker,
                     datafeed=SimulatedDatafeed).run()
    runs = analytics.list_runs()
    failed = runs[runs["status"] == "failed"]["run_id"].iloc[0]
    at = open_page(run=failed)
    tracebacks = [c.value for c in at.code if "Traceback (most recent call last)" in c.value]
    assert tracebacks and "boom on bar 40" in tracebacks[0] and "on_bar" in tracebacks[0]



def test_picker_without_a_run_selects_nothing_and_choosing_opens_the_run(sma_run, multi_run):
    """Defect 7: the picker showed the newest run as chosen, and choosing it did nothing."""
    at = open_page()
    picker = at.selectbox(key="run.picker")
    assert picker.value is None
    # the labels tell runs apart: return, strategy and parameters beside the id
    stats = analytics.statistics(sma_run)
    (label,) = [o for o in picker.options if o.startswith(sma_run)]
    assert "SMA Crossover" in label and "fast_period=10" in label
    assert f"{stats['total_return_pct']:+.2f}%" in label
    assert any(o.startswith(multi_run) for o in picker.options)
    newest = analytics.list_runs()["run_id"].iloc[0]
    picker.set_value(newest).run()
    assert not at.exception
    assert at.query_params["run"] in (newest, [newest])
    assert at.title[0].value != "Run"
    assert not any("No run selected" in i.value for i in at.info)


def test_header_period_starts_at_the_first_bar_of_a_downsampled_run(sma_run):
    """Defect 8: the start shown was a down-sampling bucket's time, not the first bar's."""
    full = analytics.equity_curve(sma_run)
    assert len(full) > 2000  # down-sampled on the page
    first, last = full["ts_event_ns"].iloc[0], full["ts_event_ns"].iloc[-1]
    at = open_page(run=sma_run)
    header = next(m.value for m in at.markdown if "-badge[" in m.value)
    assert fmt.format_period(first, last) in header


@pytest.fixture
def minute_run(sample_secmaster):
    return build_orchestrator(RunRequest(strategy="SMACrossover", symbols=["ACME"],
                                         parameters={"bar_period": "MINUTE"},
                                         start="2024-10-01", end="2024-10-08")).run()


def test_trading_time_axis_for_intraday_runs(minute_run, sma_run):
    """Issue 9: intraday charts can collapse nights and weekends."""
    at = open_page(run=minute_run)
    toggle = at.toggle(key="run.trading_time")
    assert toggle.value is False
    spec, _ = price_chart(at)
    assert layers(spec["vconcat"][0])[0]["encoding"]["x"]["type"] == "temporal"
    toggle.set_value(True).run()
    assert not at.exception
    spec, datasets = price_chart(at)
    wick = layers(spec["vconcat"][0])[0]
    assert wick["encoding"]["x"]["field"] == "pos"
    candles = data_of(wick, datasets)
    assert candles["pos"].tolist() == list(range(len(candles)))
    eq_spec, _ = spec_and_data(charts_of(at)[1])
    assert layers(eq_spec["vconcat"][0])[0]["encoding"]["x"]["field"] == "pos"
    # daily runs have no such option
    daily = open_page(run=sma_run)
    assert not [t for t in daily.toggle if t.key == "run.trading_time"]


def test_all_statistics_are_a_full_table_and_charts_fill_the_page(sma_run):
    """Issue 9: the statistics tab was a 10-row scroll box; charts had a width slider."""
    at = open_page(run=sma_run)
    table = at.table[0].value
    expected = fmt.stats_table(analytics.statistics(sma_run))
    assert len(table) == len(expected) > 10  # every row, no scroll box
    assert list(table.index) == expected["Statistic"].tolist()
    assert not [s for s in at.select_slider if "width" in s.label.lower()]
    assert len(charts_of(at)) == 2  # their width is the page's: checked in tests/e2e
