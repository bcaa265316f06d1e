"""Input widgets generated from what the engine declares: one per ``ParamSpec``, the data
selection (bar period, source, symbols, dates) from the secmaster, and broker settings.

Shared by the Backtest and Sweep pages; every widget has a stable key so tests can drive it.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from tradecore.brokers import SimulatedBroker
from tradecore.models import BarPeriod
from tradecore.strategies import ParamSpec, StrategyBase
from tradecore.ui.common import display_value, humanize, instruments, utc_date

#: A bounded number gets a slider unless it has more stops than this; a slider over
#: 1..100,000 by 1 cannot pick a value, so such a range gets a bounded number input.
MAX_SLIDER_STOPS = 1_000

ANY_SOURCE = "Any (resolve each symbol)"

#: Choices survive a visit to another page (the run page, say) and back.
PERSIST = "session"


# -- strategy and parameters -----------------------------------------------------------------

def strategy_select(strategies: dict[str, type[StrategyBase]], *, key: str) -> type[StrategyBase]:
    """A dropdown of registered strategies by display name; returns the chosen class."""
    names = list(strategies)
    default = names.index("SMACrossover") if "SMACrossover" in names else 0
    chosen = st.selectbox("Strategy", names, index=default, persist_state=PERSIST, key=key,
                          format_func=lambda name: strategies[name].display_name(),
                          help="Every registered strategy, user strategies included")
    return strategies[chosen]


def strategy_description(strategy_cls: type[StrategyBase]) -> str:
    """The strategy's own docstring (not StrategyBase's)."""
    doc = strategy_cls.__dict__.get("__doc__") or ""
    return inspect.cleandoc(doc) if doc.strip() else "_This strategy has no description._"


def widget_kind(spec: ParamSpec) -> str:
    """Which widget a parameter gets: checkbox, selectbox, slider, number_input or text_input."""
    kind = spec.kind
    if kind == "bool":
        return "checkbox"
    if kind in ("enum", "choice"):
        return "selectbox"
    if kind in ("int", "float"):
        if spec.is_bounded and _stops(spec) <= MAX_SLIDER_STOPS:
            return "slider"
        return "number_input"
    return "text_input"


def parameter_widget(name: str, spec: ParamSpec, *, key: str) -> Any:
    """One widget for one parameter; returns the value it holds (not yet validated)."""
    label = humanize(name)
    help_text = spec.help or None
    widget = widget_kind(spec)
    if widget == "checkbox":
        return st.checkbox(label, value=bool(spec.default), persist_state=PERSIST, key=key,
                           help=help_text)
    if widget == "selectbox":
        options = list(spec.choices)
        index = options.index(spec.default) if spec.default in options else 0
        return st.selectbox(label, options, index=index, persist_state=PERSIST, key=key,
                            help=help_text, format_func=display_value)
    if spec.kind == "int":
        return _int_widget(widget, label, spec, key, help_text)
    if spec.kind == "float":
        return _float_widget(widget, label, spec, key, help_text)
    return st.text_input(label, value=str(spec.default), persist_state=PERSIST, key=key,
                         help=help_text)


def parameter_widgets(strategy_cls: type[StrategyBase], *, key_prefix: str,
                      skip: tuple[str, ...] = ("bar_period",), columns: int = 3) -> dict[str, Any]:
    """A widget per parameter of ``strategy_cls`` laid out in ``columns``; ``{name: value}``.

    Keys are ``{key_prefix}.{StrategyClass}.{parameter}``, so each strategy keeps its own values.
    """
    names = [name for name in strategy_cls.parameters if name not in skip]
    if not names:
        st.caption("This strategy has no parameters besides the bar period.")
        return {}
    values: dict[str, Any] = {}
    cols = st.columns(columns)
    for i, name in enumerate(names):
        with cols[i % columns]:
            values[name] = parameter_widget(
                name, strategy_cls.parameters[name],
                key=parameter_key(key_prefix, strategy_cls, name))
    return values


def parameter_key(key_prefix: str, strategy_cls: type[StrategyBase], name: str) -> str:
    return f"{key_prefix}.{strategy_cls.registered_name()}.{name}"


def _stops(spec: ParamSpec) -> float:
    step = spec.step or (1 if spec.kind == "int" else (spec.max - spec.min) / 100 or 1)
    return (spec.max - spec.min) / step


def _int_widget(widget: str, label: str, spec: ParamSpec, key: str, help_text: str | None) -> int:
    step = max(1, int(spec.step or 1))
    low = int(spec.min) if spec.min is not None else None
    high = int(spec.max) if spec.max is not None else None
    if widget == "slider":
        return st.slider(label, min_value=low, max_value=high, value=int(spec.default),
                         step=step, persist_state=PERSIST, key=key, help=help_text)
    return st.number_input(label, min_value=low, max_value=high, value=int(spec.default),
                           step=step, persist_state=PERSIST, key=key, help=help_text)


def _float_widget(widget: str, label: str, spec: ParamSpec, key: str,
                  help_text: str | None) -> float:
    step = float(spec.step) if spec.step else None
    low = float(spec.min) if spec.min is not None else None
    high = float(spec.max) if spec.max is not None else None
    if widget == "slider":
        return st.slider(label, min_value=low, max_value=high, value=float(spec.default),
                         step=step or (high - low) / 100, persist_state=PERSIST, key=key,
                         help=help_text)
    return st.number_input(label, min_value=low, max_value=high, value=float(spec.default),
                           step=step, format=_float_format(spec), persist_state=PERSIST,
                           key=key, help=help_text)


def _float_format(spec: ParamSpec) -> str:
    text = repr(float(spec.step if spec.step else spec.default))
    decimals = len(text.split(".")[1].rstrip("0")) if "." in text else 0
    return f"%.{min(max(decimals, 2), 8)}f"


# -- data selection --------------------------------------------------------------------------

@dataclass(frozen=True)
class DataSelection:
    bar_period: BarPeriod
    symbols: list[str]
    start: dt.date | None
    end: dt.date | None
    publisher_name: str = ""
    dataset: str = ""


def data_selection(strategy_cls: type[StrategyBase], *, key_prefix: str) -> DataSelection | None:
    """Bar period (among those the secmaster holds), source, symbols having that period, and a
    date range clamped to their coverage. ``None`` (with a warning shown) when there are no bars.
    """
    held = instruments()
    held = held[held["symbol_type"] == "raw_symbol"]
    if held.empty:
        st.warning("The security master holds no bars: import some on the Data page.")
        return None
    spec = strategy_cls.parameters["bar_period"]
    allowed = [BarPeriod.parse(p) for p in (spec.choices or (spec.default,))]
    available = [p for p in allowed if p.name in set(held["bar_period"])]
    if not available:
        st.warning(f"The secmaster has no {', '.join(p.name for p in allowed)} bars "
                   f"for {strategy_cls.display_name()}.")
        return None
    default = BarPeriod.parse(spec.default)
    c1, c2 = st.columns([1, 2])
    period = c1.selectbox("Bar period", available, persist_state=PERSIST,
                          key=f"{key_prefix}.bar_period",
                          index=available.index(default) if default in available else 0,
                          format_func=lambda p: p.name.capitalize(),
                          help="Only periods the secmaster holds bars for")
    rows = held[held["bar_period"] == period.name]
    sources = sorted({(r.publisher, r.dataset) for r in rows.itertuples()})
    publisher, dataset = "", ""
    if len(sources) > 1:
        options = [ANY_SOURCE, *(f"{p}/{d}" for p, d in sources)]
        source = c2.selectbox("Source", options, persist_state=PERSIST, key=f"{key_prefix}.source",
                              help="Publisher/dataset of the bars; needed when a symbol "
                                   "exists in several")
        if source != ANY_SOURCE:
            publisher, dataset = source.split("/", 1)
            rows = rows[(rows["publisher"] == publisher) & (rows["dataset"] == dataset)]
    options = sorted(rows["symbol"].unique())
    symbols_key = f"{key_prefix}.symbols.{period.name}"
    if symbols_key in st.session_state:  # keep only symbols still offered
        st.session_state[symbols_key] = [s for s in st.session_state[symbols_key] if s in options]
        symbols = st.multiselect("Symbols", options, persist_state=PERSIST, key=symbols_key)
    else:
        preferred = [s for s in strategy_cls.symbols if s in options] or options[:1]
        symbols = st.multiselect("Symbols", options, default=preferred, persist_state=PERSIST,
                                 key=symbols_key,
                                 help=f"Symbols with {period.name} bars")
    covered = rows[rows["symbol"].isin(symbols)] if symbols else rows
    low, high = utc_date(covered["first_ts_ns"].min()), utc_date(covered["last_ts_ns"].max())
    follow_coverage(f"{key_prefix}.start", f"{key_prefix}.end", low, high)
    d1, d2 = st.columns(2)
    with d1:
        start = clamped_date_input("Start", f"{key_prefix}.start", low, high, low)
    with d2:
        end = clamped_date_input("End", f"{key_prefix}.end", low, high, high)
    source_text = (f"{publisher}/{dataset}" if publisher else
                   ", ".join(f"{p}/{d}" for p, d in sources))
    st.caption(f"{len(symbols)} symbol(s) from {source_text} · data from {low} to {high} · "
               f"{int(covered['bar_count'].sum()):,} bars")
    return DataSelection(period, list(symbols), start, end, publisher, dataset)


def follow_coverage(start_key: str, end_key: str, low: dt.date, high: dt.date) -> None:
    """Dates follow the chosen symbols' coverage ``low..high``: when the coverage changes, a
    range the user chose is kept if it still fits, and otherwise (or when the dates were
    simply the old coverage) the dates become the new coverage.

    Design Decision: reset rather than clamp
        Clamping start and end separately into a coverage that does not overlap the old
        range put both on the same day (issue 9): a one-day backtest nobody asked for, which
        stayed after switching back.
    """
    coverage_key = f"{start_key}.coverage"
    previous = st.session_state.get(coverage_key)
    st.session_state[coverage_key] = (low, high)
    if previous == (low, high):
        return
    start, end = st.session_state.get(start_key), st.session_state.get(end_key)
    chosen = (isinstance(start, dt.date) and isinstance(end, dt.date)
              and (start, end) != tuple(previous or ()))
    if chosen and low <= start <= end <= high:
        return
    st.session_state[start_key], st.session_state[end_key] = low, high


def clamped_date_input(label: str, key: str, low: dt.date, high: dt.date,
                       default: dt.date) -> dt.date | None:
    """A date input limited to ``low..high``; a value kept from a wider range is clamped."""
    if key in st.session_state:
        value = st.session_state[key]
        if isinstance(value, dt.date):
            st.session_state[key] = min(max(value, low), high)
        return st.date_input(label, min_value=low, max_value=high, persist_state=PERSIST, key=key)
    return st.date_input(label, value=default, min_value=low, max_value=high,
                         persist_state=PERSIST, key=key)


# -- broker ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BrokerSettings:
    commission_per_unit: float
    minimum_commission_per_order: float
    slippage_bps: float
    initial_cash: float


def broker_settings(*, key_prefix: str) -> BrokerSettings:
    """Commission, minimum per order, slippage and initial cash, defaulting to the broker's."""
    row1, row2 = st.columns(2), st.columns(2)
    cash = row1[0].number_input(
        "Initial cash", min_value=1.0, step=10_000.0, format="%.0f",
        value=float(SimulatedBroker.initial_cash), persist_state=PERSIST, key=f"{key_prefix}.cash")
    slippage = row1[1].number_input(
        "Slippage (bps)", min_value=0.0, step=0.5, format="%.1f",
        value=float(SimulatedBroker.slippage_bps), persist_state=PERSIST,
        key=f"{key_prefix}.slippage",
        help="Fill prices move against you by this many basis points")
    commission = row2[0].number_input(
        "Commission per unit", min_value=0.0, step=0.001, format="%.4f",
        value=float(SimulatedBroker.commission_per_unit), persist_state=PERSIST,
        key=f"{key_prefix}.commission",
        help="Charged per unit filled")
    minimum = row2[1].number_input(
        "Minimum per order", min_value=0.0, step=0.5, format="%.2f",
        value=float(SimulatedBroker.minimum_commission_per_order),
        persist_state=PERSIST, key=f"{key_prefix}.minimum_commission",
        help="Least commission charged on each fill")
    return BrokerSettings(commission, minimum, slippage, cash)


