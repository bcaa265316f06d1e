"""Holdout and walk-forward windows: test windows tile the range, train precedes test."""

from __future__ import annotations

import pandas as pd
import pytest

from tradecore.strategies import ParameterError
from tradecore.sweep import holdout_folds, parse_duration, walk_forward_folds
from tradecore.sweep.windows import Window


def ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


FIRST, LAST = ns("2020-01-01"), ns("2022-12-31 23:59")


def test_walk_forward_test_windows_cover_the_range_without_overlap():
    folds = walk_forward_folds(FIRST, LAST, "1Y", "6M")
    # hand-worked: train 2020, then test windows of six months from 2021-01-01 to the end
    assert [(f.out_of_sample.start_ns, f.out_of_sample.end_ns) for f in folds] == [
        (ns("2021-01-01"), ns("2021-07-01") - 1),
        (ns("2021-07-01"), ns("2022-01-01") - 1),
        (ns("2022-01-01"), ns("2022-07-01") - 1),
        (ns("2022-07-01"), LAST),
    ]
    for before, after in zip(folds, folds[1:]):
        assert after.out_of_sample.start_ns == before.out_of_sample.end_ns + 1
    assert [f.in_sample.start_ns for f in folds] == [
        ns("2020-01-01"), ns("2020-07-01"), ns("2021-01-01"), ns("2021-07-01")]
    for fold in folds:  # a year of training right before each test window
        assert fold.in_sample.end_ns + 1 == fold.out_of_sample.start_ns


def test_the_last_test_window_is_cut_at_the_end_of_the_data():
    folds = walk_forward_folds(FIRST, ns("2021-03-15"), "1Y", "6M")
    assert len(folds) == 1
    assert folds[0].out_of_sample.end_ns == ns("2021-03-15")


def test_overlapping_test_windows_and_too_little_data_are_refused():
    with pytest.raises(ParameterError, match="overlap"):
        walk_forward_folds(FIRST, LAST, "1Y", "6M", step="3M")
    with pytest.raises(ParameterError, match="shorter than one train window"):
        walk_forward_folds(FIRST, ns("2020-06-01"), "1Y", "6M")
    with pytest.raises(ParameterError, match="D, W, M or Y"):
        parse_duration("6 months")


def test_a_holdout_keeps_the_last_fraction_out_of_sample():
    (fold,) = holdout_folds(0, 1000, 0.25)
    assert (fold.in_sample.start_ns, fold.in_sample.end_ns) == (0, 749)
    assert (fold.out_of_sample.start_ns, fold.out_of_sample.end_ns) == (750, 1000)
    with pytest.raises(ParameterError, match="between 0 and 1"):
        holdout_folds(0, 1000, 1.5)


def test_a_window_reads_as_days_or_as_times_when_it_splits_a_day():
    day = pd.Timedelta(1, "D").value
    midnight = pd.Timestamp("2017-06-18", tz="UTC").value
    assert Window(midnight, midnight + 30 * day - 1).text() == "2017-06-18 to 2017-07-17"
    nine = midnight + pd.Timedelta(9, "h").value
    first, second = Window(nine, nine + 30 * day - 1), Window(nine + 30 * day, nine + 60 * day - 1)
    assert first.text() == "2017-06-18 09:00 to 2017-07-18 08:59:59 UTC"
    assert second.text().startswith("2017-07-18 09:00 to ")
    # Daily bars: a window ending on the last bar's open (midnight) reads as days.
    assert Window(midnight, midnight + 10 * day).text() == "2017-06-18 to 2017-06-28"
