"""The statistics catalogue: every statistic has one entry, formats by unit, picks the best run,
and its labels are written nowhere else in the engine."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from tradecore.analytics import catalogue
from tradecore.analytics.catalogue import HEADLINE, KPI_TILES, STATISTICS, best_of, format_value

ROOT = Path(__file__).resolve().parents[2]


def test_every_statistic_returned_is_catalogued_in_order(hand_secmaster):
    from tests.engine.helpers import configured, run
    from tradecore import analytics
    from tradecore.strategies.examples import SMACrossover

    strategy = configured(SMACrossover, ["AAA"], fast_period=2, slow_period=3)
    stats = analytics.statistics(run([strategy]).run_id)
    assert list(stats) == list(STATISTICS)
    assert set(HEADLINE) <= set(STATISTICS) and set(KPI_TILES) <= set(STATISTICS)


def test_entries_are_complete_and_labels_unique():
    labels = [s.label for s in STATISTICS.values()]
    assert len(labels) == len(set(labels))
    for key, statistic in STATISTICS.items():
        assert statistic.key == key
        assert statistic.help.endswith("."), key
        assert statistic.unit in catalogue.UNITS and statistic.kind in catalogue.KINDS
    assert catalogue.label("sharpe") == "Sharpe ratio"
    assert catalogue.label("no_such_key") == "no_such_key"
    with pytest.raises(ValueError):
        catalogue.Statistic("x", "X", "furlongs", "higher", "X.", "return")


@pytest.mark.parametrize("key, value, text", [
    ("total_return_pct", 12.3449, "12.34%"),
    ("total_return_pct", -1234.5, "-1,234.50%"),
    ("equity_final", 44518.81960000001, "$44,518.82"),
    ("net_pnl", -1500.0, "-$1,500.00"),
    ("sharpe", 1.2345, "1.23"),
    ("profit_factor", math.inf, "∞"),
    ("trades", 24.0, "24"),
    ("bars", 12345, "12,345"),
    ("max_drawdown_duration", pd.Timedelta(days=3), "3 days"),
    ("max_drawdown_duration", pd.Timedelta(days=1, hours=4), "1 day 4 h"),
    ("avg_trade_duration", pd.Timedelta(hours=2, minutes=5), "2 h 5 min"),
    ("avg_trade_duration", 90 * 60 * 10**9, "1 h 30 min"),  # ns integer
    ("start", pd.Timestamp("2024-01-05"), "2024-01-05"),
    ("start", pd.Timestamp("2024-01-05 14:30"), "2024-01-05 14:30"),
    ("resample_rule", "D", "D"),
    ("sharpe", math.nan, "–"),
    ("trades", None, "–"),
    ("max_drawdown_duration", pd.NaT, "–"),
])
def test_format_value_by_unit(key, value, text):
    assert format_value(key, value) == text


def test_best_of_follows_the_direction():
    assert best_of("sharpe", [0.5, 1.5, math.nan, 1.0]) == 1
    assert best_of("volatility_ann_pct", [20.0, 12.0, 15.0]) == 1
    # Drawdowns are <= 0: the shallowest (highest) wins.
    assert best_of("max_drawdown_pct", [-30.0, -5.0, -12.0]) == 1
    assert best_of("max_drawdown_duration", [pd.Timedelta(days=9), pd.Timedelta(days=2)]) == 1
    assert best_of("sharpe", [2.0, 1.0, 2.0]) == 0  # tie: the first
    assert best_of("sharpe", [1.0, 1.0]) is None  # nothing stands out
    assert best_of("sharpe", [1.0, None]) is None  # one comparable value
    assert best_of("trades", [3, 10]) is None  # no better direction


def test_no_statistic_label_is_written_elsewhere_in_the_engine():
    """The catalogue is the only place a label is written: the engine files that used to repeat
    them (the CLI, metrics, formatting, the service) hold no label as a string literal (nor
    backtesting.py's "Sharpe Ratio" style ones metrics used to carry)."""
    labels = [s.label for s in STATISTICS.values()] + ["Sharpe Ratio", "Return [%]"]
    for relative in ("tradecore/cli.py", "tradecore/analytics/metrics.py",
                     "tradecore/ui/formatting.py", "tradecore/service.py"):
        text = (ROOT / relative).read_text()
        stray = [label for label in labels
                 if re.search(r"""["']""" + re.escape(label) + r"""["']""", text)]
        assert not stray, f"{relative} repeats {stray}"
