"""Where each indicator column of a run is drawn: over the prices or in a panel of its own,
with the panel's reference levels.

Everything is decided by :func:`layout` from each indicator's ``plot_info``
(``{"overlay": bool, "levels": [...], "panel": str}``), the record the run keeps of what its
indicator classes declared. Every run records it
(``analytics.indicator_info``); a column without it gets a panel of its own.

Design Decision: no guessing from names or value ranges
    Deciding "overlay" from a list of names or from whether values lie within the price range
    put oscillators near the price (an RSI on a $50 stock) on the price panel and named
    indicators that do not exist. The indicator class declares it, the run records it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Columns of an ``analytics.bars`` frame that are not indicators.
BAR_COLUMNS = frozenset({"ts_event_ns", "t", "pos", "time", "symbol", "strategy", "bar_period",
                         "open", "high", "low", "close", "volume", "ts_created_ns", "run_id",
                         "bucket", "bar_count", "n_bars", "count"})

_LABEL = re.compile(r"^\s*([^(]+?)\s*(\(|$)")


@dataclass
class IndicatorLayout:
    """``overlays``: columns drawn over prices; ``panels``: ``{panel: [columns]}`` in order;
    ``levels``: ``{panel: [reference levels]}``."""

    overlays: list[str] = field(default_factory=list)
    panels: dict[str, list[str]] = field(default_factory=dict)
    levels: dict[str, list[float]] = field(default_factory=dict)


def indicator_label(name: str) -> str:
    """``"BB_UPPER(20,2)"`` -> ``"BB_UPPER"`` (also ``"<strategy>: BB_UPPER(20,2)"``, the
    name analytics gives an indicator two strategies of a run share)."""
    text = str(name)
    head, sep, _ = text.partition("(")
    if ": " in head:
        text = head.rsplit(": ", 1)[1] + sep + text[len(head) + len(sep):]
    match = _LABEL.match(text)
    return match.group(1).strip() if match else str(name)


def indicator_columns(bars: pd.DataFrame) -> list[str]:
    """The indicator columns of a ``bars`` frame: every numeric column that is not OHLCV/time."""
    return [c for c in bars.columns if c not in BAR_COLUMNS
            and (pd.api.types.is_numeric_dtype(bars[c]) or bars[c].isna().all())]


def declared_plot_info(name: str) -> dict[str, Any]:
    """The plot info of a column the run did not record it for: a panel of its own, named by
    the indicator's label (never on the price panel, where it could hide the candles)."""
    return {"overlay": False, "levels": [], "panel": indicator_label(name)}


def layout(columns: Sequence[str], plot_info: Mapping[str, Mapping[str, Any]] | None = None
           ) -> IndicatorLayout:
    """The one place panel assignment is decided (see the module docstring).

    ``plot_info``: ``{column: {"overlay", "levels", "panel"}}`` as recorded with the run;
    a column missing from it falls back to :func:`declared_plot_info`.
    """
    result = IndicatorLayout()
    for column in columns:
        info = (plot_info or {}).get(column) or declared_plot_info(column)
        if info.get("overlay"):
            result.overlays.append(column)
            continue
        panel = str(info.get("panel") or indicator_label(column))
        result.panels.setdefault(panel, []).append(column)
        levels = result.levels.setdefault(panel, [])
        for level in info.get("levels") or []:
            if float(level) not in levels:
                levels.append(float(level))
    return result


def plot_info_of(info: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """``{column: plot info}`` from ``analytics.indicator_info`` rows
    (``strategy, name, column, overlay, levels, panel``)."""
    if info is None or info.empty:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for row in info.itertuples(index=False):
        levels = row.levels if isinstance(row.levels, list | tuple) else []
        out[str(row.column)] = {"overlay": bool(row.overlay), "levels": list(levels),
                                "panel": str(row.panel)}
    return out
