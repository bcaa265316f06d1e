"""Cached reads of one run for the run and compare pages: ``tradecore.analytics`` behind
``st.cache_data``, keyed by run id, runs-db path and a freshness token.

Design Decision: a freshness token instead of a ttl per run
    ``st.cache_data`` has one ttl per function, but a finished run never changes while a
    running one grows. Every cached read takes a ``token``: ``(status, ts_end)`` for a
    finished run (cached until evicted) and the current 2-second slot for a running one (so
    it is re-read at most every 2 s). :func:`freshness` makes it from a short-lived run row.

The runs-db path is read at call time (:func:`runs_db`) and is part of every key, so tests and
the dashboard may switch databases without stale entries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from tradecore import analytics, paths
from tradecore.ui import charts
from tradecore.ui.charts.indicators import plot_info_of

RUNNING = "running"
LIVE_SLOT_SECONDS = 2.0
#: Cache sizes: per-run results are small (at most about 2,000 rows) except the raw equity
#: curve, kept for a few runs only.
_SMALL = 256
_LARGE = 8


def runs_db() -> str:
    """The runs database in use now (env at call time), as an absolute path."""
    return str(paths.runs_db_path().resolve())


# -- the run rows -----------------------------------------------------------------------------


@st.cache_data(ttl=LIVE_SLOT_SECONDS, max_entries=16, show_spinner=False)
def run_list(db: str) -> pd.DataFrame:
    """``analytics.list_runs``, newest first (refreshed every couple of seconds: runs come
    and go)."""
    if not _db_exists(db):
        return pd.DataFrame(columns=["run_id", "status"])
    return analytics.list_runs(db_path=db)


def _db_exists(db: str) -> bool:
    from pathlib import Path

    return Path(db).is_file()


def run_row(run_id: str, db: str) -> dict[str, Any] | None:
    """The ``list_runs`` row of ``run_id`` as a dict (status, error and its traceback,
    configuration summary), or None if there is no such run."""
    runs = run_list(db)
    if runs.empty or "run_id" not in runs:
        return None
    match = runs[runs["run_id"] == run_id]
    if match.empty:
        return None
    return {key: _plain(value) for key, value in match.iloc[0].to_dict().items()}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    return value


def freshness(row: Mapping[str, Any] | None) -> Hashable:
    """The cache token of a run row (see the module docstring)."""
    if row is None:
        return ("missing", int(time.time() // LIVE_SLOT_SECONDS))
    status = row.get("status")
    if status == RUNNING:
        return (RUNNING, int(time.time() // LIVE_SLOT_SECONDS))
    return (status, row.get("ts_end"))


# -- per-run reads ----------------------------------------------------------------------------


@st.cache_data(max_entries=_SMALL, show_spinner=False)
def statistics(run_id: str, db: str, token: Hashable) -> dict[str, Any]:
    return dict(analytics.statistics(run_id, db_path=db))


@st.cache_data(max_entries=_SMALL, show_spinner=False)
def run_config(run_id: str, db: str, token: Hashable) -> dict[str, Any]:
    config = analytics.run_config(run_id, db_path=db)
    if isinstance(config, str):
        config = json.loads(config)
    return dict(config or {})


@st.cache_data(max_entries=_SMALL, show_spinner=False)
def plot_info(run_id: str, db: str, token: Hashable) -> dict[str, dict[str, Any]]:
    """Where the run's indicators are drawn, as recorded with the run
    (``analytics.indicator_info``)."""
    return plot_info_of(analytics.indicator_info(run_id, db_path=db))


@st.cache_data(max_entries=_SMALL, show_spinner=False)
def buy_and_hold(run_id: str, db: str, token: Hashable) -> pd.DataFrame:
    """``ts_event_ns, equity`` of buying the run's symbols at its first bar and holding them:
    the one definition (``analytics.metrics.buy_and_hold_curve``), the same as the statistic."""
    from tradecore.analytics.metrics import buy_and_hold_curve

    return buy_and_hold_curve(run_id, db, max_points=charts.MAX_POINTS)


@st.cache_data(max_entries=_SMALL, show_spinner=False)
def round_trips(run_id: str, db: str, token: Hashable) -> pd.DataFrame:
    return analytics.round_trips(run_id, db_path=db)


@st.cache_data(max_entries=_SMALL, show_spinner=False)
def order_log(run_id: str, db: str, token: Hashable) -> pd.DataFrame:
    return analytics.order_log(run_id, db_path=db)


@st.cache_data(max_entries=_SMALL, show_spinner=False)
def fills(run_id: str, db: str, token: Hashable) -> pd.DataFrame:
    """``analytics.fills`` plus the ``signal`` of each fill's order (from the order log) when
    the fills do not carry it."""
    frame = analytics.fills(run_id, db_path=db)
    if "signal" in frame.columns or frame.empty:
        return frame
    orders = order_log(run_id, db, token)
    if {"order_id", "signal"} <= set(orders.columns) and "associated_order_id" in frame:
        signals = (orders.dropna(subset=["signal"]).drop_duplicates("order_id")
                   .set_index("order_id")["signal"])
        frame = frame.copy()
        frame["signal"] = frame["associated_order_id"].map(signals)
    return frame


@st.cache_data(max_entries=_SMALL, show_spinner=False)
def bars(run_id: str, db: str, token: Hashable, *, symbol: str | None = None,
         start_ns: int | None = None, end_ns: int | None = None,
         max_points: int = charts.MAX_POINTS) -> pd.DataFrame:
    """Bars with indicator columns, down-sampled in SQL to ``max_points`` (a window of them
    when ``start_ns``/``end_ns`` are given)."""
    return analytics.bars(run_id, db_path=db, max_points=max_points, symbol=symbol,
                          start_ns=start_ns, end_ns=end_ns)


@st.cache_data(max_entries=_LARGE, show_spinner=False)
def _equity_full(run_id: str, db: str, token: Hashable) -> pd.DataFrame:
    return analytics.equity_curve(run_id, db_path=db)


@st.cache_data(max_entries=_SMALL, show_spinner=False)
def equity(run_id: str, db: str, token: Hashable, *, start_ns: int | None = None,
           end_ns: int | None = None, max_points: int = charts.MAX_POINTS) -> pd.DataFrame:
    """The equity curve, at most ``max_points`` rows, down-sampled by analytics (SQL). A
    window is cut from the full curve when it holds at most ``max_points`` rows (zoomed in:
    every bar), else from the down-sampled overview (never down-sampled here)."""
    overview = analytics.equity_curve(run_id, db_path=db, max_points=max_points)
    if start_ns is None and end_ns is None:
        return overview
    curve = _equity_full(run_id, db, token)
    inside = curve[_between(curve["ts_event_ns"], start_ns, end_ns)]
    if len(inside) <= max_points:
        return inside.reset_index(drop=True)
    return overview[_between(overview["ts_event_ns"], start_ns, end_ns)].reset_index(drop=True)


def _between(ts: pd.Series, start_ns: int | None, end_ns: int | None) -> pd.Series:
    keep = pd.Series(True, index=ts.index)
    if start_ns is not None:
        keep &= ts >= start_ns
    if end_ns is not None:
        keep &= ts <= end_ns
    return keep


@st.cache_data(max_entries=_SMALL, show_spinner=False)
def compare(run_ids: Sequence[str], db: str, tokens: Sequence[Hashable]) -> pd.DataFrame:
    """``analytics.compare``: statistics of several runs, one column a run."""
    return analytics.compare(list(run_ids), db_path=db)


def clear() -> None:
    """Forget everything cached here (tests switching databases)."""
    for function in (run_list, statistics, run_config, plot_info, buy_and_hold, round_trips, order_log, fills, bars,
                     _equity_full, equity, compare):
        function.clear()
