"""Chart builders and formatting helpers, without Streamlit: specs, datasets, classification."""

from __future__ import annotations

import datetime as dt
import warnings

import altair as alt
import numpy as np
import pandas as pd
import pytest

from tradecore.ui import charts
from tradecore.ui import formatting as fmt
from tradecore.ui.charts.axes import NOMINAL_WIDTH

DAY_NS = 86_400 * 10**9
START_NS = 1_704_067_200 * 10**9  # 2024-01-01


def make_bars(n: int = 300, *, start_ns: int = START_NS, step_ns: int = DAY_NS) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]]
    frame = pd.DataFrame({
        "ts_event_ns": start_ns + np.arange(n, dtype=np.int64) * step_ns,
        "symbol": "ACME", "open": open_, "high": np.maximum(open_, close) + 0.5,
        "low": np.minimum(open_, close) - 0.5, "close": close, "volume": 1000.0,
        "bar_count": 1,
    })
    frame["SMA(10)"] = frame["close"].rolling(10).mean()
    frame["BB_UPPER(20,2.5)"] = frame["close"].rolling(20).mean() + 2
    frame["RSI(14)"] = 50 + rng.normal(0, 10, n)
    frame["MACD(12,26,9)"] = rng.normal(0, 1, n)
    frame["MACD_SIGNAL(12,26,9)"] = rng.normal(0, 1, n)
    frame["ATR(14)"] = 1 + rng.random(n)
    return frame


PLOT_INFO = {"SMA(10)": {"overlay": True, "levels": [], "panel": "price"},
             "BB_UPPER(20,2.5)": {"overlay": True, "levels": [], "panel": "price"},
             "RSI(14)": {"overlay": False, "levels": [30, 70], "panel": "RSI"},
             "MACD(12,26,9)": {"overlay": False, "levels": [0], "panel": "MACD"},
             "MACD_SIGNAL(12,26,9)": {"overlay": False, "levels": [0], "panel": "MACD"},
             "ATR(14)": {"overlay": False, "levels": [], "panel": "ATR"}}


