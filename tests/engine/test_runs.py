"""Whole runs through the Orchestrator: determinism, nothing lost, failure and cancel paths."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.engine.helpers import (
    PublishCounter,
    configured,
    indicator_values,
    row_counts,
    run,
    run_row,
    table_rows,
)
from tradecore.datafeeds import SimulatedDatafeed
from tradecore.events import EVENT_TYPES
from tradecore.models import BarPeriod
from tradecore.orchestrator import Orchestrator
from tradecore.runs_db.recorder import RunRecorder
from tradecore.strategies import ParameterError, StrategyBase
from tradecore.strategies.examples import BollingerBreakout, RSIMeanReversion, SMACrossover

THREE = ["ACME", "GLOBX", "INITECH"]


def _all_tables(db, run_id):
    return {t.table: table_rows(db, t.table, run_id) for t in EVENT_TYPES}


def test_sma_crossover_records_a_complete_run(sample_secmaster, runs_db):
    orchestrator = run([configured(SMACrossover, ["ACME"], fast_period=10, slow_period=30)])
    row = run_row(runs_db, orchestrator.run_id)
    assert row["status"] == "completed" and row["error"] is None
    assert orchestrator.run_id.endswith("_SMA-Crossover")
    config = json.loads(row["config"])
    assert config["strategies"][0]["class"] == "SMACrossover"
    assert config["strategies"][0]["parameters"] == {
        "bar_period": "DAY", "fast_period": 10, "slow_period": 30,
        "sizing": "PERCENT_OF_EQUITY", "size": 95.0}
    assert config["broker"]["initial_cash"] == 100_000
    counts = row_counts(runs_db, orchestrator.run_id)
    assert counts["bars"] == counts["bars_processed"] > 2000
    assert counts["fills"] > 10
    assert counts["order_submissions"] == counts["orders_accepted"] == counts["fills"]
    indicators = indicator_values(runs_db, orchestrator.run_id, "SMA Crossover")
    assert set(indicators) == {"SMA(10)", "SMA(30)"}
    assert len(indicators["SMA(30)"]) == counts["bars_processed"]
    assert indicators["SMA(30)"][0] is None  # warm-up is NaN -> NULL
    assert isinstance(indicators["SMA(30)"][100], float)


def test_every_example_strategy_uses_its_order_types(sample_secmaster, runs_db):
    strategies = [configured(RSIMeanReversion, THREE), configured(BollingerBreakout, THREE)]
    orchestrator = run(strategies)
    submissions = table_rows(runs_db, "order_submissions", orchestrator.run_id)
    types = {row[4] for row in submissions}  # order_type column
    assert types == {"MARKET", "LIMIT", "STOP", "STOP_LIMIT"}
    counts = row_counts(runs_db, orchestrator.run_id)
    assert counts["fills"] > 0 and counts["modifications_accepted"] > 0
    assert counts["cancellations_accepted"] > 0 and counts["expirations"] > 0


@pytest.mark.parametrize("symbols", [["ACME"], THREE], ids=["one-symbol", "three-symbols"])
def test_repeated_runs_record_identical_events(sample_secmaster, runs_db, symbols):
    strategies = [configured(SMACrossover, symbols, fast_period=5, slow_period=20),
                  configured(RSIMeanReversion, symbols),
                  configured(BollingerBreakout, symbols)]
    first = _all_tables(runs_db, run(strategies).run_id)
    assert sum(len(rows) for rows in first.values()) > 10_000
    for _ in range(9):
        assert _all_tables(runs_db, run(strategies).run_id) == first


class _ReadsAhead(SimulatedDatafeed):
    read_ahead_from_bars = 0  # every run reads its bars in a bar reader process


def test_bars_read_ahead_record_the_same_run(sample_secmaster, runs_db, monkeypatch):
    """Bars read by the bar reader process make the same run, row for row, as bars read in
    the engine's process."""
    from tradecore.secmaster import stream

    strategies = [configured(SMACrossover, THREE, fast_period=5, slow_period=20),
                  configured(BollingerBreakout, THREE)]
    in_process = _all_tables(runs_db, run(strategies).run_id)
    readers = []
    original = stream.start_helper
    monkeypatch.setattr(stream, "start_helper",
                        lambda *args: readers.append(args) or original(*args))
    ahead = _all_tables(runs_db, run(strategies, datafeed=_ReadsAhead).run_id)
    assert readers == [("tradecore.secmaster.stream",)]
    assert len(ahead["bars"]) > 5_000 and ahead["fills"]
    assert ahead == in_process


def test_run_ids_are_unique_within_one_second(sample_secmaster, runs_db):
    strategy = configured(SMACrossover, ["ACME"])
    ids = {run([strategy]).run_id for _ in range(3)}
    assert len(ids) == 3


def _assert_nothing_lost(counter, runs_db, run_id):
    assert row_counts(runs_db, run_id) == counter.as_dict()


