"""tradecore dashboard: `streamlit run dashboard.py`.

The entry script is the navigation frame: it runs before every page, prepares the data and
the runs database (see ``tradecore.ui.common``) and routes to the page scripts in ``pages/``.
The favicon is a file in the package, so nothing is fetched from the internet.
"""

from pathlib import Path

import streamlit as st

from tradecore.ui import common

FAVICON = Path(__file__).parent / "tradecore" / "ui" / "assets" / "favicon.png"

st.set_page_config(page_title="tradecore", page_icon=str(FAVICON), layout="wide")
navigation = st.navigation(common.navigation_pages())
common.prepare_app()
navigation.run()
