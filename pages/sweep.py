"""Sweep: run a strategy over a grid of one or two parameters on local worker processes or a
dask cluster, read any metric as a heatmap (with the best cell and the best plateau), open
the run behind a cell, and check the in-sample winners out of sample.

Design Decision: the page follows the sweep it started
    The sweep shown is a keyed selectbox, whose remembered value outlives the next sweep; a
    sweep started here is therefore queued in ``sweep.follow`` and written into the selectbox's
    state as soon as its first run lands, so a second sweep replaces the first on screen.

Design Decision: progress by whole-page reruns, not a timed fragment
    As on the backtest page: while a sweep runs, the page ends by asking for a rerun a
    second later (``common.request_refresh``), which redraws the progress and every point
    landed since. A timed fragment leaves a browser timer behind when the user moves to a
    run's page, and its late tick blanked that page (issue 9).
"""

import math
import os

import altair as alt
import pandas as pd
import streamlit as st

from tradecore import analytics, paths
from tradecore.configure import RunRequest
from tradecore.strategies import ParameterError, get_registered_strategies
from tradecore.sweep import (
    MAX_POINTS,
    Validation,
    best_cells,
    better_of,
    new_sweep_id,
    smoothed,
    stitch_equity,
)
from tradecore.sweep.windows import Window
from tradecore.ui import common, runner, widgets
from tradecore.ui.formatting import STAT_BY_KEY, format_stat, stat_label

# How a statistic's unit reads in the heatmap's legend title.
UNIT_TEXT = {"pct": "%", "money": "$", "ratio": "ratio", "count": "count", "duration": "days"}
VALIDATIONS = {"none": "None", "holdout": "Hold out the end", "walk": "Walk-forward"}
RANKABLE = [m for m in common.HEADLINE_METRICS
            if STAT_BY_KEY.get(m) is not None and STAT_BY_KEY[m].better in ("higher", "lower")]

common.page_setup()
st.title("Parameter sweep")

strategies = get_registered_strategies()
job = runner.current_sweep()
busy = job is not None and job.running


def metric_title(metric: str) -> str:
    spec = STAT_BY_KEY.get(metric)
    unit = UNIT_TEXT.get(spec.unit) if spec else None
    return f"{stat_label(metric)} ({unit})" if unit else stat_label(metric)


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
    grid, grid_ok = {}, True
    for name in axes:
        with st.container(border=True):
            try:
                grid[name] = widgets.sweep_axis(
                    name, strategy.parameters[name],
                    key=f"sweep.axis.{strategy.registered_name()}.{name}")
            except ParameterError as error:
                st.error(f"{common.humanize(name)}: {error}", icon=":material/error:")
                grid_ok = False
                continue
            values = grid[name]
            spec = strategy.parameters[name]
            if spec.choices is None and spec.kind != "bool" and len(values) >= 3 and (
                    not math.isclose(values[-1] - values[-2], values[1] - values[0])):
                st.caption(f"The step does not reach {values[-1]}: it is included as a last, "
                           f"shorter step after {values[-2]}.")
    points = math.prod(len(v) for v in grid.values()) if grid else 0

    with st.expander("Other parameters, data and broker"):
        fixed = widgets.parameter_widgets(strategy, key_prefix="sweep.param",
                                          skip=("bar_period", *axes), columns=2)
        data = widgets.data_selection(strategy, key_prefix="sweep.data")
        broker = widgets.broker_settings(key_prefix="sweep.broker")

    rank_by = st.selectbox("Rank by", RANKABLE, index=RANKABLE.index("sharpe"),
                           format_func=stat_label, key="sweep.rank",
                           help="Picks the best points and each in-sample winner")
    mode = st.radio("Out-of-sample check", list(VALIDATIONS), format_func=VALIDATIONS.get,
                    horizontal=True, key="sweep.validation")
    validation = Validation()
    if mode == "holdout":
        share = st.slider("Held-out share of the dates", 5, 50, 25, step=5, format="%d%%",
                          key="sweep.holdout")
        validation = Validation(holdout=share / 100)
    elif mode == "walk":
        w1, w2, w3 = st.columns(3)
        train = w1.text_input("Train window", "1Y", key="sweep.train",
                              help="A number and D, W, M or Y")
        test = w2.text_input("Test window", "6M", key="sweep.test")
        step = w3.text_input("Step", "", key="sweep.step", placeholder="= test window")
        validation = Validation(train=train, test=test, step=step or None)

    scheduler = st.text_input("Dask scheduler (optional)", key="sweep.scheduler",
                              placeholder="tcp://host:8786",
                              help="Send the points to a running dask cluster; empty: "
                                   "worker processes on this machine").strip()
    cpus = os.cpu_count() or 1
    workers = st.slider("Worker processes", 1, max(cpus, 1), value=cpus, key="sweep.workers",
                        disabled=bool(scheduler))
    where = f"the cluster at {scheduler}" if scheduler else f"{workers} worker process(es)"
    extra = {"holdout": " + 1 out-of-sample run", "walk": " per fold + 1 out-of-sample run "
             "per fold"}.get(mode, "")
    st.caption(f"{points} runs{extra} · {where}")
    start = st.button("Run sweep", type="primary", icon=":material/grid_on:", key="sweep.run",
                      disabled=busy or data is None or not axes or not grid_ok)
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
            try:
                job = runner.start_sweep(request, grid, workers=workers,
                                         sweep_id=new_sweep_id(), scheduler=scheduler or None,
                                         metric=rank_by, validation=validation)
                st.session_state["sweep.follow"] = job.sweep_id
            except ValueError as error:
                st.error(str(error), icon=":material/error:")


