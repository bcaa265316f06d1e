"""Concurrent writers on one runs.db: nothing lost (rows per type equal what the strategy
published and what the secmaster holds), no "database is locked"."""

from __future__ import annotations

from bench import faults
from tests.faults.conftest import assert_held


def test_two_cli_runs_at_once_lose_nothing(workspace):
    assert_held(faults.two_runs_at_once(workspace))


def test_a_run_during_a_sweep_loses_nothing(workspace):
    assert_held(faults.run_during_sweep(workspace))


def test_deleting_a_running_run_is_refused_and_other_deletes_work(workspace):
    assert_held(faults.delete_during_run(workspace))
