"""Files that cannot be read without a guess are refused with a message naming the fix, and the
secmaster stays exactly as it was (row for row, and byte for byte on disk)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.data.helpers import (
    NY,
    daily_bars,
    file_state,
    hourly_bars,
    stored_bars,
    table_snapshot,
    to_csv,
)
from tradecore.secmaster import SecmasterError, import_csv, import_dbn

HEADER = "date,open,high,low,close,volume\n"


@pytest.fixture
def held(isolated_databases):
    """A secmaster holding the daily reference bars as X; returns its path."""
    secmaster, _ = isolated_databases
    bars = daily_bars()
    import_csv(secmaster, to_csv(bars.assign(time=bars.time.dt.strftime("%Y-%m-%d"))), "X",
               "DAY")
    return secmaster


def refused(secmaster, data, *args, match: str, **kwargs) -> str:
    rows, on_disk = table_snapshot(secmaster), file_state(secmaster)
    with pytest.raises(SecmasterError, match=match) as error:
        import_csv(secmaster, data, *args, **kwargs)
    assert table_snapshot(secmaster) == rows
    assert file_state(secmaster) == on_disk
    return str(error.value)


def day_first(bars: pd.DataFrame) -> bytes:
    return to_csv(bars.assign(time=bars.time.dt.strftime("%d/%m/%Y")))


def test_ambiguous_day_month_order_is_refused_naming_date_format(held) -> None:
    early = daily_bars().iloc[:8]  # 2-11 January: no day above 12
    message = refused(held, day_first(early), "EU", "DAY", match="--date-format")
    assert "'%d/%m/%Y'" in message and "'%m/%d/%Y'" in message
    assert "'02/01/2023'" in message  # the example quoted is the file's own first date
    # Naming the layout is the fix.
    summary = import_csv(held, day_first(early), "EU", "DAY", date_format="%d/%m/%Y")
    assert summary.first_ts == pd.Timestamp("2023-01-02", tz="UTC")


def test_mixed_day_first_and_month_first_rows_are_refused(held) -> None:
    text = HEADER + "13/01/2023,1,2,0.5,1.5,1\n01/14/2023,1,2,0.5,1.5,1\n01/15/2023,1,2,0.5,1.5,1\n"
    refused(held, text.encode(), "MIX", "DAY", match="mixes day-first and month-first")


def test_a_wrong_date_format_reports_rows(held) -> None:
    message = refused(held, day_first(daily_bars()), "EU", "DAY", date_format="%m/%d/%Y",
                      match="expected --date-format '%m/%d/%Y'")
    assert "row 1, column 'time'" in message or "row 10, column 'time'" in message


@pytest.mark.parametrize(
    ("period", "measured", "fix"),
    [
        ("MINUTE", "1 day apart", "--period DAY"),
        ("HOUR", "1 day apart", "--period DAY"),
        ("WEEK", "1 day apart", "--period DAY"),
        ("SECOND", "1 day apart", "--period DAY"),
    ],
)
def test_daily_bars_declared_with_another_period_are_refused(held, period, measured, fix) -> None:
    bars = daily_bars()
    data = to_csv(bars.assign(time=bars.time.dt.strftime("%Y-%m-%d")))
    message = refused(held, data, "Y", period, match=measured)
    assert fix in message and f"declared period {period}" in message


def test_hourly_bars_declared_daily_are_refused_with_the_measured_spacing(held) -> None:
    bars = hourly_bars()
    data = to_csv(bars.assign(time=bars.time.dt.strftime("%Y-%m-%dT%H:%M:%SZ")))
    refused(held, data, "H", "DAY", match=r"1 hour apart .*--period HOUR")


def test_five_minute_bars_fit_no_period(held) -> None:
    times = pd.date_range("2024-01-02 14:30", periods=50, freq="5min")
    text = HEADER + "".join(f"{t:%Y-%m-%d %H:%M},1,2,0.5,1.5,1\n" for t in times)
    refused(held, text.encode(), "F", "MINUTE", match=r"5 minutes apart.*no bar period fits")


def test_weekends_and_holidays_do_not_break_the_spacing_check(isolated_databases) -> None:
    # Weekdays minus a holiday week: gaps of 1, 3 and 8 days; the median is still one day.
    days = [d for d in pd.bdate_range("2024-01-01", "2024-03-29")
            if not pd.Timestamp("2024-02-12") <= d <= pd.Timestamp("2024-02-16")]
    text = HEADER + "".join(f"{d:%Y-%m-%d},1,2,0.5,1.5,1\n" for d in days)
    assert import_csv(None, text.encode(), "HOL", "DAY").rows == len(days)


@pytest.mark.parametrize("period", ["WEEKLY", "1d", "daily", "minutes", "1m"])
def test_period_names_are_validated_exactly(held, period) -> None:
    message = refused(held, b"date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n", "P", period,
                      match="unknown bar period")
    assert "SECOND, MINUTE, HOUR, DAY, WEEK" in message


def test_period_names_in_any_case_are_accepted(isolated_databases) -> None:
    assert import_csv(None, b"date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n", "P",
                      "day").bar_period.name == "DAY"


def test_local_times_the_clocks_skip_or_repeat_are_reported_by_row(held) -> None:
    skipped = HEADER + (
        "2024-03-10 00:00,1,2,0.5,1.5,1\n2024-03-10 01:00,1,2,0.5,1.5,1\n"
        "2024-03-10 02:00,1,2,0.5,1.5,1\n2024-03-10 03:00,1,2,0.5,1.5,1\n")
    message = refused(held, skipped.encode(), "S", "HOUR", tz=NY, match="does not exist")
    assert "row 3, column 'date': local time 2024-03-10 02:00:00 does not exist in " \
           "America/New_York" in message
    repeated = HEADER + (
        "2024-11-03 00:00,1,2,0.5,1.5,1\n2024-11-03 01:00,1,2,0.5,1.5,1\n"
        "2024-11-03 02:00,1,2,0.5,1.5,1\n2024-11-03 03:00,1,2,0.5,1.5,1\n")
    message = refused(held, repeated.encode(), "R", "HOUR", tz=NY, match="occurs twice")
    assert "row 2, column 'date'" in message and "UTC offset" in message


def test_a_repeated_hour_whose_rows_show_the_order_is_resolved(isolated_databases) -> None:
    text = HEADER + (
        "2024-11-03 00:00,1,2,0.5,1.5,1\n2024-11-03 01:00,1,2,0.5,1.5,1\n"
        "2024-11-03 01:00,1,2,0.5,1.5,1\n2024-11-03 02:00,1,2,0.5,1.5,1\n")
    secmaster, _ = isolated_databases
    import_csv(None, text.encode(), "R", "HOUR", tz=NY)
    hours = [pd.Timestamp(row[2], unit="ns", tz="UTC").hour for row in stored_bars(secmaster)]
    assert hours == [4, 5, 6, 7]  # EDT 00:00, EDT 01:00, EST 01:00, EST 02:00


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'.*IANA"),
        ({"time_unit": "minutes"}, "unknown time unit.*s, ms, us, ns"),
        ({"date_format": "dd/mm/yyyy"}, "no % directives"),
    ],
)
def test_bad_options_are_refused_before_reading(held, kwargs, match) -> None:
    refused(held, HEADER.encode() + b"2024-01-02,1,2,0.5,1.5,1\n", "O", "DAY", match=match,
            **kwargs)


def test_epoch_times_before_1973_need_the_unit(held) -> None:
    text = "ts,open,high,low,close\n" + "".join(
        f"{86_400 * k},1,2,0.5,1.5\n" for k in range(1, 6))  # 2-6 January 1970, in seconds
    refused(held, text.encode(), "OLD", "DAY", match="--time-unit")
    secmaster = held
    summary = import_csv(secmaster, text.encode(), "OLD", "DAY", time_unit="s")
    assert summary.first_ts == pd.Timestamp("1970-01-02", tz="UTC")


def test_time_unit_on_text_times_is_refused(held) -> None:
    refused(held, HEADER.encode() + b"2024-01-02,1,2,0.5,1.5,1\n", "T", "DAY", time_unit="ms",
            match="--time-unit applies to numeric")


# ---- re-imports ------------------------------------------------------------------------------

def test_reimporting_the_same_bars_adds_nothing(held) -> None:
    bars = daily_bars()
    before, on_disk = table_snapshot(held), file_state(held)
    summary = import_csv(held, to_csv(bars.assign(time=bars.time.dt.strftime("%Y-%m-%d"))),
                         "X", "DAY")
    assert (summary.added, summary.unchanged, summary.replaced) == (0, len(bars), 0)
    assert table_snapshot(held) == before
    assert file_state(held) == on_disk  # not a page written


def test_overlapping_ranges_merge_into_the_whole(isolated_databases, tmp_path) -> None:
    secmaster, _ = isolated_databases
    bars = daily_bars().assign(time=lambda b: b.time.dt.strftime("%Y-%m-%d"))
    first = import_csv(secmaster, to_csv(bars.iloc[:80]), "X", "DAY")
    second = import_csv(secmaster, to_csv(bars.iloc[60:]), "X", "DAY")
    assert (first.added, second.added, second.unchanged) == (80, 50, 20)
    assert second.bar_count == len(bars)
    whole = tmp_path / "whole.db"
    import_csv(whole, to_csv(bars), "X", "DAY")
    assert stored_bars(secmaster) == stored_bars(whole)
    assert table_snapshot(secmaster)["coverage"] == table_snapshot(whole)["coverage"]


def test_conflicting_bars_are_counted_and_refused_unless_replace(held) -> None:
    bars = daily_bars().assign(time=lambda b: b.time.dt.strftime("%Y-%m-%d"))
    changed = bars.copy()
    changed.loc[[5, 9, 40], "close"] = changed.loc[[5, 9, 40], "low"]  # still a valid bar
    first = changed.loc[5]
    message = refused(held, to_csv(changed), "X", "DAY", match="3 bars differ")
    assert f"first at {first.time} 00:00:00+00:00" in message
    assert f"close {bars.loc[5, 'close']:.10g} stored, {first.close:.10g} in the file" in message
    assert "--replace" in message
    summary = import_csv(held, to_csv(changed), "X", "DAY", replace=True)
    assert (summary.added, summary.unchanged, summary.replaced) == (0, len(bars) - 3, 3)
    assert [row[6] for row in stored_bars(held)] == changed["close"].tolist()


def test_dbn_errors_do_not_show_python_object_reprs(held) -> None:
    with pytest.raises(SecmasterError) as error:
        import_dbn(held, b"not a dbn file at all")
    assert "object at 0x" not in str(error.value) and "<_io." not in str(error.value)
    assert "the file" in str(error.value)


def test_big_imports_report_progress_to_the_end(isolated_databases) -> None:
    times = pd.date_range("2024-01-01", periods=120_000, freq="min")
    frame = pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "open": 1.0,
                          "high": 2.0, "low": 0.5, "close": 1.5, "volume": 1})
    seen: list[tuple[float, str]] = []
    summary = import_csv(None, to_csv(frame), "BIG", "MINUTE",
                         on_progress=lambda done, stage: seen.append((done, stage)))
    assert summary.added == len(times)
    fractions = [done for done, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    stages = [stage for _, stage in seen]
    assert stages.index("reading") < stages.index("writing") < stages.index("done")
    assert stages.count("writing") >= 3  # 50,000-row chunks move the bar while writing
