"""Fixtures of the analytics tests: a runs.db in tmp_path and a builder of recorded runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analytics.helpers import RunBuilder
from tradecore import analytics


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


@pytest.fixture
def new_run(db_path: Path):
    """``new_run(run_id, cfg)`` -> a RunBuilder on the test's runs.db."""
    builders: list[RunBuilder] = []

    def make(run_id: str, cfg: dict, strategy: str = "Test") -> RunBuilder:
        builder = RunBuilder(db_path, run_id, cfg, strategy)
        builders.append(builder)
        return builder

    yield make
    for builder in builders:
        builder.recorder.shutdown()  # safe twice; closes what a test left open
    analytics.close_connections()
