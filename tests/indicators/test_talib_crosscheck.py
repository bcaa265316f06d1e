"""Every built-in indicator, fed GOOG's daily bars one at a time, against TA-Lib's vectorised
result on the whole series (see ``references`` for the tolerances and the documented reasons
where a definition differs).
"""

from __future__ import annotations

import pandas as pd
import pytest
from backtesting.test import GOOG

from tests.indicators.references import CASES
from tests.indicators.streaming import assert_matches_reference, stream
from tradecore.indicators import get_registered_indicators


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return GOOG.rename(columns=str.lower).astype(float)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_talib_on_goog(name: str, goog: pd.DataFrame) -> None:
    case = CASES[name]
    indicator = case.factory()
    assert indicator.name == name
    values = stream(indicator, {"GOOG": goog})["GOOG"]
    assert_matches_reference(indicator, values, case, goog)


def test_every_builtin_is_cross_checked() -> None:
    """A new built-in without a TA-Lib case fails here."""
    checked = {type(case.factory()).__name__ for case in CASES.values()}
    builtins = {
        name for name, cls in get_registered_indicators().items()
        if cls.__module__.startswith("tradecore.indicators")
    }
    assert builtins - checked == set()
    assert len(builtins) >= 30
