"""Backtest: choose a strategy, its parameters, data and broker; run it and watch it grow.

Design Decision: progress by whole-page reruns, not a timed fragment
    A timed fragment here left a browser timer behind when the finished run switched to the
    run page, and its late tick blanked that page (issue 9; see ``common.request_refresh``).
"""

import streamlit as st

from tradecore import analytics
from tradecore.configure import RunRequest
from tradecore.models import RunStatus
from tradecore.strategies import get_registered_strategies
from tradecore.ui import charts, common, runner, widgets

common.page_setup()
st.title("Backtest")

strategies = get_registered_strategies()
if not strategies:
    st.error("No strategies are registered. Add one in `strategies/` (see Home).")
    st.stop()

job = runner.current_backtest()
busy = job is not None and job.running

top_left, top_right = st.columns([2, 3], gap="large")
with top_left:
    strategy = widgets.strategy_select(strategies, key="backtest.strategy")
with top_right:
    with st.container(border=True):
        st.markdown(widgets.strategy_description(strategy))

st.subheader("Parameters")
values = widgets.parameter_widgets(strategy, key_prefix="backtest.param")

data_col, broker_col = st.columns([3, 2], gap="large")
with data_col:
    st.subheader("Data")
    data = widgets.data_selection(strategy, key_prefix="backtest.data")
with broker_col:
    st.subheader("Broker")
    broker = widgets.broker_settings(key_prefix="backtest.broker")

run_clicked = st.button("Run backtest", type="primary", icon=":material/play_arrow:",
                        key="backtest.run", disabled=busy or data is None)
if run_clicked and data is not None:
    request = RunRequest(
        strategy=strategy.registered_name(),
        symbols=data.symbols,
        parameters={**values, "bar_period": data.bar_period},
        start=data.start,
        end=data.end,
        commission_per_unit=broker.commission_per_unit,
        minimum_commission_per_order=broker.minimum_commission_per_order,
        slippage_bps=broker.slippage_bps,
        initial_cash=broker.initial_cash,
        publisher_name=data.publisher_name,
        dataset=data.dataset,
    )
    try:
        job = runner.start_backtest(request)
    except ValueError as error:  # ParameterError, SecmasterError: the user can fix these
        st.error(str(error), icon=":material/error:")
        job = None


POLL_SECONDS = 0.75


def live_run(current: runner.BackgroundRun) -> None:
    """Progress, a live equity line and Cancel while the run replays."""
    label = current.run_id or "starting"
    stage = (f"{current.progress:.0%}" if current.progress < 1
             else "replayed, writing the last events")
    st.progress(current.progress, text=f"Running **{label}** · {stage} · {current.elapsed:.1f}s")
    if st.button("Cancel", icon=":material/stop:", key="backtest.cancel"):
        current.cancel()
        st.toast("Cancelling the run...")
    if current.run_id:
        equity = common.load("live equity", lambda: analytics.equity_curve(
            current.run_id, db_path=current.request.runs_db_path, max_points=600))
        if equity is None or equity.empty:
            st.caption("Waiting for the first bars...")
        else:
            st.altair_chart(charts.live_equity_chart(equity, current.request.start,
                                                     current.request.end),
                            width="stretch", key="backtest.live_equity")


shown_running = job is not None and job.running  # decided once: the end of the page agrees
if job is not None:
    if shown_running:
        live_run(job)
    elif job.status is RunStatus.COMPLETED and not job.handled:
        job.handled = True
        st.session_state["backtest.last_run"] = job.run_id
        common.switch_page(common.RUN_PAGE, query_params={"run": job.run_id})
    elif job.status is RunStatus.CANCELLED:
        st.warning(f"Run **{job.run_id}** was cancelled after {job.elapsed:.1f}s; what ran "
                   f"so far is recorded.", icon=":material/cancel:")
        common.run_link(job.run_id, "Open the cancelled run")
    elif job.status is RunStatus.FAILED:
        st.error(f"The run failed: {job.error_text or 'see the run page'}",
                 icon=":material/error:")
        if job.run_id:
            common.run_link(job.run_id, f"Open the failed run {job.run_id}")

last_run = st.session_state.get("backtest.last_run")
if last_run and not busy:
    common.run_link(last_run, f"Last run: {last_run}")

if shown_running:
    common.request_refresh(POLL_SECONDS)
