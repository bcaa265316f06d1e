"""Shared fixtures: real secmaster/runs databases in a temp folder, never ``data/``.

``hand_secmaster`` holds a few bars small enough to work results out by hand;
``sample_secmaster`` is the bundled synthetic sample (built in about a second).
Every test gets ``TRADECORE_SECMASTER`` / ``TRADECORE_RUNS_DB`` pointing into its tmp dir.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tradecore.secmaster import build_sample, import_csv

# Three symbols sharing timestamps; B skips day 3 so replay handles gaps across symbols.
HAND_BARS = {
    "AAA": [  # date, open, high, low, close, volume
        ("2024-01-01", 10.0, 11.0, 9.0, 10.5, 1000),
        ("2024-01-02", 10.5, 12.0, 10.0, 11.5, 1100),
        ("2024-01-03", 11.5, 12.5, 11.0, 12.0, 1200),
        ("2024-01-04", 12.0, 12.2, 10.8, 11.0, 1300),
        ("2024-01-05", 11.0, 11.5, 9.5, 10.0, 1400),
        ("2024-01-08", 10.0, 10.5, 9.0, 9.5, 1500),
    ],
    "BBB": [
        ("2024-01-01", 50.0, 51.0, 49.0, 50.5, 500),
        ("2024-01-02", 50.5, 52.0, 50.0, 51.5, 510),
        ("2024-01-04", 51.0, 53.0, 50.5, 52.5, 520),
        ("2024-01-05", 52.5, 54.0, 52.0, 53.5, 530),
        ("2024-01-08", 53.5, 54.0, 51.0, 51.5, 540),
    ],
    "CCC": [
        ("2024-01-01", 5.0, 5.5, 4.5, 5.2, 100),
        ("2024-01-02", 5.2, 5.6, 5.0, 5.4, 110),
        ("2024-01-03", 5.4, 5.8, 5.3, 5.7, 120),
        ("2024-01-04", 5.7, 5.9, 5.1, 5.2, 130),
        ("2024-01-05", 5.2, 5.3, 4.9, 5.0, 140),
        ("2024-01-08", 5.0, 5.4, 4.8, 5.3, 150),
    ],
}


def hand_csv(symbol: str) -> str:
    frame = pd.DataFrame(HAND_BARS[symbol],
                         columns=["date", "open", "high", "low", "close", "volume"])
    return frame.to_csv(index=False)


@pytest.fixture(autouse=True)
def isolated_databases(tmp_path, monkeypatch):
    """Point both databases at the test's tmp dir; return their paths."""
    secmaster = tmp_path / "secmaster.db"
    runs = tmp_path / "runs.db"
    monkeypatch.setenv("TRADECORE_SECMASTER", str(secmaster))
    monkeypatch.setenv("TRADECORE_RUNS_DB", str(runs))
    monkeypatch.delenv("TRADECORE_STRATEGIES", raising=False)
    return secmaster, runs


@pytest.fixture
def hand_secmaster(isolated_databases):
    secmaster, _ = isolated_databases
    for symbol in HAND_BARS:
        import_csv(secmaster, io.StringIO(hand_csv(symbol)), symbol, "DAY")
    return secmaster


@pytest.fixture(scope="session")
def _sample_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "secmaster.db"
    build_sample(path)
    return path


@pytest.fixture
def sample_secmaster(isolated_databases, _sample_file):
    """A private copy of the sample secmaster (built once per session)."""
    import shutil

    secmaster, _ = isolated_databases
    shutil.copy(_sample_file, secmaster)
    return secmaster


@pytest.fixture
def runs_db(isolated_databases):
    return isolated_databases[1]