def as_frame(values: dict[str, Any]) -> pd.DataFrame:
    """Parameter values as a two-column table (for summaries)."""
    return pd.DataFrame({"parameter": list(values),
                         "value": [display_value(v) for v in values.values()]})


# -- sweep axes ------------------------------------------------------------------------------

#: Values a sweep axis gets by default (about; the step is a round multiple of the spec's).
DEFAULT_AXIS_VALUES = 5


def sweepable_parameters(strategy_cls: type[StrategyBase]) -> list[str]:
    """Parameters with a finite grid: bounded numbers, choices, enums, bools (not bar_period)."""
    return [name for name, spec in strategy_cls.parameters.items()
            if name != "bar_period" and (spec.choices is not None or spec.kind == "bool"
                                         or (spec.kind in ("int", "float") and spec.is_bounded))]


def default_axis_range(spec: ParamSpec) -> tuple[float, float]:
    """Half to twice the default (within min..max): where a first sweep usually looks."""
    if spec.default > 0:
        low, high = max(spec.min, spec.default / 2), min(spec.max, spec.default * 2)
    else:
        low, high = spec.min, spec.max
    if spec.kind == "int":
        return int(math.ceil(low)), int(math.floor(high))
    return float(low), float(high)


def default_axis_step(spec: ParamSpec, low: float | None = None, high: float | None = None,
                      values: int = DEFAULT_AXIS_VALUES) -> float:
    """A round multiple (1, 2, 2.5 or 5 x 10^k) of the ParamSpec step giving about ``values``
    values over ``low..high`` (by default :func:`default_axis_range`)."""
    if low is None or high is None:
        low, high = default_axis_range(spec)
    base = spec.step or (1 if spec.kind == "int" else (spec.max - spec.min) / 100)
    wanted = max((high - low) / max(values - 1, 1), base)
    magnitude = 10 ** math.floor(math.log10(wanted))
    nice = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= wanted * 0.8)
    step = max(base, round(nice / base) * base)
    return int(round(step)) if spec.kind == "int" else round(step, 12)


