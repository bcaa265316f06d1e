"""The entry script: navigation, start-up (sample data, interrupted runs, strategy import
errors) and the Home page."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tradecore.configure import RunRequest, build_orchestrator
from tradecore.runs_db import connect as connect_runs_db
from tradecore.strategies import discover_strategies, get_registered_strategies, registry
from tradecore.ui import common

ROOT = Path(__file__).resolve().parents[2]


def dashboard() -> AppTest:
    return AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30).run()


def test_home_page_on_a_fresh_machine_builds_the_sample(isolated_databases):
    secmaster, _ = isolated_databases
    at = dashboard()
    assert not at.exception, at.exception
    assert secmaster.exists()
    assert [status.label for status in at.status] == ["Sample data ready"]
    assert at.title[0].value == "tradecore"
    assert any("No runs yet" in info.value for info in at.info)
    assert "class RSIDip(StrategyBase)" in at.code[0].value
    assert not at.error


def test_home_lists_recent_runs_with_links_to_their_pages(sample_secmaster, runs_db):
    run_id = build_orchestrator(RunRequest("SMACrossover", ["ACME"], start="2024-01-01")).run()
    at = dashboard()
    assert not at.exception, at.exception
    links = [link for link in at.get("page_link") if run_id in link.proto.label]
    assert len(links) == 1
    assert links[0].proto.page.endswith("run") or "run" in links[0].proto.page
    assert len(at.status) == 0  # the sample existed: no build message


def test_every_page_runs_from_the_navigation(sample_secmaster, runs_db):
    at = dashboard()
    for page in ("pages/backtest.py", "pages/runs.py", "pages/sweep.py", "pages/data.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert at.title, page


def test_runs_left_running_by_a_dead_process_are_marked_interrupted(sample_secmaster, runs_db):
    conn = connect_runs_db(runs_db)
    with conn:
        conn.execute(
            "INSERT INTO runs (run_id, name, status, ts_start, config, pid, host) "
            "VALUES ('ghost', 'Ghost', 'running', ?, '{}', ?, ?)",
            (time.time_ns(), _dead_pid(), socket.gethostname()))
    conn.close()
    at = dashboard()
    assert not at.exception
    with sqlite3.connect(runs_db) as check:
        assert check.execute("SELECT status FROM runs WHERE run_id = 'ghost'").fetchone() == (
            "interrupted",)


def test_strategy_import_errors_are_shown(sample_secmaster, monkeypatch):
    monkeypatch.setattr(registry, "_errors", {})
    monkeypatch.setenv("TRADECORE_STRATEGIES", "tradecore_no_such_strategy_module")
    at = dashboard()
    assert not at.exception
    assert any("tradecore_no_such_strategy_module" in e.value and "ModuleNotFoundError" in e.value
               for e in at.error), [e.value for e in at.error]


def test_the_home_example_strategy_works(tmp_path, sample_secmaster, runs_db):
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "rsi_dip.py").write_text(common.STRATEGY_EXAMPLE)
    assert discover_strategies(folder) == [] or all(
        "rsi_dip" not in e.source for e in registry.strategy_discovery_errors())
    assert get_registered_strategies(discover=False)["RSIDip"].display_name() == "RSI Dip"
    run_id = build_orchestrator(RunRequest("RSIDip", ["ACME"], start="2023-01-01")).run()
    with sqlite3.connect(runs_db) as conn:
        assert conn.execute("SELECT status FROM runs WHERE run_id = ?",
                            (run_id,)).fetchone() == ("completed",)


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1
