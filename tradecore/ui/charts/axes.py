"""The pieces every run chart shares: the time axis (calendar or trading time), the shared x
zoom, and the stack of panels that fills its container.

Design Decision: y-axis labels inside the plot, no room reserved beside it
    ``st.altair_chart(width="stretch")`` sets every panel of a ``vconcat`` to the container's
    width, and Vega-Lite then adds the y axes and padding *outside* that width, so a stack
    overflowed its container by the axis width (and ``autosize: fit`` is dropped for concat
    charts). With the labels drawn inside the plot (``labelPadding`` negative, extent 0) and no
    side padding, a panel is exactly the container's width and stacked panels line up.

Design Decision: trading time is a position, not a scale type
    Vega-Lite has no "skip the gaps" time scale. In trading time a bar's x is its position in
    the run's bar sequence (a float: a fill between two bars lands between them); the axis
    shows the session starts, labelled with their dates through one ``labelExpr`` lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd

ZOOM = "zoom"
#: The width a panel is drawn at when it is not given a container (exports, tests); on a
#: page ``width="stretch"`` replaces it with the container's width.
NOMINAL_WIDTH = 900

#: Date labels by the size of the step between ticks, 24-hour clock (Vega multi-format).
TIME_FORMAT = {"year": "%Y", "quarter": "%b %Y", "month": "%b %Y", "week": "%d %b",
               "date": "%d %b", "hours": "%H:%M", "minutes": "%H:%M", "seconds": "%H:%M:%S",
               "milliseconds": "%H:%M:%S.%L"}

CALENDAR, TRADING = "calendar", "trading"
#: Pixels kept free at each end of the x axis (half the widest marker, plus a little).
EDGE_PX = 10
TRIM_PX = 4


def utc_datetime(ms: float) -> alt.DateTime:
    """Epoch milliseconds as a Vega-Lite UTC DateTime (a temporal domain given as plain numbers
    is not read as epoch ms by Vega-Lite: the chart comes out empty)."""
    stamp = pd.Timestamp(int(round(ms)), unit="ms")
    return alt.DateTime(year=stamp.year, month=stamp.month, date=stamp.day, hours=stamp.hour,
                        minutes=stamp.minute, seconds=stamp.second,
                        milliseconds=stamp.microsecond // 1000, utc=True)


def is_intraday(ts_ns: Sequence[int] | pd.Series | np.ndarray) -> bool:
    """True when any timestamp is not a UTC midnight (minute or hour bars)."""
    values = np.asarray(ts_ns, dtype="int64")
    return bool(len(values)) and bool((values % 86_400_000_000_000 != 0).any())


@dataclass
class TimeAxis:
    """Where a timestamp goes on x: calendar time (``t``, UTC) or trading time (``pos``).

    ``reference_ns`` are the bar times of the chart's price data (sorted); trading positions
    of other timestamps are interpolated between them.
    """

    mode: str = CALENDAR
    reference_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="int64"))
    window_ms: tuple[float, float] | None = None

    @property
    def trading(self) -> bool:
        return self.mode == TRADING and len(self.reference_ns) > 1

    @property
    def field(self) -> str:
        return "pos" if self.trading else "t"

    def positions(self, ts_ns: pd.Series | np.ndarray) -> np.ndarray:
        """Trading-time positions of ``ts_ns`` (linear between reference bars)."""
        ref = self.reference_ns.astype("float64")
        return np.interp(np.asarray(ts_ns, dtype="float64"), ref, np.arange(len(ref), dtype=float))

    def place(self, frame: pd.DataFrame, ns_column: str, out: str | None = None) -> pd.DataFrame:
        """``frame`` with its x column: ``t`` (datetime) or ``pos`` (trading position); named
        ``out`` (``"t"``/``"pos"`` by default) for a second time column such as an exit."""
        data = frame.copy()
        name = out or self.field
        if self.trading:
            data[name] = self.positions(data[ns_column].astype("int64"))
        else:
            data[name] = pd.to_datetime(data[ns_column].astype("int64"), unit="ns")
        return data

    def x(self, *, labels: bool, column: str | None = None, zoomed: bool = True) -> alt.X:
        """The x encoding. ``zoomed``: carry the window (only the first view of each panel:
        repeating a domain across shared views makes Vega-Lite warn about conflicts)."""
        name = column or self.field
        if self.trading:
            return alt.X(f"{name}:Q", scale=alt.Scale(zero=False, nice=False, padding=EDGE_PX,
                                                      domain=self._trading_domain()),
                         axis=self._trading_axis(labels))
        window = self.window_ms if zoomed else None
        scale = (alt.Scale(type="utc", padding=EDGE_PX,
                           domain=[utc_datetime(window[0]), utc_datetime(window[1])])
                 if window else alt.Scale(type="utc", padding=EDGE_PX))
        # No ticks: a tick at the right end would reach a pixel past the panel.
        axis = (alt.Axis(title=None, labels=True, ticks=False, grid=True, format=TIME_FORMAT,
                         labelFlush=True, labelBound=True, tickCount=8, domain=False)
                if labels else
                alt.Axis(title=None, labels=False, ticks=False, domain=False, grid=True))
        return alt.X(f"{name}:T", scale=scale, axis=axis)

    def _trading_domain(self) -> list[float]:
        return [0.0, float(max(len(self.reference_ns) - 1, 1))]

    def _trading_axis(self, labels: bool) -> alt.Axis:
        if not labels:
            return alt.Axis(title=None, labels=False, ticks=False, domain=False, grid=False)
        stamps = pd.to_datetime(self.reference_ns, unit="ns")
        days = pd.Series(stamps.normalize())
        starts = np.flatnonzero(days.ne(days.shift()).to_numpy())  # first bar of each session
        step = max(1, len(starts) // 12)  # about a dozen labels; the rest overlap anyway
        chosen = starts[::step]
        text = {int(i): stamps[i].strftime("%d %b %Y" if step > 20 else "%d %b")
                for i in chosen}
        lookup = "{" + ", ".join(f"'{k}': '{v}'" for k, v in text.items()) + "}"
        return alt.Axis(title=None, values=[int(i) for i in chosen], grid=True, ticks=False,
                        domain=False, labelExpr=f"{lookup}[toString(datum.value)] || ''",
                        labelOverlap=True, labelFlush=True, labelBound=True)


def zoom_param() -> alt.Parameter:
    return alt.selection_interval(bind="scales", encodings=["x"], name=ZOOM)


def inside_y_axis(title: str, *, format: str = ",.4~f", tick_count: int = 5) -> alt.Axis:
    """A y axis drawn inside the plot's left edge (see the module docstring), its title at
    the top left."""
    # Labels sit just above their grid line (the top one flush inside the plot); the title
    # is right of the top label so the two never overlap.
    return alt.Axis(title=title, format=format, tickCount=tick_count, orient="left",
                    labelAlign="left", labelBaseline="bottom", labelPadding=-4, ticks=False,
                    labelFlush=True, domain=False, titleAngle=0, titleAlign="left",
                    titleBaseline="top", titleX=60, titleY=3, titleFontWeight="bold",
                    titleColor="#5f6b7a", labelColor="#5f6b7a", minExtent=0, maxExtent=0)


def stack(panels: list[alt.Chart | alt.LayerChart]) -> alt.VConcatChart:
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
    # "flush": each panel is sized by its plot area alone, so a mark or label reaching past
    # the edge (clipped anyway) cannot widen the figure beyond its container.
    chart = alt.vconcat(*named, spacing=4, bounds="flush").resolve_scale(x="shared")
    chart.params = [alt.TopLevelSelectionParameter(
        name=ZOOM, select=alt.IntervalSelectionConfig(type="interval", encodings=["x"]),
        bind="scales", views=names)]
    # "pad" and no side padding: each panel is the width the page gives it. The x scales keep
    # EDGE_PX free at both ends, so a candle or a fill marker on the last bar stays inside
    # (Vega counts a clipped mark's full size when it sizes the figure: measured in chromium,
    # a marker on the last bar widened it by 13 px past its container). Grid lines and
    # labels still reach up to 3 px past the right edge: a right padding of -TRIM_PX drops
    # that much of the blank EDGE_PX strip, never a mark.
    chart = chart.properties(autosize=alt.AutoSizeParams(type="pad", contains="padding"),
                             padding={"left": 0, "right": -TRIM_PX, "top": 4, "bottom": 4})
    return (chart.configure_axisY(labelFontSize=11, gridOpacity=0.5)
            .configure_axisX(labelFontSize=11, gridOpacity=0.35)
            .configure_view(stroke=None)  # a frame stroke reaches half a pixel outside
            .configure_legend(orient="top-right", direction="horizontal", labelFontSize=11,
                              title=None, fillColor="#ffffffcc", padding=4, symbolSize=80,
                              labelLimit=400))


def _named_first_view(panel: alt.Chart | alt.LayerChart, name: str) -> alt.TopLevelMixin:
    if isinstance(panel, alt.LayerChart):
        layers = list(panel.layer)
        layers[0] = layers[0].properties(name=name)
        linked = panel.copy(deep=False)
        linked.layer = layers
        return linked
    return panel.properties(name=name)


def empty_panel(height: int, text: str) -> alt.Chart:
    return (alt.Chart(pd.DataFrame({"text": [text]})).mark_text(color="#757575")
            .encode(text="text:N").properties(width=NOMINAL_WIDTH, height=height))


def zoom_window(selection: object) -> tuple[float, float] | None:
    """The ``(start_ms, end_ms)`` an ``st.altair_chart(on_select=...)`` selection reports
    (calendar time only: a trading-time chart zooms in the browser without re-querying)."""
    if not selection or not hasattr(selection, "get"):
        return None
    zoom = selection.get(ZOOM)
    values = zoom.get("t") if zoom and hasattr(zoom, "get") else None
    if not values or len(values) != 2:
        return None
    start, end = float(values[0]), float(values[1])
    if not np.isfinite(start) or not np.isfinite(end) or end <= start:
        return None
    return start, end


def ms_to_ns(ms: float) -> int:
    return int(round(ms * 1_000_000))


def time_text(ts_ns: pd.Series) -> pd.Series:
    """Tooltip text of timestamps: dates alone for daily data, date and time otherwise."""
    stamps = pd.to_datetime(ts_ns.astype("int64"), unit="ns")
    return stamps.dt.strftime("%Y-%m-%d %H:%M" if is_intraday(ts_ns) else "%Y-%m-%d")
