"""The sweep heatmap: one cell per run of a sweep, swept values on the axes."""

from __future__ import annotations

import altair as alt
import pandas as pd


def _humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def sweep_heatmap(results: pd.DataFrame, x: str, y: str | None, metric: str,
                  metric_label: str) -> alt.LayerChart:
    """One cell per run: swept values on the axes, ``metric`` as colour and label; clicking a
    cell selects its run (selection parameter ``cell``, field ``run_id``)."""
    frame = results[["run_id", x, *([y] if y else []), metric]].copy()
    frame[metric] = pd.to_numeric(frame[metric], errors="coerce")
    frame["label"] = frame[metric].map(lambda v: "–" if v != v else f"{v:,.2f}")
    low, high = frame[metric].min(), frame[metric].max()
    span = (high - low) or 1.0
    # dark text on the light middle of the scale, white on its saturated ends
    frame["ink"] = frame[metric].map(
        lambda v: "#1b2430" if v != v or 0.2 < (v - low) / span < 0.8 else "white")
    if y is None:
        y = "_row"
        frame[y] = metric_label
    cell = alt.selection_point(name="cell", fields=["run_id"], on="click", empty=False)
    sort_x = _axis_order(frame[x])
    sort_y = list(reversed(_axis_order(frame[y])))
    base = alt.Chart(frame).encode(
        x=alt.X(f"{x}:O", title=_humanize(x), sort=sort_x, axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:O", title=None if y == "_row" else _humanize(y), sort=sort_y),
    )
    rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(f"{metric}:Q", title=metric_label,
                        scale=alt.Scale(scheme="redyellowgreen", domainMid=0)
                        if frame[metric].min() < 0 < frame[metric].max()
                        else alt.Scale(scheme="viridis")),
        opacity=alt.condition(cell, alt.value(1.0), alt.value(0.85)),
        strokeWidth=alt.condition(cell, alt.value(3), alt.value(1)),
        tooltip=["run_id:N", f"{x}:O", *([] if y == "_row" else [f"{y}:O"]),
                 alt.Tooltip(f"{metric}:Q", title=metric_label, format=",.2f")],
    ).add_params(cell)
    text = base.mark_text(fontSize=11).encode(
        text="label:N",
        color=alt.condition("datum.ink == 'white'", alt.value("white"), alt.value("#1b2430")))
    height = 60 if y == "_row" else max(160, 40 * frame[y].nunique())
    return alt.layer(rect, text).properties(height=height, width=max(300, 64 * frame[x].nunique()))


def _axis_order(values: pd.Series) -> list[str]:
    """Axis labels in numeric order when they are numbers, else as text."""
    unique = list(dict.fromkeys(values.astype(str)))
    try:
        return sorted(unique, key=float)
    except ValueError:
        return sorted(unique)