POLL_SECONDS = 1.0


def sweep_progress(current: runner.BackgroundSweep) -> None:
    """Progress and Cancel while a sweep runs (the page reruns itself meanwhile)."""
    text = (f"Sweep **{current.sweep_id}**: {current.done} of {current.total} runs done"
            if current.done else f"Sweep **{current.sweep_id}**: starting the workers…")
    st.progress(current.progress, text=text)
    if not current.cancelling and st.button("Cancel sweep", icon=":material/cancel:",
                                            key="sweep.cancel"):
        current.cancel()
    if current.cancelling:
        st.caption("Cancelling: running points stop, the others are skipped…")


@st.cache_data(show_spinner=False, max_entries=5_000)
def run_place(runs_db: str, run_id: str) -> tuple[int | None, int | None, str | None]:
    """The datafeed window a run replayed and its role in its sweep (neither changes once
    the run is recorded)."""
    row = analytics.run_row(run_id, runs_db)
    return row.config.datafeed.start_ns, row.config.datafeed.end_ns, row.role


def with_folds(results: pd.DataFrame) -> pd.DataFrame:
    """Add ``start_ns``, ``end_ns``, ``role`` and ``fold``: each fold is found by its in-sample
    window, and an out-of-sample window starts right after its fold's in-sample one."""
    runs_db = str(paths.runs_db_path())
    places = [run_place(runs_db, r) for r in results["run_id"]]
    frame = results.assign(start_ns=[p[0] for p in places], end_ns=[p[1] for p in places],
                           role=[p[2] for p in places])
    inside = frame[frame["role"] != "out_of_sample"]
    starts = sorted({(s, e) for s, e in zip(inside["start_ns"], inside["end_ns"])},
                    key=lambda w: (w[0] is None, w[0] or 0))
    fold_of = {w: i for i, w in enumerate(starts)}
    after = {e + 1 if e is not None else None: i for (s, e), i in fold_of.items()}
    frame["fold"] = [fold_of.get((s, e), 0) if role != "out_of_sample" else after.get(s, -1)
                     for s, e, role in zip(frame["start_ns"], frame["end_ns"], frame["role"])]
    return frame


def window_text(start_ns, end_ns) -> str:
    if start_ns is None or end_ns is None:
        return "whole range"
    return Window(int(start_ns), int(end_ns)).text()


