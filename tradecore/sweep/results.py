"""A sweep's outcome and the arithmetic on it: best points, the smoothed heatmap's best cell,
in-sample against out-of-sample, the stitched out-of-sample equity.

Pure functions over plain records and DataFrames, shared by the CLI and the sweep page.

Design Decision: "better" comes from the statistics catalogue
    Which way a statistic improves (higher Sharpe, lower volatility) is defined once, in
    ``tradecore.analytics.catalogue``; ranking here reads it, so the CLI's best points and the
    page's best cell agree with every other page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradecore.strategies import ParameterError
from tradecore.sweep.windows import Fold, Window

ROLES = ("in_sample", "out_of_sample")


def better_of(metric: str) -> str:
    """``"higher"`` or ``"lower"``; ParameterError for a statistic with no better direction."""
    from tradecore.analytics.catalogue import STATISTICS

    spec = STATISTICS.get(metric)
    if spec is None or spec.better not in ("higher", "lower"):
        rankable = sorted(k for k, s in STATISTICS.items() if s.better in ("higher", "lower"))
        raise ParameterError(f"cannot rank by {metric!r}; choose one of {', '.join(rankable)}")
    return spec.better


def score(value: Any, better: str) -> float:
    """A number where bigger is better (NaN for a missing value)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    if math.isnan(number):
        return math.nan
    return -number if better == "lower" else number


@dataclass
class PointRecord:
    """One run of a sweep as the coordinator saw it land."""

    run_id: str | None
    point: dict[str, Any]
    fold: int
    role: str | None
    status: str
    window: Window | None = None
    statistics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class SweepResult:
    sweep_id: str
    metric: str
    points: list[PointRecord]
    folds: list[Fold]
    cancelled: bool = False
    not_started: int = 0  # points a cancel stopped before they began
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        return sum(r.status == "completed" for r in self.points)

    @property
    def failed(self) -> int:
        return sum(r.status in ("failed", "interrupted") for r in self.points)

    @property
    def run_ids(self) -> list[str]:
        return [r.run_id for r in self.points if r.run_id is not None]

    @property
    def cancelled_runs(self) -> int:
        return sum(r.status == "cancelled" for r in self.points)

    def in_sample(self, fold: int | None = None) -> list[PointRecord]:
        return [r for r in self.points if r.role != "out_of_sample"
                and (fold is None or r.fold == fold)]

    def out_of_sample(self) -> list[PointRecord]:
        return sorted((r for r in self.points if r.role == "out_of_sample"),
                      key=lambda r: r.fold)

    def best(self, n: int = 5, fold: int | None = None) -> list[PointRecord]:
        """The ``n`` best completed in-sample points by the sweep's metric."""
        return best_records(self.in_sample(fold), self.metric, n)

    def validation(self) -> pd.DataFrame:
        """Per fold: its windows, the in-sample winner's parameters and metric, the same
        parameters' out-of-sample metric and how much it fell."""
        return validation_table([r for r in self.points], self.metric)


def best_records(records: list[PointRecord], metric: str, n: int = 1) -> list[PointRecord]:
    better = better_of(metric)
    ranked = [(score(r.statistics.get(metric), better), i, r) for i, r in enumerate(records)
              if r.status == "completed"]
    ranked = [item for item in ranked if not math.isnan(item[0])]
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return [r for _, _, r in ranked[:n]]


def validation_table(records: list[PointRecord], metric: str) -> pd.DataFrame:
    rows = []
    for oos in sorted((r for r in records if r.role == "out_of_sample"), key=lambda r: r.fold):
        winner = best_records([r for r in records if r.role == "in_sample"
                               and r.fold == oos.fold], metric, 1)
        is_value = winner[0].statistics.get(metric) if winner else math.nan
        oos_value = oos.statistics.get(metric, math.nan)
        rows.append({"fold": oos.fold, "parameters": oos.point,
                     "in_sample_run": winner[0].run_id if winner else None,
                     "out_of_sample_run": oos.run_id,
                     f"in_sample_{metric}": is_value, f"out_of_sample_{metric}": oos_value,
                     "fall": degradation(is_value, oos_value)})
    return pd.DataFrame(rows)


def degradation(in_sample: Any, out_of_sample: Any) -> float:
    """How much the statistic fell out of sample: in-sample minus out-of-sample."""
    try:
        return float(in_sample) - float(out_of_sample)
    except (TypeError, ValueError):
        return math.nan


def smoothed(frame: pd.DataFrame, x: str, y: str | None, metric: str) -> pd.Series:
    """Each cell's ``metric`` averaged with its grid neighbours (the 3x3 block around it, or
    the cell and its two neighbours on a one-parameter grid); missing values are skipped."""
    xs = _order(frame[x])
    ys = _order(frame[y]) if y else [None]
    grid = np.full((len(ys), len(xs)), np.nan)
    values = pd.to_numeric(frame[metric], errors="coerce")
    cells = []
    for position, (xv, value) in enumerate(zip(frame[x].astype(str), values)):
        yv = str(frame[y].iloc[position]) if y else None
        j, i = xs.index(xv), ys.index(yv)
        grid[i, j] = value
        cells.append((i, j))
    out = []
    for i, j in cells:
        block = grid[max(i - 1, 0):i + 2, max(j - 1, 0):j + 2]
        finite = block[~np.isnan(block)]
        out.append(float(finite.mean()) if finite.size else math.nan)
    return pd.Series(out, index=frame.index, name=f"{metric}_smoothed")


def best_cells(frame: pd.DataFrame, x: str, y: str | None, metric: str,
               better: str) -> tuple[Any, Any]:
    """Index labels of the best cell and of the best cell after :func:`smoothed` (None when
    the metric has no value anywhere). Equal smoothed values go to the better cell itself, so
    on a grid too small to tell plateaus apart both are the same cell."""
    raw = pd.to_numeric(frame[metric], errors="coerce").map(lambda v: score(v, better))
    smooth = smoothed(frame, x, y, metric).map(lambda v: score(v, better))
    if raw.isna().all():
        return None, None
    ranked = pd.DataFrame({"smooth": smooth, "raw": raw}).dropna(subset=["smooth"])
    plateau = ranked.sort_values(["smooth", "raw"], ascending=False, kind="stable").index[0]
    return raw.idxmax(), plateau


def stitch_equity(curves: list[pd.DataFrame], initial_cash: float) -> pd.DataFrame:
    """Out-of-sample equity curves (``ts_event_ns, equity`` each, in fold order) chained into
    one: each fold's returns applied to where the previous fold ended, starting at
    ``initial_cash``. Adds a ``fold`` column."""
    parts, level = [], float(initial_cash)
    for fold, curve in enumerate(curves):
        if curve.empty:
            continue
        # every fold's run starts from the same initial cash: its growth is equity / cash
        part = pd.DataFrame({"ts_event_ns": curve["ts_event_ns"].to_numpy(),
                             "equity": curve["equity"].to_numpy() / initial_cash * level,
                             "fold": fold})
        level = float(part["equity"].iloc[-1])
        parts.append(part)
    if not parts:
        return pd.DataFrame({"ts_event_ns": [], "equity": [], "fold": []})
    return pd.concat(parts, ignore_index=True)


def _order(values: pd.Series) -> list[str]:
    unique = list(dict.fromkeys(values.astype(str)))
    try:
        return sorted(unique, key=float)
    except ValueError:
        return sorted(unique)
