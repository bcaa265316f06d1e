"""Run: one run in depth (`?run=<run_id>`): headline statistics, price with indicators and
fills, equity and drawdown, round trips, orders, fills and the configuration that produced it.

Zooming the price or equity chart re-reads the visible window at full detail: the charts
report their x window (``on_select``), the window is kept per run in session state, and the
bars of that window are queried again (see ``on_zoom``).
"""

from __future__ import annotations

import json
import time
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from tradecore.ui import charts, common, run_data
from tradecore.ui import formatting as fmt

T = TypeVar("T")
WINDOW = "run.window"  # {"run": run_id, "ms": (start_ms, end_ms)}
CHART_GENERATION = "run.chart_generation"  # bumped to reset the charts' own zoom
RENDERED_AT = "run.rendered_at"
REFRESH_SECONDS = 3
CHART_WIDTHS = [700, 800, 860, 1000, 1100, 1200, 1400, 1600, 1800]
DATETIME = "YYYY-MM-DD HH:mm"
PRICE = "%.4f"
MONEY = "%.2f"
ORDER_COLUMNS = ("submitted", "order_id", "symbol", "side", "order_type", "quantity",
                 "limit_price", "stop_price", "expiry", "action", "signal", "status", "reason",
                 "message")
KPIS = ("total_return_pct", "cagr_pct", "sharpe", "sortino", "max_drawdown_pct",
        "win_rate_pct", "trades", "profit_factor", "exposure_pct", "equity_final")


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


def pick_run(runs: pd.DataFrame, requested: str | None) -> None:
    """The sidebar's run selector, kept in step with ``?run=``."""
    ids = runs["run_id"].astype(str).tolist() if not runs.empty else []
    if requested and requested not in ids:
        ids = [requested, *ids]
    if not ids:
        return
    if st.session_state.get("run.picker_source") != requested:
        st.session_state["run.picker"] = requested if requested in ids else None
        st.session_state["run.picker_source"] = requested

    def picked() -> None:
        choice = st.session_state.get("run.picker")
        if choice:
            st.query_params["run"] = choice
            st.session_state["run.picker_source"] = choice
            st.session_state.pop(WINDOW, None)

    st.sidebar.selectbox("Run", ids, key="run.picker", on_change=picked,
                         placeholder="Choose a run", help="Newest first. The URL follows.")


def refresh_while_running(running: bool) -> None:
    """While the run records, rerun the page every few seconds to show the new rows."""
    st.session_state[RENDERED_AT] = time.monotonic()
    if not running:
        return

    @st.fragment(run_every=REFRESH_SECONDS)
    def poll() -> None:
        if time.monotonic() - st.session_state.get(RENDERED_AT, 0.0) >= REFRESH_SECONDS:
            st.rerun(scope="app")

    poll()


def metric_grid(stats: dict[str, Any], final_equity: float | None,
                initial_cash: float | None) -> None:
    values = dict(stats)
    if fmt.is_missing(values.get("equity_final")) and final_equity is not None:
        values["equity_final"] = final_equity
    bh = values.get("buy_and_hold_return_pct")
    for row in (KPIS[:5], KPIS[5:]):
        for column, key in zip(st.columns(len(row)), row, strict=True):
            spec = fmt.STAT_BY_KEY[key]
            delta = None
            delta_color = "normal"
            help_text = spec.help
            if key == "total_return_pct" and not fmt.is_missing(bh) \
                    and not fmt.is_missing(values.get(key)):
                delta = f"{values[key] - bh:+.2f} pp vs B&H"
                help_text = f"{spec.help}. Buy & hold: {fmt.format_pct(bh)}."
            elif key == "equity_final" and initial_cash and not fmt.is_missing(values.get(key)):
                delta = fmt.format_money(values[key] - initial_cash)
            elif key == "max_drawdown_pct":
                delta_color = "off"
            shown = (fmt.format_money(values.get(key), decimals=0) if spec.unit == "money"
                     else fmt.format_stat(key, values.get(key)))  # whole dollars fit the tile
            column.metric(spec.label, shown, delta=delta,
                          delta_color=delta_color, help=help_text or None, border=True)


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