def heatmap_section(cells: pd.DataFrame, varying: list[str], metric: str, key: str) -> None:
    x, y = varying[0], (varying[1] if len(varying) > 1 else None)
    chart = common.sweep_heatmap(cells, x, y, metric, metric_title(metric))
    event = st.altair_chart(chart, on_select="rerun", key=key, selection_mode="cell")
    picked = [point.get("run_id") for point in event.get("selection", {}).get("cell", [])
              if point.get("run_id")]
    if picked:
        common.run_link(picked[0], f"Open run {picked[0]}")
    else:
        st.caption("Click a cell to open its run.")
    better = STAT_BY_KEY[metric].better if metric in STAT_BY_KEY else "higher"
    if better not in ("higher", "lower"):
        return
    done = cells[cells["status"] == "completed"]
    if done.empty:
        return
    best, plateau = best_cells(done, x, y, metric, better)
    if best is None:
        return
    place = (lambda row: ", ".join(f"{common.humanize(v)} {row[v]}" for v in varying))  # noqa: E731
    b1, b2 = st.columns(2)
    with b1:
        row = done.loc[best]
        st.metric("Best cell", format_stat(metric, row[metric]), help=place(row), border=True)
        common.run_link(row["run_id"], f"Best {stat_label(metric).lower()}: {place(row)}")
    with b2:
        row = done.loc[plateau]
        average = smoothed(done, x, y, metric).loc[plateau]
        st.metric("Best plateau (cell + neighbours)", format_stat(metric, average),
                  help=f"The average of {place(row)} and its grid neighbours, the best such "
                       f"average: a result that does not hinge on one exact setting (the cell "
                       f"itself: {format_stat(metric, row[metric])})", border=True)
        common.run_link(row["run_id"], f"Plateau centre: {place(row)}")
    if plateau != best:
        st.caption("The best cell is not the centre of the best plateau: its neighbours do "
                   "worse, so the best cell may be an island.")


def out_of_sample_section(frame: pd.DataFrame, varying: list[str], metric: str) -> None:
    outside = frame[frame["role"] == "out_of_sample"].sort_values("fold")
    if outside.empty:
        return
    st.subheader("In sample against out of sample")
    inside = frame[frame["role"] == "in_sample"]
    rows, pairs = [], []
    for _, oos in outside.iterrows():
        same = inside[(inside["fold"] == oos["fold"])]
        if varying:
            for name in varying:
                same = same[same[name] == oos[name]]
        winner = same.iloc[0] if not same.empty else None
        pairs.append((winner, oos))
        is_value = winner[metric] if winner is not None else float("nan")
        rows.append({"Fold": int(oos["fold"]) + 1,
                     "Test window": window_text(oos["start_ns"], oos["end_ns"]),
                     **{common.humanize(v): oos[v] for v in varying},
                     f"In sample: {stat_label(metric)}": is_value,
                     f"Out of sample: {stat_label(metric)}": oos[metric],
                     "Fell by": is_value - oos[metric]})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="sweep.oos")
    winner, oos = pairs[0]
    if len(pairs) > 1:
        fold = st.selectbox("Fold", list(range(len(pairs))), format_func=lambda i: f"Fold {i + 1}",
                            key="sweep.fold")
        winner, oos = pairs[fold]
    if winner is not None:
        side = pd.DataFrame({
            "Statistic": [stat_label(m) for m in common.HEADLINE_METRICS],
            "In sample": [format_stat(m, winner[m]) for m in common.HEADLINE_METRICS],
            "Out of sample": [format_stat(m, oos[m]) for m in common.HEADLINE_METRICS]})
        st.dataframe(side, hide_index=True, width="stretch", key="sweep.side")
        fell = float(winner[metric]) - float(oos[metric])
        st.metric(f"{stat_label(metric)} out of sample", format_stat(metric, oos[metric]),
                  delta=f"{-fell:+.2f} against in sample", border=True)
    curves = [analytics.equity_curve(r, max_points=1000) for r in outside["run_id"]]
    cash = float(outside["initial_cash"].dropna().iloc[0]) if "initial_cash" in outside and \
        outside["initial_cash"].notna().any() else 100_000.0
    stitched = stitch_equity([c[["ts_event_ns", "equity"]] for c in curves], cash)
    if not stitched.empty:
        stitched["time"] = pd.to_datetime(stitched["ts_event_ns"], unit="ns")
        stitched["fold"] = stitched["fold"] + 1
        chart = alt.Chart(stitched).mark_line().encode(
            x=alt.X("time:T", title=None),
            y=alt.Y("equity:Q", title="Equity ($)", scale=alt.Scale(zero=False)),
            color=alt.Color("fold:N", title="Fold"),
        ).properties(height=260, title="Stitched out-of-sample equity")
        st.altair_chart(chart, width="stretch", key="sweep.stitched")


