"""What differs between two runs' configurations, as a person reads it."""

from __future__ import annotations

from tradecore.analytics.configs import config_diff
from tradecore.configure import RunRequest, build_orchestrator


def _config(**changes):
    request = RunRequest("SMACrossover", ["AAA", "BBB"], {"fast_period": 5},
                         start="2024-01-02", end="2024-01-05")
    for key, value in changes.items():
        setattr(request, key, value)
    return build_orchestrator(request).configuration()


def test_the_diff_shows_dates_not_nanoseconds_and_symbols_once(hand_secmaster):
    diff = config_diff({"A": _config(), "B": _config(symbols=["AAA"], start="2024-01-03",
                                                     end="2024-01-04T12:00:00")})
    assert diff.loc["symbols"].tolist() == ["AAA, BBB", "AAA"]
    assert "strategy.symbols" not in diff.index  # the same list, already shown as symbols
    assert diff.loc["datafeed.start_ns"].tolist() == ["2024-01-02", "2024-01-03"]
    assert diff.loc["datafeed.end_ns"].tolist() == ["2024-01-05", "2024-01-04 12:00:00"]
    assert config_diff({"A": _config(), "B": _config()}).empty
