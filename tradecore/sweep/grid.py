"""Grid arithmetic, written once: ranges, ``--grid`` text, the points of a grid, validation.

The CLI (``--grid k=a:b:step``), the sweep page's range/step widgets and the coordinator all
expand ranges with :func:`expand_range`.

Design Decision: a range end the step misses is refused on the CLI, included on the page
    ``5:20:4`` would give 5, 9, 13, 17 and silently lose the 20 the user typed. On the command
    line that is most likely a typo, so it is refused with a message naming the two ends that
    fit (``...:17:4`` or ``...:21:4``). On the page the range comes from a slider and the step
    from a separate box, so refusing would leave the form broken whenever the two disagree:
    there ``include_end=True`` keeps the end as a last, shorter step and the page says so.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from tradecore.strategies import ParameterError, StrategyBase

# Float ranges: a count within this relative distance of a whole number is that number
# (0.1 + 0.1 + 0.1 is not 0.3, yet 0.1:0.3:0.1 means three values).
_TOLERANCE = 1e-9


def expand_range(start: float, stop: float, step: float, *, integer: bool = False,
                 include_end: bool = False) -> list:
    """``start, start + step, ..., stop`` (inclusive) as ints or floats.

    Raises ParameterError when ``step <= 0``, ``stop < start`` or the steps miss ``stop``
    (unless ``include_end``: then ``stop`` follows the last step below it).
    """
    if not step > 0:
        raise ParameterError(f"the step must be positive, not {_show(step)}")
    if stop < start:
        raise ParameterError(f"the range end {_show(stop)} is below its start {_show(start)}")
    steps = (stop - start) / step
    whole = round(steps)
    if abs(steps - whole) > _TOLERANCE * max(1.0, steps):
        if include_end:
            values = [_clean(start + i * step, integer) for i in range(math.floor(steps) + 1)]
            return values + [_clean(stop, integer)]
        below = start + math.floor(steps) * step
        above = start + math.ceil(steps) * step
        raise ParameterError(
            f"{_show(start)} to {_show(stop)} by {_show(step)} misses {_show(stop)}: end the "
            f"range at {_show(_clean(below, integer))} or {_show(_clean(above, integer))}")
    return [_clean(start + i * step, integer) for i in range(int(whole) + 1)]


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """``["k=a:b:step", "k2=v1,v2"]`` -> ``{"k": [...], "k2": [...]}`` as text values (the
    strategy's ParamSpec converts them). Ranges are inclusive and must end on a step."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, spec = item.partition("=")
        key, spec = key.strip(), spec.strip()
        if not sep or not key or not spec:
            raise ParameterError(f"--grid takes K=A:B:STEP or K=V1,V2,..., not {item!r}")
        if key in grid:
            raise ParameterError(f"--grid {key} is given twice")
        if ":" in spec:
            parts = [p.strip() for p in spec.split(":")]
            if len(parts) != 3:
                raise ParameterError(f"a range is A:B:STEP, not {spec!r}")
            try:
                start, stop, step = (float(p) for p in parts)
            except ValueError:
                raise ParameterError(f"the range {spec!r} must be numbers") from None
            integer = all(_is_integer_text(p) for p in parts)
            try:
                values = expand_range(start, stop, step, integer=integer)
            except ParameterError as error:
                raise ParameterError(f"--grid {key}: {error}") from None
            grid[key] = [str(v) if integer else repr(v) for v in values]
        else:
            values = [v.strip() for v in spec.split(",")]
            if any(not v for v in values):
                raise ParameterError(f"--grid {key}: an empty value in {spec!r}")
            if len(set(values)) != len(values):
                raise ParameterError(f"--grid {key}: a value is repeated in {spec!r}")
            grid[key] = values
    if not grid:
        raise ParameterError("give at least one --grid K=A:B:STEP or K=V1,V2")
    return grid


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination, the last key varying fastest."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def validate_grid(strategy: type[StrategyBase], fixed: dict[str, Any],
                  grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The grid with every value converted by its ParamSpec; ParameterError for an unknown
    parameter, an empty axis, a value out of bounds, or a parameter both fixed and swept."""
    converted: dict[str, list[Any]] = {}
    for key, values in grid.items():
        if key not in strategy.parameters:
            raise ParameterError(f"{strategy.display_name()} has no parameter {key}; it has "
                                 f"{', '.join(strategy.parameters)}")
        if key in fixed and key != "bar_period":
            raise ParameterError(f"{key} is both set and swept; drop one")
        if not values:
            raise ParameterError(f"{key}: choose at least one value")
        spec = strategy.parameters[key]
        converted[key] = [spec.validate(key, v) for v in values]
    for key, value in fixed.items():
        if key not in strategy.parameters:
            raise ParameterError(f"{strategy.display_name()} has no parameter {key}; it has "
                                 f"{', '.join(strategy.parameters)}")
        strategy.parameters[key].validate(key, value)
    return converted


def _is_integer_text(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _clean(value: float, integer: bool) -> int | float:
    return int(round(value)) if integer else round(value, 12)


def _show(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
