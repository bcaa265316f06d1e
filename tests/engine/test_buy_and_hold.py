"""Buy & hold, defined once (``analytics.metrics``): from the first bar of the run's range,
the same for every run of the same data and range, and the chart's line ends at the statistic."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import HAND_BARS
from tests.engine.helpers import configured, run
from tradecore import analytics
from tradecore.analytics.metrics import buy_and_hold_curve
from tradecore.strategies.examples import SMACrossover


def _closes() -> pd.DataFrame:
    """AAA and BBB closes by day, BBB carried over its missing day 3 (pandas, not tradecore)."""
    frames = {s: pd.Series({pd.Timestamp(d): c for d, _o, _h, _l, c, _v in HAND_BARS[s]})
              for s in ("AAA", "BBB")}
    return pd.DataFrame(frames).sort_index().ffill()


def test_buy_and_hold_is_the_same_for_runs_with_different_warm_ups(hand_secmaster, runs_db):
    short = run([configured(SMACrossover, ["AAA", "BBB"], fast_period=2, slow_period=3)])
    long = run([configured(SMACrossover, ["AAA", "BBB"], fast_period=2, slow_period=5)])
    closes = _closes()
    expected = (closes.iloc[-1] / closes.iloc[0] - 1).mean() * 100  # AAA 10.5->9.5, BBB 50.5->51.5
    for orchestrator in (short, long):
        stats = analytics.statistics(orchestrator.run_id, runs_db)
        assert stats["buy_and_hold_return_pct"] == pytest.approx(expected, rel=1e-12)


def test_the_curve_follows_the_closes_and_ends_at_the_statistic(hand_secmaster, runs_db):
    run_id = run([configured(SMACrossover, ["AAA", "BBB"], fast_period=2, slow_period=3)]).run_id
    curve = buy_and_hold_curve(run_id, runs_db)
    closes = _closes()
    expected = (closes / closes.iloc[0] - 1).mean(axis=1) * 100
    assert list(curve["time"]) == list(expected.index)
    assert list(curve["return_pct"]) == pytest.approx(list(expected), rel=1e-12)
    assert list(curve["equity"]) == pytest.approx(list(100_000 * (1 + expected / 100)))
    stats = analytics.statistics(run_id, runs_db)
    assert curve["return_pct"].iloc[-1] == pytest.approx(stats["buy_and_hold_return_pct"])

    # Down-sampled to two buckets: still from the first bar's close, still ending at the
    # statistic (a bucket carries its last close).
    coarse = buy_and_hold_curve(run_id, runs_db, max_points=2)
    assert len(coarse) == 2
    assert coarse["return_pct"].iloc[-1] == pytest.approx(stats["buy_and_hold_return_pct"])


def test_a_run_without_bars_has_an_empty_curve(hand_secmaster, runs_db):
    from tradecore.configure import RunRequest, build_orchestrator

    # The Orchestrator itself still records such a run (the service refuses to start one).
    orchestrator = build_orchestrator(RunRequest("SMACrossover", ["AAA"], start="2030-01-01"))
    curve = buy_and_hold_curve(orchestrator.run(), runs_db)
    assert curve.empty and list(curve.columns) == ["ts_event_ns", "time", "return_pct", "equity"]
