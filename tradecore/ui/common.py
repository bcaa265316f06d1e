"""What every page shares: start-up checks, page links that also work when a page runs on its
own, the secmaster listing and the runs table.

Design Decision: start-up runs in the navigation frame *and* in each page
    ``dashboard.py`` calls :func:`prepare_app` before the page runs, so a deep link to any page
    (even one that does not call it) gets the sample data and the interrupted-run check. A page
    calls :func:`page_setup`, which repeats that only when the page runs without the frame,
    so nothing is shown twice.

Design Decision: the first request of a fresh server, detected from ``sys.argv``
    Until some session calls ``st.navigation``, Streamlit routes a folder named ``pages/`` the
    legacy way: ``/backtest`` as the first request runs ``pages/backtest.py`` without
    ``dashboard.py``. :func:`page_setup` then registers the navigation and reruns through the
    frame. "Served by dashboard.py" is read from ``sys.argv[0]`` (``streamlit run`` sets it to
    the script's path), not from Streamlit's internal script-run context. That detection was
    suspected for the blank run page after a backtest; the cause was a timed fragment (see
    :func:`request_refresh`).
"""

from __future__ import annotations

import datetime as dt
import sys
import textwrap
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from tradecore import paths
from tradecore.secmaster import SecmasterError, ensure_secmaster, list_instruments
from tradecore.strategies import get_registered_strategies, strategy_discovery_errors
from tradecore.ui import charts

HOME_PAGE = "pages/home.py"
RUN_PAGE = "pages/run.py"
COMPARE_PAGE = "pages/compare.py"
BACKTEST_PAGE = "pages/backtest.py"
RUNS_PAGE = "pages/runs.py"
SWEEP_PAGE = "pages/sweep.py"
DATA_PAGE = "pages/data.py"

_FRAME_FLAG = "_tradecore_navigation_frame"

#: The strategy the Home page shows as an example (tests run it).
STRATEGY_EXAMPLE = textwrap.dedent('''\
    from tradecore import ParamSpec, StrategyBase
    from tradecore.indicators import RSI
    from tradecore.models import OrderType, TradeSide

    class RSIDip(StrategyBase):
        """Buy when RSI drops below `entry`, sell when it climbs above 50."""
        name = "RSI Dip"
        symbols = ["ACME"]
        parameters = {"period": ParamSpec(14, min=2, max=50, step=1, help="RSI bars"),
                      "entry": ParamSpec(30.0, min=5.0, max=45.0, step=1.0)}

        def setup(self):
            self.rsi = self.add_indicator(RSI(self.period))

        def on_bar(self, bar):
            rsi = self.rsi[bar.symbol, -1]
            if self.position == 0 and rsi < self.entry:
                self.submit_order(OrderType.MARKET, TradeSide.BUY, 100)
            elif self.position > 0 and rsi > 50:
                self.submit_order(OrderType.MARKET, TradeSide.SELL, self.position)
    ''')


# -- start-up --------------------------------------------------------------------------------

def prepare_app() -> None:
    """Sample data when missing (with a visible message), interrupted runs marked, strategy
    import errors shown. Called by ``dashboard.py`` before every page."""
    st.session_state[_FRAME_FLAG] = True
    _prepare()


# -- live pages ------------------------------------------------------------------------------

def request_refresh(seconds: float) -> None:
    """Rerun this page in ``seconds``: called last by a page showing something live (a
    backtest replaying, a run still recording). While it waits, a click or a page change is
    taken at once: the placeholder touched every tenth of a second is a point where Streamlit
    lets a pending rerun interrupt the script.

    Design Decision: a whole-page rerun after a short wait, no timed fragment
        Timed fragments (``st.fragment(run_every=...)``) blanked the run page after a
        backtest (issue 9): the page switched while a fragment tick was on its way and the
        browser dropped the new page's elements. Without fragments there are no ticks.
        A session without a browser (no HTTP headers: AppTest) does not wait; its test reruns
        the page itself.
    """
    if not st.context.headers:
        return
    pulse = st.empty()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(min(0.1, max(deadline - time.monotonic(), 0.0)))
        pulse.empty()  # a yield point: a pending user request interrupts here
    st.rerun()