def column_labels(table: pd.DataFrame, *, hide_strategy: bool) -> dict[str, Any]:
    """Readable headers for every column; dates, prices and money formatted."""
    columns: dict[str, Any] = {}
    for column in table.columns:
        label = column.replace("_", " ").capitalize()
        if column == "strategy" and hide_strategy:
            columns[column] = None
        elif pd.api.types.is_datetime64_any_dtype(table[column]):
            columns[column] = st.column_config.DatetimeColumn(label, format=DATETIME)
        elif column.endswith("_price"):
            columns[column] = st.column_config.NumberColumn(label, format=PRICE)
        elif column in ("commission", "pnl"):
            columns[column] = st.column_config.NumberColumn(label, format=MONEY)
        else:
            columns[column] = label
    return columns


# -- the page ---------------------------------------------------------------------------------

st.set_page_config(page_title="Run · tradecore", layout="wide")
common.page_setup()
db = run_data.runs_db()
runs = common.load("list of runs", lambda: run_data.run_list(db))
if runs is None:
    st.stop()
requested = st.query_params.get("run") or None
pick_run(runs, requested)

if not requested:
    st.title("Run")
    if runs.empty:
        st.info("No runs recorded yet. Start one on the Backtest page.", icon=":material/info:")
        common.page_link(common.BACKTEST_PAGE, "New backtest", icon=":material/play_arrow:")
    else:
        st.info("No run selected: pick one in the sidebar or open one from the Runs page.",
                icon=":material/info:")
        common.page_link(common.RUNS_PAGE, "All runs", icon=":material/table_rows:")
    st.stop()

run_id = requested
row = run_data.run_row(run_id, db)
if row is None:
    st.title("Run not found")
    st.error(f"There is no run {fmt.code_span(run_id)} in {fmt.code_span(db)}. It may have "
             "been deleted, or the link "
             "points at another runs database.", icon=":material/search_off:")
    common.page_link(common.RUNS_PAGE, "Go to the Runs page", icon=":material/table_rows:")
    st.stop()

token = run_data.freshness(row)
status = str(row.get("status") or "unknown")
config = common.load("configuration", lambda: run_data.run_config(run_id, db, token)) or {}
parameters = fmt.strategy_parameters(config)
strategy_name = (row.get("strategy") or (config.get("strategies") or [{}])[0].get("name")
                 or run_id)
symbols = [str(s) for s in (config.get("symbols") or row.get("symbols") or [])]
bar_period = config.get("bar_period") or row.get("bar_period") or ""
initial_cash = (config.get("broker") or {}).get("initial_cash")

# -- header ----------------------------------------------------------------------------------
st.title(f"{strategy_name} · {', '.join(symbols)}" if symbols else str(strategy_name))
equity_all = common.load("equity curve", lambda: run_data.equity(run_id, db, token))
period_text = ""
if equity_all is not None and not equity_all.empty:
    period_text = fmt.format_period(equity_all["ts_event_ns"].iloc[0],
                                    equity_all["ts_event_ns"].iloc[-1])
details = " · ".join(part for part in (
    f"{bar_period} bars" if bar_period else "", period_text,
    fmt.parameters_text(parameters), fmt.code_span(run_id)) if part)
st.markdown(f":{fmt.STATUS_COLORS.get(status, 'gray')}-badge[{status}] &nbsp; :gray[{details}]")

running = status == run_data.RUNNING
if running:
    st.info("This run is still recording: the page shows what is recorded so far and "
            f"refreshes every {REFRESH_SECONDS} s.", icon=":material/hourglass_top:")
if row.get("error"):
    box = st.error if status == "failed" else st.warning
    box(f"This run {status}: {row['error']}", icon=":material/error:")
    if row.get("error_traceback"):
        with st.expander("Traceback"):
            st.code(row["error_traceback"], language="text")
elif status == "failed":
    st.error("This run failed (no error text was stored).", icon=":material/error:")
