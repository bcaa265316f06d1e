"""Out-of-sample windows: a held-out tail or walk-forward folds over a sweep's data range.

Every window is ``(start_ns, end_ns)`` with both ends inclusive, the datafeed's convention
(``start_ns <= ts_event <= end_ns``), so a window becomes a run by setting the request's
``start``/``end`` to these integers.

Design Decision: calendar windows, test windows tiling the range
    Walk-forward windows are calendar durations (``90D``, ``12W``, ``6M``, ``2Y``) because that
    is how users think about them and a month of minute bars is not a fixed bar count. Fold
    ``k`` trains on ``[first + k*step, first + k*step + train)`` and tests on the ``test`` that
    follows; ``step`` defaults to ``test``, so the test windows tile ``[first + train, last]``
    with no overlap and no gap (the last one is cut at the end of the data). A ``step`` shorter
    than ``test`` would make test windows overlap and count the same bars twice in the
    stitched out-of-sample equity, so it is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from tradecore.strategies import ParameterError

_DURATION = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)
_UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}


@dataclass(frozen=True)
class Window:
    start_ns: int
    end_ns: int  # inclusive

    def __post_init__(self) -> None:
        if self.end_ns < self.start_ns:
            raise ParameterError("a window ends before it starts")

    def text(self) -> str:
        """``2017-06-18 to 2017-07-17``, the first and last day inside the window; with the
        times when neither end is at midnight (intraday bars), so that a window ending on the
        day the next one starts does not read as an overlap."""
        start = pd.Timestamp(self.start_ns, unit="ns", tz="UTC")
        end = pd.Timestamp(self.end_ns, unit="ns", tz="UTC")
        if start == start.normalize() or end == end.normalize():
            return f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
        return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M:%S} UTC"


@dataclass(frozen=True)
class Fold:
    """One in-sample grid and the window its best point is then run on."""

    index: int
    in_sample: Window
    out_of_sample: Window | None  # None: a plain sweep, no validation


def parse_duration(text: str) -> pd.DateOffset:
    """``"90D"``, ``"12W"``, ``"6M"``, ``"2Y"`` -> a calendar offset."""
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) == 0:
        raise ParameterError(f"a window length is a positive number and D, W, M or Y "
                             f"(e.g. 6M), not {text!r}")
    return pd.DateOffset(**{_UNITS[match.group(2).lower()]: int(match.group(1))})


def single_fold(first_ns: int, last_ns: int) -> list[Fold]:
    return [Fold(0, Window(first_ns, last_ns), None)]


def holdout_folds(first_ns: int, last_ns: int, fraction: float) -> list[Fold]:
    """The last ``fraction`` of the time range is out of sample, the rest in sample."""
    if not 0 < fraction < 1:
        raise ParameterError(f"the holdout is a fraction between 0 and 1, not {fraction:g}")
    split = first_ns + round((last_ns - first_ns) * (1 - fraction))
    if split <= first_ns or split > last_ns:
        raise ParameterError("the data range is too short to hold part of it out")
    return [Fold(0, Window(first_ns, split - 1), Window(split, last_ns))]


def walk_forward_folds(first_ns: int, last_ns: int, train: str | pd.DateOffset,
                       test: str | pd.DateOffset,
                       step: str | pd.DateOffset | None = None) -> list[Fold]:
    """Folds of a ``train`` window followed by a ``test`` window, advancing by ``step``."""
    train = parse_duration(train) if isinstance(train, str) else train
    test = parse_duration(test) if isinstance(test, str) else test
    step = test if step is None else (parse_duration(step) if isinstance(step, str) else step)
    origin = pd.Timestamp(first_ns, unit="ns", tz="UTC")
    if origin + step < origin + test:
        raise ParameterError("the walk-forward step is shorter than the test window: test "
                             "windows would overlap")
    folds: list[Fold] = []
    while True:
        begin = origin + len(folds) * step
        train_end = _ns(begin + train)
        if train_end > last_ns:
            break
        test_end = min(_ns(begin + train + test), last_ns + 1)
        folds.append(Fold(len(folds), Window(_ns(begin), train_end - 1),
                          Window(train_end, test_end - 1)))
        if test_end > last_ns:
            break
    if not folds:
        raise ParameterError(f"the data ({Window(first_ns, last_ns).text()}) is shorter than "
                             f"one train window plus a test window")
    return folds


def _ns(moment: pd.Timestamp) -> int:
    return int(moment.value)
