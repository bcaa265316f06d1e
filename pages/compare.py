"""Compare: two or more runs side by side (`?runs=<id>,<id>,...`): equity rebased to 100 and
drawdowns overlaid, the statistics with the best value of each row highlighted, and only the
configuration settings that differ. Each run keeps one colour and letter everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import pandas as pd
import streamlit as st

from tradecore.ui import charts, common, run_data
from tradecore.ui import formatting as fmt

T = TypeVar("T")
PICKER = "compare.picker"
PICKER_SOURCE = "compare.picker_source"
BEST_STYLE = "background-color: #dff3e4; color: #0b5d1e; font-weight: 600"
#: Rows of the first statistics table; the others fold into "All statistics".
HEADLINE = ("total_return_pct", "buy_and_hold_return_pct", "cagr_pct", "volatility_ann_pct",
            "sharpe", "sortino", "calmar", "max_drawdown_pct", "max_drawdown_duration",
            "exposure_pct", "equity_final", "commissions", "trades", "win_rate_pct",
            "profit_factor", "expectancy", "sqn")


def requested_runs() -> list[str]:
    text = st.query_params.get("runs") or ""
    seen: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def pick_runs(all_ids: list[str], requested: list[str]) -> list[str]:
    """The run multiselect, kept in step with ``?runs=``."""
    source = ",".join(requested)
    if st.session_state.get(PICKER_SOURCE) != source:
        st.session_state[PICKER] = [r for r in requested if r in all_ids]
        st.session_state[PICKER_SOURCE] = source

    def picked() -> None:
        chosen = st.session_state.get(PICKER) or []
        st.query_params["runs"] = ",".join(chosen)
        st.session_state[PICKER_SOURCE] = ",".join(chosen)

    return st.multiselect("Runs", all_ids, key=PICKER, on_change=picked,
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
    known = [spec.key for spec in fmt.STATS if spec.key in frame.index]
    extra = [k for k in frame.index
             if k not in fmt.STAT_BY_KEY and k not in fmt.CONVENTION_KEYS]
    numbers = frame.loc[known + extra]
    numbers.columns = [headers[run_ids.index(r)] for r in numbers.columns]
    text = pd.DataFrame(
        [[fmt.format_stat(key, value) for value in numbers.loc[key]] for key in numbers.index],
        index=[fmt.stat_label(k) for k in numbers.index], columns=numbers.columns)
    best = []
    for key in numbers.index:
        spec = fmt.STAT_BY_KEY.get(key)
        winners = fmt.best_index(numbers.loc[key].tolist(), spec.better if spec else None)
        best.append(", ".join(numbers.columns[i] for i in winners))
    text["Best"] = best
    text.index.name = "Statistic"
    return numbers, text


def highlight_best(numbers: pd.DataFrame) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def styles(text: pd.DataFrame) -> pd.DataFrame:
        css = pd.DataFrame("", index=text.index, columns=text.columns)
        for row, key in enumerate(numbers.index):
            spec = fmt.STAT_BY_KEY.get(key)
            for column in fmt.best_index(numbers.loc[key].tolist(), spec.better if spec else None):
                css.iat[row, column] = BEST_STYLE
        return css

    return styles


def runs_legend(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["Run", "Run id", "Strategy", "Symbols", "Period",
                                       "Parameters", "Status", "Open"])


# -- the page ---------------------------------------------------------------------------------

st.set_page_config(page_title="Compare · tradecore", layout="wide")
common.page_setup()
st.title("Compare runs")
db = run_data.runs_db()
runs = common.load("list of runs", lambda: run_data.run_list(db))
if runs is None:
    st.stop()
all_ids = runs["run_id"].astype(str).tolist() if not runs.empty else []
requested = requested_runs()
missing = [r for r in requested if r not in all_ids]
if missing:
    st.warning("Not in this runs database (deleted?): " + ", ".join(fmt.code_span(r) for r in missing),
               icon=":material/search_off:")
selected = pick_runs(all_ids, requested)

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
st.dataframe(runs_legend(legend).style.map(
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
    curve = common.load(f"equity curve of {run_id}", lambda r=run_id, t=token: run_data.equity(r, db, t))
    if curve is not None and not curve.empty:
        curves[label] = curve
width = 1100
if curves:
    st.altair_chart(charts.compare_chart(charts.normalised_equity(curves), colors, width=width),
                    key="compare.equity", width="content")
    st.caption("Each run's equity divided by its first value x 100; drawdown from each run's "
               "running peak. Scroll to zoom, drag to pan, double-click to reset.")
else:
    st.caption("None of these runs recorded any equity yet.")

# -- statistics ------------------------------------------------------------------------------
st.subheader("Statistics")
compared = common.load("statistics", lambda: run_data.compare(tuple(selected), db, tuple(tokens)))
if compared is not None and not compared.empty:
    numbers, text = stats_frame(compared, selected, headers)
    headline = [i for i, key in enumerate(numbers.index) if key in HEADLINE]
    rest = [i for i in range(len(numbers)) if i not in headline]
    for rows, container in ((headline, st.container()),
                            (rest, st.expander(f"All statistics ({len(rest)} more)"))):
        if not rows:
            continue
        part_numbers, part_text = numbers.iloc[rows], text.iloc[rows]
        styler = part_text.style.apply(highlight_best(part_numbers), axis=None,
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
diff = fmt.config_diff({headers[i]: configs[r] for i, r in enumerate(selected)})
if diff.empty:
    st.caption("The configurations are identical.")
else:
    st.dataframe(diff, width="stretch")
    st.caption(f"Only the {len(diff)} setting(s) whose values differ between the runs.")