refresh_while_running(running)

# -- statistics ------------------------------------------------------------------------------
stats = common.load("statistics", lambda: run_data.statistics(run_id, db, token)) or {}
final_equity = (float(equity_all["equity"].iloc[-1])
                if equity_all is not None and not equity_all.empty else None)
metric_grid(stats, final_equity, initial_cash)
st.caption(fmt.stat_convention(stats, config))

# -- price -----------------------------------------------------------------------------------
full_ms = None
if equity_all is not None and not equity_all.empty:
    full_ms = (equity_all["ts_event_ns"].iloc[0] / 1e6, equity_all["ts_event_ns"].iloc[-1] / 1e6)
window = current_window(run_id)
start_ns = charts.ms_to_ns(window[0]) if window else None
end_ns = charts.ms_to_ns(window[1]) if window else None

head, pick = st.columns([8, 2], vertical_alignment="bottom")
head.subheader("Price")
symbol = symbols[0] if symbols else None
if len(symbols) > 1:
    symbol = pick.selectbox("Symbol", symbols, key="run.symbol")
show_benchmark = len(symbols) == 1 and st.sidebar.toggle(
    "Buy & hold line", value=False, key="run.benchmark",
    help="Equity of putting all the initial cash into the symbol at the first bar")
width = st.sidebar.select_slider("Chart width (px)", options=CHART_WIDTHS, value=charts.DEFAULT_WIDTH,
                                 key="run.width", help="Charts have a fixed width; pick one "
                                 "that fits your screen.")

fills_all = common.load("fills", lambda: run_data.fills(run_id, db, token))
trips_all = common.load("round trips", lambda: run_data.round_trips(run_id, db, token))
price_bars = common.load("bars", lambda: run_data.bars(run_id, db, token, symbol=symbol,
                                                start_ns=start_ns, end_ns=end_ns))


if price_bars is not None and price_bars.empty:
    st.caption("No bars recorded for this symbol yet.")
elif price_bars is not None:
    fills_view = in_view(fills_all, symbol, start_ns, end_ns, "ts_event_ns")
    trips_view = in_view(trips_all, symbol, start_ns, end_ns, "entry_ts_ns", "exit_ts_ns")
    max_markers = width // 3  # more and the triangles hide the candles
    price = charts.price_chart(price_bars, fills_view, trips_view, width=width,
                               window_ms=window, max_markers=max_markers)
    key = chart_key("price")
    st.altair_chart(price, key=key, on_select=lambda k=key: on_zoom(run_id, k, full_ms),
                    selection_mode=charts.ZOOM, width="content")
    shown = len(price_bars)
    note = [f"{shown:,} candles"]
    if window:
        intraday = str(bar_period).upper() not in ("DAY", "WEEK")
        note.append(f"window {fmt.format_ts(start_ns, with_time=intraday)} → "
                    f"{fmt.format_ts(end_ns, with_time=intraday)}")
    if "bar_count" in price_bars:
        total = int(price_bars["bar_count"].sum())
        if total > shown:
            note.append(f"down-sampled from {total:,} bars: zoom in for full detail")
        else:
            note.append("full detail")
    n_fills = 0 if fills_view is None else len(fills_view)
    if n_fills > max_markers:
        note.append(f"{n_fills:,} fills in view: zoom in to see their markers")
    note.append("▲ buy ▼ sell fills, dashed: round trips (green won, red lost)")
    note.append("scroll to zoom, drag to pan")
    cap, reset = st.columns([10, 2], vertical_alignment="center")
    cap.caption(" · ".join(note))
    if window:
        reset.button("Show whole run", icon=":material/zoom_out_map:", on_click=reset_zoom,
                     key="run.reset_zoom", width="stretch")

# -- equity ----------------------------------------------------------------------------------
st.subheader("Equity and drawdown")
equity_view = equity_all
if window:
    equity_view = common.load("equity curve", lambda: run_data.equity(
        run_id, db, token, start_ns=start_ns, end_ns=end_ns))
