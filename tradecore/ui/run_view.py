"""The pieces of the run page (``pages/run.py``), so the page reads top to bottom: the run
picker, the header line, the statistic tiles, the zoom window and the tables.

Design Decision: the picker never pre-selects
    On ``/run`` without ``?run=`` the picker is empty (``index=None``): showing the newest
    run as if chosen while the page says none is, made choosing that run a no-op (a
    selectbox reports no change when the value does not change).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from tradecore.analytics import catalogue
from tradecore.ui import charts
from tradecore.ui import formatting as fmt

WINDOW = "run.window"  # {"run": run_id, "ms": (start_ms, end_ms)}
CHART_GENERATION = "run.chart_generation"  # bumped to reset the charts' own zoom
PICKER = "run.picker"
PRICE = "%.4f"
MONEY = "%.2f"
ORDER_COLUMNS = ("submitted", "order_id", "symbol", "side", "order_type", "quantity",
                 "limit_price", "stop_price", "expiry", "action", "signal", "status", "reason",
                 "message")


# -- choosing a run ---------------------------------------------------------------------------

def run_choice_label(row: Mapping[str, Any]) -> str:
    """``<id> · <return> · <strategy> · <parameters>``: what tells near-identical ids apart,
    the return first so a cut-off label still shows it."""
    parts = [str(row.get("run_id", ""))]
    value = row.get("total_return_pct")
    if value is not None and not fmt.is_missing(value):
        parts.append(f"{float(value):+.2f}%")
    elif row.get("status") and row.get("status") != "completed":
        parts.append(str(row["status"]))
    for key in ("strategy", "parameters"):
        if row.get(key):
            parts.append(str(row[key]))
    return " · ".join(parts)


def choice_labels(runs: pd.DataFrame) -> dict[str, str]:
    """``{run_id: label}`` of every run, newest first."""
    if runs is None or runs.empty:
        return {}
    return {str(row["run_id"]): run_choice_label(row) for row in runs.to_dict("records")}


def pick_run(labels: dict[str, str], requested: str | None) -> None:
    """The sidebar's run picker, following ``?run=`` (empty when no run is requested)."""
    ids = list(labels)
    if requested and requested not in labels:
        ids = [requested, *ids]
    if not ids:
        return
    st.session_state[PICKER] = requested if requested in ids else None

    def picked() -> None:
        choice = st.session_state.get(PICKER)
        if choice:
            st.query_params["run"] = choice
            st.session_state.pop(WINDOW, None)

    st.sidebar.selectbox("Run", ids, index=None, key=PICKER, on_change=picked,
                         format_func=lambda run_id: labels.get(run_id, run_id),
                         placeholder="Choose a run",
                         help="Newest first: strategy, parameters and return beside each id")


# -- the header ------------------------------------------------------------------------------

def period_text(first_bar_ns: Any, last_ns: Any) -> str:
    """The run's span from its first bar (never a down-sampling bucket's time) to its last
    equity point."""
    if fmt.is_missing(first_bar_ns) or fmt.is_missing(last_ns):
        return ""
    return fmt.format_period(int(first_bar_ns), int(last_ns))


def show_status(row: Mapping[str, Any]) -> None:
    """Status, error and traceback of a run that did not complete cleanly."""
    status = str(row.get("status") or "unknown")
    if row.get("error"):
        box = st.error if status == "failed" else st.warning
        box(f"This run {status}: {row['error']}", icon=":material/error:")
    elif status == "failed":
        st.error("This run failed (no error text was stored).", icon=":material/error:")
    if row.get("error_traceback"):
        with st.expander("Traceback", expanded=status == "failed"):
            st.code(str(row["error_traceback"]), language="text")


TILE_PX = 176  # wide enough for "-100.00%" and "$1,234,567" at the tile's font size


def metric_grid(stats: Mapping[str, Any], initial_cash: float | None) -> None:
    """The catalogue's KPI tiles, in its order, flowing into as many per row as fit (five
    columns cut "-40.53%" to "-40.5…" at 1280 px); return against buy & hold, final equity
    against the initial cash."""
    bh = stats.get("buy_and_hold_return_pct")
    tiles = st.container(horizontal=True, wrap=True, gap="small")
    for key in catalogue.KPI_TILES:
        spec = catalogue.STATISTICS[key]
        value = stats.get(key)
        delta, delta_color = None, "normal"
        if key == "total_return_pct" and not catalogue.is_missing(bh) \
                and not catalogue.is_missing(value):
            delta = f"{value - bh:+.2f} pp vs B&H"
        elif key == "equity_final" and initial_cash and not catalogue.is_missing(value):
            delta = catalogue.format_value(key, value - initial_cash)
        elif key in ("max_drawdown_pct", "buy_and_hold_return_pct"):
            delta_color = "off"
        shown = (fmt.format_money(value, decimals=0) if spec.unit == "money"
                 else catalogue.format_value(key, value))  # whole dollars fit the tile
        tiles.metric(catalogue.label(key), shown, delta=delta, delta_color=delta_color,
                     help=spec.help or None, border=True, width=TILE_PX)


# -- zoom ------------------------------------------------------------------------------------

def chart_key(name: str) -> str:
    return f"run.{name}.{st.session_state.get(CHART_GENERATION, 0)}"


def current_window(run_id: str) -> tuple[float, float] | None:
    saved = st.session_state.get(WINDOW)
    if saved and saved.get("run") == run_id:
        return saved["ms"]
    return None


