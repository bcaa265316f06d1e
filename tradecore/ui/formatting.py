"""How numbers, times and tables read in the dashboard: units, durations, colours.

Pure Python (no Streamlit). A statistic's label, unit, direction and format come from the
statistics catalogue (``tradecore.analytics.catalogue``); the names below that take a
statistic key (``format_stat``, ``stat_label``, ``STAT_BY_KEY`` ...) are that catalogue, kept
under their old names for the pages. Run configurations (flattening, diffs, parameter text) live
in ``tradecore.analytics.configs`` and the reproduce command next to the CLI's parser
(``tradecore.cli.reproduce_command``); they are re-exported here for the pages that import them
from this module.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import pandas as pd

from tradecore.analytics import catalogue
from tradecore.analytics.configs import (  # noqa: F401 - re-exported for the pages
    config_diff,
    config_value_text,
    flatten_config,
    parameters_text,
    strategy_parameters,
)
from tradecore.cli import reproduce_command  # noqa: F401 - re-exported for the pages
from tradecore.models import RunStatus

Better = Literal["higher", "lower", "closer_to_zero", "none"] | None

#: The catalogue under the dashboard's older names.
STAT_BY_KEY: Mapping[str, catalogue.Statistic] = catalogue.STATISTICS
STATS: tuple[catalogue.Statistic, ...] = tuple(catalogue.STATISTICS.values())
#: Statistics that describe how the others were computed; shown as the convention line.
CONVENTION_KEYS = frozenset(catalogue.CONVENTION)
format_stat = catalogue.format_value
stat_label = catalogue.label


def code_span(text: Any) -> str:
    """``text`` as a markdown code span that nothing in it can close: a run id or path from a
    URL or a user's strategy name shows literally, never as a link, emphasis or HTML."""
    text = " ".join(str(text).split())  # a code span is one line
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"{fence}{text}{fence}"


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_number(value: Any, decimals: int = 2) -> str:
    if is_missing(value):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:,.{decimals}f}"


def format_pct(value: Any, decimals: int = 2) -> str:
    text = format_number(value, decimals)
    return text if text in ("–", "∞", "-∞") else f"{text}%"


def format_money(value: Any, decimals: int = 2) -> str:
    if is_missing(value):
        return "–"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{decimals}f}"