def test_nothing_lost_completed(sample_secmaster, runs_db, monkeypatch):
    counter = PublishCounter(monkeypatch)
    orchestrator = run([configured(RSIMeanReversion, THREE), configured(BollingerBreakout, THREE)])
    assert sum(counter.counts.values()) > 10_000
    _assert_nothing_lost(counter, runs_db, orchestrator.run_id)


def test_nothing_lost_when_the_writer_is_a_process(sample_secmaster, runs_db, monkeypatch):
    monkeypatch.setattr(RunRecorder, "PROCESS_FROM_EVENTS", 2_000)  # auto picks the process
    counter = PublishCounter(monkeypatch)
    started = []
    original = RunRecorder.expect
    monkeypatch.setattr(RunRecorder, "expect", lambda self, events: (
        original(self, events), started.append(type(self._writer).__name__)))
    orchestrator = run([configured(SMACrossover, THREE)])
    assert started == ["ProcessWriter"]
    _assert_nothing_lost(counter, runs_db, orchestrator.run_id)
    assert run_row(runs_db, orchestrator.run_id)["status"] == "completed"


class _FailsOnBar(SMACrossover):
    fail_at = 700

    def on_bar(self, bar):
        self.seen = getattr(self, "seen", 0) + 1
        if self.seen == self.fail_at:
            raise RuntimeError("strategy blew up on purpose")
        super().on_bar(bar)


def test_failing_strategy_marks_run_failed_and_keeps_everything_before(
        sample_secmaster, runs_db, monkeypatch):
    counter = PublishCounter(monkeypatch)
    orchestrator = Orchestrator(strategies=[configured(_FailsOnBar, ["ACME"])])
    with pytest.raises(RuntimeError, match="blew up on purpose"):
        orchestrator.run()
    row = run_row(runs_db, orchestrator.run_id)
    assert row["status"] == "failed"
    assert row["error"] == "RuntimeError: strategy blew up on purpose"
    assert "on_bar" in row["error_traceback"]
    counts = row_counts(runs_db, orchestrator.run_id)
    assert counts["bars_processed"] == _FailsOnBar.fail_at - 1
    assert counts["bars"] == _FailsOnBar.fail_at  # the failing bar itself was received
    _assert_nothing_lost(counter, runs_db, orchestrator.run_id)


class _HoldsAtBar(SMACrossover):
    """Stops at bar ``hold_at`` until the test releases it: a cancel lands mid-run on any
    machine, without slowing every bar."""

    hold_at = 1_000
    reached = threading.Event()
    release = threading.Event()

    def setup(self):
        super().setup()
        self._seen = 0

    def on_bar(self, bar):
        self._seen += 1
        if self._seen == self.hold_at:
            _HoldsAtBar.reached.set()
            _HoldsAtBar.release.wait(60)
        super().on_bar(bar)


@pytest.mark.parametrize("datafeed", [SimulatedDatafeed, _ReadsAhead],
                         ids=["bars-read-in-process", "bars-read-ahead"])
def test_cancel_from_another_thread(sample_secmaster, runs_db, monkeypatch, datafeed):
    counter = PublishCounter(monkeypatch)
    _HoldsAtBar.reached.clear()
    _HoldsAtBar.release.clear()
    strategy = configured(_HoldsAtBar, ["ACME"], bar_period=BarPeriod.MINUTE)
    orchestrator = Orchestrator(strategies=[strategy], datafeed=datafeed)
    worker = threading.Thread(target=orchestrator.run)
    worker.start()
    try:
        assert _HoldsAtBar.reached.wait(60), "the run never reached the bar it holds at"
        orchestrator.cancel()
    finally:
        _HoldsAtBar.release.set()
    worker.join(60)
    assert not worker.is_alive()
    row = run_row(runs_db, orchestrator.run_id)
    assert row["status"] == "cancelled"
    counts = row_counts(runs_db, orchestrator.run_id)
    assert _HoldsAtBar.hold_at <= counts["bars"] < 25_000
    _assert_nothing_lost(counter, runs_db, orchestrator.run_id)
    import psutil

    assert not [child for child in psutil.Process().children()
                if "tradecore.secmaster.stream" in " ".join(child.cmdline())]  # reader stopped


def test_invalid_parameter_is_rejected_before_the_run(sample_secmaster, runs_db):
    with pytest.raises(ParameterError, match="fast_period must be at most 100"):
        configured(SMACrossover, ["ACME"], fast_period=500)
    bad = type("_Bad", (SMACrossover,), {"parameters": {
        **SMACrossover.parameters,
        "fast_period": SMACrossover.parameters["fast_period"].with_value(0)}})
    with pytest.raises(ParameterError, match="fast_period must be at least 2"):
        Orchestrator(strategies=[bad]).run()
    assert not runs_db.exists() or row_counts(runs_db, "none")["bars"] == 0


