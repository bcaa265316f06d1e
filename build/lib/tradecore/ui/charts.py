"""Altair charts of runs: pure functions from DataFrames to charts, testable without Streamlit.

Every chart plots time on a UTC ``t`` field and carries at most about ``MAX_POINTS`` rows a
series (callers down-sample in SQL; ``downsample`` covers what arrives dense). Multi-panel
figures share one x zoom: a scale-bound interval named ``ZOOM`` added to every panel, so the
wheel or a drag on any panel zooms and pans them all, and ``st.altair_chart(on_select=...)``
reports the visible window as ``{"zoom": {"t": [start_ms, end_ms]}}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

MAX_POINTS = 2000
ZOOM = "zoom"
DEFAULT_WIDTH = 860  # fits the wide layout of a 1440 px window, axis labels included
#: Y axes reserve the same room in every panel so stacked panels line up on the x axis.
Y_AXIS_EXTENT = 64

UP, DOWN = "#26a69a", "#ef5350"
BUY, SELL = "#2962ff", "#ff6d00"
WIN, LOSS = "#26a69a", "#ef5350"
EQUITY, BENCHMARK, DRAWDOWN = "#2962ff", "#9e9e9e", "#ef5350"
OVERLAY_COLORS = ("#ff9800", "#7e57c2", "#00897b", "#ec407a", "#8d6e63", "#5c6bc0")

#: Date labels by the size of the step between ticks, 24-hour clock (Vega multi-format).
TIME_FORMAT = {"year": "%Y", "quarter": "%b %Y", "month": "%b %Y", "week": "%d %b",
               "date": "%d %b", "hours": "%H:%M", "minutes": "%H:%M", "seconds": "%H:%M:%S",
               "milliseconds": "%H:%M:%S.%L"}

#: Indicator labels (the part of a name before "(") drawn over prices when the indicator
#: registry cannot say: moving averages and bands.
OVERLAY_LABELS = frozenset({"SMA", "EMA", "WMA", "DEMA", "TEMA", "KAMA", "VWAP", "BB_UPPER",
                            "BB_LOWER", "BB_MIDDLE", "KC_UPPER", "KC_LOWER", "DONCHIAN_UPPER",
                            "DONCHIAN_LOWER", "SAR"})
#: Oscillator panels: labels that share a panel, and fixed reference lines per panel.
PANEL_OF_LABEL = {"MACD_SIGNAL": "MACD", "MACD_HIST": "MACD"}
REFERENCE_LINES = {"RSI": (30.0, 70.0), "MACD": (0.0,), "ROC": (0.0,)}
BAR_COLUMNS = ("ts_event_ns", "t", "time", "symbol", "strategy", "bar_period", "open", "high",
               "low", "close", "volume", "ts_created_ns", "run_id", "bucket", "bar_count", "n_bars",
               "count")

_LABEL = re.compile(r"^\s*([^(]+?)\s*(\(|$)")


# -- data preparation -----------------------------------------------------------------------


def with_time(frame: pd.DataFrame, ns_column: str = "ts_event_ns") -> pd.DataFrame:
    """A copy with a ``t`` datetime column (from ``ns_column``) and a ``time`` text column."""
    out = frame.copy()
    if "t" not in out.columns or not pd.api.types.is_datetime64_any_dtype(out["t"]):
        if ns_column in out.columns:
            out["t"] = pd.to_datetime(out[ns_column].astype("int64"), unit="ns")
        elif "t" in out.columns:
            out["t"] = pd.to_datetime(out["t"])
        else:
            raise KeyError(f"no time column: expected {ns_column!r} or 't'")
    out["t"] = out["t"].astype("datetime64[ns]")
    intraday = bool(len(out)) and bool((out["t"] != out["t"].dt.normalize()).any())
    out["time"] = out["t"].dt.strftime("%Y-%m-%d %H:%M" if intraday else "%Y-%m-%d")
    return out


def downsample(frame: pd.DataFrame, max_points: int = MAX_POINTS, *,
               ts_column: str = "ts_event_ns", lowest: Sequence[str] = (),
               highest: Sequence[str] = ()) -> pd.DataFrame:
    """At most ``max_points`` rows in time order: one a bucket of consecutive rows, the bucket's
    last row, with ``lowest`` columns taken as the bucket minimum (drawdowns keep their depth)
    and ``highest`` as the maximum."""
    n = len(frame)
    if n <= max_points:
        return frame.reset_index(drop=True)
    ordered = frame.sort_values(ts_column, kind="stable").reset_index(drop=True)
    # The first row stays as it is (a curve keeps its starting value); the rest in buckets.
    rest = ordered.iloc[1:]
    buckets = max(1, max_points - 1)
    bucket = np.arange(len(rest), dtype=np.int64) * buckets // len(rest)
    grouped = rest.groupby(bucket, sort=True)
    out = grouped.last()
    for column in lowest:
        out[column] = grouped[column].min()
    for column in highest:
        out[column] = grouped[column].max()
    return pd.concat([ordered.iloc[:1], out], ignore_index=True)


def indicator_label(name: str) -> str:
    """``"BB_UPPER(20,2)"`` -> ``"BB_UPPER"`` (also ``"<strategy>: BB_UPPER(20,2)"``, the
    name analytics gives an indicator two strategies of a run share)."""
    text = str(name)
    head, sep, _ = text.partition("(")
    if ": " in head:
        text = head.rsplit(": ", 1)[1] + sep + text[len(head) + len(sep):]
    match = _LABEL.match(text)
    return match.group(1).strip() if match else str(name)


def _registry_overlays() -> dict[str, bool]:
    """``{label: plot_in_price_panel}`` of every registered indicator."""
    try:
        from tradecore.indicators import get_registered_indicators
    except ImportError:  # the charts stay usable without the engine
        return {}
    found: dict[str, bool] = {}
    for name, cls in get_registered_indicators().items():
        flag = bool(getattr(cls, "plot_in_price_panel", False))
        found[name.upper()] = flag
        label = getattr(cls, "label", "")
        if isinstance(label, str) and label:
            found[label.upper()] = flag
    return found


def indicator_columns(bars: pd.DataFrame) -> list[str]:
    """The indicator columns of a ``bars`` frame: every numeric column that is not OHLCV/time."""
    return [c for c in bars.columns if c not in BAR_COLUMNS
            and (pd.api.types.is_numeric_dtype(bars[c]) or bars[c].isna().all())]


def split_indicators(names: Sequence[str], bars: pd.DataFrame | None = None
                     ) -> tuple[list[str], dict[str, list[str]]]:
    """``(overlays, panels)``: indicators drawn over prices, and oscillator panels by label.

    An indicator is an overlay if its registered class says ``plot_in_price_panel``; a name
    the registry does not know is an overlay when its label is a known moving average/band or,
    failing that, when its values lie within the price range of ``bars``.
    """
    registry = _registry_overlays()
    overlays: list[str] = []
    panels: dict[str, list[str]] = {}
    low = high = None
    if bars is not None and len(bars) and {"low", "high"} <= set(bars.columns):
        low, high = float(bars["low"].min()), float(bars["high"].max())
    for name in names:
        label = indicator_label(name).upper()
        if label in registry:
            overlay = registry[label]
        elif label in OVERLAY_LABELS:
            overlay = True
        elif low is not None and bars is not None and name in bars.columns:
            values = pd.to_numeric(bars[name], errors="coerce").dropna()
            span = high - low
            overlay = bool(len(values)) and bool(values.between(low - span, high + span).all()) \
                and float(values.median()) > low - 0.25 * span
        else:
            overlay = False
        if overlay:
            overlays.append(name)
        else:
            panels.setdefault(PANEL_OF_LABEL.get(label, label), []).append(name)
    return overlays, panels


def _long(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``t, time, indicator, value`` rows of ``columns`` (NaN warm-up rows dropped)."""
    if not columns:
        return pd.DataFrame({"t": pd.Series(dtype="datetime64[ns]"), "time": pd.Series(dtype=str),
                             "indicator": pd.Series(dtype=str), "value": pd.Series(dtype=float)})
    long = frame[["t", "time", *columns]].melt(id_vars=["t", "time"], value_vars=list(columns),
                                               var_name="indicator", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    return long.dropna(subset=["value"]).reset_index(drop=True)


# -- shared pieces --------------------------------------------------------------------------


def utc_datetime(ms: float) -> alt.DateTime:
    """Epoch milliseconds as a Vega-Lite UTC DateTime (a temporal domain given as plain numbers
    is not read as epoch ms by Vega-Lite: the chart comes out empty)."""
    stamp = pd.Timestamp(int(round(ms)), unit="ms")
    return alt.DateTime(year=stamp.year, month=stamp.month, date=stamp.day, hours=stamp.hour,
                        minutes=stamp.minute, seconds=stamp.second,
                        milliseconds=stamp.microsecond // 1000, utc=True)


def _x(window_ms: tuple[float, float] | None, *, labels: bool, field: str = "t") -> alt.X:
    """The shared time axis. A window (the zoom) goes on the first view of each panel only:
    the panels share the scale, and repeating it makes Vega-Lite warn about conflicts."""
    scale = (alt.Scale(type="utc", domain=[utc_datetime(window_ms[0]), utc_datetime(window_ms[1])])
             if window_ms else alt.Scale(type="utc"))
    axis = alt.Axis(title=None, labels=labels, ticks=labels, grid=True, format=TIME_FORMAT,
                    labelFlush=True, tickCount=8) if labels else alt.Axis(
        title=None, labels=False, ticks=False, domain=False, grid=True)
    return alt.X(f"{field}:T", scale=scale, axis=axis)


def zoom_param() -> alt.Parameter:
    return alt.selection_interval(bind="scales", encodings=["x"], name=ZOOM)


def _stack(panels: list[alt.Chart], zoom: alt.Parameter) -> alt.VConcatChart:
    """Panels stacked with one shared x zoom (see the module docstring).

    The zoom is declared once at the top with the names of the views it binds: the first
    layer of every panel (the one with the x encoding; the others share its scales). Done by
    hand rather than with ``add_params`` on every panel, which makes Altair warn about a
    duplicate (vega/altair#3916) and list view names from earlier serialisations.
    """
    # "panel_<i>": Altair renames named layers of a concat to "<base>_<position>"; this name
    # is its own rename, so the views listed below keep matching.
    names = [f"panel_{i}" for i in range(len(panels))]
    named = [_named_first_view(panel, name) for panel, name in zip(panels, names, strict=True)]
    chart = alt.vconcat(*named, spacing=6).resolve_scale(x="shared")
    chart.params = [alt.TopLevelSelectionParameter(
        name=zoom.name, select=alt.IntervalSelectionConfig(type="interval", encodings=["x"]),
        bind="scales", views=names)]
    # "pad": every panel exactly its given width (Streamlit would otherwise pick "fit-x" or
    # "fit", which stretches plain panels but not layered ones, so stacks stop lining up).
    chart = chart.properties(autosize=alt.AutoSizeParams(type="pad", contains="padding"))
    return (chart.configure_axisY(minExtent=Y_AXIS_EXTENT, maxExtent=Y_AXIS_EXTENT,
                                  labelFontSize=11, gridOpacity=0.5)
            .configure_axisX(labelFontSize=11, gridOpacity=0.35)
            .configure_view(stroke="#e0e0e0")
            .configure_legend(orient="top-left", direction="horizontal", labelFontSize=11,
                              title=None, fillColor="#ffffffcc", padding=4, symbolSize=80))


def _named_first_view(panel: alt.Chart | alt.LayerChart, name: str) -> alt.TopLevelMixin:
    if isinstance(panel, alt.LayerChart):
        layers = list(panel.layer)
        layers[0] = layers[0].properties(name=name)
        linked = panel.copy(deep=False)
        linked.layer = layers
        return linked
    return panel.properties(name=name)


def _candle_size(n: int, width: int) -> float:
    return float(max(1.0, min(12.0, width / max(n, 1) * 0.7)))


def _empty_panel(width: int, height: int, text: str) -> alt.Chart:
    return (alt.Chart(pd.DataFrame({"text": [text]})).mark_text(color="#757575")
            .encode(text="text:N").properties(width=width, height=height))


# -- price figure ---------------------------------------------------------------------------


def price_chart(bars: pd.DataFrame, fills: pd.DataFrame | None = None,
                round_trips: pd.DataFrame | None = None, *, width: int = DEFAULT_WIDTH,
                price_height: int = 340, panel_height: int = 110, volume_height: int = 80,
                window_ms: tuple[float, float] | None = None,
                max_markers: int = MAX_POINTS) -> alt.VConcatChart | alt.Chart:
    """Candlesticks with indicator overlays, buy/sell markers and round-trip lines; one panel
    per oscillator family; volume at the bottom. All panels share the x zoom.

    ``bars``: ``ts_event_ns`` (or ``t``), open/high/low/close/volume and indicator columns.
    ``fills``: ``ts_event_ns, side, fill_price, quantity_filled`` (+ ``signal``,
    ``commission``). ``round_trips``: ``entry_ts_ns, exit_ts_ns, entry_price, exit_price, pnl``.
    """
    zoom = zoom_param()
    if bars is None or bars.empty:
        return _empty_panel(width, price_height, "No bars recorded yet")
    data = with_time(bars)
    overlays, panels = split_indicators(indicator_columns(data), data)
    candles = data[["t", "time", "open", "high", "low", "close", "volume"]].copy()
    candles["change_pct"] = (candles["close"] / candles["open"] - 1.0) * 100.0
    size = _candle_size(len(candles), width)
    up = "datum.close >= datum.open"
    color = alt.condition(up, alt.value(UP), alt.value(DOWN))
    candle_tooltip = [alt.Tooltip("time:N", title="Time"),
                      alt.Tooltip("open:Q", title="Open", format=",.4~f"),
                      alt.Tooltip("high:Q", title="High", format=",.4~f"),
                      alt.Tooltip("low:Q", title="Low", format=",.4~f"),
                      alt.Tooltip("close:Q", title="Close", format=",.4~f"),
                      alt.Tooltip("change_pct:Q", title="Change %", format="+.2f"),
                      alt.Tooltip("volume:Q", title="Volume", format=",.0f")]
    base = alt.Chart(candles).encode(x=_x(window_ms, labels=False))
    y_price = alt.Y("low:Q", scale=alt.Scale(zero=False, nice=False, padding=8),
                    axis=alt.Axis(title="Price", format=",.4~f", tickCount=6))
    wick = base.mark_rule(clip=True, strokeWidth=1).encode(
        y=y_price, y2="high:Q", color=color, tooltip=candle_tooltip)
    body = base.mark_bar(clip=True, size=size, stroke=None).encode(
        y="open:Q", y2="close:Q", color=color, tooltip=candle_tooltip)
    layers: list[alt.Chart] = [wick, body]

    if overlays:
        long = _long(data, overlays)
        layers.append(
            alt.Chart(long).mark_line(clip=True, strokeWidth=1.4, opacity=0.9).encode(
                x=_x(None, labels=False), y="value:Q",
                color=alt.Color("indicator:N", scale=alt.Scale(
                    domain=list(overlays),
                    range=list(OVERLAY_COLORS[: max(1, len(overlays))] * 2)[: len(overlays)]),
                    legend=alt.Legend(title=None)),
                detail="indicator:N",
                tooltip=[alt.Tooltip("time:N", title="Time"),
                         alt.Tooltip("indicator:N", title="Indicator"),
                         alt.Tooltip("value:Q", title="Value", format=",.4~f")]))

    # Beyond max_markers fills the markers would hide the candles (and cost a lot): the
    # caller says "zoom in to see them"; zoomed in, the window holds fewer.
    crowded = fills is not None and len(fills) > max_markers
    markers = fill_markers(None if crowded else fills)
    if round_trips is not None and not round_trips.empty and not crowded:
        trips = trip_lines(round_trips)
        if not trips.empty:
            layers.append(
                alt.Chart(trips).mark_rule(clip=True, strokeDash=[4, 3], strokeWidth=1.5,
                                           opacity=0.8)
                .encode(x=_x(None, labels=False, field="entry_t"), x2="exit_t:T",
                        y="entry_price:Q", y2="exit_price:Q",
                        color=alt.condition("datum.pnl > 0", alt.value(WIN), alt.value(LOSS)),
                        tooltip=[alt.Tooltip("entry_time:N", title="Entry"),
                                 alt.Tooltip("exit_time:N", title="Exit"),
                                 alt.Tooltip("direction:N", title="Direction"),
                                 alt.Tooltip("quantity:Q", title="Quantity", format=",.4~f"),
                                 alt.Tooltip("pnl:Q", title="P&L", format=",.2f")]))
    if not markers.empty:
        layers.append(
            alt.Chart(markers).mark_point(clip=True, filled=True, size=110, opacity=1,
                                          stroke="white", strokeWidth=0.8).encode(
                x=_x(None, labels=False), y="price:Q",
                shape=alt.Shape("side:N", scale=alt.Scale(
                    domain=["BUY", "SELL"], range=["triangle-up", "triangle-down"]),
                    legend=None),
                color=alt.Color("side:N", scale=alt.Scale(domain=["BUY", "SELL"],
                                                          range=[BUY, SELL]), legend=None),
                tooltip=[alt.Tooltip("time:N", title="Time"), alt.Tooltip("side:N", title="Side"),
                         alt.Tooltip("price:Q", title="Price", format=",.4~f"),
                         alt.Tooltip("quantity:Q", title="Quantity", format=",.4~f"),
                         alt.Tooltip("signal:N", title="Signal"),
                         alt.Tooltip("commission:Q", title="Commission", format=",.2f")]))
    price = alt.layer(*layers).resolve_scale(color="independent").properties(
        width=width, height=price_height)

    stack: list[alt.Chart] = [price]
    for panel, columns in panels.items():
        stack.append(oscillator_panel(data, panel, columns, width=width, height=panel_height,
                                      window_ms=window_ms))
    volume = base.mark_bar(clip=True, size=size, opacity=0.55).encode(
        y=alt.Y("volume:Q", axis=alt.Axis(title="Volume", format="~s", tickCount=3)),
        color=color, tooltip=candle_tooltip)
    stack.append(volume.properties(width=width, height=volume_height))
    _label_bottom_axis(stack, window_ms)
    return _stack(stack, zoom)


def _label_bottom_axis(stack: list[alt.Chart], window_ms: tuple[float, float] | None) -> None:
    """Only the bottom panel shows dates (the panels share them)."""
    bottom = stack[-1]
    stack[-1] = bottom.encode(x=_x(window_ms, labels=True))


def oscillator_panel(data: pd.DataFrame, panel: str, columns: Sequence[str], *,
                     width: int = DEFAULT_WIDTH, height: int = 110,
                     window_ms: tuple[float, float] | None = None) -> alt.LayerChart:
    """One panel of oscillator lines (histograms drawn as bars), with reference lines."""
    lines = [c for c in columns if indicator_label(c).upper() != "MACD_HIST"]
    hists = [c for c in columns if indicator_label(c).upper() == "MACD_HIST"]
    colors = dict(zip(columns, OVERLAY_COLORS * 2, strict=False))
    y_axis = alt.Axis(title=panel, tickCount=3, format="d" if panel == "RSI" else ",.3~r")
    scale = alt.Scale(domain=[0, 100]) if panel == "RSI" else alt.Scale(zero=False, nice=True)
    tooltip = [alt.Tooltip("time:N", title="Time"), alt.Tooltip("indicator:N", title="Indicator"),
               alt.Tooltip("value:Q", title="Value", format=",.4~f")]
    layers: list[alt.Chart] = []
    if hists:
        layers.append(alt.Chart(_long(data, hists)).mark_bar(clip=True, opacity=0.45).encode(
            x=_x(window_ms, labels=False), y=alt.Y("value:Q", axis=y_axis, scale=scale),
            color=alt.condition("datum.value >= 0", alt.value(UP), alt.value(DOWN)),
            tooltip=tooltip))
    if lines:
        layers.append(alt.Chart(_long(data, lines)).mark_line(clip=True, strokeWidth=1.3).encode(
            x=_x(None if hists else window_ms, labels=False),
            y=alt.Y("value:Q", axis=y_axis, scale=scale),
            color=alt.Color("indicator:N", scale=alt.Scale(
                domain=list(lines), range=[colors[c] for c in lines]),
                legend=alt.Legend(title=None)),
            tooltip=tooltip))
    for level in REFERENCE_LINES.get(panel, ()):
        layers.append(alt.Chart(pd.DataFrame({"level": [level]})).mark_rule(clip=True,
            color="#9e9e9e", strokeDash=[3, 3], strokeWidth=1).encode(y="level:Q"))
    return alt.layer(*layers).resolve_scale(color="independent").properties(
        width=width, height=height)


def fill_markers(fills: pd.DataFrame | None) -> pd.DataFrame:
    """``t, time, side, price, quantity, signal, commission`` of every fill given."""
    columns = ["t", "time", "side", "price", "quantity", "signal", "commission"]
    if fills is None or fills.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "t" else object)
                             for c in columns})
    out = with_time(fills)
    out["side"] = out["side"].astype(str).str.upper()
    out["price"] = out["fill_price"].astype(float)
    out["quantity"] = out["quantity_filled"].astype(float)
    out["signal"] = out["signal"].fillna("").astype(str) if "signal" in out else ""
    out["commission"] = out["commission"].astype(float) if "commission" in out else 0.0
    return out[columns].reset_index(drop=True)


