"""Sweep page: a small grid runs on local dask workers in the background; its heatmap has a
cell per run that links to the run, a legend with the metric's unit, the best cell and the
best plateau; a second sweep replaces the first on screen; a held-out sweep shows in-sample
against out-of-sample; Cancel stops a sweep with no run left running."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from tradecore.strategies import ParamSpec
from tradecore.ui import runner, widgets

ROOT = Path(__file__).resolve().parents[2]
AXIS = "sweep.axis.SMACrossover.{}".format


def sweep_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "sweep.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def one_year(at: AppTest) -> None:
    at.date_input(key="sweep.data.start").set_value(dt.date(2023, 1, 2))
    at.date_input(key="sweep.data.end").set_value(dt.date(2023, 12, 29))


def wait_for(job, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while job.running:
        assert time.monotonic() < deadline, "the sweep did not finish in time"
        time.sleep(0.25)
    assert job.error is None, job.error


def sweep_rows(runs_db: Path, sweep_id: str) -> list[tuple]:
    if not runs_db.exists():
        return []
    with sqlite3.connect(runs_db) as conn:
        try:
            return conn.execute("SELECT run_id, status, config FROM runs WHERE sweep_id = ?",
                                (sweep_id,)).fetchall()
        except sqlite3.OperationalError:  # cancelled before any run landed: no schema yet
            return []


def heatmap_cells(at: AppTest):
    chart = at.get("vega_lite_chart")[0]
    return json.loads(chart.proto.spec), pa.ipc.open_stream(
        chart.proto.datasets[0].data.data).read_all().to_pandas()


def test_axis_values_follow_the_param_spec_and_keep_a_missed_end():
    spec = ParamSpec(10, min=2, max=100, step=1)
    assert widgets.default_axis_range(spec) == (5, 20)
    assert widgets.default_axis_step(spec) == 5
    # the step misses 100: it is kept as a last, shorter step (and the page says so)
    assert widgets.axis_values(spec, 2, 100, 20) == [2, 22, 42, 62, 82, 100]
    ratio = ParamSpec(2.0, min=0.5, max=4.0, step=0.25)
    assert widgets.axis_values(ratio, 0.5, 1.5, 0.5) == [0.5, 1.0, 1.5]


def test_a_two_parameter_sweep_runs_and_shows_a_heatmap(sample_secmaster, runs_db):
    at = sweep_page()
    assert at.multiselect(key="sweep.axes.SMACrossover").value == ["fast_period", "slow_period"]
    at.slider(key=AXIS("fast_period") + ".range").set_value((5, 10))
    at.number_input(key=AXIS("fast_period") + ".step").set_value(5)
    at.slider(key=AXIS("slow_period") + ".range").set_value((20, 30))
    at.number_input(key=AXIS("slow_period") + ".step").set_value(10)
    one_year(at)
    at.slider(key="sweep.workers").set_value(2)
    at.run()
    assert "4 runs" in " ".join(c.value for c in at.caption)
    at.button(key="sweep.run").click().run()
    assert not at.error, [e.value for e in at.error]
    job = at.session_state[runner.SWEEP_KEY]
    # the progress bar is there as soon as the sweep starts, before any point is done
    assert at.get("progress"), "no progress bar right after Run"

    wait_for(job)
    at.run()
    assert not at.exception, at.exception
    rows = sweep_rows(runs_db, job.sweep_id)
    assert len(rows) == 4 and {r[1] for r in rows} == {"completed"}
    grid = {(json.loads(r[2])["strategies"][0]["parameters"]["fast_period"],
             json.loads(r[2])["strategies"][0]["parameters"]["slow_period"]) for r in rows}
    assert grid == {(5, 20), (5, 30), (10, 20), (10, 30)}

    spec, cells = heatmap_cells(at)
    assert spec["layer"][0]["mark"]["type"] == "rect"
    assert spec["layer"][0]["encoding"]["color"]["title"] == "Return (%)"
    assert sorted(cells["run_id"]) == sorted(r[0] for r in rows)
    best = cells.loc[cells["total_return_pct"].idxmax()]
    labels = [m.label for m in at.metric]
    assert "Best cell" in labels and "Best plateau (cell + neighbours)" in labels
    assert at.metric[labels.index("Best cell")].value == f"{best['total_return_pct']:.2f}%"
    # on a 2 x 2 grid every cell's neighbourhood is the whole grid: the plateau is its mean
    plateau = at.metric[labels.index("Best plateau (cell + neighbours)")].value
    assert plateau == f"{cells['total_return_pct'].mean():.2f}%"
    chosen = cells["run_id"].iloc[0]
    at.session_state[f"sweep.heatmap.{job.sweep_id}"] = {
        "selection": {"cell": [{"run_id": chosen}]}}
    at.run()
    # run on its own the page has no navigation, so its links are plain markdown links
    assert any(m.value.startswith(f"[Open run {chosen}]") for m in at.markdown)
    links = [m.value for m in at.markdown if m.value.startswith("[")]
    assert any(link.startswith("[Best return:") and f"run={quote(best['run_id'])})" in link
               for link in links), links


def test_a_second_sweep_replaces_the_first_and_a_holdout_shows_out_of_sample(
        sample_secmaster, runs_db):
    at = sweep_page()
    at.multiselect(key="sweep.axes.SMACrossover").set_value(["fast_period"])
    at.slider(key=AXIS("fast_period") + ".range").set_value((5, 10))
    at.number_input(key=AXIS("fast_period") + ".step").set_value(5)
    one_year(at)
    at.run()
    at.button(key="sweep.run").click().run()
    first = at.session_state[runner.SWEEP_KEY]
    wait_for(first)
    at.run()
    assert at.selectbox(key="sweep.pick").value == first.sweep_id

    at.radio(key="sweep.validation").set_value("holdout")
    at.run()
    at.slider(key="sweep.holdout").set_value(30)
    at.slider(key=AXIS("fast_period") + ".range").set_value((10, 20))
    at.run()
    at.button(key="sweep.run").click().run()
    second = at.session_state[runner.SWEEP_KEY]
    assert second.sweep_id != first.sweep_id
    wait_for(second)
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="sweep.pick").value == second.sweep_id
    _, cells = heatmap_cells(at)
    rows = sweep_rows(runs_db, second.sweep_id)
    assert len(rows) == 3 + 1
    assert set(cells["run_id"]) < {r[0] for r in rows}  # the in-sample grid only
    assert len(cells) == 3

    tables = [d.value for d in at.dataframe]  # AppTest keeps no key on a plain dataframe
    oos = next(t for t in tables if "Test window" in t.columns)
    assert len(oos) == 1 and oos["Test window"].iloc[0].endswith("2023-12-29")
    winner = second.result.best(1)[0]
    assert oos["Fast period"].iloc[0] == str(winner.point["fast_period"])
    assert oos["Fell by"].iloc[0] == pytest.approx(
        oos["In sample: Return"].iloc[0] - oos["Out of sample: Return"].iloc[0])
    side = next(t for t in tables if "Statistic" in t.columns)
    assert list(side.columns) == ["Statistic", "In sample", "Out of sample"]
    titles = [json.loads(c.proto.spec).get("title") for c in at.get("vega_lite_chart")]
    assert "Stitched out-of-sample equity" in titles


def test_cancel_stops_the_sweep_with_no_run_left_running(sample_secmaster, runs_db,
                                                         monkeypatch):
    monkeypatch.setenv("TRADECORE_STRATEGIES", "tests.sweep.strategies")
    at = sweep_page()
    at.selectbox(key="sweep.strategy").set_value("SlowSMA")
    at.run()
    at.multiselect(key="sweep.axes.SlowSMA").set_value(["fast_period"])
    at.run()
    at.slider(key="sweep.axis.SlowSMA.fast_period.range").set_value((5, 12))
    at.number_input(key="sweep.axis.SlowSMA.fast_period.step").set_value(1)
    one_year(at)
    at.run()
    at.button(key="sweep.run").click().run()
    job = at.session_state[runner.SWEEP_KEY]
    at.button(key="sweep.cancel").click().run()
    assert job.cancelling
    wait_for(job)
    assert job.result.cancelled and job.result.not_started >= 1
    statuses = [r[1] for r in sweep_rows(runs_db, job.sweep_id)]
    assert "running" not in statuses
    assert len(statuses) + job.result.not_started == 8
    at.run()
    assert not at.exception, at.exception


def test_too_big_a_grid_is_refused(sample_secmaster, runs_db):
    at = sweep_page()
    at.number_input(key=AXIS("fast_period") + ".step").set_value(1)
    at.number_input(key=AXIS("slow_period") + ".step").set_value(1)
    at.slider(key=AXIS("fast_period") + ".range").set_value((2, 100))
    at.slider(key=AXIS("slow_period") + ".range").set_value((3, 300))
    at.run()
    at.button(key="sweep.run").click().run()
    assert any("more than" in e.value for e in at.error)
    assert runner.SWEEP_KEY not in at.session_state


def test_a_range_end_the_step_misses_is_kept_and_said(sample_secmaster, runs_db):
    at = sweep_page()
    at.slider(key=AXIS("fast_period") + ".range").set_value((5, 20))
    at.number_input(key=AXIS("fast_period") + ".step").set_value(4)
    at.run()
    assert any("does not reach 20" in c.value for c in at.caption)