def test_instances_are_refused():
    with pytest.raises(TypeError, match="a class, not an instance"):
        Orchestrator(strategies=[object()])


def test_unknown_symbol_fails_the_run_with_a_clear_message(sample_secmaster, runs_db):
    orchestrator = Orchestrator(strategies=[configured(SMACrossover, ["NOPE"])])
    with pytest.raises(ValueError, match="unknown symbol NOPE"):
        orchestrator.run()
    assert run_row(runs_db, orchestrator.run_id)["status"] == "failed"


def test_interrupted_runs_are_marked_on_next_open(sample_secmaster, runs_db):
    import sqlite3

    run([configured(SMACrossover, ["ACME"])])
    with sqlite3.connect(runs_db) as conn:
        conn.execute("UPDATE runs SET status = 'running', pid = 999999999")
    second = run([configured(SMACrossover, ["ACME"])])
    with sqlite3.connect(runs_db) as conn:
        statuses = dict(conn.execute("SELECT run_id, status FROM runs"))
    assert statuses.pop(second.run_id) == "completed"
    assert list(statuses.values()) == ["interrupted"]


def test_strategy_sees_only_its_own_fills(sample_secmaster, runs_db):
    seen: dict[str, list] = {}

    class _Watcher(SMACrossover):
        def on_fill(self, fill):
            seen.setdefault(self.strategy_name, []).append(fill.associated_order_id)

    a = type("_A", (_Watcher,), {"name": "A", "symbols": ["ACME"]})
    b = type("_B", (_Watcher,), {"name": "B", "symbols": ["GLOBX"]})
    orchestrator = run([a, b])
    submissions = table_rows(runs_db, "order_submissions", orchestrator.run_id)
    owner = {row[1]: row[2] for row in submissions}  # order_id -> strategy
    assert seen["A"] and seen["B"]
    assert all(owner[order_id] == "A" for order_id in seen["A"])
    assert all(owner[order_id] == "B" for order_id in seen["B"])


def test_bar_period_inherited_and_registry_rules():
    from tradecore.strategies import ParamSpec, get_registered_strategies

    class UserStrategyForRegistry(StrategyBase):
        parameters = {"x": ParamSpec(1, min=0, max=5)}

    class _HiddenStrategy(StrategyBase):
        pass

    registry = get_registered_strategies(discover=False)
    assert "UserStrategyForRegistry" in registry and "_HiddenStrategy" not in registry
    assert list(UserStrategyForRegistry.parameters) == ["bar_period", "x"]
    assert {"SMACrossover", "RSIMeanReversion", "BollingerBreakout"} <= set(registry)


def test_a_running_run_shows_its_fills_before_it_ends(sample_secmaster, runs_db):
    import sqlite3

    class _Steady(SMACrossover):
        def on_bar(self, bar):
            time.sleep(0.001)
            super().on_bar(bar)

    orchestrator = Orchestrator(strategies=[configured(_Steady, ["ACME"], fast_period=3,
                                                       slow_period=6)])
    worker = threading.Thread(target=orchestrator.run)
    worker.start()
    seen_live = None
    deadline = time.monotonic() + 30
    while worker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
        if orchestrator.run_id is None or not runs_db.exists():
            continue
        with sqlite3.connect(runs_db) as conn:
            status = conn.execute("SELECT status FROM runs WHERE run_id = ?",
                                  (orchestrator.run_id,)).fetchone()
            fills = conn.execute("SELECT count(*) FROM fills JOIN runs USING (run_key)"
                                 " WHERE run_id = ?", (orchestrator.run_id,)).fetchone()[0]
        if status == ("running",) and fills > 0:
            seen_live = fills
            break
    worker.join(60)
    assert seen_live, "no fill was visible while the run was recording"
    assert row_counts(runs_db, orchestrator.run_id)["fills"] > seen_live


def test_a_dead_writer_process_interrupts_the_run_with_its_reason(sample_secmaster, runs_db,
                                                                  monkeypatch):
    from tradecore.runs_db.recorder import ProcessWriter, RecorderError

    monkeypatch.setattr(RunRecorder, "PROCESS_FROM_EVENTS", 2_000)
    sent = []
    original = ProcessWriter.add_many

    def add_then_die(self, *events):
        sent.append(1)
        if len(sent) == 3:
            self._process.kill()
            self._process.wait()
        return original(self, *events)

    monkeypatch.setattr(ProcessWriter, "add_many", add_then_die)
    orchestrator = Orchestrator(strategies=[configured(SMACrossover, THREE)])
    with pytest.raises(RecorderError, match="writer process ended"):
        orchestrator.run()
    row = run_row(runs_db, orchestrator.run_id)
    assert row["status"] == "interrupted"  # killed, as the OOM killer would (issue 10)
    assert row["error"].startswith("RecorderError")
