"""The statistics catalogue: what each statistic of ``analytics.statistics()`` is called, in which
unit it is shown, which way is better and how it is defined, in one place.

The CLI, every page and the exports read labels, units and formats from here; a statistic's
label is written nowhere else in the codebase. The definitions themselves (the arithmetic) are
in ``tradecore.analytics.metrics``; ``help`` is their one-sentence summary for a tooltip.

Named views: ``HEADLINE`` (the few columns of run lists, compare headers and the CLI) and
``KPI_TILES`` (the run page's tiles).

Design Decision: drawdowns are negative and ``better="higher"``
    Drawdowns are stored as fractions <= 0 (-12.5 % is worse than -3 %), so "closer to zero"
    is simply "higher"; the catalogue needs no third direction and ``best_of`` no special case.

Design Decision: two units and two kinds beyond the ones a trader compares
    ``statistics()`` also returns when the run started and ended (unit ``time``) and how the
    ratios were computed (``periods_per_year``, ``resample_rule`` ...; kind ``convention``,
    unit ``text`` where it is not a number). They are catalogued so every returned key has a
    label, and kept out of ``HEADLINE``/``KPI_TILES``; pages show the conventions as one line.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

UNITS = ("pct", "money", "ratio", "count", "duration", "price", "time", "text")
BETTER = ("higher", "lower", "none")
KINDS = ("return", "risk", "risk_adjusted", "trades", "costs", "benchmark", "run", "convention")
MISSING_TEXT = "–"


@dataclass(frozen=True)
class Statistic:
    key: str     # the key of analytics.statistics(), e.g. "sharpe"
    label: str   # "Sharpe ratio": the only place this label is written
    unit: str    # one of UNITS
    better: str  # "higher" | "lower" | "none"
    help: str    # one sentence with the definition (a tooltip)
    kind: str    # one of KINDS

    def __post_init__(self) -> None:
        if self.unit not in UNITS or self.better not in BETTER or self.kind not in KINDS:
            raise ValueError(f"statistic {self.key!r}: unit, better or kind not recognised")


def _catalogue(*statistics: Statistic) -> dict[str, Statistic]:
    return {s.key: s for s in statistics}


S = Statistic
#: Every key ``analytics.statistics()`` returns, in display order.
STATISTICS: dict[str, Statistic] = _catalogue(
    # -- return
    S("total_return_pct", "Return", "pct", "higher",
      "Final equity over initial cash, minus one.", "return"),
    S("return_ann_pct", "Annual return", "pct", "higher",
      "Geometric mean return per period (day, week ...), compounded over a year.", "return"),
    S("cagr_pct", "CAGR", "pct", "higher",
      "Compound annual growth rate from initial cash to final equity over the run's "
      "duration.", "return"),
    S("equity_final", "Final equity", "money", "higher",
      "Cash plus positions marked at the last bar's close.", "return"),
    S("equity_peak", "Peak equity", "money", "higher",
      "Highest equity at any bar close.", "return"),
    S("net_pnl", "Net P&L (closed trades)", "money", "higher",
      "Sum of the P&L of closed round trips, net of commission.", "return"),
    S("open_pnl", "Open P&L", "money", "none",
      "P&L of round trips still open at the end, marked to the last close.", "return"),
    # -- benchmark
    S("buy_and_hold_return_pct", "Buy & hold return", "pct", "none",
      "Last close over the close of the first bar of the run's range, minus one, averaged "
      "over the run's symbols.", "benchmark"),
    # -- risk
    S("volatility_ann_pct", "Annual volatility", "pct", "lower",
      "Standard deviation of compounded period returns, annualised.", "risk"),
    S("max_drawdown_pct", "Max drawdown", "pct", "higher",
      "Deepest fall of equity below its running peak, marked to market at every bar.", "risk"),
    S("avg_drawdown_pct", "Average drawdown", "pct", "higher",
      "Mean of the deepest point of every drawdown period.", "risk"),
    S("max_drawdown_duration", "Longest drawdown", "duration", "lower",
      "Longest time from a peak to the next bar back at a peak (or to the end).", "risk"),
    S("avg_drawdown_duration", "Average drawdown length", "duration", "lower",
      "Mean time from a peak to the next bar back at a peak.", "risk"),
    S("exposure_pct", "Exposure", "pct", "none",
      "Share of bars during which a position was held.", "risk"),
    # -- risk adjusted
    S("sharpe", "Sharpe ratio", "ratio", "higher",
      "Annual return minus the risk-free rate, over annual volatility.", "risk_adjusted"),
    S("sortino", "Sortino ratio", "ratio", "higher",
      "Annual return minus the risk-free rate, over annualised downside deviation.",
      "risk_adjusted"),
    S("calmar", "Calmar ratio", "ratio", "higher",
      "Annual return over the absolute max drawdown.", "risk_adjusted"),
    S("sqn", "SQN", "ratio", "higher",
      "System quality number: square root of the trade count times mean trade P&L over its "
      "standard deviation.", "risk_adjusted"),
    S("kelly_criterion", "Kelly criterion", "ratio", "higher",
      "Win rate minus loss rate over the ratio of mean win to mean loss.", "risk_adjusted"),
    # -- trades
    S("trades", "Trades", "count", "none",
      "Number of closed round trips.", "trades"),
    S("open_trades", "Open trades", "count", "none",
      "Round trips still open at the end of the run.", "trades"),
    S("win_rate_pct", "Win rate", "pct", "higher",
      "Share of closed round trips with a positive P&L.", "trades"),
    S("profit_factor", "Profit factor", "ratio", "higher",
      "Sum of winning trade returns over the absolute sum of losing ones.", "trades"),
    S("profit_factor_pnl", "Profit factor (money)", "ratio", "higher",
      "Gross profit over absolute gross loss, in money.", "trades"),
    S("expectancy", "Expectancy", "pct", "higher",
      "Arithmetic mean return of closed round trips.", "trades"),
    S("expectancy_pnl", "Expectancy (money)", "money", "higher",
      "Mean P&L of closed round trips.", "trades"),
    S("avg_trade", "Average trade", "pct", "higher",
      "Geometric mean return of closed round trips.", "trades"),
    S("avg_trade_pnl", "Average trade (money)", "money", "higher",
      "Mean P&L of closed round trips.", "trades"),
    S("best_trade", "Best trade", "pct", "higher",
      "Highest return of a closed round trip.", "trades"),
    S("worst_trade", "Worst trade", "pct", "higher",
      "Lowest return of a closed round trip.", "trades"),
    S("best_trade_pnl", "Best trade (money)", "money", "higher",
      "Highest P&L of a closed round trip.", "trades"),
    S("worst_trade_pnl", "Worst trade (money)", "money", "higher",
      "Lowest P&L of a closed round trip.", "trades"),
    S("gross_profit", "Gross profit", "money", "none",
      "Sum of the P&L of winning closed round trips.", "trades"),
    S("gross_loss", "Gross loss", "money", "none",
      "Sum of the P&L of losing closed round trips.", "trades"),
    S("max_trade_duration", "Longest trade", "duration", "none",
      "Longest time from entry to exit of a closed round trip.", "trades"),
    S("avg_trade_duration", "Average trade length", "duration", "none",
      "Mean time from entry to exit of closed round trips.", "trades"),
    # -- costs
    S("commissions", "Commissions", "money", "lower",
      "Commission paid on every fill, open trades included.", "costs"),
    # -- the run itself
    S("start", "Start", "time", "none", "Time of the run's first bar (UTC).", "run"),
    S("end", "End", "time", "none", "Time of the run's last bar (UTC).", "run"),
    S("duration", "Duration", "duration", "none",
      "Time from the first bar to the last.", "run"),
    S("bars", "Bars", "count", "none", "Number of bar timestamps in the run.", "run"),
    # -- how the ratios were computed
    S("periods_per_year", "Periods a year", "count", "none",
      "Periods used to annualise: 252 without weekend bars, 365 with (52, 12 or 1 for "
      "weekly, monthly or yearly data).", "convention"),
    S("risk_free_rate", "Risk-free rate", "ratio", "none",
      "Annual risk-free rate, as a fraction, taken off the return in Sharpe and Sortino.",
      "convention"),
    S("resample_rule", "Resampled to", "text", "none",
      "Periods the equity is resampled to before computing returns (D, W, ME or YE).",
      "convention"),
    S("definitions_version", "Definitions version", "text", "none",
      "Version of the statistics' definitions these values were computed with.",
      "convention"),
)
del S

#: The few columns of run lists, compare headers and the CLI.
HEADLINE: tuple[str, ...] = ("total_return_pct", "buy_and_hold_return_pct", "sharpe",
                             "max_drawdown_pct", "trades", "win_rate_pct")
#: The run page's tiles, in order (two rows of five: returns and risk, then trading).
KPI_TILES: tuple[str, ...] = ("total_return_pct", "buy_and_hold_return_pct", "cagr_pct",
                              "sharpe", "max_drawdown_pct",
                              "win_rate_pct", "trades", "profit_factor", "exposure_pct",
                              "equity_final")
#: Keys that describe how the others were computed (shown as one line, not as statistics).
CONVENTION: tuple[str, ...] = tuple(k for k, s in STATISTICS.items() if s.kind == "convention")


def label(key: str) -> str:
    """The label people read for statistic ``key`` (an unknown key reads as itself)."""
    statistic = STATISTICS.get(key)
    return statistic.label if statistic else key


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_value(key: str, value: Any) -> str:
    """``value`` of statistic ``key`` as text, by its unit: ``12.34%``, ``$44,518.82``, ``1.23``,
    ``24``, ``3 days``, ``2024-01-05``; missing values as ``–``."""
    statistic = STATISTICS.get(key)
    unit = statistic.unit if statistic else "ratio"
    if is_missing(value):
        return MISSING_TEXT
    if unit == "text" or isinstance(value, str):
        return str(value)
    if unit == "time":
        return format_time(value)
    if unit == "duration":
        return format_duration(value)
    number = float(value)
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if unit == "count":
        return f"{round(number):,}"
    if unit == "pct":
        return f"{number:,.2f}%"
    if unit in ("money", "price"):
        return f"{'-' if number < 0 else ''}${abs(number):,.2f}"
    return f"{number:,.2f}"


def format_time(value: Any) -> str:
    """A UTC time (Timestamp, datetime or ns integer): the date, with ``HH:MM`` unless midnight."""
    if is_missing(value):
        return MISSING_TEXT
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        stamp = pd.Timestamp(int(value), unit="ns")
    else:
        stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%d %H:%M")


def format_duration(value: Any) -> str:
    """A Timedelta, timedelta or ns integer as ``3 days``, ``3 days 4 h``, ``2 h 5 min``,
    ``12 min`` or ``40 s``."""
    if is_missing(value):
        return MISSING_TEXT
    if isinstance(value, (pd.Timedelta, dt.timedelta)):
        seconds = int(round(pd.Timedelta(value).total_seconds()))
    else:
        seconds = int(round(float(value) / 1e9))
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days:,} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    elif hours:
        text = f"{hours} h" + (f" {minutes} min" if minutes else "")
    elif minutes:
        text = f"{minutes} min"
    else:
        text = f"{secs} s"
    return sign + text


def comparable(value: Any) -> float | None:
    """``value`` as a number to rank by (durations in seconds); None if it has none."""
    if is_missing(value) or isinstance(value, (str, bool)):
        return None
    if isinstance(value, (pd.Timedelta, dt.timedelta)):
        return pd.Timedelta(value).total_seconds()
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def best_of(key: str, values: Iterable[Any]) -> int | None:
    """Position in ``values`` of the best run for statistic ``key`` (the first on a tie).

    None when the statistic has no better direction, fewer than two values are comparable,
    or all comparable values are equal (nothing stands out).
    """
    statistic = STATISTICS.get(key)
    if statistic is None or statistic.better == "none":
        return None
    numbers = [(i, n) for i, v in enumerate(values) if (n := comparable(v)) is not None]
    if len(numbers) < 2 or len({n for _, n in numbers}) == 1:
        return None
    target = (max if statistic.better == "higher" else min)(n for _, n in numbers)
    return next(i for i, n in numbers if n == target)