shown_running = job is not None and job.running  # decided once: the end of the page agrees
with result_col:
    if shown_running:
        sweep_progress(job)
    elif job is not None and job.result is not None:
        done = job.result
        text = f"Last sweep: {done.completed} completed, {done.failed} failed"
        if done.cancelled:
            text += f"; cancelled ({done.not_started} not started)"
        st.caption(text)
    elif job is not None and job.error is not None:
        st.error(f"The sweep stopped: {job.error_text}", icon=":material/error:")

    runs = analytics.list_runs()
    sweeps = runs.dropna(subset=["sweep_id"]).groupby("sweep_id")["run_id"].count()
    if sweeps.empty:
        if shown_running:
            common.request_refresh(POLL_SECONDS)  # nothing below to draw yet: rerun soon
        else:
            st.info("No sweeps yet. Choose parameters on the left and run one.")
        st.stop()
    ids = sorted(sweeps.index, reverse=True)
    follow = st.session_state.get("sweep.follow")
    if follow in ids:
        st.session_state["sweep.pick"] = follow
        st.session_state.pop("sweep.follow")
    sweep_id = st.selectbox("Sweep", ids, format_func=lambda s: f"{s} ({sweeps[s]} runs)",
                            key="sweep.pick")
    sweep_runs = runs[runs["sweep_id"] == sweep_id]
    if (sweep_runs["status"].isin(common.FINISHED)
            & sweep_runs["total_return_pct"].isna()).any():
        runs = common.list_runs_with_statistics()
    results, varying = common.sweep_results(runs, sweep_id)
    frame = with_folds(results)
    metrics = [m for m in common.HEADLINE_METRICS if m in frame.columns]
    m1, m2 = st.columns(2)
    metric = m1.selectbox("Metric", metrics, format_func=stat_label, key="sweep.metric")
    strategy_names = ", ".join(sorted(frame["strategy"].astype(str).unique()))
    m2.metric("Runs", f"{len(frame)}", help=f"Strategy: {strategy_names}")
    inside = frame[frame["role"] != "out_of_sample"]
    folds = sorted(inside["fold"].unique())
    if len(folds) > 1:
        shown_fold = st.selectbox("In-sample grid of fold", folds, key="sweep.grid_fold",
                                  format_func=lambda f: f"Fold {f + 1}: " + window_text(
                                      *inside[inside["fold"] == f][["start_ns", "end_ns"]]
                                      .iloc[0]))
        inside = inside[inside["fold"] == shown_fold]
    if not varying:
        st.info("Every run of this sweep has the same parameters.")
    else:
        heatmap_section(inside, varying, metric, key=f"sweep.heatmap.{sweep_id}")
    columns = ["run_id", "status", *varying, *metrics]
    st.dataframe(inside[columns], hide_index=True, width="stretch", key="sweep.results",
                 column_config={"run_id": st.column_config.TextColumn("Run", width="medium"),
                                "status": "Status",
                                **common.metric_columns(),
                                **{v: common.humanize(v) for v in varying}})
    failed = frame[frame["status"] != "completed"]
    if not failed.empty:
        st.warning(f"{len(failed)} run(s) of this sweep did not complete "
                   f"({', '.join(sorted(failed['status'].unique()))}).")
    try:
        better_of(metric)
        out_of_sample_section(frame, varying, metric)
    except ParameterError:
        st.caption(f"{stat_label(metric)} has no better direction: pick another metric to "
                   f"compare in and out of sample.")

if shown_running:
    common.request_refresh(POLL_SECONDS)