def make_fills(bars: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    return pd.DataFrame({
        "ts_event_ns": bars["ts_event_ns"].iloc[rows].to_numpy(),
        "symbol": "ACME",
        "side": ["BUY" if i % 2 == 0 else "SELL" for i in range(len(rows))],
        "quantity_filled": 100.0,
        "fill_price": bars["open"].iloc[rows].to_numpy(),
        "commission": 1.0,
        "signal": [f"signal {i}" for i in range(len(rows))],
    })


def spec_of(chart: alt.TopLevelMixin) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Altair warnings (dedup, deprecations) either
        with alt.data_transformers.disable_max_rows():
            return chart.to_dict()


def datetime_ms(value: dict) -> int:
    """Epoch ms of a Vega-Lite DateTime dict (month is 1-based as Altair writes it)."""
    stamp = dt.datetime(value["year"], value["month"], value["date"], value.get("hours", 0),
                        value.get("minutes", 0), value.get("seconds", 0),
                        value.get("milliseconds", 0) * 1000, tzinfo=dt.UTC)
    return int(stamp.timestamp() * 1000)


def layers(view: dict) -> list[dict]:
    return view.get("layer", [view])


def dataset(spec: dict, view: dict) -> list[dict]:
    return spec["datasets"][view["data"]["name"]]


def mark_type(view: dict) -> str:
    mark = view["mark"]
    return mark if isinstance(mark, str) else mark["type"]


def test_price_chart_panels_candles_markers_and_shared_zoom():
    bars = make_bars()
    fills = make_fills(bars, [40, 80, 120, 160, 200])
    trips = pd.DataFrame({"entry_ts_ns": fills["ts_event_ns"].iloc[[0, 2]].to_numpy(),
                          "exit_ts_ns": fills["ts_event_ns"].iloc[[1, 3]].to_numpy(),
                          "entry_price": [1.0, 2.0], "exit_price": [2.0, 1.0],
                          "pnl": [100.0, -100.0], "quantity": [100.0, 100.0],
                          "direction": ["LONG", "LONG"]})
    spec = spec_of(charts.price_chart(bars, fills, trips, plot_info=PLOT_INFO))
    panels = spec["vconcat"]
    # price, RSI, MACD, ATR, volume
    assert len(panels) == 5
    price = layers(panels[0])
    wick, body = price[0], price[1]
    assert mark_type(wick) == "rule" and wick["encoding"]["y"]["field"] == "low"
    assert wick["encoding"]["y2"]["field"] == "high"
    assert mark_type(body) == "bar" and body["encoding"]["y"]["field"] == "open"
    assert body["encoding"]["y2"]["field"] == "close"
    assert len(dataset(spec, wick)) == len(bars)

    markers = next(v for v in price if mark_type(v) == "point")
    rows = dataset(spec, markers)
    assert len(rows) == len(fills)
    assert {r["side"] for r in rows} == {"BUY", "SELL"}
    assert rows[0]["signal"] == "signal 0" and rows[0]["quantity"] == 100.0
    tooltip_fields = {t["field"] for t in markers["encoding"]["tooltip"]}
    assert {"time", "price", "quantity", "signal"} <= tooltip_fields

    overlay = next(v for v in price if mark_type(v) == "line")
    assert {r["indicator"] for r in dataset(spec, overlay)} == {"SMA(10)", "BB_UPPER(20,2.5)"}
    trips_layer = next(v for v in price[2:] if mark_type(v) == "rule")
    assert len(dataset(spec, trips_layer)) == 2

    panel_titles = [layers(p)[0]["encoding"]["y"]["axis"]["title"] for p in panels[1:]]
    assert panel_titles == ["RSI", "MACD", "ATR", "Volume"]
    macd_lines = next(v for v in layers(panels[2]) if mark_type(v) == "line")
    assert {r["indicator"] for r in dataset(spec, macd_lines)} == {"MACD(12,26,9)",
                                                                   "MACD_SIGNAL(12,26,9)"}
    assert layers(panels[1])[0]["encoding"]["y"]["scale"]["domain"] == [0, 100]

    # One zoom bound to the x scale of every panel's first view, by name.
    (zoom,) = spec["params"]
    assert zoom["name"] == charts.ZOOM and zoom["bind"] == "scales"
    assert zoom["select"]["encodings"] == ["x"]
    names = [layers(p)[0].get("name") for p in panels]
    assert zoom["views"] == names and len(set(names)) == len(panels)
    assert spec["autosize"] == {"type": "pad", "contains": "padding"}
    # Every sub-view has a width the page replaces with its container's (width="stretch"),
    # and nothing beside it: y labels inside the plot, no side padding.
    assert all(p.get("width", layers(p)[0].get("width")) == NOMINAL_WIDTH for p in panels)
    assert spec["padding"]["left"] == 0 and spec["padding"]["right"] < 0
    for panel in panels:
        axis = layers(panel)[0]["encoding"]["y"]["axis"]
        assert axis["labelPadding"] < 0 and axis["maxExtent"] == 0
    # only the bottom panel labels its dates
    assert layers(panels[-1])[0]["encoding"]["x"]["axis"].get("labels", True) is not False
    assert layers(panels[0])[0]["encoding"]["x"]["axis"]["labels"] is False


def test_price_chart_window_sets_the_x_domain_and_empty_bars_render():
    bars = make_bars(50)
    window = (bars["ts_event_ns"].iloc[5] / 1e6, bars["ts_event_ns"].iloc[20] / 1e6)
    axis = charts.bars_axis(bars, trading=False, window_ms=window)
    spec = spec_of(charts.price_chart(bars, None, None, axis=axis))
    domain = layers(spec["vconcat"][0])[0]["encoding"]["x"]["scale"]["domain"]
    assert [datetime_ms(d) for d in domain] == [round(w) for w in window]
    assert all(d["utc"] for d in domain)
    empty = spec_of(charts.price_chart(bars.iloc[0:0]))
    assert "No bars" in str(empty)


def test_too_many_fills_drop_the_markers_instead_of_flooding_the_chart():
    bars = make_bars(100)
    fills = make_fills(bars, list(range(100)))
    spec = spec_of(charts.price_chart(bars, fills, max_markers=50))
    assert not [v for v in layers(spec["vconcat"][0]) if mark_type(v) == "point"]


def test_indicator_layout_comes_from_the_recorded_plot_info():
    bars = make_bars(60)
    columns = charts.indicator_columns(bars)
    info = {"SMA(10)": {"overlay": True, "levels": [], "panel": "price"},
            "BB_UPPER(20,2.5)": {"overlay": True, "levels": [], "panel": "price"},
            "RSI(14)": {"overlay": False, "levels": [30, 70], "panel": "RSI"},
            "MACD(12,26,9)": {"overlay": False, "levels": [0], "panel": "MACD"},
            "MACD_SIGNAL(12,26,9)": {"overlay": False, "levels": [0], "panel": "MACD"}}
    layout = charts.layout(columns, info)
    assert layout.overlays == ["SMA(10)", "BB_UPPER(20,2.5)"]
    assert list(layout.panels) == ["RSI", "MACD", "ATR"]  # ATR: no info, a panel of its own
    assert layout.panels["MACD"] == ["MACD(12,26,9)", "MACD_SIGNAL(12,26,9)"]
    assert layout.levels == {"RSI": [30.0, 70.0], "MACD": [0.0], "ATR": []}
    # nothing recorded: nothing guessed onto the price panel
    assert charts.layout(columns).overlays == []
    assert charts.indicator_label("SMA Crossover: SMA(10)") == "SMA"
    assert "bar_count" not in columns


def test_trading_time_spaces_bars_evenly_and_collapses_gaps():
    # minute bars of two sessions with a night between them
    day1 = START_NS + 14 * 3_600 * 10**9 + np.arange(30, dtype=np.int64) * 60 * 10**9
    day2 = day1 + DAY_NS
    bars = make_bars(60)
    bars["ts_event_ns"] = np.r_[day1, day2]
    fills = make_fills(bars, [10, 45])
    axis = charts.bars_axis(bars, trading=True)
    spec = spec_of(charts.price_chart(bars, fills, axis=axis))
    wick = layers(spec["vconcat"][0])[0]
    assert wick["encoding"]["x"]["field"] == "pos"
    assert wick["encoding"]["x"]["type"] == "quantitative"
    positions = [r["pos"] for r in dataset(spec, wick)]
    assert positions == list(range(60))  # the night is one step, like any other bar
    markers = next(v for v in layers(spec["vconcat"][0]) if mark_type(v) == "point")
    assert [r["pos"] for r in dataset(spec, markers)] == [10, 45]
    bottom = layers(spec["vconcat"][-1])[0]["encoding"]["x"]["axis"]
    assert bottom["values"] == [0, 30]  # a label at each session start
    # calendar time keeps the gap: the night stays as wide as it was
    calendar = spec_of(charts.price_chart(bars, axis=charts.bars_axis(bars, trading=False)))
    assert layers(calendar["vconcat"][0])[0]["encoding"]["x"]["type"] == "temporal"


def test_equity_chart_carries_the_curve_and_drawdown_in_percent():
    curve = pd.DataFrame({"ts_event_ns": START_NS + np.arange(5) * DAY_NS,
                          "equity": [100.0, 110.0, 99.0, 120.0, 90.0]})
    curve["drawdown"] = curve["equity"] / curve["equity"].cummax() - 1
    bench = pd.DataFrame({"ts_event_ns": curve["ts_event_ns"], "equity": 100.0})
    spec = spec_of(charts.equity_chart(curve, benchmark=bench))
    eq_view, dd_view = (layers(p)[0] for p in spec["vconcat"])
    rows = dataset(spec, eq_view)
    strategy = [r["equity"] for r in rows if r["series"] == "Strategy"]
    assert strategy == curve["equity"].tolist()
    assert [r["equity"] for r in rows if r["series"] == "Buy & hold"] == [100.0] * 5
    assert [round(r["drawdown_pct"], 6) for r in dataset(spec, dd_view)] == \
        [round(v * 100, 6) for v in curve["drawdown"]]
    assert spec["params"][0]["views"] == [eq_view["name"], dd_view["name"]]


def test_normalised_equity_starts_every_run_at_100_and_compare_chart_colours_runs():
    a = pd.DataFrame({"ts_event_ns": START_NS + np.arange(300) * DAY_NS,
                      "equity": np.linspace(50_000, 75_000, 300), "drawdown": 0.0})
    b = pd.DataFrame({"ts_event_ns": START_NS + np.arange(4) * DAY_NS,
                      "equity": [1e6, 9e5, 1.1e6, 1.2e6], "drawdown": [0, -0.1, 0, 0]})
    frame = charts.normalised_equity({"A · a": a, "B · b": b})
    assert frame.groupby("run")["value"].first().tolist() == [100.0, 100.0]
    assert frame[frame["run"] == "A · a"]["value"].iloc[-1] == pytest.approx(150.0)
    assert len(frame[frame["run"] == "A · a"]) == 300
    colors = fmt.run_colors(["A · a", "B · b"])
    spec = spec_of(charts.compare_chart(frame, colors))
    color = layers(spec["vconcat"][0])[0]["encoding"]["color"]["scale"]
    assert color == {"domain": ["A · a", "B · b"], "range": [colors["A · a"], colors["B · b"]]}


def test_zoom_window_reads_what_streamlit_reports():
    assert charts.zoom_window({"zoom": {"t": [1.0e12, 1.5e12]}}) == (1.0e12, 1.5e12)
    assert charts.zoom_window({"zoom": {}}) is None
    assert charts.zoom_window({}) is None
    assert charts.zoom_window(None) is None
    assert charts.zoom_window({"zoom": {"t": [5.0, 1.0]}}) is None
    assert charts.ms_to_ns(1.5) == 1_500_000


def test_best_index_knows_which_way_is_better():
    assert fmt.best_index([1.0, 3.0, 2.0], "higher") == [1]
    assert fmt.best_index([1.0, 3.0, 2.0], "lower") == [0]
    assert fmt.best_index([-30.0, -5.0, -12.0], "closer_to_zero") == [1]
    assert fmt.best_index([30.0, 5.0, 12.0], "closer_to_zero") == [1]
    assert fmt.best_index([1.0, None, float("nan")], "higher") == []  # one number: no contest
    assert fmt.best_index([2.0, 2.0], "higher") == []  # all equal: nothing stands out
    assert fmt.best_index([1.0, 2.0], None) == []
    assert fmt.best_index([pd.Timedelta(days=3), pd.Timedelta(days=1)], "lower") == [1]


def test_config_diff_lists_only_differing_settings():
    base = {"strategies": [{"class": "SMACrossover", "parameters": {"fast_period": 10,
                                                                    "slow_period": 30}}],
            "symbols": ["ACME"], "broker": {"initial_cash": 100_000.0}}
    other = {"strategies": [{"class": "SMACrossover", "parameters": {"fast_period": 20,
                                                                     "slow_period": 30}}],
             "symbols": ["ACME"], "broker": {"initial_cash": 100_000.0, "slippage_bps": 2.0}}
    diff = fmt.config_diff({"A": base, "B": other})
    assert diff.index.tolist() == ["strategy.parameters.fast_period", "broker.slippage_bps"]
    assert diff.loc["strategy.parameters.fast_period"].tolist() == ["10", "20"]
    assert diff.loc["broker.slippage_bps"].tolist() == ["(not set)", "2.0"]
    assert fmt.config_diff({"A": base, "B": base}).empty


def test_formatting_of_statistics_and_times():
    assert fmt.format_stat("total_return_pct", 12.3456) == "12.35%"
    assert fmt.format_stat("equity_final", -1234.5) == "-$1,234.50"
    assert fmt.format_stat("trades", 12.0) == "12"
    assert fmt.format_stat("sharpe", float("nan")) == "–"
    assert fmt.format_stat("profit_factor", float("inf")) == "∞"
    assert fmt.format_duration(pd.Timedelta(days=3, hours=4)) == "3d 4h"
    assert fmt.format_duration(dt.timedelta(minutes=90)) == "1h 30m"
    assert fmt.format_ts(START_NS) == "2024-01-01"
    assert fmt.format_ts(START_NS + 90 * 60 * 10**9) == "2024-01-01 01:30"
    assert [fmt.run_letter(i) for i in (0, 1, 25, 26)] == ["A", "B", "Z", "AA"]
    text = fmt.stat_convention({"periods_per_year": 252, "risk_free_rate": 0.02})
    assert "252 periods a year" in text and "risk-free rate 2%" in text


def test_vectorised_durations_match_the_single_formatter():
    values = [0, 59 * 10**9, 3_600 * 10**9, 5_400 * 10**9, 86_400 * 10**9,
              (3 * 86_400 + 4 * 3_600 + 7 * 60) * 10**9, None]
    expected = [fmt.format_duration(pd.Timedelta(v, unit="ns")) if v is not None else "–"
                for v in values]
    assert fmt.format_durations(pd.Series(values)).tolist() == expected
    table = fmt.readable_times(pd.DataFrame({
        "entry_ts_ns": [START_NS], "entry_time": [pd.Timestamp(START_NS)],
        "duration_ns": [DAY_NS], "run_id": ["x"]}))
    assert list(table.columns) == ["entry", "duration"]
    assert table["entry"].iloc[0] == pd.Timestamp("2024-01-01")
    assert table["duration"].iloc[0] == "1d"


def test_reproduce_command_repeats_the_run():
    config = {"strategies": [{"class": "SMACrossover", "parameters": {
        "bar_period": "DAY", "fast_period": 10}}], "symbols": ["ACME", "GLOBX"],
        "broker": {"commission_per_unit": 0.01, "initial_cash": 50_000.0},
        "datafeed": {"start_ns": START_NS, "end_ns": None, "publisher_name": ""}}
    assert fmt.reproduce_command(config) == (
        "python -m tradecore run SMACrossover --symbols ACME,GLOBX --period DAY "
        "--param fast_period=10 --start 2024-01-01 --commission 0.01 --cash 50000")