def trip_lines(round_trips: pd.DataFrame) -> pd.DataFrame:
    """Entry-to-exit segments of round trips (open ones end at their mark)."""
    trips = round_trips.dropna(subset=["entry_ts_ns", "exit_ts_ns"]).copy()
    if trips.empty:
        return pd.DataFrame()
    trips["entry_t"] = pd.to_datetime(trips["entry_ts_ns"].astype("int64"), unit="ns")
    trips["exit_t"] = pd.to_datetime(trips["exit_ts_ns"].astype("int64"), unit="ns")
    fmt = "%Y-%m-%d %H:%M"
    trips["entry_time"] = trips["entry_t"].dt.strftime(fmt)
    trips["exit_time"] = trips["exit_t"].dt.strftime(fmt)
    if "direction" not in trips:
        trips["direction"] = ""
    keep = ["entry_t", "exit_t", "entry_time", "exit_time", "entry_price", "exit_price",
            "pnl", "quantity", "direction"]
    trips["direction"] = trips["direction"].astype(str)
    return trips[[c for c in keep if c in trips.columns]].reset_index(drop=True)


# -- equity figure --------------------------------------------------------------------------


def equity_chart(equity: pd.DataFrame, *, benchmark: pd.DataFrame | None = None,
                 width: int = DEFAULT_WIDTH, equity_height: int = 220,
                 drawdown_height: int = 110,
                 window_ms: tuple[float, float] | None = None) -> alt.VConcatChart | alt.Chart:
    """Equity (with an optional buy & hold line) above its drawdown, sharing the x zoom.

    ``equity``: ``ts_event_ns, equity, drawdown`` (drawdown a fraction <= 0).
    ``benchmark``: ``ts_event_ns, equity`` of buy & hold on the same initial cash.
    """
    zoom = zoom_param()
    if equity is None or equity.empty:
        return _empty_panel(width, equity_height, "No equity recorded yet")
    data = with_time(equity)
    data["drawdown_pct"] = data["drawdown"].astype(float) * 100.0
    series = data[["t", "time", "equity"]].assign(series="Strategy")
    domain, colors = ["Strategy"], [EQUITY]
    if benchmark is not None and not benchmark.empty:
        bench = with_time(benchmark)[["t", "time", "equity"]].assign(series="Buy & hold")
        series = pd.concat([series, bench], ignore_index=True)
        domain.append("Buy & hold")
        colors.append(BENCHMARK)
    line = alt.Chart(series).mark_line(clip=True, strokeWidth=1.6).encode(
        x=_x(window_ms, labels=False),
        y=alt.Y("equity:Q", scale=alt.Scale(zero=False),
                axis=alt.Axis(title="Equity", format="$~s", tickCount=5)),
        color=alt.Color("series:N", scale=alt.Scale(domain=domain, range=colors),
                        legend=alt.Legend(title=None) if len(domain) > 1 else None),
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=domain,
                                                              range=[[1, 0], [5, 3]]),
                                  legend=None),
        tooltip=[alt.Tooltip("time:N", title="Time"), alt.Tooltip("series:N", title="Series"),
                 alt.Tooltip("equity:Q", title="Equity", format="$,.2f")])
    eq = line.properties(width=width, height=equity_height)
    dd = alt.Chart(data[["t", "time", "drawdown_pct"]]).mark_area(clip=True,
        color=DRAWDOWN, opacity=0.35, line={"color": DRAWDOWN, "strokeWidth": 1}).encode(
        x=_x(window_ms, labels=True),
        y=alt.Y("drawdown_pct:Q",
                axis=alt.Axis(title="Drawdown %", format=",.3~r", tickCount=3)),
        tooltip=[alt.Tooltip("time:N", title="Time"),
                 alt.Tooltip("drawdown_pct:Q", title="Drawdown %", format=".2f")],
    ).properties(width=width, height=drawdown_height)
    return _stack([eq, dd], zoom)


