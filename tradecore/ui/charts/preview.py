"""Small charts outside a run's page: a preview of secmaster bars (Data page) and the live
equity line of a backtest still replaying (Backtest page). Both fill their container."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd

from tradecore.ui.charts.axes import NOMINAL_WIDTH, inside_y_axis


def price_preview_chart(bars: pd.DataFrame, *, height: int = 320,
                        width: int = NOMINAL_WIDTH) -> alt.VConcatChart:
    """Candlesticks over volume for a handful of bars (``preview_bars`` output)."""
    frame = bars.reset_index().rename(columns={"ts_event": "time"})
    frame["time"] = frame["time"].dt.tz_localize(None)
    up = alt.value("#26a69a")
    down = alt.value("#ef5350")
    color = alt.condition("datum.open <= datum.close", up, down)
    base = alt.Chart(frame).encode(x=alt.X("time:T", title=None))
    top = alt.Chart(frame).encode(x=alt.X("time:T", title=None,
                                          axis=alt.Axis(labels=False, ticks=False)))
    wick = top.mark_rule().encode(
        y=alt.Y("low:Q", scale=alt.Scale(zero=False), axis=inside_y_axis("Price")),
        y2="high:Q", color=color)
    body = top.mark_bar().encode(y="open:Q", y2="close:Q", color=color,
                                  tooltip=["time:T", "open:Q", "high:Q", "low:Q", "close:Q",
                                           "volume:Q"])
    volume = base.mark_bar(opacity=0.6).encode(
        y=alt.Y("volume:Q", axis=inside_y_axis("Volume", format=",.3~s", tick_count=3)),
        color=color)
    return alt.vconcat(
        alt.layer(wick, body).properties(height=height, width=width),
        volume.properties(height=90, width=width),
        spacing=4,
    ).properties(padding={"left": 0, "right": 0, "top": 4, "bottom": 4})


def live_equity_chart(equity: pd.DataFrame, start: dt.date | None = None,
                      end: dt.date | None = None) -> alt.Chart:
    """The equity line of a run still replaying (``analytics.equity_curve`` down-sampled),
    over the whole requested date range so it visibly grows from left to right."""
    frame = pd.DataFrame({
        "time": pd.to_datetime(equity["ts_event_ns"].astype("int64"), unit="ns"),
        "equity": equity["equity"].astype("float64"),
    })
    domain = None
    if start is not None and end is not None:
        domain = [pd.Timestamp(start).isoformat(), (pd.Timestamp(end)
                                                    + pd.Timedelta(days=1)).isoformat()]
    return alt.Chart(frame).mark_line(color="#1f5fa8", strokeWidth=1.5).encode(
        x=alt.X("time:T", title=None, scale=alt.Scale(domain=domain) if domain else alt.Undefined),
        y=alt.Y("equity:Q", scale=alt.Scale(zero=False), axis=inside_y_axis("Equity",
                                                                             format="$,.0f")),
        tooltip=[alt.Tooltip("time:T"), alt.Tooltip("equity:Q", format="$,.2f")],
    ).properties(height=260, padding={"left": 0, "right": 0, "top": 4, "bottom": 4})
