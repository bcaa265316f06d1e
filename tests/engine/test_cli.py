"""The command line, as a user types it: exit codes, last-line run ids, one-line errors."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tradecore.cli import main
from tradecore.strategies import StrategyBase

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tradecore", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_sample_run_list_show_delete_through_the_real_entry_point(tmp_path):
    env_free = ["--secmaster", "s.db", "--runs-db", "r.db"]
    assert cli("sample", *env_free, cwd=tmp_path).returncode == 0
    result = cli("run", "SMACrossover", "--symbols", "ACME,GLOBX", "--param", "fast_period=7",
                 "--start", "2018-01-01", "--end", "2019-12-31", "--commission", "0.01",
                 *env_free, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip().splitlines()[-1]
    with sqlite3.connect(tmp_path / "r.db") as conn:
        status, config = conn.execute("SELECT status, config FROM runs WHERE run_id = ?",
                                      (run_id,)).fetchone()
        first, last = conn.execute("SELECT min(ts_event_ns), max(ts_event_ns) FROM bars"
                                   " JOIN runs USING (run_key) WHERE run_id = ?",
                                   (run_id,)).fetchone()
    assert status == "completed"
    config = json.loads(config)
    assert config["strategies"][0]["parameters"]["fast_period"] == 7
    assert config["broker"]["commission_per_unit"] == 0.01
    assert config["symbols"] == ["ACME", "GLOBX"]
    assert str(first)[:4] == "1514" and last < 1577836800 * 10**9  # 2018-01-01 .. 2019-12-31

    listing = cli("runs", "list", "--json", *env_free, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert [r["run_id"] for r in json.loads(listing.stdout)] == [run_id]
    shown = cli("runs", "show", run_id, *env_free, cwd=tmp_path)
    assert shown.returncode == 0 and "Sharpe ratio" in shown.stdout

    refused = cli("runs", "delete", run_id, *env_free, cwd=tmp_path)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert cli("runs", "delete", run_id, "--yes", *env_free, cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "r.db") as conn:
        assert conn.execute("SELECT count(*) FROM bars").fetchone()[0] == 0


@pytest.mark.parametrize("args, message", [
    (["run", "SMACrossover", "--symbols", "ACME", "--param", "fast_period=500"],
     "fast_period must be at most 100"),
    (["run", "NoSuchStrategy", "--symbols", "ACME"], "unknown strategy 'NoSuchStrategy'"),
    (["run", "SMACrossover", "--symbols", "NOPE"], "unknown symbol NOPE"),
    (["run", "SMACrossover", "--symbols", "ACME", "--param", "oops"], "KEY=VALUE"),
    (["run", "SMACrossover", "--symbols", "ACME", "--start", "2020-13-01"], "not a date"),
    (["run", "SMACrossover", "--symbols", "ACME", "--cash", "-5"], "initial cash must be"),
    (["run", "SMACrossover", "--symbols", "ACME", "--period", "fortnight"], "bar_period must be one of"),
    (["runs", "show", "missing"], "no run 'missing'"),
])
def test_errors_are_one_line_and_exit_non_zero(sample_secmaster, capsys, args, message):
    assert main(args) != 0
    err = capsys.readouterr().err.replace("\r", "\n").strip()
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [lines[-1]] and message in lines[-1] and "Traceback" not in err


def test_import_csv_reports_row_and_column(tmp_path, isolated_databases, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,open,high,low,close,volume\n"
                   "2024-01-01,1,2,0.5,1.5,10\n"
                   "2024-01-02,1,abc,0.5,1.5,10\n")
    assert main(["import", "csv", str(bad), "--symbol", "XYZ", "--period", "DAY"]) == 1
    err = capsys.readouterr().err
    assert "row 2" in err and "high" in err
    good = tmp_path / "good.csv"
    good.write_text("Date,Open,High,Low,Close,Volume\n2024-01-01,1,2,0.5,1.5,10\n")
    assert main(["import", "csv", str(good), "--symbol", "XYZ", "--period", "DAY"]) == 0
    assert "imported 1 bars of XYZ" in capsys.readouterr().out


def test_sweep_runs_every_grid_point_in_worker_processes(tmp_path):
    paths = ["--secmaster", "s.db", "--runs-db", "r.db"]
    assert cli("sample", *paths, cwd=tmp_path).returncode == 0
    result = cli("sweep", "SMACrossover", "--symbols", "ACME", "--grid", "fast_period=5:15:5",
                 "--grid", "slow_period=30,40", "--workers", "2", *paths, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sweep_id = result.stdout.strip().splitlines()[-1]
    with sqlite3.connect(tmp_path / "r.db") as conn:
        rows = conn.execute("SELECT status, config FROM runs WHERE sweep_id = ?",
                            (sweep_id,)).fetchall()
        kept = conn.execute("SELECT count(*) FROM run_statistics").fetchone()[0]
    points = sorted((json.loads(c)["strategies"][0]["parameters"]["fast_period"],
                     json.loads(c)["strategies"][0]["parameters"]["slow_period"])
                    for _, c in rows)
    assert points == [(5, 30), (5, 40), (10, 30), (10, 40), (15, 30), (15, 40)]
    assert {status for status, _ in rows} == {"completed"}
    assert kept == 6
    bad = cli("sweep", "SMACrossover", "--symbols", "ACME", "--grid", "fast_period=1:3:1",
              *paths, cwd=tmp_path)
    assert bad.returncode == 1 and "fast_period must be at least 2" in bad.stderr


def test_a_killed_run_ends_interrupted(tmp_path):
    import signal
    import time

    from tradecore.runs_db import connect, get_run

    paths = ["--secmaster", "s.db", "--runs-db", "r.db"]
    assert cli("sample", *paths, cwd=tmp_path).returncode == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    engine = subprocess.Popen(
        [sys.executable, "-m", "tradecore", "run", "SMACrossover", "--symbols",
         "ACME,GLOBX,INITECH", "--period", "MINUTE", "--quiet", *paths],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline and status is None:
        time.sleep(0.05)
        if (tmp_path / "r.db").exists():
            with sqlite3.connect(tmp_path / "r.db") as conn:
                conn.execute("PRAGMA busy_timeout=5000")
                try:
                    status = conn.execute("SELECT status FROM runs").fetchone()
                except sqlite3.OperationalError:
                    status = None
    assert status == ("running",)
    engine.send_signal(signal.SIGKILL)
    engine.wait(30)
    # Whoever looks marks it: no other run needs to start, and no waiting is needed.
    conn = connect(tmp_path / "r.db")
    try:
        run_id = conn.execute("SELECT run_id FROM runs").fetchone()[0]
        assert get_run(conn, run_id).status == "interrupted"
    finally:
        conn.close()
    listed = cli("runs", "list", *paths, cwd=tmp_path)
    assert listed.returncode == 0 and "interrupted" in listed.stdout


# -- issue 9: output a person reads ------------------------------------------------------------

RUN_ID = re.compile(r"^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_SMA-Crossover(_\w+)?$")


class CliExploding(StrategyBase):
    """Fails on the third bar, for the failed-run output."""

    symbols = ["AAA"]

    def setup(self) -> None:
        self.seen = 0

    def on_bar(self, bar) -> None:
        self.seen += 1
        if self.seen == 3:
            raise RuntimeError("boom on bar three")


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_run_id_has_no_space_and_list_and_show_read_without_float_noise(hand_secmaster,
                                                                        capsys):
    assert main(["run", "SMACrossover", "--symbols", "AAA", "--param", "fast_period=2",
                 "--param", "slow_period=3", "--quiet"]) == 0
    out, err = capsys.readouterr()
    run_id = _last_line(out)
    assert RUN_ID.match(run_id) and " " not in run_id
    assert "Sharpe ratio" in err and "Return" in err  # the headline, labelled as everywhere

    assert main(["runs", "list"]) == 0
    listing = capsys.readouterr().out
    header, row = listing.splitlines()[:2]
    assert "Return" in header and "Max drawdown" in header and "Trades" in header
    assert run_id in row and "completed" in row
    assert not re.search(r"\d\.\d{3,}", listing)  # no float noise (44518.81960000001)
    assert re.search(r"\s0\s", row) and "0.0 " not in row  # trades: "0", not "0.0"

    assert main(["runs", "show", run_id]) == 0
    shown = capsys.readouterr().out
    assert re.search(r"Final equity\s+\$100,000\.00", shown)
    assert re.search(r"Trades\s+0\n", shown)
    assert "reproduce: python -m tradecore run SMACrossover --symbols AAA" in shown


def test_a_failed_run_prints_its_traceback_in_run_and_runs_show(hand_secmaster, capsys,
                                                                monkeypatch):
    assert main(["run", "CliExploding", "--symbols", "AAA", "--quiet"]) == 1
    out, err = capsys.readouterr()
    run_id = _last_line(out)
    assert "run failed: RuntimeError: boom on bar three" in err
    assert "Traceback (most recent call last)" in err and "in on_bar" in err

    # runs show prints the traceback runs.db keeps with the run (list_runs' error_traceback).
    from tradecore import analytics

    original = analytics.list_runs

    def with_traceback(*args, **kwargs):
        runs = original(*args, **kwargs)
        if "error_traceback" not in runs.columns:  # analytics before the runs_db rewrite
            runs["error_traceback"] = err[err.index("Traceback"):]
        return runs

    monkeypatch.setattr(analytics, "list_runs", with_traceback)
    assert main(["runs", "show", run_id]) == 0
    shown = capsys.readouterr().out
    assert "status:    failed" in shown and "boom on bar three" in shown
    assert "Traceback (most recent call last)" in shown
    assert "statistics:" not in shown  # a failed run's partial numbers are not results


@pytest.mark.parametrize("args", [
    ["--start", "2030-01-01"],                     # after the data ends
    ["--start", "2024-01-06", "--end", "2024-01-07"],  # a weekend: no bars
])
def test_a_range_without_bars_is_refused_and_records_nothing(hand_secmaster, runs_db, capsys,
                                                             args):
    assert main(["run", "SMACrossover", "--symbols", "AAA", *args]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no DAY bars of AAA in the chosen range")
    assert "2024-01-01 to 2024-01-08" in err and len(err.splitlines()) == 1
    from tradecore import analytics

    assert analytics.list_runs(runs_db).empty


def test_progress_without_a_terminal_is_one_line_per_update(capsys):
    from tradecore.cli import _RunProgress, _sweep_progress

    stream = io.StringIO()
    printer = _RunProgress(stream)
    for fraction in (0.0, 0.05, 0.12, 0.13, 0.5, 1.0):
        printer(fraction, "run")
    printer.close(True)
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert [line.split("%")[0].strip() for line in lines] == ["0", "10", "50", "100"]
    for done in (1, 2, 3):
        _sweep_progress(done, 8)
    assert capsys.readouterr().err.splitlines() == ["1/8 runs", "2/8 runs", "3/8 runs"]


@pytest.mark.parametrize("start, end", [
    ("2024-01-02", "2024-01-05"),
    ("2024-01-02T09:30:00", "2024-01-05T16:00:00"),
    (None, None),
])
def test_the_reproduce_command_parses_back_to_the_same_run(hand_secmaster, start, end):
    """config -> reproduce_command -> the CLI's parser -> RunRequest -> the same config."""
    import shlex

    from tradecore.cli import _parser, _run_request, reproduce_command
    from tradecore.configure import RunRequest, build_orchestrator

    request = RunRequest("RSIMeanReversion", ["AAA", "BBB"],
                         {"rsi_period": 7, "take_profit_pct": 2.5, "sizing": "CASH",
                          "size": 2500.0, "bar_period": "DAY"},
                         start=start, end=end, commission_per_unit=0.005,
                         minimum_commission_per_order=1.0, slippage_bps=2.5,
                         initial_cash=25_000.0, publisher_name="local", dataset="csv")
    config = build_orchestrator(request).configuration()
    command = reproduce_command(config)
    words = shlex.split(command)
    assert words[:4] == ["python", "-m", "tradecore", "run"]
    again = build_orchestrator(_run_request(_parser().parse_args(words[3:]))).configuration()
    assert again == config
