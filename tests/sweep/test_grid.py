"""Grid expansion and validation: ranges, --grid text, points, parameter checks."""

from __future__ import annotations

import pytest

from tradecore.strategies import ParameterError
from tradecore.strategies.examples.sma_crossover import SMACrossover
from tradecore.sweep import expand_range, grid_points, parse_grid, validate_grid


def test_integer_and_float_ranges_are_inclusive():
    assert expand_range(5, 20, 5, integer=True) == [5, 10, 15, 20]
    assert expand_range(0.1, 0.3, 0.1) == [0.1, 0.2, 0.3]  # 0.1*3 != 0.3 in floats
    assert expand_range(2.0, 2.0, 0.5) == [2.0]


def test_a_range_end_the_step_misses_is_refused_with_the_ends_that_fit():
    with pytest.raises(ParameterError, match=r"misses 20: end the range at 17 or 21"):
        expand_range(5, 20, 4, integer=True)
    with pytest.raises(ParameterError, match="step must be positive"):
        expand_range(1, 2, 0)
    with pytest.raises(ParameterError, match="below its start"):
        expand_range(5, 1, 1)


def test_parse_grid_ranges_and_lists():
    grid = parse_grid(["fast_period=5:15:5", "slow_period=20,30", "ratio=0.5:1.5:0.5"])
    assert grid == {"fast_period": ["5", "10", "15"], "slow_period": ["20", "30"],
                    "ratio": ["0.5", "1.0", "1.5"]}


@pytest.mark.parametrize("items, message", [
    (["fast_period"], "K=A:B:STEP"),
    (["fast_period=1:2"], "A:B:STEP"),
    (["fast_period=a:b:1"], "must be numbers"),
    (["fast_period=5:20:4"], "fast_period: 5 to 20 by 4 misses 20"),
    (["fast_period=5,,6"], "empty value"),
    (["fast_period=5,5"], "repeated"),
    (["fast_period=5", "fast_period=6"], "given twice"),
    ([], "at least one"),
])
def test_parse_grid_rejects_bad_text(items, message):
    with pytest.raises(ParameterError, match=message):
        parse_grid(items)


def test_points_are_the_product_last_key_fastest():
    points = grid_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert len(points) == 6
    assert points[:3] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"}]
    assert points[-1] == {"a": 2, "b": "z"}


def test_validate_grid_converts_and_checks_every_value():
    grid = validate_grid(SMACrossover, {"size": "10"},
                         {"fast_period": ["5", "10"], "slow_period": ["30"]})
    assert grid == {"fast_period": [5, 10], "slow_period": [30]}
    with pytest.raises(ParameterError, match="has no parameter nope"):
        validate_grid(SMACrossover, {}, {"nope": [1]})
    with pytest.raises(ParameterError, match="at most 100"):
        validate_grid(SMACrossover, {}, {"fast_period": [5, 500]})
    with pytest.raises(ParameterError, match="both set and swept"):
        validate_grid(SMACrossover, {"fast_period": 5}, {"fast_period": [5, 6]})
    with pytest.raises(ParameterError, match="at least one value"):
        validate_grid(SMACrossover, {}, {"fast_period": []})