def on_zoom(run_id: str, key: str, full_ms: tuple[float, float] | None) -> None:
    """A chart reported its x window: keep it for this run. An empty selection (a chart
    re-created with new data reports none) keeps the window, so a re-query cannot loop."""
    state = st.session_state.get(key)
    window = charts.zoom_window(getattr(state, "selection", None) or
                                (state or {}).get("selection"))
    if window is None:
        return
    if full_ms is not None:
        start, end = max(window[0], full_ms[0]), min(window[1], full_ms[1])
        if end <= start or (start <= full_ms[0] and end >= full_ms[1]):
            st.session_state.pop(WINDOW, None)  # the whole run again: the overview
            return
        window = (start, end)
    st.session_state[WINDOW] = {"run": run_id, "ms": window}


def reset_zoom() -> None:
    st.session_state.pop(WINDOW, None)
    st.session_state[CHART_GENERATION] = st.session_state.get(CHART_GENERATION, 0) + 1


def in_view(frame: pd.DataFrame | None, symbol: str | None, start_ns: int | None,
            end_ns: int | None, ts_column: str, end_column: str | None = None
            ) -> pd.DataFrame | None:
    """Rows of ``symbol`` within the window (a round trip: overlapping it)."""
    if frame is None or frame.empty:
        return frame
    view = frame
    if symbol is not None and "symbol" in view:
        view = view[view["symbol"] == symbol]
    if start_ns is not None and end_ns is not None:
        last = view[end_column] if end_column else view[ts_column]
        view = view[(view[ts_column] <= end_ns) & (last.fillna(end_ns) >= start_ns)]
    return view


# -- tables ----------------------------------------------------------------------------------

def column_labels(table: pd.DataFrame, *, hide_strategy: bool, intraday: bool
                  ) -> dict[str, Any]:
    """Readable headers for every column; dates (with a time for intraday runs only),
    prices and money formatted."""
    date_format = "YYYY-MM-DD HH:mm" if intraday else "YYYY-MM-DD"
    columns: dict[str, Any] = {}
    for column in table.columns:
        label = column.replace("_", " ").capitalize()
        if column == "strategy" and hide_strategy:
            columns[column] = None
        elif pd.api.types.is_datetime64_any_dtype(table[column]):
            columns[column] = st.column_config.DatetimeColumn(label, format=date_format)
        elif column.endswith("_price"):
            columns[column] = st.column_config.NumberColumn(label, format=PRICE)
        elif column in ("commission", "pnl"):
            columns[column] = st.column_config.NumberColumn(label, format=MONEY)
        else:
            columns[column] = label
    return columns


def round_trip_columns(table: pd.DataFrame, *, hide_strategy: bool, intraday: bool
                       ) -> dict[str, Any]:
    return {
        **column_labels(table, hide_strategy=hide_strategy, intraday=intraday),
        "quantity": st.column_config.NumberColumn("Quantity", format="%g"),
        "pnl": st.column_config.NumberColumn("P&L", format=MONEY),
        "return_pct": st.column_config.NumberColumn("Return %", format="%.2f"),
        "commission": st.column_config.NumberColumn("Commission", format=MONEY),
        "open": st.column_config.CheckboxColumn(
            "Open", help="Still held at the end: marked to the last close"),
        "mfe": st.column_config.NumberColumn(
            "MFE", format=MONEY, help="Maximum favourable excursion (currency)"),
        "mae": st.column_config.NumberColumn(
            "MAE", format=MONEY, help="Maximum adverse excursion (currency)"),
        "duration": "Duration",
    }


def order_table(orders: pd.DataFrame) -> pd.DataFrame:
    """The order log filtered by the status pills, its key columns first."""
    table = fmt.readable_times(orders)
    if "status" in table:
        counts = table["status"].value_counts()
        picked = st.pills("Status", counts.index.tolist(), selection_mode="multi",
                          format_func=lambda s: f"{s} ({counts[s]:,})", key="run.order_status",
                          help="Show only orders that ended this way")
        if picked:
            table = table[table["status"].isin(picked)]
    first = [c for c in ORDER_COLUMNS if c in table.columns]
    return table[first + [c for c in table.columns if c not in first]]


def price_note(price_bars: pd.DataFrame, n_fills: int, max_markers: int,
               window: tuple[float, float] | None, intraday: bool, trading: bool) -> str:
    """The caption under the price chart: what is shown and how to see more."""
    shown = len(price_bars)
    note = [f"{shown:,} candles"]
    if window:
        start_ns, end_ns = charts.ms_to_ns(window[0]), charts.ms_to_ns(window[1])
        note.append(f"window {fmt.format_ts(start_ns, with_time=intraday)} → "
                    f"{fmt.format_ts(end_ns, with_time=intraday)}")
    if "bar_count" in price_bars:
        total = int(price_bars["bar_count"].sum())
        if total > shown:
            note.append(f"down-sampled from {total:,} bars"
                        + ("" if trading else ": zoom in for full detail"))
        else:
            note.append("full detail")
    if n_fills > max_markers:
        note.append(f"{n_fills:,} fills in view: zoom in to see their markers")
    note.append("▲ buy ▼ sell fills, dashed: round trips (green won, red lost)")
    note.append("trading time: nights and weekends collapsed" if trading
                else "scroll to zoom, drag to pan")
    return " · ".join(note)
