"""The pieces of the compare page (``pages/compare.py``): the run picker kept in step with
``?runs=``, the statistics table with each row's best run, and the readable configuration
difference."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from tradecore.analytics import catalogue
from tradecore.ui import formatting as fmt

PICKER = "compare.picker"
PICKER_SOURCE = "compare.picker_source"
BEST_STYLE = "background-color: #dff3e4; color: #0b5d1e; font-weight: 600"


def requested_runs() -> list[str]:
    text = st.query_params.get("runs") or ""
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def pick_runs(labels: dict[str, str], requested: list[str]) -> list[str]:
    """The run multiselect (strategy, parameters and return beside each id), kept in step
    with ``?runs=``."""
    source = ",".join(requested)
    if st.session_state.get(PICKER_SOURCE) != source:
        st.session_state[PICKER] = [r for r in requested if r in labels]
        st.session_state[PICKER_SOURCE] = source

    def picked() -> None:
        chosen = st.session_state.get(PICKER) or []
        st.query_params["runs"] = ",".join(chosen)
        st.session_state[PICKER_SOURCE] = ",".join(chosen)

    return st.multiselect("Runs", list(labels), key=PICKER, on_change=picked,
                          format_func=lambda run_id: labels.get(run_id, run_id),
                          placeholder="Choose two or more runs",
                          help="Newest first. The URL follows, so the comparison can be shared.")


def stats_frame(compared: pd.DataFrame, run_ids: list[str], headers: list[str]
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(numbers, text)``: statistics as rows, runs as columns, in display order; the text
    frame adds a ``Best`` column naming the winning run(s) of each row."""
    frame = compared.copy()
    if "run_id" in frame.columns and not set(run_ids) <= set(frame.columns):
        frame = frame.set_index("run_id").T  # a row a run: turn it round
    frame = frame[[r for r in run_ids if r in frame.columns]]
    known = [key for key in catalogue.STATISTICS if key in frame.index
             and key not in catalogue.CONVENTION]
    extra = [k for k in frame.index if k not in catalogue.STATISTICS]
    numbers = frame.loc[known + extra]
    numbers.columns = [headers[run_ids.index(r)] for r in numbers.columns]
    text = pd.DataFrame(
        [[catalogue.format_value(key, value) for value in numbers.loc[key]]
         for key in numbers.index],
        index=[catalogue.label(k) for k in numbers.index], columns=numbers.columns)
    text["Best"] = [", ".join(numbers.columns[i] for i in _best(key, numbers.loc[key]))
                    for key in numbers.index]
    text.index.name = "Statistic"
    return numbers, text


def _best(key: str, values: pd.Series) -> list[int]:
    """Positions of the best value (the catalogue's direction; none for unranked rows)."""
    best = catalogue.best_of(key, values.tolist())
    return [] if best is None else [best]


def highlight_best(numbers: pd.DataFrame) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def styles(text: pd.DataFrame) -> pd.DataFrame:
        css = pd.DataFrame("", index=text.index, columns=text.columns)
        for row, key in enumerate(numbers.index):
            for column in _best(key, numbers.loc[key]):
                css.iat[row, column] = BEST_STYLE
        return css

    return styles


def runs_legend(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["Run", "Run id", "Strategy", "Symbols", "Period",
                                       "Parameters", "Status", "Open"])


def readable_diff(diff: pd.DataFrame) -> pd.DataFrame:
    """``fmt.config_diff`` as a person reads it: nanosecond settings (``datafeed.start_ns``)
    as dates named without ``_ns``, lists as comma-separated text, and a value repeated under
    several keys (the symbols sit in the run, the strategy and the feed) shown once."""
    if diff.empty:
        return diff
    rows: dict[str, list[str]] = {}
    seen: set[tuple[str, ...]] = set()
    for setting, values in diff.iterrows():
        name = str(setting)
        texts = [str(v) for v in values]
        if name.endswith("_ns"):
            name = name.removesuffix("_ns")
            texts = [_ns_text(v) for v in texts]
        texts = [_list_text(v) for v in texts]
        leaf = name.rsplit(".", 1)[-1]
        signature = (leaf, *texts)
        if signature in seen:
            continue
        seen.add(signature)
        rows[name] = texts
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(diff.columns))
    frame.index.name = "Setting"
    return frame


def _ns_text(value: str) -> str:
    try:
        ns = int(float(value))
    except ValueError:
        return value
    return fmt.format_ts(ns)


def _list_text(value: str) -> str:
    if not value.startswith("["):
        return value
    try:
        items = json.loads(value)
    except json.JSONDecodeError:
        return value
    return ", ".join(map(str, items)) if isinstance(items, list) else value
