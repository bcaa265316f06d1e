"""Run: one run in depth (`?run=<run_id>`): status, headline statistics, price with
indicators and fills, equity and drawdown, round trips, orders, fills and the configuration.

Zooming a calendar-time chart re-reads the visible window at full detail (the charts report
their x window, kept per run in session state). The pieces live in ``tradecore.ui.run_view``.
"""

from __future__ import annotations

import json

import streamlit as st

from tradecore.ui import charts, common, run_data
from tradecore.ui import formatting as fmt
from tradecore.ui import run_view as view

REFRESH_SECONDS = 3
MAX_MARKERS = 300  # more and the triangles hide the candles


common.page_setup()
db = run_data.runs_db()
runs = common.load("list of runs", lambda: run_data.run_list(db))
if runs is None:
    st.stop()
requested = st.query_params.get("run") or None
view.pick_run(view.choice_labels(runs), requested)

if not requested:
    st.title("Run")
    if runs.empty:
        st.info("No runs recorded yet. Start one on the Backtest page.", icon=":material/info:")
        common.page_link(common.BACKTEST_PAGE, "New backtest", icon=":material/play_arrow:")
    else:
        st.info("No run selected: choose one in the sidebar or open one from the Runs page.",
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
strategy_name = (row.get("strategy") or (config.get("strategies") or [{}])[0].get("name")
                 or run_id)
symbols = [str(s) for s in (config.get("symbols") or str(row.get("symbols") or "").split(", "))
           if s]
bar_period = str(config.get("bar_period") or row.get("bar_period") or "")
intraday = bar_period.upper() not in ("DAY", "WEEK", "")
initial_cash = (config.get("broker") or {}).get("initial_cash")
single_strategy = len(config.get("strategies") or []) <= 1
running = status == run_data.RUNNING

# -- the data --------------------------------------------------------------------------------
symbol = symbols[0] if symbols else None
if len(symbols) > 1:
    symbol = st.sidebar.selectbox("Symbol", symbols, key="run.symbol")
trading = intraday and st.sidebar.toggle(
    "Trading time", value=False, key="run.trading_time",
    help="Bars evenly spaced: nights, weekends and holidays collapsed")
show_benchmark = st.sidebar.toggle(
    "Buy & hold line", value=False, key="run.benchmark",
    help="The initial cash in the run's symbols from its first bar, no costs: the same "
         "definition as the Buy & hold statistic")
window = None if trading else view.current_window(run_id)
start_ns = charts.ms_to_ns(window[0]) if window else None
end_ns = charts.ms_to_ns(window[1]) if window else None
overview = common.load("bars", lambda: run_data.bars(run_id, db, token, symbol=symbol))
price_bars = overview if not window else common.load("bars", lambda: run_data.bars(
    run_id, db, token, symbol=symbol, start_ns=start_ns, end_ns=end_ns))
equity_all = common.load("equity curve", lambda: run_data.equity(run_id, db, token))
has_equity = equity_all is not None and not equity_all.empty
stats = (common.load("statistics", lambda: run_data.statistics(run_id, db, token)) or {}) \
    if has_equity else {}
fills_all = common.load("fills", lambda: run_data.fills(run_id, db, token))
trips_all = common.load("round trips", lambda: run_data.round_trips(run_id, db, token))
orders = common.load("order log", lambda: run_data.order_log(run_id, db, token))

# -- header ----------------------------------------------------------------------------------
st.title(f"{strategy_name} · {', '.join(symbols)}" if symbols else str(strategy_name))
first_bar = (overview["ts_event_ns"].min() if overview is not None and not overview.empty
             else None)
last_point = equity_all["ts_event_ns"].iloc[-1] if has_equity else None
details = " · ".join(part for part in (
    f"{bar_period} bars" if bar_period else "", view.period_text(first_bar, last_point),
    fmt.parameters_text(fmt.strategy_parameters(config)), fmt.code_span(run_id)) if part)
st.markdown(f":{fmt.STATUS_COLORS.get(status, 'gray')}-badge[{status}] &nbsp; :gray[{details}]")
if running:
    st.info("This run is still recording: the page shows what is recorded so far and "
            f"refreshes every {REFRESH_SECONDS} s.", icon=":material/hourglass_top:")
view.show_status(row)

# -- statistics ------------------------------------------------------------------------------
if has_equity:
    final = stats.get("equity_final")
    if fmt.is_missing(final):
        stats = {**stats, "equity_final": float(equity_all["equity"].iloc[-1])}
    view.metric_grid(stats, initial_cash)
    st.caption(fmt.stat_convention(stats, config))
else:
    st.info("This run recorded no equity (no bar was replayed), so it has no statistics. "
            "Its status above says why; anything it did record is below.",
            icon=":material/info:")

# -- price -----------------------------------------------------------------------------------
full_ms = ((equity_all["ts_event_ns"].iloc[0] / 1e6, equity_all["ts_event_ns"].iloc[-1] / 1e6)
           if has_equity else None)
st.subheader("Price")
if price_bars is not None and price_bars.empty:
    st.caption("No bars recorded for this symbol.")
elif price_bars is not None:
    fills_view = view.in_view(fills_all, symbol, start_ns, end_ns, "ts_event_ns")
    trips_view = view.in_view(trips_all, symbol, start_ns, end_ns, "entry_ts_ns", "exit_ts_ns")
    axis = charts.bars_axis(price_bars, trading=trading, window_ms=window)
    figure = charts.price_chart(price_bars, fills_view, trips_view, axis=axis,
                                plot_info=run_data.plot_info(run_id, db, token),
                                max_markers=MAX_MARKERS)
    key = view.chart_key("price")
    if trading:
        st.altair_chart(figure, key=key + ".trading", width="stretch")
    else:
        st.altair_chart(figure, key=key, width="stretch", selection_mode=charts.ZOOM,
                        on_select=lambda k=key: view.on_zoom(run_id, k, full_ms))
    cap, reset = st.columns([10, 2], vertical_alignment="center")
    cap.caption(view.price_note(price_bars, 0 if fills_view is None else len(fills_view),
                                MAX_MARKERS, window, intraday, trading))
    if window:
        reset.button("Show whole run", icon=":material/zoom_out_map:", on_click=view.reset_zoom,
                     key="run.reset_zoom", width="stretch")

# -- equity ----------------------------------------------------------------------------------
if has_equity:
    st.subheader("Equity and drawdown")
    equity_view = equity_all if not window else common.load("equity curve", lambda: (
        run_data.equity(run_id, db, token, start_ns=start_ns, end_ns=end_ns)))
    benchmark = None
    if show_benchmark:
        benchmark = view.in_view(common.load("buy & hold", lambda: run_data.buy_and_hold(
            run_id, db, token)), None, start_ns, end_ns, "ts_event_ns")
    if equity_view is not None and not equity_view.empty:
        axis = charts.bars_axis(price_bars, trading=trading, window_ms=window)
        figure = charts.equity_chart(equity_view, benchmark=benchmark, axis=axis)
        key = view.chart_key("equity")
        if trading:
            st.altair_chart(figure, key=key + ".trading", width="stretch")
        else:
            st.altair_chart(figure, key=key, width="stretch", selection_mode=charts.ZOOM,
                            on_select=lambda k=key: view.on_zoom(run_id, k, full_ms))
        if benchmark is not None:
            st.caption("Dashed: buy & hold of the same initial cash from the run's first bar, "
                       "no costs (the Buy & hold statistic's definition).")

# -- tables ----------------------------------------------------------------------------------
n_trips = 0 if trips_all is None else len(trips_all)
n_orders = 0 if orders is None else len(orders)
n_fills = 0 if fills_all is None else len(fills_all)
trades_tab, orders_tab, fills_tab, stats_tab, config_tab = st.tabs([
    f"Round trips ({n_trips:,})", f"Order log ({n_orders:,})", f"Fills ({n_fills:,})",
    "All statistics", "Configuration"])
safe_id = run_id.replace(" ", "_")

with trades_tab:
    if not n_trips:
        st.caption("No round trips.")
    else:
        table = fmt.readable_times(trips_all)
        if "symbol" in table and len(symbols) <= 1:
            table = table.drop(columns=["symbol"])
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config=view.round_trip_columns(
                         table, hide_strategy=single_strategy, intraday=intraday))
        st.download_button("Download round trips (CSV)",
                           data=lambda: trips_all.to_csv(index=False),
                           file_name=f"{safe_id}_round_trips.csv", mime="text/csv",
                           icon=":material/download:", key="run.download_trades")

