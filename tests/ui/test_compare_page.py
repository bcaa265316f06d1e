"""Compare page: two real runs that differ in one parameter, rendered by AppTest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from tradecore import analytics
from tradecore.configure import RunRequest, build_orchestrator
from tradecore.ui import formatting as fmt

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "compare.py")
TIMEOUT = 30


@pytest.fixture
def two_runs(sample_secmaster):
    """SMA crossovers on ACME that differ only in ``fast_period``."""
    ids = []
    for fast in (5, 20):
        request = RunRequest(strategy="SMACrossover", symbols=["ACME"], start="2016-01-01",
                             end="2019-12-31", parameters={"fast_period": fast,
                                                           "slow_period": 40})
        ids.append(build_orchestrator(request).run())
    assert ids[0] != ids[1]
    return ids


def open_page(runs: str | None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    if runs is not None:
        at.query_params["runs"] = runs
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_data(at: AppTest) -> tuple[dict, dict[str, pd.DataFrame]]:
    (chart,) = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    datasets = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas()
                for d in chart.proto.datasets}
    return spec, datasets


def stats_element(at: AppTest):
    return next(d for d in at.dataframe if "Best" in d.value.columns)


def highlighted_cells(element) -> set[tuple[int, int]]:
    """(row, column) of the cells the Styler gave the "best" background."""
    css = element.proto.arrow_data.styler.styles
    cells = set()
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        if "background-color" in body:
            for row, col in re.findall(r"row(\d+)_col(\d+)", selector):
                cells.add((int(row), int(col)))
    return cells


def test_equity_rebased_to_100_and_coloured_per_run(two_runs):
    at = open_page(",".join(two_runs))
    spec, datasets = chart_data(at)
    equity_view = spec["vconcat"][0]["layer"][0]
    frame = datasets[equity_view["data"]["name"]] if "data" in equity_view else \
        next(iter(datasets.values()))
    first = frame.groupby("run", sort=False)["value"].first()
    assert first.tolist() == pytest.approx([100.0, 100.0])
    labels = [f"A · {two_runs[0]}", f"B · {two_runs[1]}"]
    assert list(first.index) == labels
    curve = analytics.equity_curve(two_runs[1])
    last = frame[frame["run"] == labels[1]]["value"].iloc[-1]
    assert last == pytest.approx(curve["equity"].iloc[-1] / curve["equity"].iloc[0] * 100)
    scale = equity_view["encoding"]["color"]["scale"]
    assert scale["domain"] == labels
    assert scale["range"] == [fmt.RUN_PALETTE[0], fmt.RUN_PALETTE[1]]
    assert "drawdown_pct" in frame.columns


def test_best_value_per_row_is_highlighted(two_runs):
    at = open_page(",".join(two_runs))
    element = stats_element(at)
    table = element.value
    stats = [analytics.statistics(run_id) for run_id in two_runs]
    returns = [s["total_return_pct"] for s in stats]
    assert returns[0] != returns[1]
    winner = 0 if returns[0] > returns[1] else 1
    row = list(table.index).index("Return") if "Return" in table.index else \
        table["Statistic"].tolist().index("Return")
    assert table["Best"].iloc[row] == "AB"[winner]
    cells = highlighted_cells(element)
    assert (row, winner) in cells and (row, 1 - winner) not in cells
    # drawdown: the one closer to zero wins, whatever the sign
    drawdowns = [abs(s["max_drawdown_pct"]) for s in stats]
    dd_row = (list(table.index) if "Max drawdown" in table.index
              else table["Statistic"].tolist()).index("Max drawdown")
    if drawdowns[0] != drawdowns[1]:
        assert table["Best"].iloc[dd_row] == "AB"[drawdowns.index(min(drawdowns))]
    # trades are not ranked
    trades_row = (list(table.index) if "Trades" in table.index
                  else table["Statistic"].tolist()).index("Trades")
    assert table["Best"].iloc[trades_row] == ""


def test_config_diff_lists_exactly_the_differing_parameter(two_runs):
    at = open_page(",".join(two_runs))
    diff = next(d.value for d in at.dataframe if d.value.index.name == "Setting")
    assert diff.index.tolist() == ["strategy.parameters.fast_period"]
    assert diff.iloc[0].tolist() == ["5", "20"]


def test_multiselect_follows_the_url_and_writes_it_back(two_runs):
    at = open_page(two_runs[0])
    assert at.multiselect(key="compare.picker").value == [two_runs[0]]
    assert any("at least two runs" in i.value for i in at.info)
    at.multiselect(key="compare.picker").select(two_runs[1]).run()
    assert not at.exception
    assert at.query_params["runs"] == [",".join([two_runs[0], two_runs[1]])] or \
        at.query_params["runs"] == ",".join([two_runs[0], two_runs[1]])
    assert len(at.get("vega_lite_chart")) == 1


def test_fewer_than_two_runs_gives_a_helpful_message(sample_secmaster):
    at = open_page(None)
    assert at.info and "two runs" in at.info[0].value


def test_unknown_run_ids_are_named(two_runs):
    at = open_page(f"{two_runs[0]},nope-run")
    assert any("nope-run" in w.value for w in at.warning)


def test_what_differs_shows_dates_and_symbols_once(sample_secmaster):
    """Issue 9: start times showed as nanosecond integers and the symbols twice."""
    runs = [build_orchestrator(RunRequest(strategy="SMACrossover", symbols=[symbol],
                                          start=start, end="2020-12-31")).run()
            for symbol, start in (("ACME", "2019-01-02"), ("GLOBX", "2019-06-03"))]
    at = open_page(",".join(runs))
    diff = next(d.value for d in at.dataframe if d.value.index.name == "Setting")
    text = diff.to_string()
    assert "2019-01-02" in text and "2019-06-03" in text
    assert not any(ch.isdigit() and len(v) > 12 for v in diff.to_numpy().ravel()
                   for ch in str(v)[:1]), diff
    symbol_rows = [row for row in diff.index if row.rsplit(".", 1)[-1] == "symbols"]
    assert len(symbol_rows) == 1, diff.index.tolist()
    assert diff.loc[symbol_rows[0]].tolist() == ["ACME", "GLOBX"]