def axis_values(spec: ParamSpec, low: float, high: float, step: float) -> list:
    """``low, low+step, ... high`` as the parameter's type; ``high`` is kept even when the
    step misses it (see ``tradecore.sweep.grid``)."""
    from tradecore.sweep.grid import expand_range

    return expand_range(low, high, step, integer=spec.kind == "int", include_end=True)


def sweep_axis(name: str, spec: ParamSpec, *, key: str) -> list:
    """Widgets choosing the values one swept parameter takes; returns them."""
    label = humanize(name)
    if spec.choices is not None or spec.kind == "bool":
        options = list(spec.choices) if spec.choices is not None else [False, True]
        return st.multiselect(f"{label}: values", options, default=options,
                              persist_state=PERSIST, key=f"{key}.values",
                              format_func=display_value, help=spec.help or None)
    is_int = spec.kind == "int"
    cast = int if is_int else float
    low, high = default_axis_range(spec)
    low_high = st.slider(f"{label}: range", min_value=cast(spec.min), max_value=cast(spec.max),
                         value=(cast(low), cast(high)),
                         step=cast(spec.step) if spec.step else None,
                         persist_state=PERSIST, key=f"{key}.range", help=spec.help or None)
    step = st.number_input(f"{label}: step", min_value=cast(spec.step or (1 if is_int else 1e-6)),
                           value=cast(default_axis_step(spec, low, high)),
                           step=cast(spec.step) if spec.step else None,
                           persist_state=PERSIST, key=f"{key}.step",
                           help="A multiple of the parameter's own step",
                           format=None if is_int else _float_format(spec))
    return axis_values(spec, low_high[0], low_high[1], step)
