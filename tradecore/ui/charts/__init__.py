"""Altair charts of runs and data: pure functions from DataFrames to charts, testable without
Streamlit, one module per chart family.

``axes``        the time axis (calendar or trading time), the shared x zoom, panel stacks
``indicators``  where each indicator column is drawn (from its recorded ``plot_info``)
``price``       candlesticks, overlays, fills, round trips, oscillator panels, volume
``equity``      a run's equity and drawdown; runs rebased to 100 for comparing
``preview``     the Data page's bar preview and the Backtest page's live equity
``heatmap``     the sweep heatmap

Every chart is drawn at a nominal width; pages show them with ``width="stretch"`` and the
panels then take the container's width (see ``axes``). Data arrive down-sampled by
``tradecore.analytics`` (SQL); nothing here down-samples.
"""

from tradecore.ui.charts.axes import (
    CALENDAR,
    TRADING,
    ZOOM,
    TimeAxis,
    is_intraday,
    ms_to_ns,
    zoom_window,
)
from tradecore.ui.charts.equity import (
    compare_chart,
    equity_chart,
    normalised_equity,
)
from tradecore.ui.charts.heatmap import sweep_heatmap
from tradecore.ui.charts.indicators import indicator_columns, indicator_label, layout
from tradecore.ui.charts.preview import live_equity_chart, price_preview_chart
from tradecore.ui.charts.price import MAX_POINTS, bars_axis, fill_markers, price_chart, trip_lines

__all__ = [
    "CALENDAR",
    "MAX_POINTS",
    "TRADING",
    "ZOOM",
    "TimeAxis",
    "bars_axis",
    "compare_chart",
    "equity_chart",
    "fill_markers",
    "indicator_columns",
    "indicator_label",
    "is_intraday",
    "layout",
    "live_equity_chart",
    "ms_to_ns",
    "normalised_equity",
    "price_chart",
    "price_preview_chart",
    "sweep_heatmap",
    "trip_lines",
    "zoom_window",
]
