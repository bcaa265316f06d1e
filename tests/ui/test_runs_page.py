"""Runs page: lists runs with their metrics, filters, opens/compares, deletes only after a
confirmation, exports CSV."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tradecore.configure import RunRequest, build_orchestrator

ROOT = Path(__file__).resolve().parents[2]


def make_run(symbols=("ACME",), **parameters) -> str:
    request = RunRequest("SMACrossover", list(symbols), parameters, start="2022-01-03",
                         end="2023-12-29")
    return build_orchestrator(request).run()


@pytest.fixture
def three_runs(sample_secmaster, runs_db) -> list[str]:
    return [make_run(fast_period=5, slow_period=20), make_run(fast_period=8),
            make_run(["GLOBX"], fast_period=12)]


def runs_page(via_dashboard: bool = False) -> AppTest:
    if via_dashboard:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30).run()
        at.switch_page("pages/runs.py").run()
    else:
        at = AppTest.from_file(str(ROOT / "pages" / "runs.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def select_rows(at: AppTest, rows: list[int]) -> AppTest:
    at.session_state["runs.table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def stored_ids(runs_db) -> set[str]:
    with sqlite3.connect(runs_db) as conn:
        return {row[0] for row in conn.execute("SELECT run_id FROM runs")}


def test_lists_every_run_with_status_parameters_and_metrics(three_runs):
    at = runs_page()
    table = at.dataframe[0].value
    assert sorted(table["run_id"]) == sorted(three_runs)
    assert list(table["run_id"]) == sorted(three_runs, reverse=True)  # newest first
    assert set(table["status"]) == {"completed"}
    assert set(table["symbols"]) == {"ACME", "GLOBX"}
    assert ("fast_period=5, slow_period=20, sizing=PERCENT_OF_EQUITY, size=95.0"
            in set(table["parameters"]))
    for metric in ("total_return_pct", "sharpe", "max_drawdown_pct", "trades"):
        assert metric in table.columns


def test_filters_by_text_and_status(three_runs):
    at = runs_page()
    at.text_input(key="runs.search").input("globx").run()
    assert list(at.dataframe[0].value["symbols"]) == ["GLOBX"]
    at.text_input(key="runs.search").input("").run()
    at.multiselect(key="runs.status").set_value(["completed"]).run()
    assert len(at.dataframe[0].value) == 3
    at.text_input(key="runs.search").input("fast_period=8").run()
    assert len(at.dataframe[0].value) == 1
    at.text_input(key="runs.search").input("no such run").run()
    assert at.dataframe[0].value.empty


def test_delete_needs_a_confirmation(three_runs, runs_db):
    at = runs_page()
    newest = at.dataframe[0].value["run_id"].iloc[0]
    select_rows(at, [0])
    at.button(key="runs.delete").click().run()
    assert stored_ids(runs_db) == set(three_runs), "nothing is deleted before confirming"
    assert any("cannot be undone" in w.value for w in at.warning)

    at.button(key="runs.cancel_delete").click().run()
    assert stored_ids(runs_db) == set(three_runs)
    assert not at.warning

    select_rows(at, [0])
    at.button(key="runs.delete").click().run()
    at.button(key="runs.confirm_delete").click().run()
    assert not at.exception
    assert stored_ids(runs_db) == set(three_runs) - {newest}
    assert newest not in set(at.dataframe[0].value["run_id"])
    assert any("Deleted 1 run" in s.value for s in at.success)


def test_open_and_compare_need_a_selection(three_runs):
    at = runs_page()
    assert at.button(key="runs.open").disabled and at.button(key="runs.compare").disabled
    select_rows(at, [0])
    assert not at.button(key="runs.open").disabled and at.button(key="runs.compare").disabled
    select_rows(at, [0, 2])
    assert at.button(key="runs.open").disabled and not at.button(key="runs.compare").disabled


def test_compare_switches_to_the_compare_page_with_the_run_ids(three_runs):
    at = runs_page(via_dashboard=True)
    table = at.dataframe[0].value
    select_rows(at, [0, 1])
    at.button(key="runs.compare").click().run()
    expected = ",".join(table["run_id"].iloc[[0, 1]])
    assert at.query_params["runs"] in (expected, [expected])


def test_export_is_the_filtered_table_as_csv(three_runs):
    at = runs_page()
    at.text_input(key="runs.search").input("GLOBX").run()
    export = at.get("download_button")[0]
    assert export.proto.label == "Export CSV"


def test_no_runs_yet(runs_db):
    at = runs_page()
    assert any("No runs recorded yet" in i.value for i in at.info)
