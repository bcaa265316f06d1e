"""Sweep page: a small grid runs in worker processes in the background, and its heatmap has a
cell per run that links to the run."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from pathlib import Path

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from tradecore.strategies import ParamSpec
from tradecore.ui import runner, widgets

ROOT = Path(__file__).resolve().parents[2]


def sweep_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "sweep.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_axis_values_follow_the_param_spec():
    spec = ParamSpec(10, min=2, max=100, step=1)
    assert widgets.default_axis_range(spec) == (5, 20)
    assert widgets.default_axis_step(spec) == 5
    assert widgets.axis_values(spec, 2, 100, 20) == [2, 22, 42, 62, 82]
    slow = ParamSpec(30, min=3, max=300, step=1)
    assert widgets.axis_values(slow, *widgets.default_axis_range(slow),
                               widgets.default_axis_step(slow)) == [15, 25, 35, 45, 55]
    ratio = ParamSpec(2.0, min=0.5, max=4.0, step=0.25)
    assert widgets.axis_values(ratio, 0.5, 1.5, 0.5) == [0.5, 1.0, 1.5]


def test_a_two_parameter_sweep_runs_and_shows_a_heatmap(sample_secmaster, runs_db):
    at = sweep_page()
    assert at.multiselect(key="sweep.axes.SMACrossover").value == ["fast_period", "slow_period"]
    axis = "sweep.axis.SMACrossover.{}".format
    at.slider(key=axis("fast_period") + ".range").set_value((5, 10))
    at.number_input(key=axis("fast_period") + ".step").set_value(5)
    at.slider(key=axis("slow_period") + ".range").set_value((20, 30))
    at.number_input(key=axis("slow_period") + ".step").set_value(10)
    at.date_input(key="sweep.data.start").set_value(dt.date(2023, 1, 2))
    at.date_input(key="sweep.data.end").set_value(dt.date(2023, 12, 29))
    at.slider(key="sweep.workers").set_value(2)
    at.run()
    assert "4 runs" in " ".join(c.value for c in at.caption)
    at.button(key="sweep.run").click().run()
    assert not at.error, [e.value for e in at.error]

    job = at.session_state[runner.SWEEP_KEY]
    deadline = time.monotonic() + 90
    while job.running:
        assert time.monotonic() < deadline
        time.sleep(0.25)
    at.run()
    assert job.error is None, job.error
    assert not at.exception, at.exception

    with sqlite3.connect(runs_db) as conn:
        rows = conn.execute("SELECT run_id, status, config FROM runs WHERE sweep_id = ?",
                            (job.sweep_id,)).fetchall()
    assert len(rows) == 4 and {r[1] for r in rows} == {"completed"}
    grid = {(json.loads(r[2])["strategies"][0]["parameters"]["fast_period"],
             json.loads(r[2])["strategies"][0]["parameters"]["slow_period"]) for r in rows}
    assert grid == {(5, 20), (5, 30), (10, 20), (10, 30)}

    chart = at.get("vega_lite_chart")[0]
    spec = json.loads(chart.proto.spec)
    assert spec["layer"][0]["mark"]["type"] == "rect"
    cells = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all().to_pandas()
    assert sorted(cells["run_id"]) == sorted(r[0] for r in rows)
    chosen = cells["run_id"].iloc[0]
    at.session_state[f"sweep.heatmap.{job.sweep_id}"] = {
        "selection": {"cell": [{"run_id": chosen}]}}
    at.run()
    # run on its own the page has no navigation, so its links are plain markdown links
    assert any(m.value.startswith(f"[Open run {chosen}]") for m in at.markdown)
    links = [m.value for m in at.markdown if m.value.startswith("[")]
    assert any(link.startswith("[Best return:") and "/run?run=" in link for link in links), links


def test_too_big_a_grid_is_refused(sample_secmaster, runs_db):
    at = sweep_page()
    axis = "sweep.axis.SMACrossover.{}".format
    at.number_input(key=axis("fast_period") + ".step").set_value(1)
    at.number_input(key=axis("slow_period") + ".step").set_value(1)
    at.run()
    at.button(key="sweep.run").click().run()
    assert any("more than" in e.value for e in at.error)
    assert runner.SWEEP_KEY not in at.session_state
