"""Sweep: run a strategy over a grid of one or two parameters in worker processes, then read
any metric as a heatmap and open the run behind a cell."""

import datetime as dt
import math
import os
import uuid

import streamlit as st

from tradecore import analytics
from tradecore.configure import RunRequest
from tradecore.strategies import get_registered_strategies
from tradecore.ui import common, runner, widgets
from tradecore.ui.formatting import STAT_BY_KEY, best_index, stat_label

MAX_POINTS = 400  # a bigger grid is refused: it would take long and fill runs.db

common.page_setup()
st.title("Parameter sweep")

strategies = get_registered_strategies()
job = runner.current_sweep()
busy = job is not None and job.running

setup_col, result_col = st.columns([2, 3], gap="large")
with setup_col:
    strategy = widgets.strategy_select(strategies, key="sweep.strategy")
    sweepable = widgets.sweepable_parameters(strategy)
    if not sweepable:
        st.info(f"{strategy.display_name()} has no bounded or choice parameters to sweep.")
        st.stop()
    axes = st.multiselect("Parameters to sweep (1 or 2)", sweepable, default=sweepable[:2],
                          max_selections=2, format_func=common.humanize,
                          key=f"sweep.axes.{strategy.registered_name()}")
    grid = {}
    for name in axes:
        with st.container(border=True):
            grid[name] = widgets.sweep_axis(
                name, strategy.parameters[name],
                key=f"sweep.axis.{strategy.registered_name()}.{name}")
    points = math.prod(len(v) for v in grid.values()) if grid else 0

    with st.expander("Other parameters, data and broker"):
        fixed = widgets.parameter_widgets(strategy, key_prefix="sweep.param",
                                          skip=("bar_period", *axes), columns=2)
        data = widgets.data_selection(strategy, key_prefix="sweep.data")
        broker = widgets.broker_settings(key_prefix="sweep.broker")
    cpus = os.cpu_count() or 1
    workers = st.slider("Worker processes", 1, max(cpus, 1), value=min(2, cpus),
                        key="sweep.workers")
    st.caption(f"{points} runs · {workers} worker process(es)")
    start = st.button("Run sweep", type="primary", icon=":material/grid_on:", key="sweep.run",
                      disabled=busy or data is None or not axes)
    if start and data is not None:
        if points == 0:
            st.error("Choose at least one value for each swept parameter.")
        elif points > MAX_POINTS:
            st.error(f"{points} runs is more than {MAX_POINTS}: widen a step or narrow a range.")
        else:
            request = RunRequest(
                strategy=strategy.registered_name(), symbols=data.symbols,
                parameters={**fixed, "bar_period": data.bar_period},
                start=data.start, end=data.end,
                commission_per_unit=broker.commission_per_unit,
                minimum_commission_per_order=broker.minimum_commission_per_order,
                slippage_bps=broker.slippage_bps, initial_cash=broker.initial_cash,
                publisher_name=data.publisher_name, dataset=data.dataset)
            sweep_id = (f"sweep_{dt.datetime.now(dt.UTC):%Y-%m-%d_%H-%M-%S}_"
                        f"{uuid.uuid4().hex[:6]}")
            try:
                job = runner.start_sweep(request, grid, workers=workers, sweep_id=sweep_id)
                st.session_state["sweep.shown"] = sweep_id
            except ValueError as error:
                st.error(str(error), icon=":material/error:")


@st.fragment(run_every=1.0)
def sweep_progress() -> None:
    current = runner.current_sweep()
    if current is None:
        return
    if not current.running:
        st.rerun(scope="app")
    st.progress(current.progress, text=f"Sweep **{current.sweep_id}**: {current.done} of "
                                       f"{current.total} runs done")


with result_col:
    if job is not None and job.running:
        sweep_progress()
    elif job is not None and job.error is not None:
        st.error(f"The sweep stopped: {type(job.error).__name__}: {job.error}",
                 icon=":material/error:")

    runs = analytics.list_runs()
    sweeps = runs.dropna(subset=["sweep_id"]).groupby("sweep_id")["run_id"].count()
    if sweeps.empty:
        if job is None or not job.running:
            st.info("No sweeps yet. Choose parameters on the left and run one.")
        st.stop()
    ids = sorted(sweeps.index, reverse=True)
    shown = st.session_state.get("sweep.shown")
    sweep_id = st.selectbox("Sweep", ids, index=ids.index(shown) if shown in ids else 0,
                            format_func=lambda s: f"{s} ({sweeps[s]} runs)", key="sweep.pick")
    sweep_runs = runs[runs["sweep_id"] == sweep_id]
    if (sweep_runs["status"].isin(common.FINISHED)
            & sweep_runs["total_return_pct"].isna()).any():
        runs = common.list_runs_with_statistics()
    results, varying = common.sweep_results(runs, sweep_id)
    metrics = [m for m in common.HEADLINE_METRICS if m in results.columns]
    m1, m2 = st.columns(2)
    metric = m1.selectbox("Metric", metrics, format_func=stat_label, key="sweep.metric")
    strategy_names = ", ".join(sorted(results["strategy"].astype(str).unique()))
    m2.metric("Runs", f"{len(results)}", help=f"Strategy: {strategy_names}")
    if not varying:
        st.info("Every run of this sweep has the same parameters.")
    else:
        x, y = varying[0], (varying[1] if len(varying) > 1 else None)
        chart = common.sweep_heatmap(results, x, y, metric, stat_label(metric))
        event = st.altair_chart(chart, on_select="rerun", key=f"sweep.heatmap.{sweep_id}",
                                selection_mode="cell")
        picked = [point.get("run_id") for point in event.get("selection", {}).get("cell", [])
                  if point.get("run_id")]
        if picked:
            common.run_link(picked[0], f"Open run {picked[0]}")
        else:
            st.caption("Click a cell to open its run.")
    columns = ["run_id", "status", *varying, *metrics]
    st.dataframe(results[columns], hide_index=True, width="stretch", key="sweep.results",
                 column_config={"run_id": st.column_config.TextColumn("Run", width="medium"),
                                "status": "Status",
                                **common.metric_columns(),
                                **{v: common.humanize(v) for v in varying}})
    best = best_index(results[metric].tolist(), STAT_BY_KEY[metric].better
                      if metric in STAT_BY_KEY else "higher")
    if best:
        best_run = results.iloc[best[0]]["run_id"]
        common.run_link(best_run, f"Best {stat_label(metric).lower()}: {best_run}")
    failed = results[results["status"] != "completed"]
    if not failed.empty:
        st.warning(f"{len(failed)} run(s) of this sweep did not complete "
                   f"({', '.join(sorted(failed['status'].unique()))}).")
