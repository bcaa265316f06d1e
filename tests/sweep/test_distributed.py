"""Sweeps on a LocalCluster whose workers see neither the data folder nor runs.db: results
equal the same runs made one by one; failures, cancel and walk-forward folds."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
import textwrap
import threading
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from tradecore import analytics
from tradecore.configure import RunRequest, build_orchestrator
from tradecore.sweep import Validation, best_records, coordinator, grid_points, merge, run_sweep

ROOT = Path(__file__).resolve().parents[2]
GRID = {"fast_period": [5, 10, 15], "slow_period": [20, 30, 40]}


def request(strategy: str = "SMACrossover", **parameters) -> RunRequest:
    return RunRequest(strategy=strategy, symbols=["ACME", "GLOBX"],
                      parameters={"bar_period": "DAY", **parameters},
                      start="2023-01-01", end="2023-12-31", commission_per_unit=0.01)


def runs_rows(runs_db: Path, sweep_id: str) -> list[dict]:
    with sqlite3.connect(runs_db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(
            "SELECT * FROM runs WHERE sweep_id = ? ORDER BY rowid", (sweep_id,))]


def parameters_of(row: dict) -> dict:
    return json.loads(row["config"])["strategies"][0]["parameters"]


def comparable_fills(run_id: str, runs_db: Path) -> pd.DataFrame:
    frame = analytics.fills(run_id, runs_db)
    keep = ["ts_event_ns", "symbol", "side", "quantity_filled", "fill_price", "commission"]
    return frame[keep].reset_index(drop=True)


def same_statistics(a: dict, b: dict) -> bool:
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if x != y:
            return False
    return a.keys() == b.keys()


@contextmanager
def hand_back_watched(monkeypatch, *, workers_see_folder: bool):
    """How the sweep's runs come back: ``modes`` gets "file" or "bytes" per merged run,
    ``folders`` the sweep's hand-over folder. Workers that do not see the folder are made by
    giving them a token the folder does not hold: they must send bytes."""
    modes, folders = [], []

    @contextmanager
    def watched_folder():
        with merge.handback_folder() as (folder, token):
            folders.append(Path(folder))
            yield folder, token if workers_see_folder else "not-" + token

    def watched_merge(merger, outcome, **kwargs):
        modes.append("bytes" if outcome.db_path is None else "file")
        if outcome.db_path is not None:
            assert Path(outcome.db_path).parent == folders[0]
        return merge.merge_outcome(merger, outcome, **kwargs)

    monkeypatch.setattr(coordinator, "handback_folder", watched_folder)
    monkeypatch.setattr(coordinator, "merge_outcome", watched_merge)
    yield modes, folders


@pytest.mark.parametrize("workers_see_folder", [True, False], ids=["file", "bytes"])
def test_a_3x3_sweep_equals_the_same_runs_made_one_by_one(client, sample_secmaster, runs_db,
                                                          tmp_path, monkeypatch,
                                                          workers_see_folder):
    done = []
    with hand_back_watched(monkeypatch, workers_see_folder=workers_see_folder) as (modes,
                                                                                  folders):
        result = run_sweep(request(), GRID, client=client,
                           progress=lambda d, t: done.append((d, t)))
    assert (result.completed, result.failed) == (9, 0)
    # local workers move their file into the coordinator's folder when they see it, else
    # send its bytes; the folder is gone with the sweep
    assert modes == ["file" if workers_see_folder else "bytes"] * 9
    assert len(folders) == 1 and not folders[0].exists()
    assert done == [(i, 9) for i in range(1, 10)]
    rows = runs_rows(runs_db, result.sweep_id)
    assert len(rows) == 9 and {r["status"] for r in rows} == {"completed"}
    # the workers replayed their shipped slice, never the coordinator's secmaster
    assert {json.loads(r["config"])["datafeed"]["db_path"] for r in rows} & {
        str(sample_secmaster)} == set()
    by_point = {(p["fast_period"], p["slow_period"]): r["run_id"]
                for r in rows for p in [parameters_of(r)]}
    assert set(by_point) == {(p["fast_period"], p["slow_period"]) for p in grid_points(GRID)}

    alone_db = tmp_path / "alone.db"
    for point, run_id in by_point.items():
        alone = request(fast_period=point[0], slow_period=point[1])
        alone.runs_db_path = str(alone_db)
        alone_id = build_orchestrator(alone).run()
        swept_fills = comparable_fills(run_id, runs_db)
        pd.testing.assert_frame_equal(swept_fills, comparable_fills(alone_id, alone_db))
        assert same_statistics(analytics.statistics(run_id, runs_db),
                               analytics.statistics(alone_id, alone_db)), point
    assert sum(len(comparable_fills(r, runs_db)) for r in by_point.values()) > 0
    # the statistics the workers handed back are the ones runs.db gives
    record = result.best(1)[0]
    assert record.statistics["sharpe"] == analytics.statistics(record.run_id, runs_db)["sharpe"]


def test_a_worker_that_cannot_move_its_run_into_the_folder_sends_its_bytes(
        sample_secmaster, runs_db, monkeypatch):
    """In this process, as a worker runs it: a run moved into the hand-over folder and one
    sent as bytes (the rename failed: another file system) land as the same rows."""
    import errno
    import os
    import time

    from tradecore.datafeeds import SimulatedDatafeed
    from tradecore.runs_db import RunRecorder
    from tradecore.sweep import worker
    from tradecore.sweep.coordinator import prepare
    from tradecore.sweep.data import build_slice

    # A worker changes both: they are restored after the test.
    monkeypatch.setattr(RunRecorder, "writer", RunRecorder.writer)
    monkeypatch.setattr(SimulatedDatafeed, "read_ahead_from_bars",
                        SimulatedDatafeed.read_ahead_from_bars)
    prepared, _, _, (first, last) = prepare(request(), {"fast_period": [5]})
    data = build_slice(prepared, first, last)
    with merge.handback_folder() as handback:

        def point(key: int) -> worker.PointOutcome:
            task = worker.PointTask(prepared, {}, 0, None, run_key=key, handback=handback)
            outcome = worker.run_point(task, data.content, data.digest)
            assert outcome.status == "completed", outcome.error
            return outcome

        moved = point(-1)
        assert (RunRecorder.writer, SimulatedDatafeed.read_ahead_from_bars) == (
            "thread", sys.maxsize)  # a point records and reads in its own process
        assert moved.db is None and Path(moved.db_path).parent == Path(handback[0])

        def another_file_system(src, dst):
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        monkeypatch.setattr(worker.os, "replace", another_file_system)
        sent = point(-2)
        assert sent.db_path is None and sent.db[:16] == b"SQLite format 3\x00"
        assert sorted(os.listdir(handback[0])) == sorted(["token", Path(moved.db_path).name])
        with merge.open_merger(runs_db) as merger:
            ids = [merge.merge_outcome(merger, outcome, sweep_id=None, role=None)
                   for outcome in (moved, sent)]
        deadline = time.monotonic() + 30
        while Path(moved.db_path).exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # deleted by a thread of its own once copied
        assert not Path(moved.db_path).exists()
    pd.testing.assert_frame_equal(*(comparable_fills(run_id, runs_db) for run_id in ids))
    assert len(comparable_fills(ids[0], runs_db)) > 0
    assert same_statistics(*(analytics.statistics(run_id, runs_db) for run_id in ids))


def test_a_raising_point_is_a_failed_run_and_the_others_complete(
        client, sample_secmaster, runs_db, test_strategies):
    grid = {"explode": [False, True], "fast_period": [5, 10]}
    result = run_sweep(request("ExplodingSMA"), grid, client=client)
    assert (result.completed, result.failed) == (2, 2)
    rows = runs_rows(runs_db, result.sweep_id)
    assert sorted(r["status"] for r in rows) == ["completed", "completed", "failed", "failed"]
    for row in rows:
        exploded = parameters_of(row)["explode"]
        assert (row["status"] == "failed") == exploded
        if exploded:
            assert "boom on bar 20" in row["error"]
            assert "RuntimeError: boom on bar 20" in row["error_traceback"]
    assert all("boom" in (r.error or "") for r in result.points if r.status == "failed")


def test_a_run_runs_db_cannot_take_fails_its_point_and_the_sweep_goes_on(
        client, sample_secmaster, runs_db, monkeypatch):
    """A worker of another tradecore version hands back a run of another runs.db schema:
    that point fails with a one-line reason, nothing of it lands, the others complete."""
    from tradecore.runs_db.copy import RunCopier
    from tradecore.runs_db.schema import SCHEMA_VERSION

    copy_file, calls = RunCopier.copy_file, []

    def second_from_another_version(self, path, run_id, **kwargs):
        calls.append(run_id)
        if len(calls) == 2:
            with open(path, "r+b") as file:
                file.seek(60)  # PRAGMA user_version
                file.write((SCHEMA_VERSION + 1).to_bytes(4, "big"))
        return copy_file(self, path, run_id, **kwargs)

    monkeypatch.setattr(RunCopier, "copy_file", second_from_another_version)
    with hand_back_watched(monkeypatch, workers_see_folder=True) as (modes, _):
        result = run_sweep(request(), {"fast_period": [5, 10, 15]}, client=client)
    assert (result.completed, result.failed, len(calls), modes) == (2, 1, 3, ["file"] * 3)
    failed = next(r for r in result.points if r.status == "failed")
    assert failed.run_id is None
    assert "could not be stored in runs.db" in failed.error
    assert f"schema {SCHEMA_VERSION + 1}, not {SCHEMA_VERSION}" in failed.error
    rows = runs_rows(runs_db, result.sweep_id)
    assert sorted(r["run_id"] for r in rows) == sorted(result.run_ids)
    assert [r["status"] for r in rows] == ["completed", "completed"]
    assert all(len(comparable_fills(r["run_id"], runs_db)) > 0 for r in rows)


def test_cancel_leaves_no_run_running(client, sample_secmaster, runs_db, test_strategies):
    cancel = threading.Event()
    grid = {"fast_period": [5, 6, 7, 8, 9, 10, 11, 12]}
    slow = request("SlowSMA", delay_ms=20)  # about 5 s a point: 250 bars

    result = run_sweep(slow, grid, client=client, cancel=cancel,
                       on_point=lambda record: cancel.set())
    assert result.cancelled
    rows = runs_rows(runs_db, result.sweep_id)
    statuses = [r["status"] for r in rows]
    assert "running" not in statuses and set(statuses) <= {"completed", "cancelled"}
    assert result.not_started >= 1 and len(rows) + result.not_started == len(grid["fast_period"])
    with sqlite3.connect(runs_db) as conn:
        assert conn.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0] == 0


def test_each_fold_runs_its_in_sample_winner_out_of_sample(client, sample_secmaster, runs_db):
    wide = RunRequest(strategy="SMACrossover", symbols=["ACME"],
                      parameters={"bar_period": "DAY"}, start="2021-01-01", end="2022-12-31")
    grid = {"fast_period": [5, 10], "slow_period": [20, 40]}
    result = run_sweep(wide, grid, client=client, metric="total_return_pct",
                       validation=Validation(train="1Y", test="6M"))
    assert len(result.folds) == 2 and result.failed == 0
    rows = runs_rows(runs_db, result.sweep_id)
    assert len(rows) == 2 * 4 + 2
    oos = [r for r in result.points if r.role == "out_of_sample"]
    assert [r.fold for r in sorted(oos, key=lambda r: r.fold)] == [0, 1]
    for fold in result.folds:
        window = lambda row: (json.loads(row["config"])["datafeed"]["start_ns"],  # noqa: E731
                              json.loads(row["config"])["datafeed"]["end_ns"])
        inside = [r for r in rows if window(r) == (fold.in_sample.start_ns,
                                                    fold.in_sample.end_ns)]
        outside = [r for r in rows if window(r) == (fold.out_of_sample.start_ns,
                                                     fold.out_of_sample.end_ns)]
        assert len(inside) == 4 and len(outside) == 1
        # the winner by runs.db's own statistics, not by what the workers reported
        returns = {r["run_id"]: analytics.statistics(r["run_id"], runs_db)["total_return_pct"]
                   for r in inside}
        winner = max(inside, key=lambda r: returns[r["run_id"]])
        assert parameters_of(outside[0]) == parameters_of(winner)
    table = result.validation()
    assert list(table["fold"]) == [0, 1]
    assert (table["fall"] == table["in_sample_total_return_pct"]
            - table["out_of_sample_total_return_pct"]).all()
    assert best_records(result.in_sample(0), "total_return_pct")[0].point == oos[0].point or \
        best_records(result.in_sample(oos[0].fold), "total_return_pct")[0].point == oos[0].point


def test_local_workers_do_not_run_the_callers_main_script(tmp_path):
    """Under ``streamlit run`` each page script becomes ``__main__`` while it runs (again and
    again while a sweep starts); the workers must run none of them."""
    page = tmp_path / "page.py"
    page.write_text("import streamlit  # noqa: F401\n")
    script = tmp_path / "main_with_streamlit.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        import threading
        import types

        import streamlit  # noqa: F401
        from tradecore.sweep import open_client

        def like_streamlit_reruns(stop):
            while not stop.wait(0.005):
                page = types.ModuleType("__main__")
                page.__file__ = {str(page)!r}
                sys.modules["__main__"] = page

        if __name__ == "__main__":
            main = sys.modules["__main__"]
            stop = threading.Event()
            swapper = threading.Thread(target=like_streamlit_reruns, args=(stop,))
            swapper.start()
            try:
                with open_client(workers=1) as client:
                    seen = client.run(lambda: "streamlit" in sys.modules)
            finally:
                stop.set()
                swapper.join()
                sys.modules["__main__"] = main
            print(list(seen.values()))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=180, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[False]"
    assert "streamlit" not in done.stderr.lower()


def test_local_workers_start_quiet(client):
    """The local cluster's workers run without dask's stack sampler and with slow ticks (see
    tradecore.sweep.cluster: with the defaults an idle cluster used 0.18 of 2 cores)."""
    import dask

    from tradecore.sweep.cluster import QUIET_CONFIG

    def settings() -> dict:
        return {key: dask.config.get(key) for key in QUIET_CONFIG}

    def profiling(dask_worker) -> bool:  # client.run passes the worker by this name
        return "profile" in dask_worker.periodic_callbacks  # the 10 ms stack sampler

    assert client.run(settings) == {w: QUIET_CONFIG for w in client.scheduler_info()["workers"]}
    assert set(client.run(profiling).values()) == {False}