with orders_tab:
    if not n_orders:
        st.caption("No orders.")
    else:
        table = view.order_table(orders)
        st.dataframe(table, hide_index=True, width="stretch", column_config=view.column_labels(
            table, hide_strategy=single_strategy, intraday=intraday))
        st.download_button("Download order log (CSV)", data=lambda: orders.to_csv(index=False),
                           file_name=f"{safe_id}_orders.csv", mime="text/csv",
                           icon=":material/download:", key="run.download_orders")

with fills_tab:
    if not n_fills:
        st.caption("No fills.")
    else:
        table = fmt.readable_times(fills_all)
        st.dataframe(table, hide_index=True, width="stretch", column_config=view.column_labels(
            table, hide_strategy=single_strategy, intraday=intraday))
        st.download_button("Download fills (CSV)", data=lambda: fills_all.to_csv(index=False),
                           file_name=f"{safe_id}_fills.csv", mime="text/csv",
                           icon=":material/download:", key="run.download_fills")

with stats_tab:
    if stats:
        st.table(fmt.stats_table(stats).set_index("Statistic"))
        st.caption(fmt.stat_convention(stats, config))
    else:
        st.caption("No statistics: the run recorded no equity.")

with config_tab:
    st.caption("Everything needed to repeat this run. From the command line:")
    st.code(fmt.reproduce_command(config), language="bash")
    st.json(config, expanded=3)
    st.download_button("Download configuration (JSON)",
                       data=json.dumps(config, indent=2, default=str),
                       file_name=f"{safe_id}_config.json", mime="application/json",
                       icon=":material/download:", key="run.download_config")

if running:  # last: show what is recorded so far, then look again
    common.request_refresh(REFRESH_SECONDS)