def navigation_pages() -> dict[str, list[st.Page]]:
    """Every page of the app, by sidebar section (``st.navigation`` input)."""
    return {
        "": [st.Page(HOME_PAGE, title="Home", icon=":material/home:", url_path="home",
                     default=True)],
        "Research": [
            st.Page(BACKTEST_PAGE, title="Backtest", icon=":material/play_circle:"),
            st.Page(SWEEP_PAGE, title="Sweep", icon=":material/grid_on:"),
        ],
        "Results": [
            st.Page(RUNS_PAGE, title="Runs", icon=":material/table_rows:"),
            st.Page(RUN_PAGE, title="Run", icon=":material/monitoring:"),
            st.Page(COMPARE_PAGE, title="Compare", icon=":material/compare_arrows:"),
        ],
        "Data": [st.Page(DATA_PAGE, title="Data", icon=":material/database:")],
    }


def page_setup() -> None:
    """A page's start: :func:`prepare_app` unless the navigation frame already did it."""
    if st.session_state.get(_FRAME_FLAG):
        return
    if _served_by_dashboard():
        # A deep link (/run?run=...) was the first request of a fresh server: Streamlit still
        # routes pages/ the legacy way until some session calls st.navigation, so this page
        # runs without dashboard.py. Register the navigation and rerun through the frame.
        st.navigation(navigation_pages())
        st.rerun()
    _prepare()


def _served_by_dashboard() -> bool:
    return Path(sys.argv[0]).name == "dashboard.py" if sys.argv else False


def _prepare() -> None:
    secmaster = paths.secmaster_path()
    if _needs_sample(secmaster):
        with st.status("Building the sample data set (first start, a few seconds)...",
                       expanded=True) as status:
            st.write(f"Writing synthetic daily and minute bars to `{secmaster}`")
            ensure_secmaster(secmaster)
            status.update(label="Sample data ready", state="complete", expanded=False)
    get_registered_strategies()  # discovers user strategies, collecting import errors
    for error in strategy_discovery_errors():
        st.error(str(error), icon=":material/error:")
        with st.expander("Traceback"):
            st.code(error.traceback, language="text")


def _needs_sample(secmaster: Path) -> bool:
    if not secmaster.is_file():
        return True
    try:
        return list_instruments(secmaster).empty
    except SecmasterError:
        return True


# -- links -----------------------------------------------------------------------------------

def page_link(page: str, label: str, *, query_params: dict[str, str] | None = None,
              icon: str | None = None) -> None:
    """``st.page_link``; a plain link when the page is unknown (a page run on its own)."""
    try:
        st.page_link(page, label=label, query_params=query_params, icon=icon)
    except StreamlitPageNotFoundError:
        query = urlencode(query_params or {}, quote_via=quote)
        st.markdown(f"[{label}](/{Path(page).stem}{'?' + query if query else ''})")


def switch_page(page: str, *, query_params: dict[str, str] | None = None) -> None:
    """``st.switch_page``; when the page is unknown (a page run on its own) a link instead."""
    try:
        st.switch_page(page, query_params=query_params)
    except StreamlitPageNotFoundError:
        page_link(page, f"Open {Path(page).stem} page", query_params=query_params)


def run_link(run_id: str, label: str | None = None) -> None:
    page_link(RUN_PAGE, label or f"Open run {run_id}", query_params={"run": run_id},
              icon=":material/monitoring:")


# -- data listings ---------------------------------------------------------------------------

def instruments() -> pd.DataFrame:
    """What the secmaster holds, one row per symbol, source and bar period."""
    return list_instruments(paths.secmaster_path())


def utc_date(ns: int) -> dt.date:
    return pd.Timestamp(int(ns), unit="ns", tz="UTC").date()


