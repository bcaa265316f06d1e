"""Equity of a run above its drawdown (optionally with buy & hold), and several runs' equity
rebased to 100 for the compare page; both share one x zoom across their two panels."""

from __future__ import annotations

from collections.abc import Mapping

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

EQUITY, BENCHMARK, DRAWDOWN = "#2962ff", "#9e9e9e", "#ef5350"


def equity_chart(equity: pd.DataFrame, *, benchmark: pd.DataFrame | None = None,
                 axis: TimeAxis | None = None, equity_height: int = 220,
                 drawdown_height: int = 110) -> alt.VConcatChart | alt.Chart:
    """``equity``: ``ts_event_ns, equity, drawdown`` (drawdown a fraction <= 0).
    ``benchmark``: ``ts_event_ns, equity`` of buy & hold on the same initial cash."""
    if equity is None or equity.empty:
        return empty_panel(equity_height, "No equity recorded")
    axis = axis or TimeAxis()
    data = axis.place(equity, "ts_event_ns")
    data["time"] = time_text(data["ts_event_ns"])
    data["drawdown_pct"] = data["drawdown"].astype(float) * 100.0
    x = axis.field
    series = data[[x, "time", "equity"]].assign(series="Strategy")
    domain, colors = ["Strategy"], [EQUITY]
    if benchmark is not None and not benchmark.empty:
        bench = axis.place(benchmark, "ts_event_ns")
        bench["time"] = time_text(bench["ts_event_ns"])
        series = pd.concat([series, bench[[x, "time", "equity"]].assign(series="Buy & hold")],
                           ignore_index=True)
        domain.append("Buy & hold")
        colors.append(BENCHMARK)
    line = alt.Chart(series).mark_line(clip=True, strokeWidth=1.6).encode(
        x=axis.x(labels=False),
        y=alt.Y("equity:Q", scale=alt.Scale(zero=False),
                axis=inside_y_axis("Equity", format="$,.3~s")),
        color=alt.Color("series:N", scale=alt.Scale(domain=domain, range=colors),
                        legend=alt.Legend(title=None) if len(domain) > 1 else None),
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=domain,
                                                              range=[[1, 0], [5, 3]]),
                                  legend=None),
        tooltip=[alt.Tooltip("time:N", title="Time"), alt.Tooltip("series:N", title="Series"),
                 alt.Tooltip("equity:Q", title="Equity", format="$,.2f")])
    drawdown = alt.Chart(data[[x, "time", "drawdown_pct"]]).mark_area(
        clip=True, color=DRAWDOWN, opacity=0.35,
        line={"color": DRAWDOWN, "strokeWidth": 1}).encode(
        x=axis.x(labels=True),
        y=alt.Y("drawdown_pct:Q", axis=inside_y_axis("Drawdown %", format=",.3~r",
                                                     tick_count=3)),
        tooltip=[alt.Tooltip("time:N", title="Time"),
                 alt.Tooltip("drawdown_pct:Q", title="Drawdown %", format=".2f")])
    return stack([line.properties(width=NOMINAL_WIDTH, height=equity_height),
                  drawdown.properties(width=NOMINAL_WIDTH, height=drawdown_height)])


def normalised_equity(curves: Mapping[str, pd.DataFrame], base: float = 100.0) -> pd.DataFrame:
    """``run, t, time, value, drawdown_pct`` with each run's equity rebased to ``base``
    (curves arrive down-sampled by ``analytics.equity_curve``)."""
    parts = []
    for label, curve in curves.items():
        if curve is None or curve.empty:
            continue
        curve = curve.sort_values("ts_event_ns")
        first = float(curve["equity"].iloc[0])
        parts.append(pd.DataFrame({
            "run": label,
            "t": pd.to_datetime(curve["ts_event_ns"].astype("int64"), unit="ns").to_numpy(),
            "time": time_text(curve["ts_event_ns"]).to_numpy(),
            "value": curve["equity"].to_numpy(float) / first * base if first else np.nan,
            "drawdown_pct": curve["drawdown"].to_numpy(float) * 100.0}))
    if not parts:
        return pd.DataFrame(columns=["run", "t", "time", "value", "drawdown_pct"])
    return pd.concat(parts, ignore_index=True)


def compare_chart(normalised: pd.DataFrame, colors: Mapping[str, str], *,
                  equity_height: int = 300, drawdown_height: int = 140) -> alt.VConcatChart:
    """Overlaid normalised equity (start = 100) above overlaid drawdowns; one colour a run."""
    axis = TimeAxis()
    labels = list(colors)
    # The legend names each run by its letter; the table above the chart spells it out.
    color = alt.Color("run:N", scale=alt.Scale(domain=labels, range=[colors[k] for k in labels]),
                      legend=alt.Legend(title=None, labelExpr="split(datum.label, ' · ')[0]"))
    base = alt.Chart(normalised).encode(color=color)
    tooltip = [alt.Tooltip("run:N", title="Run"), alt.Tooltip("time:N", title="Time"),
               alt.Tooltip("value:Q", title="Equity (start = 100)", format=",.2f"),
               alt.Tooltip("drawdown_pct:Q", title="Drawdown %", format=".2f")]
    line = base.mark_line(clip=True, strokeWidth=1.6).encode(
        x=axis.x(labels=False), y=alt.Y("value:Q", scale=alt.Scale(zero=False),
                                        axis=inside_y_axis("Equity (start = 100)",
                                                           format=",.4~r")),
        tooltip=tooltip).properties(width=NOMINAL_WIDTH, height=equity_height)
    start = alt.Chart(pd.DataFrame({"level": [100.0]})).mark_rule(
        clip=True, color="#9e9e9e", strokeDash=[3, 3]).encode(y="level:Q")
    drawdown = base.mark_line(clip=True, strokeWidth=1.2).encode(
        x=axis.x(labels=True),
        y=alt.Y("drawdown_pct:Q", axis=inside_y_axis("Drawdown %", format=",.3~r",
                                                     tick_count=3)),
        tooltip=tooltip).properties(width=NOMINAL_WIDTH, height=drawdown_height)
    return stack([alt.layer(line, start), drawdown])
