"""Sweep fixtures: one small LocalCluster per module whose workers cannot find the
coordinator's data by cwd or env (their cwd is an empty folder, their TRADECORE_* variables
point at files that do not exist), so a sweep only works if the data is shipped."""

from __future__ import annotations

import os

import pytest

from tradecore.sweep import open_client

TEST_STRATEGIES = "tests.sweep.strategies"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    nowhere = tmp_path_factory.mktemp("worker-cwd")
    env = {"TRADECORE_SECMASTER": str(nowhere / "missing" / "secmaster.db"),
           "TRADECORE_RUNS_DB": str(nowhere / "missing" / "runs.db"),
           "TRADECORE_STRATEGIES": TEST_STRATEGIES}
    with open_client(workers=2, env=env) as dask_client:
        dask_client.run(os.chdir, str(nowhere))
        yield dask_client


@pytest.fixture
def test_strategies(monkeypatch):
    """The coordinator sees the test strategies too (it validates parameters)."""
    monkeypatch.setenv("TRADECORE_STRATEGIES", TEST_STRATEGIES)
