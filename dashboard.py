"""tradecore dashboard: `streamlit run dashboard.py`.

The entry script is the navigation frame: it runs before every page, prepares the data and
the runs database (see ``tradecore.ui.common``) and routes to the page scripts in ``pages/``.
"""

import streamlit as st

from tradecore.ui import common

st.set_page_config(page_title="tradecore", page_icon=":material/candlestick_chart:",
                   layout="wide")

navigation = st.navigation({
    "": [
        st.Page(common.home_page, title="Home", icon=":material/home:", url_path="home",
                default=True),
    ],
    "Research": [
        st.Page(common.BACKTEST_PAGE, title="Backtest", icon=":material/play_circle:"),
        st.Page(common.SWEEP_PAGE, title="Sweep", icon=":material/grid_on:"),
    ],
    "Results": [
        st.Page(common.RUNS_PAGE, title="Runs", icon=":material/table_rows:"),
        st.Page(common.RUN_PAGE, title="Run", icon=":material/monitoring:"),
        st.Page(common.COMPARE_PAGE, title="Compare", icon=":material/compare_arrows:"),
    ],
    "Data": [
        st.Page(common.DATA_PAGE, title="Data", icon=":material/database:"),
    ],
})
common.prepare_app()
navigation.run()