def buy_and_hold(bars: pd.DataFrame, initial_cash: float) -> pd.DataFrame:
    """Equity of putting ``initial_cash`` into the symbol at the first close (no costs)."""
    if bars is None or bars.empty:
        return pd.DataFrame({"ts_event_ns": [], "equity": []})
    data = bars.sort_values("ts_event_ns")
    first = float(data["close"].iloc[0])
    return pd.DataFrame({"ts_event_ns": data["ts_event_ns"].to_numpy(),
                         "equity": initial_cash * data["close"].to_numpy(float) / first})


# -- comparison -----------------------------------------------------------------------------


def normalised_equity(curves: Mapping[str, pd.DataFrame], base: float = 100.0,
                      max_points: int = MAX_POINTS) -> pd.DataFrame:
    """``run, t, time, value, drawdown_pct`` with each run's equity rebased to ``base``."""
    parts = []
    for label, curve in curves.items():
        if curve is None or curve.empty:
            continue
        curve = downsample(curve.sort_values("ts_event_ns"), max_points, lowest=["drawdown"])
        data = with_time(curve)
        first = float(curve["equity"].iloc[0])
        data["value"] = curve["equity"].to_numpy(float) / first * base if first else np.nan
        data["drawdown_pct"] = curve["drawdown"].to_numpy(float) * 100.0
        data["run"] = label
        parts.append(data[["run", "t", "time", "value", "drawdown_pct"]])
    if not parts:
        return pd.DataFrame(columns=["run", "t", "time", "value", "drawdown_pct"])
    return pd.concat(parts, ignore_index=True)


