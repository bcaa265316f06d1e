"""Runs: every recorded run with its headline metrics; filter, sort, open, compare, delete,
export."""

import streamlit as st

from tradecore import analytics
from tradecore.ui import common

PENDING_DELETE = "runs.pending_delete"

common.page_setup()
st.title("Runs")

flash = st.session_state.pop("runs.flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")
flash_error = st.session_state.pop("runs.flash_error", None)
if flash_error:
    st.error(flash_error, icon=":material/error:")

runs = common.list_runs_with_statistics()
if runs.empty:
    st.info("No runs recorded yet.")
    common.page_link(common.BACKTEST_PAGE, "Start a backtest", icon=":material/play_arrow:")
    st.stop()

f1, f2, f3, f4 = st.columns([2, 2, 3, 2])
statuses = f1.multiselect("Status", sorted(runs["status"].unique()), key="runs.status")
strategies = f2.multiselect("Strategy", sorted(runs["strategy"].astype(str).unique()),
                            key="runs.strategy")
text = f3.text_input("Search", key="runs.search", placeholder="run id, symbol, parameter...")
sort = f4.selectbox("Sort", list(common.RUN_SORTS), key="runs.sort")

view = common.filter_runs(runs, statuses=statuses, strategies=strategies, text=text, sort=sort)
table = common.runs_table(view)
event = st.dataframe(
    table,
    key="runs.table",
    on_select="rerun",
    selection_mode="multi-row",
    hide_index=True,
    width="stretch",
    column_config={
        "run_id": st.column_config.TextColumn("Run", width=270, pinned=True),
        "status": st.column_config.TextColumn("Status"),
        "strategy": st.column_config.TextColumn("Strategy"),
        "symbols": st.column_config.TextColumn("Symbols"),
        "bar_period": st.column_config.TextColumn("Period"),
        "parameters": st.column_config.TextColumn("Parameters", width="medium"),
        "started": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        **common.metric_columns(),
    },
)
rows = [row for row in event.selection.rows if row < len(view)]
selected = view.iloc[rows]["run_id"].tolist()
st.caption(f"{len(view)} of {len(runs)} runs · {len(selected)} selected "
           "(tick rows on the left to open, compare or delete)")

b1, b2, b3, b4, _ = st.columns([1, 1, 1, 1, 3])
if b1.button("Open", icon=":material/open_in_new:", key="runs.open",
             disabled=len(selected) != 1, width="stretch"):
    common.switch_page(common.RUN_PAGE, query_params={"run": selected[0]})
if b2.button("Compare", icon=":material/compare_arrows:", key="runs.compare",
             disabled=len(selected) < 2, width="stretch"):
    common.switch_page(common.COMPARE_PAGE, query_params={"runs": ",".join(selected)})
if b3.button("Delete", icon=":material/delete:", key="runs.delete",
             disabled=not selected, width="stretch"):
    st.session_state[PENDING_DELETE] = selected
b4.download_button("Export CSV", data=view.to_csv(index=False), file_name="runs.csv",
                   mime="text/csv", icon=":material/download:", key="runs.export",
                   width="stretch")

pending = st.session_state.get(PENDING_DELETE)
if pending:
    with st.container(border=True):
        st.warning(f"Delete {len(pending)} run(s) and every event they recorded? "
                   f"This cannot be undone.", icon=":material/warning:")
        st.code("\n".join(pending), language="text")
        c1, c2, _ = st.columns([1, 1, 4])
        if c1.button("Yes, delete", type="primary", key="runs.confirm_delete", width="stretch"):
            st.session_state.pop(PENDING_DELETE, None)
            try:
                deleted = analytics.delete_runs(pending)
            except ValueError as error:  # a run still recording
                st.session_state["runs.flash_error"] = str(error)
            else:
                st.session_state.pop("runs.table", None)
                st.session_state["runs.flash"] = f"Deleted {deleted} run(s)."
            st.rerun()
        if c2.button("Keep them", key="runs.cancel_delete", width="stretch"):
            st.session_state.pop(PENDING_DELETE, None)
            st.rerun()