def humanize(name: str) -> str:
    """``fast_period`` -> ``Fast period``: a parameter or column name as a label."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """First letter upper case, the rest untouched (``str.capitalize`` lowers symbols)."""
    return text[:1].upper() + text[1:]


def display_value(value: Any) -> str:
    return getattr(value, "name", None) or str(value)


# -- the runs table --------------------------------------------------------------------------

#: Headline metrics shown in run tables, in order (``analytics.list_runs`` columns).
HEADLINE_METRICS = ("total_return_pct", "sharpe", "max_drawdown_pct", "trades",
                    "win_rate_pct", "cagr_pct", "profit_factor", "equity_final")

#: How each headline metric reads in a table (``st.column_config.NumberColumn`` formats).
METRIC_FORMATS = {"total_return_pct": "%.2f%%", "sharpe": "%.2f", "max_drawdown_pct": "%.2f%%",
                  "trades": "%d", "win_rate_pct": "%.1f%%", "cagr_pct": "%.2f%%",
                  "profit_factor": "%.2f", "equity_final": "dollar"}


def metric_columns() -> dict[str, Any]:
    """Column configs of the headline metrics, labelled as everywhere else in the UI."""
    from tradecore.ui.formatting import stat_label

    return {key: st.column_config.NumberColumn(stat_label(key), format=fmt)
            for key, fmt in METRIC_FORMATS.items()}


RUN_SORTS: dict[str, tuple[str, bool]] = {
    "Newest first": ("ts_start", False),
    "Oldest first": ("ts_start", True),
    "Best return": ("total_return_pct", False),
    "Best Sharpe": ("sharpe", False),
    "Smallest drawdown": ("max_drawdown_pct", False),
    "Most trades": ("trades", False),
}

#: Runs whose statistics can be computed (the others have no complete equity to measure).
FINISHED = ("completed", "cancelled")


def list_runs_with_statistics(limit: int = 100) -> pd.DataFrame:
    """``analytics.list_runs()`` with the headline metrics filled in for finished runs.

    ``list_runs`` only reads statistics already kept in runs.db; a finished run's are
    computed (and kept) the first time any page asks, here at most ``limit`` per call.
    A run whose statistics cannot be computed is reported with ``st.warning``.
    """
    from tradecore import analytics

    runs = analytics.list_runs()
    missing = runs[runs["status"].isin(FINISHED) & runs["total_return_pct"].isna()]
    if missing.empty:
        return runs
    with st.spinner(f"Computing statistics of {min(len(missing), limit)} run(s)..."):
        for run_id in missing["run_id"].head(limit):
            try:
                analytics.statistics(run_id)
            except (ValueError, LookupError, OSError) as error:
                st.warning(f"No statistics for {run_id}: {error}")
    return analytics.list_runs()


def filter_runs(runs: pd.DataFrame, *, statuses: list[str] | None = None,
                strategies: list[str] | None = None, text: str = "",
                sort: str = "Newest first") -> pd.DataFrame:
    """The runs matching every filter (text: any of id, strategy, symbols, parameters)."""
    view = runs
    if statuses:
        view = view[view["status"].isin(statuses)]
    if strategies:
        view = view[view["strategy"].isin(strategies)]
    needle = text.strip().lower()
    if needle:
        haystack = view[["run_id", "strategy", "symbols", "parameters"]].fillna("").astype(str)
        haystack = haystack.apply(" ".join, axis=1).str.lower()
        view = view[haystack.str.contains(needle, regex=False)]
    column, ascending = RUN_SORTS.get(sort, RUN_SORTS["Newest first"])
    if column in view.columns:
        # drawdowns may be signed either way: the smallest is the one nearest zero
        key = (lambda s: s.abs()) if column == "max_drawdown_pct" else None
        view = view.sort_values([column, "run_id"], ascending=ascending if key is None else True,
                                key=key, na_position="last", kind="stable")
    return view.reset_index(drop=True)


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The columns a person reads: id, status, strategy, symbols, period, parameters, metrics."""
    columns = ["run_id", "status", "strategy", "symbols", "bar_period",
               *(m for m in HEADLINE_METRICS if m in runs.columns), "parameters", "started"]
    return runs[columns].reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=5_000)
def _run_parameters(runs_db: str, run_id: str) -> dict[str, Any]:
    """A run's parameter values (its configuration never changes once recorded)."""
    from tradecore import analytics

    config = analytics.run_config(run_id, runs_db)
    values: dict[str, Any] = {}
    for strategy in config.get("strategies") or []:
        values.update(strategy.get("parameters") or {})
    return values


def sweep_results(runs: pd.DataFrame, sweep_id: str) -> tuple[pd.DataFrame, list[str]]:
    """The runs of one sweep with a text column per parameter that varies across them, and
    the names of those parameters (in the strategy's order)."""
    rows = runs[runs["sweep_id"] == sweep_id].reset_index(drop=True)
    runs_db = str(paths.runs_db_path())
    values = [_run_parameters(runs_db, run_id) for run_id in rows["run_id"]]
    names = list(dict.fromkeys(k for v in values for k in v))
    varying = [k for k in names if len({display_value(v.get(k)) for v in values}) > 1]
    for name in varying:
        rows[name] = [display_value(v.get(name)) for v in values]
    return rows, varying


# -- charts the Sweep and Data pages take from here ------------------------------------------

sweep_heatmap = charts.sweep_heatmap
price_preview_chart = charts.price_preview_chart


T = TypeVar("T")


def load(what: str, read: Callable[[], T]) -> T | None:
    """``read()``, or None after showing why it failed (the page goes on without that part)."""
    try:
        return read()
    except Exception as error:  # noqa: BLE001 - shown to the user with its traceback, not hidden
        st.error(f"Could not load the {what}: {error}", icon=":material/error:")
        with st.expander("Details"):
            st.code(traceback.format_exc(), language="text")
        return None
