"""Home: what tradecore is, where to start, the latest runs, the data held, and how to add a
strategy."""

import streamlit as st

from tradecore import paths
from tradecore.ui import common
from tradecore.ui.common import (
    BACKTEST_PAGE,
    DATA_PAGE,
    RUNS_PAGE,
    SWEEP_PAGE,
    instruments,
    list_runs_with_statistics,
    page_link,
    run_link,
    utc_date,
)
from tradecore.ui.run_view import run_choice_label

common.page_setup()
st.title("tradecore")
st.markdown(
    "An event-driven backtesting engine. Pick a strategy and its parameters, replay bars "
    "from the security master through a simulated broker, and study every recorded event: "
    "equity, drawdowns, trades and orders. Compare runs side by side or sweep a parameter grid."
)
cols = st.columns(4)
with cols[0]:
    page_link(BACKTEST_PAGE, "New backtest", icon=":material/play_arrow:")
with cols[1]:
    page_link(RUNS_PAGE, "All runs", icon=":material/table_rows:")
with cols[2]:
    page_link(SWEEP_PAGE, "Parameter sweep", icon=":material/grid_on:")
with cols[3]:
    page_link(DATA_PAGE, "Data", icon=":material/database:")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Recent runs")
    runs = list_runs_with_statistics(limit=8)
    if runs.empty:
        st.info("No runs yet. Start one on the Backtest page.")
    else:
        for row in runs.head(8).to_dict("records"):
            run_link(row["run_id"], run_choice_label(row))
        st.caption(f"{len(runs)} runs recorded in `{paths.runs_db_path()}`")
with right:
    st.subheader("Data")
    held = instruments()
    if held.empty:
        st.warning("The security master holds no bars.")
    else:
        m1, m2 = st.columns(2)
        m1.metric("Symbols", held["symbol"].nunique())
        m2.metric("Bars", f"{int(held['bar_count'].sum()):,}")
        periods = ", ".join(sorted(held["bar_period"].unique()))
        first, last = utc_date(held["first_ts_ns"].min()), utc_date(held["last_ts_ns"].max())
        st.caption(f"Periods: {periods} · {first} → {last} · `{paths.secmaster_path()}`")

st.subheader("Add a strategy")
st.markdown(
    "Subclass `StrategyBase` in a `.py` file in a `strategies/` folder next to where you "
    "start the dashboard (or name a module in `TRADECORE_STRATEGIES`). It appears in the "
    "Backtest dropdown on the next rerun, with a widget per `ParamSpec`; an import error "
    "shows at the top of every page."
)
st.code(common.STRATEGY_EXAMPLE, language="python")

