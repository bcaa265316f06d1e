"""Runs as a whole: a run analysed while another process records it, the results stored
inside runs.db and their invalidation, list_runs, compare, delete_runs."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading

import pandas as pd
import pytest

from tests.analytics.helpers import RunBuilder, config, day
from tradecore import analytics
from tradecore.analytics import finalize
from tradecore.models import RunStatus


def stored_statistics(db_path, run_id):
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT s.definitions_version, s.stats FROM run_statistics AS s"
                           " JOIN runs USING (run_key) WHERE run_id = ?", (run_id,)).fetchone()
    conn.close()
    return row


def simple_run(new_run, run_id, *, days=20, cash=100_000.0, commission=0.0, extra=None):
    run = new_run(run_id, config(["AAA"], cash=cash, commission=commission,
                                 parameters={"fast_period": 3, "slow_period": 8}, extra=extra))
    for d in range(days):
        if d == 2:
            run.trade(day(d), 1, "AAA", "BUY", 100, 10.0 + d, commission)
        if d == days - 3:
            run.trade(day(d), 2, "AAA", "SELL", 100, 10.0 + d, commission)
        run.bar(day(d), "AAA", 10 + d, 11 + d, 9 + d, 10.5 + d)
    return run


def _record_live(db_path, phase_done, go_on) -> None:
    """A child process recording run "live" in three steps (sqlite3 stays in that process)."""
    run = RunBuilder(db_path, "live", config(["AAA"]))
    run.trade(day(1), 1, "AAA", "BUY", 10, 10.0)
    for d in range(2_500):
        run.bar(day(d), "AAA", 10, 11, 9, 10 + (d % 7), indicators={"SMA(2)": 10.0})
    run.flush()  # the recorder has written its full batches of 1,000 rows; 500 are buffered
    phase_done.set()
    go_on.wait(60)
    go_on.clear()
    for d in range(2_500, 3_100):
        run.bar(day(d), "AAA", 10, 11, 9, 10, indicators={"SMA(2)": 10.0})
    run.flush()
    phase_done.set()
    go_on.wait(60)
    run.finish()


def test_a_run_is_analysed_while_another_process_records_it(db_path):
    context = multiprocessing.get_context("spawn")
    phase_done, go_on = context.Event(), context.Event()
    child = context.Process(target=_record_live, args=(db_path, phase_done, go_on))
    child.start()
    try:
        assert phase_done.wait(120), "the recording child did not get going"
        phase_done.clear()
        runs = analytics.list_runs(db_path)
        assert runs.set_index("run_id").loc["live", "status"] == "running"
        # Full batches are written at once, partial ones at least once a second.
        bars = analytics.bars("live", db_path, max_points=5_000)
        assert 2_000 <= len(bars) <= 2_500 and bars["SMA(2)"].notna().all()
        assert len(analytics.equity_curve("live", db_path)) == len(bars)
        assert analytics.statistics("live", db_path)["bars"] == len(bars)
        assert stored_statistics(db_path, "live") is None  # never kept while running

        go_on.set()
        assert phase_done.wait(120)
        assert 3_000 <= len(analytics.equity_curve("live", db_path)) <= 3_100
        assert 3_000 <= len(analytics.bars("live", db_path, max_points=5_000)) <= 3_100
        go_on.set()
        child.join(120)
        assert child.exitcode == 0
    finally:
        if child.is_alive():
            child.kill()
    assert len(analytics.equity_curve("live", db_path)) == 3_100
    assert analytics.statistics("live", db_path)["bars"] == 3_100
    assert stored_statistics(db_path, "live") is not None


def test_statistics_are_stored_once_and_recomputed_on_a_new_definitions_version(
        new_run, db_path, monkeypatch):
    run_id = simple_run(new_run, "kept").finish()
    first = analytics.statistics(run_id, db_path)
    version, text = stored_statistics(db_path, run_id)
    assert version == finalize.RESULTS_VERSION
    assert json.loads(text)["total_return_pct"] == pytest.approx(first["total_return_pct"])
    again = analytics.statistics(run_id, db_path)  # from the table, same values and types
    assert again.keys() == first.keys()
    for key, value in first.items():
        if not isinstance(value, str) and pd.isna(value):
            assert pd.isna(again[key]), key
        else:
            assert again[key] == value, key

    # A stale stored value is served as long as the version matches ...
    with sqlite3.connect(db_path) as conn:
        stats = json.loads(text)
        stats["sharpe"] = 123.0
        conn.execute("UPDATE run_statistics SET stats = ? WHERE run_key ="
                     " (SELECT run_key FROM runs WHERE run_id = ?)", (json.dumps(stats), run_id))
    conn.close()
    assert analytics.statistics(run_id, db_path)["sharpe"] == 123.0
    # ... and recomputed (and stored again) when the definitions change.
    monkeypatch.setattr(finalize, "RESULTS_VERSION", "test-2")
    recomputed = analytics.statistics(run_id, db_path)
    assert recomputed["sharpe"] == pytest.approx(first["sharpe"], nan_ok=True)
    assert stored_statistics(db_path, run_id)[0] == "test-2"


def test_results_are_computed_and_stored_safely_under_concurrent_callers(new_run, db_path):
    run_id = simple_run(new_run, "race", days=300).finish()
    results, errors = [], []

    def page():
        try:
            results.append((analytics.statistics(run_id, db_path)["equity_final"],
                            len(analytics.equity_curve(run_id, db_path)),
                            len(analytics.bars(run_id, db_path)),
                            len(analytics.round_trips(run_id, db_path))))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=page) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(results)) == 1 and results[0][1:] == (300, 300, 1)
    with sqlite3.connect(db_path) as conn:
        names = conn.execute("SELECT name FROM run_results ORDER BY name").fetchall()
    conn.close()
    assert [n for (n,) in names] == sorted(finalize.STORED)


def test_a_rerecorded_run_id_is_not_served_stale_results(new_run, db_path):
    simple_run(new_run, "again", days=10).finish()
    assert len(analytics.equity_curve("again", db_path, max_points=2000)) == 10
    assert analytics.delete_runs(["again"], db_path) == 1
    simple_run(new_run, "again", days=12).finish()
    assert len(analytics.equity_curve("again", db_path, max_points=2000)) == 12
    assert analytics.statistics("again", db_path)["bars"] == 12


def test_list_runs_with_configuration_and_headline_metrics(new_run, db_path):
    simple_run(new_run, "r1", commission=0.01).finish()
    run = simple_run(new_run, "r2")
    run.finish(RunStatus.FAILED)
    running = new_run("r3", config(["AAA", "BBB"]))
    runs = analytics.list_runs(db_path).set_index("run_id")
    assert set(runs.index) == {"r1", "r2", "r3"}
    assert runs.loc["r1", "status"] == "completed" and runs.loc["r2", "status"] == "failed"
    assert runs.loc["r3", "status"] == "running"
    assert runs.loc["r1", "strategy"] == "Test" and runs.loc["r3", "symbols"] == "AAA, BBB"
    assert runs.loc["r1", "bar_period"] == "DAY"
    assert runs.loc["r1", "parameters"] == "fast_period=3, slow_period=8"
    assert runs.loc["r1", "commission_per_unit"] == 0.01
    assert pd.isna(runs.loc["r1", "total_return_pct"])  # not computed yet
    stats = analytics.statistics("r1", db_path)
    runs = analytics.list_runs(db_path).set_index("run_id")
    for key in analytics.HEADLINE:
        assert runs.loc["r1", key] == pytest.approx(stats[key], nan_ok=True), key
    assert list(analytics.list_runs(db_path)["run_id"]) == ["r3", "r2", "r1"]  # newest first
    running.finish()


def test_compare_puts_runs_side_by_side(new_run, db_path):
    a = simple_run(new_run, "a").finish()
    b = simple_run(new_run, "b", cash=50_000.0).finish()
    table = analytics.compare([a, b], db_path)
    assert list(table.columns) == ["a", "b"]
    assert list(table.index) == list(analytics.STATISTICS)
    assert table.loc["equity_final", "a"] == pytest.approx(
        analytics.statistics(a, db_path)["equity_final"])
    assert table.loc["total_return_pct", "b"] == pytest.approx(
        2 * table.loc["total_return_pct", "a"])


def test_run_config_is_the_recorded_configuration(new_run, db_path):
    run_id = simple_run(new_run, "cfg", extra={"analytics": {"risk_free_rate": 0.01}}).finish()
    cfg = analytics.run_config(run_id, db_path)
    assert cfg["broker"]["initial_cash"] == 100_000.0
    assert cfg["strategies"][0]["parameters"]["fast_period"] == 3
    # A risk-free rate configured with the run is the run's convention.
    assert analytics.statistics(run_id, db_path)["risk_free_rate"] == 0.01


def test_delete_runs_removes_every_row_and_result_of_the_run(new_run, db_path):
    gone = simple_run(new_run, "gone").finish()
    kept = simple_run(new_run, "kept").finish()
    for run_id in (gone, kept):
        analytics.statistics(run_id, db_path)
        analytics.bars(run_id, db_path)
    with sqlite3.connect(db_path) as conn:
        gone_key = conn.execute("SELECT run_key FROM runs WHERE run_id = ?", (gone,)).fetchone()[0]
        kept_key = conn.execute("SELECT run_key FROM runs WHERE run_id = ?", (kept,)).fetchone()[0]
    conn.close()
    running = new_run("busy", config(["AAA"]))
    with pytest.raises(analytics.RunIsRunningError, match="busy"):
        analytics.delete_runs(["busy"], db_path)

    assert analytics.delete_runs([gone, "no-such-run"], db_path) == 1
    with sqlite3.connect(db_path) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'runs'")]
        for table in tables:
            left = conn.execute(f"SELECT count(*) FROM {table} WHERE run_key = ?",
                                (gone_key,)).fetchone()[0]
            assert left == 0, table
        assert conn.execute("SELECT count(*) FROM bars WHERE run_key = ?",
                            (kept_key,)).fetchone()[0] == 20
        assert conn.execute("SELECT count(*) FROM run_results WHERE run_key = ?",
                            (kept_key,)).fetchone()[0] == len(finalize.STORED)
    conn.close()
    assert {"run_statistics", "run_results", "run_segments"} <= set(tables)
    assert list(analytics.list_runs(db_path)["run_id"]) == ["busy", kept]
    with pytest.raises(analytics.RunNotFoundError):
        analytics.statistics(gone, db_path)
    running.finish()


def test_the_default_database_is_the_one_in_use(new_run, db_path, monkeypatch):
    monkeypatch.setenv("TRADECORE_RUNS_DB", str(db_path))
    run_id = simple_run(new_run, "env").finish()
    assert len(analytics.fills(run_id)) == 2
    assert list(analytics.list_runs()["run_id"]) == [run_id]


def test_an_orchestrator_run_stores_its_results_as_it_ends(sample_secmaster, runs_db):
    from tests.engine.helpers import configured, run
    from tradecore.strategies.examples import SMACrossover

    run_id = run([configured(SMACrossover, ["ACME"], fast_period=10, slow_period=30)]).run_id
    version, text = stored_statistics(runs_db, run_id)
    assert version == finalize.RESULTS_VERSION
    fresh = analytics.statistics(run_id, runs_db, risk_free_rate=0.0)  # computed afresh
    stored = json.loads(text)
    for key in ("total_return_pct", "sharpe", "trades", "equity_final", "max_drawdown_pct"):
        assert stored[key] == pytest.approx(fresh[key], nan_ok=True), key
    # The stored overview is exactly what a fresh computation gives.
    overview = analytics.equity_curve(run_id, runs_db, max_points=finalize.OVERVIEW_POINTS)
    full = analytics.equity_curve(run_id, runs_db)
    assert overview["equity"].iloc[-1] == pytest.approx(full["equity"].iloc[-1])
    assert overview["drawdown"].min() == pytest.approx(full["drawdown"].min())


def test_results_are_stored_compressed_and_older_uncompressed_ones_still_read(
        sample_secmaster, runs_db):
    import pyarrow as pa

    from tests.engine.helpers import configured, run
    from tradecore.strategies.examples import SMACrossover

    run_id = run([configured(SMACrossover, ["ACME", "GLOBX"], fast_period=5,
                             slow_period=12)]).run_id

    def read_all():
        analytics.close_connections()  # nothing cached between the two reads
        return (analytics.order_log(run_id, runs_db), analytics.fills(run_id, runs_db),
                analytics.round_trips(run_id, runs_db), analytics.bars(run_id, runs_db),
                analytics.equity_curve(run_id, runs_db, max_points=finalize.OVERVIEW_POINTS))

    with sqlite3.connect(runs_db) as conn:
        stored = dict(conn.execute("SELECT name, arrow_hex FROM run_results"))
    conn.close()
    assert sorted(stored) == sorted(finalize.STORED)
    plain = {}
    for name, text in stored.items():
        with pa.ipc.open_stream(bytes.fromhex(text)) as reader:
            table = reader.read_all()
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:  # no compression
            writer.write_table(table)
        plain[name] = sink.getvalue().to_pybytes().hex()
    assert finalize.RESULTS_COMPRESSION == "zstd"
    assert sum(map(len, stored.values())) < 0.6 * sum(map(len, plain.values()))
    assert len(stored["order_log"]) < len(plain["order_log"]) / 2
    compressed_reads = read_all()
    assert len(compressed_reads[0]) > 10  # the run traded: the order log has rows
    # Results stored before compression (same column, same version) read the same.
    with sqlite3.connect(runs_db) as conn:
        conn.executemany("UPDATE run_results SET arrow_hex = ? WHERE name = ?",
                         [(text, name) for name, text in plain.items()])
    conn.close()
    for compressed, uncompressed in zip(compressed_reads, read_all(), strict=True):
        pd.testing.assert_frame_equal(compressed, uncompressed)


def test_finalize_through_apsw_stores_what_sqlite3_stores(new_run, db_path):
    """The recorder's writer process finalizes through apsw; the engine's own process through
    sqlite3: the stored statistics and results must be the same bytes."""
    run_id = simple_run(new_run, "twice", days=120, commission=1.0).finish()

    def stored():
        with sqlite3.connect(db_path) as conn:
            rows = (conn.execute("SELECT definitions_version, stats FROM run_statistics").fetchall(),
                    conn.execute("SELECT name, version, arrow_hex FROM run_results"
                                 " ORDER BY name").fetchall())
            conn.execute("DELETE FROM run_statistics")
            conn.execute("DELETE FROM run_results")
        conn.close()
        return rows

    stored()  # whatever an earlier read left
    assert finalize.finalize_run(run_id, db_path)
    by_sqlite3 = stored()
    assert finalize.finalize_run(run_id, db_path, apsw=True)
    by_apsw = stored()
    assert len(by_sqlite3[1]) == len(finalize.STORED)
    assert json.loads(by_sqlite3[0][0][1])["trades"] == 1
    assert by_apsw == by_sqlite3