def compare_chart(normalised: pd.DataFrame, colors: Mapping[str, str], *,
                  width: int = DEFAULT_WIDTH, equity_height: int = 300,
                  drawdown_height: int = 140) -> alt.VConcatChart:
    """Overlaid normalised equity (start = 100) above overlaid drawdowns; one colour a run."""
    zoom = zoom_param()
    labels = list(colors)
    color = alt.Color("run:N", scale=alt.Scale(domain=labels, range=[colors[k] for k in labels]),
                      legend=alt.Legend(title=None, orient="top", direction="vertical",
                                        labelLimit=600))
    base = alt.Chart(normalised).encode(color=color)
    tooltip = [alt.Tooltip("run:N", title="Run"), alt.Tooltip("time:N", title="Time"),
               alt.Tooltip("value:Q", title="Equity (start = 100)", format=",.2f"),
               alt.Tooltip("drawdown_pct:Q", title="Drawdown %", format=".2f")]
    eq = base.mark_line(clip=True, strokeWidth=1.6).encode(
        x=_x(None, labels=False),
        y=alt.Y("value:Q", scale=alt.Scale(zero=False),
                axis=alt.Axis(title="Equity (start = 100)", tickCount=5)),
        tooltip=tooltip).properties(width=width, height=equity_height)
    start = alt.Chart(pd.DataFrame({"level": [100.0]})).mark_rule(clip=True,
        color="#9e9e9e", strokeDash=[3, 3]).encode(y="level:Q")
    dd = base.mark_line(clip=True, strokeWidth=1.2).encode(
        x=_x(None, labels=True),
        y=alt.Y("drawdown_pct:Q",
                axis=alt.Axis(title="Drawdown %", format=",.3~r", tickCount=3)),
        tooltip=tooltip).properties(width=width, height=drawdown_height)
    chart = _stack([alt.layer(eq, start), dd], zoom)
    return chart.configure_legend(orient="top", direction="vertical", title=None,
                                  labelLimit=600, fillColor=None)


# -- helpers for callers --------------------------------------------------------------------


def zoom_window(selection: Mapping | None) -> tuple[float, float] | None:
    """The ``(start_ms, end_ms)`` an ``st.altair_chart(on_select=...)`` selection reports."""
    if not selection:
        return None
    zoom = selection.get(ZOOM) if isinstance(selection, Mapping) else None
    if not zoom:
        return None
    values = zoom.get("t") if isinstance(zoom, Mapping) else None
    if not values or len(values) != 2:
        return None
    start, end = float(values[0]), float(values[1])
    if not np.isfinite(start) or not np.isfinite(end) or end <= start:
        return None
    return start, end


def ms_to_ns(ms: float) -> int:
    return int(round(ms * 1_000_000))
