"""Ranking, the smoothed heatmap's best cell, the stitched out-of-sample equity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradecore.sweep import (
    PointRecord,
    best_cells,
    best_records,
    degradation,
    smoothed,
    stitch_equity,
)


def grid_frame(values: list[list[float]]) -> pd.DataFrame:
    rows = [{"x": str(10 * (j + 1)), "y": str(i + 1), "m": values[i][j]}
            for i in range(len(values)) for j in range(len(values[0]))]
    return pd.DataFrame(rows)


def test_smoothing_averages_each_cell_with_its_neighbours():
    frame = grid_frame([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    out = smoothed(frame, "x", "y", "m")
    # hand-worked: corner (1) averages 1,2,4,5 = 3; centre averages all nine = 5;
    # edge (2) averages 1,2,3,4,5,6 = 3.5
    assert out[(frame["x"] == "10") & (frame["y"] == "1")].item() == 3.0
    assert out[(frame["x"] == "20") & (frame["y"] == "2")].item() == 5.0
    assert out[(frame["x"] == "20") & (frame["y"] == "1")].item() == 3.5
    # numeric axis order, not text order ("100" after "20")
    one_row = pd.DataFrame({"x": ["100", "20", "5"], "m": [3.0, 1.0, 0.0]})
    assert smoothed(one_row, "x", None, "m").tolist() == [2.0, 4 / 3, 0.5]


def test_an_island_is_the_best_cell_but_not_the_best_smoothed_cell():
    frame = grid_frame([[9, -5, -5, 1], [-5, -5, -5, 2], [-5, -5, 2, 3]])
    best, plateau = best_cells(frame, "x", "y", "m", "higher")
    assert frame.loc[best, "m"] == 9
    # hand-worked: (40, 3) averages -5, 2, 2, 3 = 0.5; the island (10, 1) averages 9, -5, -5, -5 = -1.5
    assert (frame.loc[plateau, "x"], frame.loc[plateau, "y"]) == ("40", "3")
    lowest, _ = best_cells(frame, "x", "y", "m", "lower")
    assert frame.loc[lowest, "m"] == -5
    # 2 x 2: every cell's neighbourhood is the whole grid; the tie goes to the best cell
    small = grid_frame([[1, 4], [3, 2]])
    best, plateau = best_cells(small, "x", "y", "m", "higher")
    assert best == plateau and small.loc[best, "m"] == 4


def test_best_records_follow_the_statistic_direction_and_skip_failures():
    def rec(value, status="completed"):
        return PointRecord(f"r{value}", {"p": value}, 0, None, status,
                           statistics={"sharpe": value, "volatility_ann_pct": value})
    records = [rec(1.0), rec(3.0), rec(float("nan")), rec(5.0, "failed"), rec(-0.5)]
    assert [r.run_id for r in best_records(records, "sharpe", 2)] == ["r3.0", "r1.0"]
    assert best_records(records, "volatility_ann_pct", 1)[0].run_id == "r-0.5"


def test_stitched_out_of_sample_equity_chains_fold_returns():
    first = pd.DataFrame({"ts_event_ns": [1, 2], "equity": [100.0, 110.0]})
    second = pd.DataFrame({"ts_event_ns": [3, 4], "equity": [100.0, 90.0]})
    out = stitch_equity([first, second], 100.0)
    # +10% then -10% of 110: 99
    np.testing.assert_allclose(out["equity"], [100.0, 110.0, 110.0, 99.0])
    assert out["fold"].tolist() == [0, 0, 1, 1]
    assert degradation(1.5, 0.25) == 1.25
    assert math.isnan(degradation(None, 1.0))
