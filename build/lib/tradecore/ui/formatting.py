"""How numbers, times and statistics read in the dashboard: labels, units, which way is better.

Pure Python (no Streamlit), so pages, charts and tests share one vocabulary: the statistic
keys of ``tradecore.analytics.statistics`` map to a label, a unit and a direction here.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

Better = Literal["higher", "lower", "closer_to_zero"] | None


@dataclass(frozen=True)
class StatSpec:
    key: str
    label: str
    unit: Literal["pct", "money", "ratio", "count", "duration", "time", "number"]
    better: Better
    help: str = ""


#: Every statistic the dashboard shows, in display order (the keys of
#: ``tradecore.analytics.statistics``). ``better`` says which value wins a comparison:
#: ``closer_to_zero`` for drawdowns, whatever their sign convention; None: not ranked.
STATS: tuple[StatSpec, ...] = (
    StatSpec("total_return_pct", "Return", "pct", "higher", "Final equity / initial cash - 1"),
    StatSpec("buy_and_hold_return_pct", "Buy & hold", "pct", None,
             "Holding the traded symbols from the first bar after the indicators' warm-up "
             "(averaged over symbols)"),
    StatSpec("return_ann_pct", "Return (ann.)", "pct", "higher",
             "Geometric mean daily return, compounded over a year"),
    StatSpec("cagr_pct", "CAGR", "pct", "higher", "Compound annual growth rate over the run"),
    StatSpec("volatility_ann_pct", "Volatility (ann.)", "pct", "lower",
             "Volatility of compounded daily returns, annualised"),
    StatSpec("sharpe", "Sharpe", "ratio", "higher",
             "(Annual return - risk-free rate) / annual volatility"),
    StatSpec("sortino", "Sortino", "ratio", "higher",
             "(Annual return - risk-free rate) / annualised downside deviation"),
    StatSpec("calmar", "Calmar", "ratio", "higher", "Annual return / |max drawdown|"),
    StatSpec("max_drawdown_pct", "Max drawdown", "pct", "closer_to_zero",
             "Deepest fall of equity from a running peak (marked to market every bar)"),
    StatSpec("avg_drawdown_pct", "Avg drawdown", "pct", "closer_to_zero",
             "Mean of the deepest point of every drawdown"),
    StatSpec("max_drawdown_duration", "Max DD duration", "duration", "lower",
             "Longest time from a peak back to that peak"),
    StatSpec("avg_drawdown_duration", "Avg DD duration", "duration", "lower", ""),
    StatSpec("exposure_pct", "Exposure", "pct", None, "Share of bars with an open position"),
    StatSpec("equity_final", "Final equity", "money", "higher", "Equity at the last bar"),
    StatSpec("equity_peak", "Peak equity", "money", "higher", ""),
    StatSpec("net_pnl", "Net P&L (closed)", "money", "higher", "Sum of closed round trips' P&L"),
    StatSpec("open_pnl", "Open P&L", "money", None, "Round trips still open, marked to the "
             "last close"),
    StatSpec("commissions", "Commissions", "money", "lower", "Total commission paid"),
    StatSpec("trades", "Trades", "count", None, "Closed round trips"),
    StatSpec("open_trades", "Open trades", "count", None, "Round trips still open at the end"),
    StatSpec("win_rate_pct", "Win rate", "pct", "higher", "Share of round trips with P&L > 0"),
    StatSpec("profit_factor", "Profit factor", "ratio", "higher",
             "Sum of winning trade returns / |sum of losing trade returns|"),
    StatSpec("profit_factor_pnl", "Profit factor ($)", "ratio", "higher",
             "Gross profit / |gross loss|, in currency"),
    StatSpec("expectancy", "Expectancy", "pct", "higher", "Arithmetic mean trade return"),
    StatSpec("expectancy_pnl", "Expectancy ($)", "money", "higher", "Mean P&L per round trip"),
    StatSpec("avg_trade", "Avg trade", "pct", "higher", "Geometric mean trade return"),
    StatSpec("avg_trade_pnl", "Avg trade ($)", "money", "higher", "Mean P&L per round trip"),
    StatSpec("best_trade", "Best trade", "pct", "higher", "Best round-trip return"),
    StatSpec("worst_trade", "Worst trade", "pct", "higher", "Worst round-trip return"),
    StatSpec("best_trade_pnl", "Best trade ($)", "money", "higher", ""),
    StatSpec("worst_trade_pnl", "Worst trade ($)", "money", "higher", ""),
    StatSpec("gross_profit", "Gross profit", "money", None, "Sum of winning round trips' P&L"),
    StatSpec("gross_loss", "Gross loss", "money", None, "Sum of losing round trips' P&L"),
    StatSpec("max_trade_duration", "Max trade duration", "duration", None, ""),
    StatSpec("avg_trade_duration", "Avg trade duration", "duration", None, ""),
    StatSpec("sqn", "SQN", "ratio", "higher", "sqrt(n) x mean(P&L) / std(P&L)"),
    StatSpec("kelly_criterion", "Kelly", "ratio", "higher",
             "W - (1 - W) / (avg win / |avg loss|)"),
    StatSpec("bars", "Bars", "count", None, "Bar timestamps in the run"),
    StatSpec("start", "Start", "time", None, ""),
    StatSpec("end", "End", "time", None, ""),
    StatSpec("duration", "Duration", "duration", None, ""),
)
#: Statistics that describe how the others were computed; shown as the convention line.
CONVENTION_KEYS = frozenset({"periods_per_year", "risk_free_rate", "resample_rule",
                             "definitions_version"})
STAT_BY_KEY: dict[str, StatSpec] = {spec.key: spec for spec in STATS}


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


def format_stat(key: str, value: Any) -> str:
    spec = STAT_BY_KEY.get(key)
    unit = spec.unit if spec else "number"
    if unit == "pct":
        return format_pct(value)
    if unit == "money":
        return format_money(value)
    if unit == "count":
        return "–" if is_missing(value) else f"{int(value):,}"
    if unit == "duration":
        return format_duration(value)
    if unit == "time":
        return _format_time(value)
    if isinstance(value, str):
        return value
    return format_number(value)


def _format_time(value: Any) -> str:
    if is_missing(value):
        return "–"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_ts(value)
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%d %H:%M")


def stat_label(key: str) -> str:
    spec = STAT_BY_KEY.get(key)
    return spec.label if spec else key.replace("_", " ").capitalize()


def best_index(values: Iterable[Any], better: Better) -> list[int]:
    """Positions of the best value(s) in ``values`` (ties all win; no winner if < 2 values)."""
    numbers = []
    for position, value in enumerate(values):
        number = _as_number(value)
        if number is not None:
            numbers.append((position, number))
    if better is None or len(numbers) < 2:
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


def _as_number(value: Any) -> float | None:
    if is_missing(value) or isinstance(value, (str, bool)):
        return None
    if isinstance(value, (pd.Timedelta, dt.timedelta)):
        return pd.Timedelta(value).total_seconds()
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


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


STATUS_COLORS = {"completed": "green", "running": "blue", "failed": "red",
                 "cancelled": "orange", "interrupted": "orange"}


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"broker": {"slippage_bps": 1}}`` -> ``{"broker.slippage_bps": 1}``.

    A one-strategy run's ``strategies`` list flattens to ``strategy.<key>`` so two runs of
    different strategies still line up key by key; lists of scalars stay whole values.
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if key == "strategies" and isinstance(value, list):
            for i, strategy in enumerate(value):
                label = "strategy" if len(value) == 1 else f"strategy[{i}]"
                flat.update(flatten_config(strategy, f"{prefix}{label}.") if isinstance(
                    strategy, Mapping) else {f"{prefix}{label}": strategy})
        elif isinstance(value, Mapping):
            flat.update(flatten_config(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def config_value_text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


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


def strategy_parameters(config: Mapping[str, Any]) -> dict[str, Any]:
    strategies = config.get("strategies") or []
    if strategies and isinstance(strategies[0], Mapping):
        return dict(strategies[0].get("parameters") or {})
    return {}


def parameters_text(parameters: Mapping[str, Any], *, skip: Iterable[str] = ("bar_period",)
                    ) -> str:
    skipped = set(skip)
    return ", ".join(f"{k}={v}" for k, v in parameters.items() if k not in skipped)


def reproduce_command(config: Mapping[str, Any]) -> str:
    """The ``python -m tradecore run ...`` line that repeats a run."""
    strategies = config.get("strategies") or [{}]
    strategy = strategies[0] if isinstance(strategies[0], Mapping) else {}
    parts = ["python -m tradecore run", _quote(str(strategy.get("class", "?")))]
    symbols = config.get("symbols") or strategy.get("symbols") or []
    parts.append(f"--symbols {_quote(','.join(map(str, symbols)))}")
    for key, value in (strategy.get("parameters") or {}).items():
        if key == "bar_period":
            parts.append(f"--period {value}")
        else:
            parts.append(f"--param {_quote(f'{key}={value}')}")
    feed = config.get("datafeed") or {}
    for option, key in (("--start", "start_ns"), ("--end", "end_ns")):
        if not is_missing(feed.get(key)):
            parts.append(f"{option} {format_ts(feed[key], with_time=False)}")
    broker = config.get("broker") or {}
    for option, key in (("--commission", "commission_per_unit"),
                        ("--min-commission", "minimum_commission_per_order"),
                        ("--slippage-bps", "slippage_bps"), ("--cash", "initial_cash")):
        if not is_missing(broker.get(key)):
            parts.append(f"{option} {broker[key]:g}" if isinstance(broker[key], (int, float))
                         else f"{option} {broker[key]}")
    for option, key in (("--publisher", "publisher_name"), ("--dataset", "dataset")):
        if feed.get(key):
            parts.append(f"{option} {_quote(str(feed[key]))}")
    return " ".join(parts)


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def config_diff(configs: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Only the configuration keys whose values differ between runs: one row a key (its
    dotted path), one column a run. Keys a run lacks show as missing."""
    flat = {label: flatten_config(config) for label, config in configs.items()}
    keys: list[str] = []
    for values in flat.values():
        keys.extend(k for k in values if k not in keys)
    rows = {}
    for key in keys:
        values = [flat[label].get(key, _MISSING) for label in flat]
        texts = {config_value_text(v) if v is not _MISSING else "\0missing" for v in values}
        if len(texts) > 1:
            rows[key] = ["(not set)" if v is _MISSING else config_value_text(v) for v in values]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(flat))
    frame.index.name = "setting"
    return frame


_MISSING = object()
