"""The price figure of a run: candlesticks with indicator overlays, fill markers and
round-trip lines, a panel per oscillator family and volume at the bottom, sharing one x zoom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from tradecore.ui.charts.axes import (
    NOMINAL_WIDTH,
    TimeAxis,
    empty_panel,
    inside_y_axis,
    stack,
    time_text,
)
from tradecore.ui.charts.indicators import indicator_columns, indicator_label, layout

MAX_POINTS = 2000
UP, DOWN = "#26a69a", "#ef5350"
BUY, SELL = "#2962ff", "#ff6d00"
WIN, LOSS = "#26a69a", "#ef5350"
OVERLAY_COLORS = ("#ff9800", "#7e57c2", "#00897b", "#ec407a", "#8d6e63", "#5c6bc0")
HISTOGRAM_LABELS = frozenset({"MACD_HIST"})  # drawn as bars around zero, not as a line


def _candle_size(n: int) -> float:
    return float(max(1.0, min(10.0, NOMINAL_WIDTH / max(n, 1) * 0.7)))


def _long(frame: pd.DataFrame, columns: Sequence[str], x: str) -> pd.DataFrame:
    """``x, time, indicator, value`` rows of ``columns`` (NaN warm-up rows dropped)."""
    if not columns:
        return pd.DataFrame({x: pd.Series(dtype=float), "time": pd.Series(dtype=str),
                             "indicator": pd.Series(dtype=str), "value": pd.Series(dtype=float)})
    long = frame[[x, "time", *columns]].melt(id_vars=[x, "time"], value_vars=list(columns),
                                             var_name="indicator", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    return long.dropna(subset=["value"]).reset_index(drop=True)


def price_chart(bars: pd.DataFrame, fills: pd.DataFrame | None = None,
                round_trips: pd.DataFrame | None = None, *, axis: TimeAxis | None = None,
                plot_info: Mapping[str, Mapping[str, Any]] | None = None,
                price_height: int = 340, panel_height: int = 110, volume_height: int = 80,
                max_markers: int = MAX_POINTS) -> alt.VConcatChart | alt.Chart:
    """``bars``: ``ts_event_ns``, open/high/low/close/volume and indicator columns.
    ``fills``: ``ts_event_ns, side, fill_price, quantity_filled`` (+ ``signal``,
    ``commission``). ``round_trips``: ``entry_ts_ns, exit_ts_ns, entry_price, exit_price, pnl``.
    ``plot_info``: where each indicator column goes (see ``charts.indicators``).
    """
    if bars is None or bars.empty:
        return empty_panel(price_height, "No bars recorded")
    axis = axis or TimeAxis()
    x = axis.field
    data = axis.place(bars, "ts_event_ns")
    data["time"] = time_text(data["ts_event_ns"])
    panels = layout(indicator_columns(bars), plot_info)
    candles = data[[x, "time", "open", "high", "low", "close", "volume"]].copy()
    candles["change_pct"] = (candles["close"] / candles["open"] - 1.0) * 100.0
    size = _candle_size(len(candles))
    color = alt.condition("datum.close >= datum.open", alt.value(UP), alt.value(DOWN))
    tooltip = [alt.Tooltip("time:N", title="Time"),
               alt.Tooltip("open:Q", title="Open", format=",.4~f"),
               alt.Tooltip("high:Q", title="High", format=",.4~f"),
               alt.Tooltip("low:Q", title="Low", format=",.4~f"),
               alt.Tooltip("close:Q", title="Close", format=",.4~f"),
               alt.Tooltip("change_pct:Q", title="Change %", format="+.2f"),
               alt.Tooltip("volume:Q", title="Volume", format=",.0f")]
    base = alt.Chart(candles).encode(x=axis.x(labels=False))
    wick = base.mark_rule(clip=True, strokeWidth=1).encode(
        y=alt.Y("low:Q", scale=alt.Scale(zero=False, nice=False, padding=8),
                axis=inside_y_axis("Price", tick_count=6)),
        y2="high:Q", color=color, tooltip=tooltip)
    body = base.mark_bar(clip=True, size=size, stroke=None).encode(
        y="open:Q", y2="close:Q", color=color, tooltip=tooltip)
    layers: list[alt.Chart] = [wick, body]
    if panels.overlays:
        layers.append(_overlay_lines(data, panels.overlays, axis))
    # Beyond max_markers fills the markers would hide the candles (and cost a lot): the
    # caller says "zoom in to see them"; zoomed in, the window holds fewer.
    crowded = fills is not None and len(fills) > max_markers
    if round_trips is not None and not round_trips.empty and not crowded:
        trips = trip_lines(round_trips, axis)
        if not trips.empty:
            layers.append(_trip_layer(trips, axis))
    markers = fill_markers(None if crowded else fills, axis)
    if not markers.empty:
        layers.append(_marker_layer(markers, axis))
    price = alt.layer(*layers).resolve_scale(color="independent").properties(
        width=NOMINAL_WIDTH, height=price_height)

    figure: list[alt.Chart | alt.LayerChart] = [price]
    for panel, columns in panels.panels.items():
        figure.append(oscillator_panel(data, panel, columns, panels.levels.get(panel, []),
                                       axis=axis, height=panel_height))
    # Volume as thick rules: bars on a continuous axis widen the figure past its container.
    volume = alt.Chart(candles).mark_rule(clip=True, strokeWidth=size, opacity=0.55).encode(
        x=axis.x(labels=True),
        y=alt.Y("volume:Q", axis=inside_y_axis("Volume", format=",.3~s", tick_count=3)),
        y2=alt.datum(0), color=color, tooltip=tooltip)
    figure.append(volume.properties(width=NOMINAL_WIDTH, height=volume_height))
    return stack(figure)


def _overlay_lines(data: pd.DataFrame, overlays: list[str], axis: TimeAxis) -> alt.Chart:
    colors = list(OVERLAY_COLORS * (1 + len(overlays) // len(OVERLAY_COLORS)))[: len(overlays)]
    return alt.Chart(_long(data, overlays, axis.field)).mark_line(
        clip=True, strokeWidth=1.4, opacity=0.9).encode(
        x=axis.x(labels=False, zoomed=False), y="value:Q",
        color=alt.Color("indicator:N", scale=alt.Scale(domain=overlays, range=colors),
                        legend=alt.Legend(title=None)),
        detail="indicator:N",
        tooltip=[alt.Tooltip("time:N", title="Time"),
                 alt.Tooltip("indicator:N", title="Indicator"),
                 alt.Tooltip("value:Q", title="Value", format=",.4~f")])


def _trip_layer(trips: pd.DataFrame, axis: TimeAxis) -> alt.Chart:
    end = "exit_pos:Q" if axis.trading else "exit_t:T"
    return alt.Chart(trips).mark_rule(clip=True, strokeDash=[4, 3], strokeWidth=1.5,
                                      opacity=0.8).encode(
        x=axis.x(labels=False, column="entry_" + axis.field, zoomed=False), x2=end,
        y="entry_price:Q", y2="exit_price:Q",
        color=alt.condition("datum.pnl > 0", alt.value(WIN), alt.value(LOSS)),
        tooltip=[alt.Tooltip("entry_time:N", title="Entry"),
                 alt.Tooltip("exit_time:N", title="Exit"),
                 alt.Tooltip("direction:N", title="Direction"),
                 alt.Tooltip("quantity:Q", title="Quantity", format=",.4~f"),
                 alt.Tooltip("pnl:Q", title="P&L", format=",.2f")])


def _marker_layer(markers: pd.DataFrame, axis: TimeAxis) -> alt.Chart:
    return alt.Chart(markers).mark_point(clip=True, filled=True, size=110, opacity=1,
                                         stroke="white", strokeWidth=0.8).encode(
        x=axis.x(labels=False, zoomed=False), y="price:Q",
        shape=alt.Shape("side:N", scale=alt.Scale(domain=["BUY", "SELL"],
                                                  range=["triangle-up", "triangle-down"]),
                        legend=None),
        color=alt.Color("side:N", scale=alt.Scale(domain=["BUY", "SELL"], range=[BUY, SELL]),
                        legend=None),
        tooltip=[alt.Tooltip("time:N", title="Time"), alt.Tooltip("side:N", title="Side"),
                 alt.Tooltip("price:Q", title="Price", format=",.4~f"),
                 alt.Tooltip("quantity:Q", title="Quantity", format=",.4~f"),
                 alt.Tooltip("signal:N", title="Signal"),
                 alt.Tooltip("commission:Q", title="Commission", format=",.2f")])


def oscillator_panel(data: pd.DataFrame, panel: str, columns: Sequence[str],
                     levels: Sequence[float] = (), *, axis: TimeAxis | None = None,
                     height: int = 110) -> alt.LayerChart:
    """One panel of oscillator lines (histograms drawn as bars) with its reference levels."""
    axis = axis or TimeAxis()
    x = axis.field
    lines = [c for c in columns if indicator_label(c).upper() not in HISTOGRAM_LABELS]
    hists = [c for c in columns if indicator_label(c).upper() in HISTOGRAM_LABELS]
    colors = dict(zip(columns, OVERLAY_COLORS * 2, strict=False))
    y_axis = inside_y_axis(panel, format=",.3~r", tick_count=3)
    # An oscillator on a 0..100 scale (its levels and values inside it) is drawn on all of it.
    values = pd.to_numeric(data[list(columns)].stack(), errors="coerce").dropna()
    bounded = (bool(levels) and min(levels) >= 0 and max(levels) <= 100 and len(values) > 0
               and values.min() >= 0 and values.max() <= 100)
    scale = alt.Scale(domain=[0, 100]) if bounded else alt.Scale(zero=False, nice=True)
    tooltip = [alt.Tooltip("time:N", title="Time"), alt.Tooltip("indicator:N", title="Indicator"),
               alt.Tooltip("value:Q", title="Value", format=",.4~f")]
    layers: list[alt.Chart] = []
    if hists:
        layers.append(alt.Chart(_long(data, hists, x)).mark_bar(clip=True, opacity=0.45).encode(
            x=axis.x(labels=False), y=alt.Y("value:Q", axis=y_axis, scale=scale),
            color=alt.condition("datum.value >= 0", alt.value(UP), alt.value(DOWN)),
            tooltip=tooltip))
    if lines:
        layers.append(alt.Chart(_long(data, lines, x)).mark_line(clip=True, strokeWidth=1.3)
                      .encode(x=axis.x(labels=False, zoomed=not hists),
                              y=alt.Y("value:Q", axis=y_axis, scale=scale),
                              color=alt.Color("indicator:N", scale=alt.Scale(
                                  domain=list(lines), range=[colors[c] for c in lines]),
                                  legend=alt.Legend(title=None)),
                              tooltip=tooltip))
    for level in levels:
        layers.append(alt.Chart(pd.DataFrame({"level": [level]})).mark_rule(
            clip=True, color="#9e9e9e", strokeDash=[3, 3], strokeWidth=1).encode(y="level:Q"))
    return alt.layer(*layers).resolve_scale(color="independent").properties(
        width=NOMINAL_WIDTH, height=height)


def fill_markers(fills: pd.DataFrame | None, axis: TimeAxis | None = None) -> pd.DataFrame:
    """``<x>, time, side, price, quantity, signal, commission`` of every fill given."""
    axis = axis or TimeAxis()
    columns = [axis.field, "time", "side", "price", "quantity", "signal", "commission"]
    if fills is None or fills.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    out = axis.place(fills, "ts_event_ns")
    out["time"] = time_text(out["ts_event_ns"])
    out["side"] = out["side"].astype(str).str.upper()
    out["price"] = out["fill_price"].astype(float)
    out["quantity"] = out["quantity_filled"].astype(float)
    out["signal"] = out["signal"].fillna("").astype(str) if "signal" in out else ""
    out["commission"] = out["commission"].astype(float) if "commission" in out else 0.0
    return out[columns].reset_index(drop=True)


def trip_lines(round_trips: pd.DataFrame, axis: TimeAxis | None = None) -> pd.DataFrame:
    """Entry-to-exit segments of round trips (open ones end at their mark)."""
    axis = axis or TimeAxis()
    trips = round_trips.dropna(subset=["entry_ts_ns", "exit_ts_ns"]).copy()
    if trips.empty:
        return pd.DataFrame()
    trips = axis.place(trips, "entry_ts_ns", "entry_" + axis.field)
    trips = axis.place(trips, "exit_ts_ns", "exit_" + axis.field)
    trips["entry_time"] = time_text(trips["entry_ts_ns"])
    trips["exit_time"] = time_text(trips["exit_ts_ns"])
    trips["direction"] = trips["direction"].astype(str) if "direction" in trips else ""
    keep = ["entry_" + axis.field, "exit_" + axis.field, "entry_time", "exit_time",
            "entry_price", "exit_price", "pnl", "quantity", "direction"]
    return trips[[c for c in keep if c in trips.columns]].reset_index(drop=True)


def bars_axis(bars: pd.DataFrame | None, *, trading: bool,
              window_ms: tuple[float, float] | None = None) -> TimeAxis:
    """The time axis of a run's charts, built from the price bars it shows."""
    reference = (np.sort(bars["ts_event_ns"].to_numpy("int64")) if bars is not None
                 and not bars.empty else np.zeros(0, dtype="int64"))
    return TimeAxis(mode="trading" if trading else "calendar", reference_ns=reference,
                    window_ms=None if trading else window_ms)