if equity_view is not None:
    benchmark = None
    if show_benchmark and len(symbols) == 1 and initial_cash and price_bars is not None \
            and not price_bars.empty:
        overview = common.load("bars", lambda: run_data.bars(run_id, db, token, symbol=symbol))
        if overview is not None and not overview.empty:
            benchmark = charts.buy_and_hold(price_bars, float(initial_cash)
                                            * float(price_bars["close"].iloc[0])
                                            / float(overview["close"].iloc[0]))
    key = chart_key("equity")
    st.altair_chart(charts.equity_chart(equity_view, benchmark=benchmark, width=width,
                                        window_ms=window),
                    key=key, on_select=lambda k=key: on_zoom(run_id, k, full_ms),
                    selection_mode=charts.ZOOM, width="content")
    if benchmark is not None:
        st.caption("Dashed: buy & hold of the same initial cash from the first bar, no costs.")

# -- tables ----------------------------------------------------------------------------------
orders = common.load("order log", lambda: run_data.order_log(run_id, db, token))
n_trips = 0 if trips_all is None else len(trips_all)
n_orders = 0 if orders is None else len(orders)
n_fills = 0 if fills_all is None else len(fills_all)
trades_tab, orders_tab, fills_tab, stats_tab, config_tab = st.tabs([
    f"Round trips ({n_trips:,})", f"Order log ({n_orders:,})", f"Fills ({n_fills:,})",
    "All statistics", "Configuration"])
safe_id = run_id.replace(" ", "_")
single_strategy = len(config.get("strategies") or []) <= 1

with trades_tab:
    if trips_all is None or trips_all.empty:
        st.caption("No round trips.")
    else:
        table = fmt.readable_times(trips_all)
        if "symbol" in table and len(symbols) <= 1:
            table = table.drop(columns=["symbol"])
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            **column_labels(table, hide_strategy=single_strategy),
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
        })
        st.download_button("Download round trips (CSV)",
                           data=lambda: trips_all.to_csv(index=False),
                           file_name=f"{safe_id}_round_trips.csv", mime="text/csv",
                           icon=":material/download:", key="run.download_trades")

with orders_tab:
    if orders is None or orders.empty:
        st.caption("No orders.")
    else:
        table = fmt.readable_times(orders)
        if "status" in table:
            counts = table["status"].value_counts()
            picked = st.pills("Status", counts.index.tolist(), selection_mode="multi",
                             format_func=lambda s: f"{s} ({counts[s]:,})", key="run.order_status",
                             help="Show only orders that ended this way")
            if picked:
                table = table[table["status"].isin(picked)]
        first = [c for c in ORDER_COLUMNS if c in table.columns]
        table = table[first + [c for c in table.columns if c not in first]]
        config_columns = column_labels(table, hide_strategy=single_strategy)
        st.dataframe(table, hide_index=True, width="stretch", column_config=config_columns)
        st.download_button("Download order log (CSV)", data=lambda: orders.to_csv(index=False),
                           file_name=f"{safe_id}_orders.csv", mime="text/csv",
                           icon=":material/download:", key="run.download_orders")

with fills_tab:
    if fills_all is None or fills_all.empty:
        st.caption("No fills.")
    else:
        table = fmt.readable_times(fills_all)
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config=column_labels(table, hide_strategy=single_strategy))
        st.download_button("Download fills (CSV)", data=lambda: fills_all.to_csv(index=False),
                           file_name=f"{safe_id}_fills.csv", mime="text/csv",
                           icon=":material/download:", key="run.download_fills")

with stats_tab:
    st.dataframe(fmt.stats_table(stats), hide_index=True, width="stretch")
    st.caption(fmt.stat_convention(stats, config))

with config_tab:
    st.caption("Everything needed to repeat this run. From the command line:")
    st.code(fmt.reproduce_command(config), language="bash")
    st.json(config, expanded=3)
    st.download_button("Download configuration (JSON)",
                       data=json.dumps(config, indent=2, default=str),
                       file_name=f"{safe_id}_config.json", mime="application/json",
                       icon=":material/download:", key="run.download_config")
