"""Compare: two or more runs side by side (`?runs=<id>,<id>,...`): equity rebased to 100 and
drawdowns overlaid, the statistics with the best value of each row highlighted, and only the
configuration settings that differ. Each run keeps one colour and letter everywhere. The
pieces live in ``tradecore.ui.compare_view``.
"""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from tradecore.analytics import catalogue
from tradecore.ui import charts, common, run_data
from tradecore.ui import compare_view as view
from tradecore.ui import formatting as fmt
from tradecore.ui.run_view import choice_labels

# -- the page ---------------------------------------------------------------------------------

common.page_setup()
st.title("Compare runs")
db = run_data.runs_db()
runs = common.load("list of runs", lambda: run_data.run_list(db))
if runs is None:
    st.stop()
labels_by_id = choice_labels(runs)
all_ids = list(labels_by_id)
requested = view.requested_runs()
missing = [r for r in requested if r not in all_ids]
if missing:
    st.warning("Not in this runs database (deleted?): " + ", ".join(fmt.code_span(r) for r in missing),
               icon=":material/search_off:")
selected = view.pick_runs(labels_by_id, requested)

if len(selected) < 2:
    if len(all_ids) < 2:
        st.info("Comparing needs at least two runs; record more on the Backtest page.",
                icon=":material/info:")
        common.page_link(common.BACKTEST_PAGE, "New backtest", icon=":material/play_arrow:")
    else:
        st.info("Pick at least two runs above, or tick several on the Runs page and press "
                "Compare.", icon=":material/info:")
        common.page_link(common.RUNS_PAGE, "All runs", icon=":material/table_rows:")
    st.stop()

rows = {run_id: run_data.run_row(run_id, db) for run_id in selected}
tokens = [run_data.freshness(rows[r]) for r in selected]
letters = [fmt.run_letter(i) for i in range(len(selected))]
labels = [f"{letter} · {run_id}" for letter, run_id in zip(letters, selected, strict=True)]
headers = letters
colors = fmt.run_colors(labels)
configs = {run_id: common.load(f"configuration of {run_id}",
                        lambda r=run_id, t=token: run_data.run_config(r, db, t)) or {}
           for run_id, token in zip(selected, tokens, strict=True)}

legend = []
for i, run_id in enumerate(selected):
    row, config = rows[run_id] or {}, configs[run_id]
    strategy = (config.get("strategies") or [{}])[0]
    legend.append({
        "Run": headers[i], "Run id": run_id,
        "Strategy": row.get("strategy") or strategy.get("name") or "",
        "Symbols": ", ".join(map(str, config.get("symbols") or row.get("symbols") or [])),
        "Period": config.get("bar_period") or row.get("bar_period") or "",
        "Parameters": fmt.parameters_text(fmt.strategy_parameters(config)),
        "Status": row.get("status") or "",
        "Open": f"run?run={quote(run_id)}",
    })
legend_colors = dict(zip(letters, (colors[label] for label in labels), strict=True))
st.dataframe(view.runs_legend(legend).style.map(
    lambda letter: f"background-color: {legend_colors[letter]}; color: white; "
                   "font-weight: 700; text-align: center", subset=["Run"]),
             hide_index=True, width="stretch", column_config={
    "Run": st.column_config.TextColumn("Run", width="small"),
    "Run id": st.column_config.TextColumn("Run id", width="large"),
    "Open": st.column_config.LinkColumn("Open", display_text="Open run", width="small"),
})
if any((rows[r] or {}).get("status") == run_data.RUNNING for r in selected):
    st.info("Some runs are still recording: their numbers cover what is recorded so far.",
            icon=":material/hourglass_top:")

# -- equity and drawdowns --------------------------------------------------------------------
st.subheader("Equity (start = 100) and drawdown")
curves = {}
for label, run_id, token in zip(labels, selected, tokens, strict=True):
    curve = common.load(f"equity curve of {run_id}",
                        lambda r=run_id, t=token: run_data.equity(r, db, t))
    if curve is not None and not curve.empty:
        curves[label] = curve
if curves:
    st.altair_chart(charts.compare_chart(charts.normalised_equity(curves), colors),
                    key="compare.equity", width="stretch")
    st.caption("Each run's equity divided by its first value x 100; drawdown from each run's "
               "running peak. Scroll to zoom, drag to pan, double-click to reset.")
else:
    st.caption("None of these runs recorded any equity yet.")

# -- statistics ------------------------------------------------------------------------------
st.subheader("Statistics")
compared = common.load("statistics", lambda: run_data.compare(tuple(selected), db, tuple(tokens)))
if compared is not None and not compared.empty:
    numbers, text = view.stats_frame(compared, selected, headers)
    headline = [i for i, key in enumerate(numbers.index) if key in catalogue.HEADLINE]
    rest = [i for i in range(len(numbers)) if i not in headline]
    for rows, container in ((headline, st.container()),
                            (rest, st.expander(f"All statistics ({len(rest)} more)"))):
        if not rows:
            continue
        part_numbers, part_text = numbers.iloc[rows], text.iloc[rows]
        styler = part_text.style.apply(view.highlight_best(part_numbers), axis=None,
                                       subset=list(part_numbers.columns))
        container.dataframe(styler, width="stretch", height=35 * (len(part_text) + 1) + 3,
                            column_config={
                                "Statistic": st.column_config.TextColumn("Statistic",
                                                                         width="medium"),
                                "Best": st.column_config.TextColumn("Best", width="small")})
    st.caption("Best value per row highlighted: higher is better except volatility, drawdown "
               "(closest to zero), drawdown duration and commissions; rows without a better "
               "direction (trades, exposure, buy & hold) are not ranked.")
    conventions = {}
    for letter, run_id in zip(letters, selected, strict=True):
        stats = compared[run_id].to_dict() if run_id in compared.columns else {}
        conventions.setdefault(fmt.stat_convention(stats, configs[run_id]), []).append(letter)
    for text_line, owners in conventions.items():
        prefix = "" if len(conventions) == 1 else f"{', '.join(owners)}: "
        st.caption(prefix + text_line + ".")

# -- configuration ---------------------------------------------------------------------------
st.subheader("What differs")
diff = view.readable_diff(fmt.config_diff({headers[i]: configs[r]
                                           for i, r in enumerate(selected)}))
if diff.empty:
    st.caption("The configurations are identical.")
else:
    st.dataframe(diff, width="stretch")
    st.caption(f"Only the {len(diff)} setting(s) whose values differ between the runs.")
