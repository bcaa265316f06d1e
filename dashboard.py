"""tradecore dashboard: `streamlit run dashboard.py`.

The entry script is the navigation frame: it runs before every page, prepares the data and
the runs database (see ``tradecore.ui.common``) and routes to the page scripts in ``pages/``.
"""

import streamlit as st

from tradecore.ui import common

st.set_page_config(page_title="tradecore", page_icon=":material/candlestick_chart:",
                   layout="wide")
navigation = st.navigation(common.navigation_pages())
common.prepare_app()
navigation.run()
