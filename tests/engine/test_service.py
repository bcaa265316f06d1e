"""tradecore.service: one entry point to run a backtest or a sweep, and what it returns."""

from __future__ import annotations

import threading

import pytest

from tradecore import analytics, service
from tradecore.configure import RunRequest
from tradecore.models import RunStatus
from tradecore.strategies import ParameterError, StrategyBase


class _Exploding(StrategyBase):
    """Fails on its third bar (class name starts with _: not registered)."""

    symbols = ["AAA"]

    def setup(self) -> None:
        self.seen = 0

    def on_bar(self, bar) -> None:
        self.seen += 1
        if self.seen == 3:
            raise RuntimeError("boom on bar three")


class ServiceExploding(_Exploding):
    pass


def test_a_completed_run_returns_its_statistics(hand_secmaster, runs_db):
    updates = []
    result = service.run(RunRequest("SMACrossover", ["AAA"],
                                    {"fast_period": 2, "slow_period": 3}),
                         progress=lambda fraction, run_id: updates.append((fraction, run_id)))
    assert result.status is RunStatus.COMPLETED and result.ok
    assert result.error is None and result.error_traceback is None
    # The statistics are those analytics keeps for the run (computed once, by the service).
    assert result.statistics == analytics.statistics(result.run_id, runs_db)
    assert result.statistics["bars"] == 6
    assert updates[-1] == (1.0, result.run_id)
    assert all(0.0 <= fraction <= 1.0 for fraction, _ in updates)


def test_a_failing_strategy_is_a_failed_result_with_its_traceback(hand_secmaster, runs_db):
    result = service.run(RunRequest("ServiceExploding", ["AAA"]))
    assert result.status is RunStatus.FAILED and not result.ok
    assert result.error == "RuntimeError: boom on bar three"
    assert "Traceback (most recent call last)" in result.error_traceback
    assert "on_bar" in result.error_traceback
    assert result.statistics is None
    runs = analytics.list_runs(runs_db)
    assert list(runs["status"]) == [RunStatus.FAILED]


def test_a_set_cancel_event_ends_the_run_cancelled(hand_secmaster):
    cancel = threading.Event()
    cancel.set()
    result = service.run(RunRequest("SMACrossover", ["AAA"]), cancel_event=cancel)
    assert result.status is RunStatus.CANCELLED


@pytest.mark.parametrize("request_, message", [
    (RunRequest("SMACrossover", ["AAA"], start="2030-01-01"),
     "no DAY bars of AAA in the chosen range; the data covers 2024-01-01 to 2024-01-08"),
    (RunRequest("SMACrossover", ["AAA"], start="2024-01-06", end="2024-01-07"),  # a weekend
     "no DAY bars of AAA in the chosen range"),
    (RunRequest("SMACrossover", ["AAA"], start="2024-01-05", end="2024-01-01"),
     "the end date is before the start date"),
    (RunRequest("SMACrossover", ["AAA"], {"fast_period": 500}), "fast_period must be at most"),
    (RunRequest("NoSuchStrategy", ["AAA"]), "unknown strategy 'NoSuchStrategy'"),
    (RunRequest("SMACrossover", ["NOPE"]), "NOPE"),
])
def test_a_bad_request_raises_and_records_nothing(hand_secmaster, runs_db, request_, message):
    with pytest.raises(ValueError, match=message):
        service.run(request_)
    assert analytics.list_runs(runs_db).empty


def test_sweep_counts_completed_and_failed_points(hand_secmaster, runs_db):
    result = service.sweep(RunRequest("SMACrossover", ["AAA"], {"slow_period": 4}),
                           {"fast_period": ["2", "3"]}, workers=1)
    assert result.completed == 2 and result.failed == 0
    runs = analytics.list_runs(runs_db)
    assert sorted(result.run_ids) == sorted(runs["run_id"])
    assert set(runs["sweep_id"]) == {result.sweep_id}


def test_prepare_refuses_an_empty_range_before_any_run_exists(hand_secmaster, runs_db):
    with pytest.raises(ParameterError):
        service.prepare(RunRequest("SMACrossover", ["AAA", "BBB"], start="2025-01-01"))
    assert not runs_db.exists() or analytics.list_runs(runs_db).empty
