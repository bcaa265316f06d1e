"""The dashboard's process never opens runs.db with Python's sqlite3 (two SQLite copies on one
WAL file in one process can crash it with SIGBUS; notes/stack.md). Every page is rendered
with ``sqlite3.connect`` refusing runs.db; secmaster.db may still be read with it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tradecore.configure import RunRequest, build_orchestrator
from tradecore.ui import run_data

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


@pytest.fixture
def two_runs(sample_secmaster):
    return [build_orchestrator(RunRequest(strategy="SMACrossover", symbols=["ACME"],
                                          start="2022-01-01", parameters=params)).run()
            for params in ({"fast_period": 10, "slow_period": 30},
                           {"fast_period": 20, "slow_period": 60})]


@pytest.fixture
def refuse_runs_db(monkeypatch, isolated_databases):
    runs_db = Path(isolated_databases[1]).resolve()
    real_connect = sqlite3.connect
    opened: list[str] = []

    def connect(database, *args, **kwargs):
        text = str(database)
        if text.startswith("file:"):
            text = text[5:].split("?", 1)[0]
        if text not in (":memory:", "") and Path(text).resolve() == runs_db:
            opened.append(text)
            raise AssertionError(f"the dashboard opened {text} with sqlite3")
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    return opened


@pytest.mark.parametrize("page, query", [
    ("pages/home.py", {}),
    ("pages/runs.py", {}),
    ("pages/run.py", {"run": 0}),
    ("pages/compare.py", {"runs": "both"}),
    ("pages/backtest.py", {}),
])
def test_pages_never_open_runs_db_with_sqlite3(two_runs, refuse_runs_db, page, query):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    values = {"run": two_runs[0], "runs": ",".join(two_runs)}
    params = {key: values[key] for key in query}
    at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert refuse_runs_db == [], refuse_runs_db
    errors = [e.value for e in at.error]
    assert not any("sqlite3" in e for e in errors), errors
    run_data.clear()
