"""Rolling max/min of another indicator (or a bar field), and bar-field pass-throughs.

RollingMax(input, period) / RollingMin(input, period)
    Highest / lowest of the last ``period`` values of ``input``: another indicator (e.g.
    ``RollingMax(RSI(14), 20)``, named ``MAX(RSI(14),20)``) or a bar field name (``"high"``,
    named ``MAX(high,20)``). NaN while ``input`` is NaN (its warm-up) and for ``period - 1``
    values after, so the warm-up is ``input.warmup + period - 1``. O(1) amortised per bar with
    a monotonic deque. Drawn where its input is drawn: a rolling max of an overlay is an
    overlay, of an oscillator it shares that oscillator's panel and levels.

    Design Decision: the rolling indicator owns a *private copy* of the input indicator (taken
    with ``copy.deepcopy`` when it is built) and updates that copy itself. Reading the caller's
    instance instead would make the result depend on whether and in which order the strategy
    also added it (an input added after, or not at all, would be one bar late or never
    updated), and updating the caller's instance would update it twice per bar when it is also
    added. The copy costs one more update per bar, which is small next to getting it wrong.

Field(source="close")
    The bar field itself, one value per bar, named ``FIELD(close)``, ``FIELD(volume)`` ... (not
    ``CLOSE``: SQL column names are case-insensitive and would clash with the bar's own
    ``close``). The price fields are overlays, volume its own panel. Useful to record a field
    with the indicators or to read ``[symbol, -n]`` of it. No warm-up.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, ClassVar

from tradecore.indicators.base import IndicatorBase, check_period, check_source
from tradecore.indicators.windows import RollingExtreme

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived


class _Rolling(IndicatorBase):
    label: ClassVar[str] = ""
    is_max: ClassVar[bool] = True

    def __init__(self, input: IndicatorBase | str, period: int) -> None:  # noqa: A002
        owner = type(self).__name__
        self.period = check_period(owner, "period", period)
        if isinstance(input, IndicatorBase):
            self.input: IndicatorBase | None = copy.deepcopy(input)
            self.source = ""
            input_name = input.name
            input_warmup = input.warmup
            info = input.plot_info()
            # Instance attributes shadow the class defaults: drawn where the input is drawn.
            self.overlay = info["overlay"]
            self.levels = tuple(info["levels"])
            self._panel = info["panel"]
        elif isinstance(input, str):
            self.input = None
            self.source = check_source(owner, input)
            input_name = self.source
            input_warmup = 0
            self.overlay = self.source != "volume"
            self._panel = ""
        else:
            raise ValueError(
                f"{owner}: input must be an indicator or a bar field name, got {input!r}"
            )
        super().__init__(name=f"{self.label}({input_name},{self.period})")
        self.warmup = input_warmup + self.period - 1

    def panel_name(self) -> str:
        return self._panel or self.name

    def new_state(self) -> RollingExtreme:
        return RollingExtreme(self.period, is_max=self.is_max)

    def compute(self, state: RollingExtreme, bar: BarReceived) -> float:
        source = self.input
        x = source.update(bar) if source is not None else getattr(bar, self.source)
        return state.push(x)


class RollingMax(_Rolling):
    """Highest of the last ``period`` values: ``RollingMax(input, period)``, ``MAX(...)``."""

    label = "MAX"
    is_max = True


class RollingMin(_Rolling):
    """Lowest of the last ``period`` values: ``RollingMin(input, period)``, ``MIN(...)``."""

    label = "MIN"
    is_max = False


class Field(IndicatorBase):
    """A bar field passed through: ``Field(source="close")``, named ``FIELD(close)``."""

    label: ClassVar[str] = "FIELD"
    overlay = True

    def __init__(self, source: str = "close") -> None:
        self.source = check_source("Field", source)
        super().__init__(name=f"FIELD({self.source})")
        if self.source == "volume":
            self.overlay = False

    def new_state(self) -> None:
        return None  # stateless: the value is the bar's field

    def compute(self, state: Any, bar: BarReceived) -> float:
        return getattr(bar, self.source)