def format_duration(value: Any) -> str:
    """A duration given as a Timedelta/timedelta, ns integer or (float) days, as ``123d 4h``."""
    if is_missing(value):
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, (pd.Timedelta, dt.timedelta)):
        seconds = pd.Timedelta(value).total_seconds()
    elif isinstance(value, int) and abs(value) > 10**12:
        seconds = value / 1e9  # nanoseconds
    else:
        seconds = float(value) * 86_400  # days
    days, rest = divmod(int(round(seconds)), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def format_durations(ns: pd.Series) -> pd.Series:
    """:func:`format_duration` of a column of nanosecond durations, vectorised."""
    values = pd.to_numeric(ns, errors="coerce")
    seconds = (values / 1e9).round()
    days = (seconds // 86_400).astype("Int64")
    hours = ((seconds % 86_400) // 3_600).astype("Int64")
    minutes = ((seconds % 3_600) // 60).astype("Int64")
    d, h, m = days.astype(str), hours.astype(str), minutes.astype(str)
    text = pd.Series(m + "m", index=ns.index, dtype=object)
    text = text.where(hours == 0, h + "h " + m + "m").where(~((hours > 0) & (minutes == 0)),
                                                           h + "h")
    text = text.where(days == 0, d + "d " + h + "h").where(~((days > 0) & (hours == 0)),
                                                          d + "d")
    return text.where(values.notna(), "–").astype(str)


def best_index(values: Iterable[Any], better: Better) -> list[int]:
    """Positions of the best value(s) in ``values`` (ties all win; no winner if < 2 values)."""
    numbers = []
    for position, value in enumerate(values):
        number = catalogue.comparable(value)
        if number is not None:
            numbers.append((position, number))
    if better in (None, "none") or len(numbers) < 2:
        return []
    if better == "higher":
        target = max(n for _, n in numbers)
    elif better == "lower":
        target = min(n for _, n in numbers)
    else:
        target = min(abs(n) for _, n in numbers)
        return [p for p, n in numbers if abs(n) == target]
    if all(n == target for _, n in numbers):
        return []  # every run equal: nothing to highlight
    return [p for p, n in numbers if n == target]


def ns_to_timestamp(ns: Any) -> pd.Timestamp | None:
    if is_missing(ns):
        return None
    return pd.Timestamp(int(ns), unit="ns")


def format_ts(ns: Any, *, with_time: bool | None = None) -> str:
    """UTC date (and time when it is not midnight, or when asked) of a ns timestamp."""
    stamp = ns_to_timestamp(ns)
    if stamp is None:
        return "–"
    if with_time is None:
        with_time = stamp != stamp.normalize()
    return stamp.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def format_period(start_ns: Any, end_ns: Any) -> str:
    start, end = ns_to_timestamp(start_ns), ns_to_timestamp(end_ns)
    if start is None or end is None:
        return ""
    with_time = start != start.normalize() or end != end.normalize()
    first, last = format_ts(start_ns, with_time=with_time), format_ts(end_ns, with_time=with_time)
    return f"{first} → {last}"


#: One colour per run, keyed by the run's position in a comparison, used by every chart and
#: table of the compare page so a run keeps its colour everywhere (Tableau 10).
RUN_PALETTE: tuple[str, ...] = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
    "#9c755f", "#edc948", "#76b7b2", "#ff9da7", "#79706e",
)


def run_letter(position: int) -> str:
    """A, B, ..., Z, AA, AB, ...: a short name for the run at ``position`` in a comparison."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def run_colors(run_labels: list[str]) -> dict[str, str]:
    return {label: RUN_PALETTE[i % len(RUN_PALETTE)] for i, label in enumerate(run_labels)}


STATUS_COLORS = {RunStatus.COMPLETED: "green", RunStatus.RUNNING: "blue",
                 RunStatus.FAILED: "red", RunStatus.CANCELLED: "orange",
                 RunStatus.INTERRUPTED: "orange"}


# -- tables ---------------------------------------------------------------------------------


def with_times(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy with each ``*_ns`` column of ``columns`` turned into a UTC datetime column
    named without the suffix (``entry_ts_ns`` -> ``entry_ts``)."""
    out = frame.copy()
    for column in columns:
        if column in out.columns:
            values = pd.to_numeric(out[column], errors="coerce")
            out[column.removesuffix("_ns")] = pd.to_datetime(values, unit="ns")
    return out


def readable_times(frame: pd.DataFrame, *, drop: Iterable[str] = ("run_id", "ts_created_ns")
                   ) -> pd.DataFrame:
    """Every ``*_ns`` timestamp column as a UTC datetime named without ``_ns`` (``ts_event_ns``
    -> ``time``), any ``*_time`` twin of it dropped; durations (``duration_ns``) as text."""
    out = drop_columns(frame, drop)
    for column in list(out.columns):
        if column == "duration_ns":
            out["duration"] = format_durations(out[column])
            out = out.drop(columns=[column])
        elif column.endswith("_ns"):
            name = "time" if column == "ts_event_ns" else column.removesuffix("_ns") \
                .removesuffix("_ts")
            name = {"fill": "last_fill"}.get(name, name)
            twin = f"{name}_time"
            if twin in out.columns:
                out = out.drop(columns=[twin])
            values = pd.to_numeric(out[column], errors="coerce")
            position = out.columns.get_loc(column)
            out = out.drop(columns=[column])
            if name in out.columns:
                out = out.drop(columns=[name])
                position = min(position, len(out.columns))
            out.insert(position, name, pd.to_datetime(values, unit="ns"))
    return out


def drop_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    return frame.drop(columns=[c for c in columns if c in frame.columns])


def stats_table(stats: Mapping[str, Any]) -> pd.DataFrame:
    """``Statistic, Value, Definition`` rows: the known statistics in display order, then any
    others the analytics provide."""
    rows = []
    known = [spec.key for spec in STATS]
    for key in [*known, *[k for k in stats if k not in STAT_BY_KEY]]:
        if key not in stats or key in CONVENTION_KEYS:
            continue
        value = stats[key]
        if isinstance(value, (dict, list)):
            continue
        spec = STAT_BY_KEY.get(key)
        rows.append({"Statistic": stat_label(key), "Value": format_stat(key, value),
                     "Definition": spec.help if spec else ""})
    return pd.DataFrame(rows, columns=["Statistic", "Value", "Definition"])


def stat_convention(stats: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> str:
    """One line on how the ratios were computed: the resample rule, periods a year and
    risk-free rate ``statistics`` returns (else the run's ``config["analytics"]``)."""
    sources: list[Mapping[str, Any]] = [stats]
    if config and isinstance(config.get("analytics"), Mapping):
        sources.append(config["analytics"])

    def find(*names: str) -> tuple[str, Any]:
        for source in sources:
            for name in names:
                if name in source and not is_missing(source[name]):
                    return name, source[name]
        return "", None

    _, periods = find("periods_per_year")
    rate_key, rate = find("risk_free_rate_pct", "risk_free_rate")
    _, resample = find("resample_rule")
    rules = {"D": "calendar days", "W": "weeks", "ME": "month ends", "M": "month ends",
             "YE": "year ends", "Y": "year ends"}
    unit = rules.get(str(resample), str(resample)) if resample is not None else "calendar days"
    parts = [f"Ratios from equity resampled to {unit}"]
    parts.append(f"{int(periods)} periods a year" if periods is not None
                 else "252 periods a year without weekend bars, 365 with")
    if rate is None:
        parts.append("risk-free rate 0%")
    else:
        pct = float(rate) if rate_key.endswith("_pct") else float(rate) * 100
        parts.append(f"risk-free rate {pct:g}%")
    parts.append("drawdown on equity marked to market at every bar close")
    return " · ".join(parts)
