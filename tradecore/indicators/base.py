"""The indicator contract: one float per bar per symbol, bounded history, a config-encoded name.

An indicator is built with its configuration (``SMA(period=10, source="close")``) and fed bars
with ``update(bar)``. It keeps separate state per symbol, so one instance serves every symbol of
a strategy. Values are NaN until enough bars have arrived (the warm-up); ``warmup`` says how many
leading NaNs a symbol gets.

Reading values: ``ind[symbol, -1]`` is the latest, ``ind[symbol, -2]`` the one before, and so on
back to ``-max_history``; anything not available (warm-up, beyond the history, unknown symbol)
is NaN, so strategies can compare without guarding. ``ind.latest(symbol)`` is ``ind[symbol, -1]``.
``crossover(fast, slow, symbol)`` says whether one line crossed another (or a level) on the
latest bar, in one call.

Writing your own: subclass ``IndicatorBase``, call ``super().__init__(name=...)`` with a name
that encodes the configuration, and implement ``new_state()`` (fresh per-symbol state) and
``compute(state, bar) -> float``; the default ``update`` does the bookkeeping. The first
built-ins (SMA, EMA, RSI, ATR, Bollinger, MACD, ROC) override ``update`` itself with a fused hot
path, since the common strategies run them on every bar; the later ones use ``new_state`` /
``compute`` with state objects from ``windows``.

Registry: every subclass whose class name does not start with ``_`` is registered under its
class name; ``get_registered_indicators()`` returns a copy of ``{class name: class}``.

How it is drawn: class attributes ``overlay`` (True: drawn on the price panel) and ``levels``
(fixed reference lines of its own panel, e.g. ``(30.0, 70.0)`` for RSI), and
``plot_info() -> {"overlay": bool, "levels": [float, ...], "panel": str}``. ``panel`` groups the
lines that share a panel: ``"price"`` for overlays, else ``panel_name()`` (the indicator's own
name unless a family shares one, e.g. the three MACD lines). Instances may override ``overlay``
(a rolling max of an overlay is an overlay). ``plot_in_price_panel`` is the older spelling of
``overlay``, kept in step with it for readers that still use it.

Design Decision: reads are a ``try`` around ``self._history[symbol][offset]``. ``ind[symbol, -1]``
runs several times per bar in ``on_bar``; the happy path is then one dict lookup and one deque
index (about half the cost of validating the key first), and the rare cases (unknown symbol,
offset beyond the history, a bad key) fall to the ``except`` branches. Raising costs more than
checking, but it happens only in a symbol's first bars (or for a symbol with no bars at all).
"""

from __future__ import annotations

import math
from collections import deque
from numbers import Integral, Number, Real
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from tradecore.events.market import BarReceived

NAN = math.nan

#: Bar fields an indicator may read as its input series.
SOURCES: tuple[str, ...] = ("open", "high", "low", "close", "volume")

_REGISTRY: dict[str, type[IndicatorBase]] = {}
_UNSEEN = object()


def get_registered_indicators() -> dict[str, type[IndicatorBase]]:
    """Every registered indicator class by class name (a copy; changing it changes nothing)."""
    return dict(_REGISTRY)


class IndicatorBase:
    """Base of every indicator; see the module docstring for the contract."""

    #: How many values are kept per symbol; older ones read as NaN.
    max_history: ClassVar[int] = 500
    #: True for overlays drawn on the price panel (moving averages, bands), False for a panel.
    overlay: ClassVar[bool] = False
    #: Fixed reference lines of the indicator's own panel, e.g. ``(30.0, 70.0)`` for RSI.
    levels: ClassVar[tuple[float, ...]] = ()
    #: Older spelling of ``overlay`` (read by charts written before ``plot_info``); kept equal.
    plot_in_price_panel: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Keep the two spellings in step whichever one a subclass sets.
        if "overlay" in cls.__dict__:
            cls.plot_in_price_panel = bool(cls.overlay)
        elif "plot_in_price_panel" in cls.__dict__:
            cls.overlay = bool(cls.plot_in_price_panel)
        if not cls.__name__.startswith("_"):
            _REGISTRY[cls.__name__] = cls

    def __init__(self, *, name: str | None = None) -> None:
        max_history = type(self).max_history
        if isinstance(max_history, bool) or not isinstance(max_history, Integral) or max_history < 1:
            raise ValueError(
                f"{type(self).__name__}.max_history must be a positive int, got {max_history!r}"
            )
        self._name = name if name is not None else type(self).__name__
        #: Leading NaN values per symbol; subclasses set it from their configuration.
        self.warmup = 0
        # Per-symbol history and per-symbol computation state, both keyed by symbol.
        self._history: dict[str, deque[float]] = {}
        self._state: dict[str, Any] = {}

    # -- configuration -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """Human-readable and unique per configuration, e.g. ``SMA(10)`` or ``SMA(10,high)``."""
        return self._name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name}>"

    # -- drawing -------------------------------------------------------------------------------

    def panel_name(self) -> str:
        """The panel this indicator shares with its family: its own name unless overridden."""
        return self._name

    def plot_info(self) -> dict[str, Any]:
        """``{"overlay": bool, "levels": [float, ...], "panel": str}``: how the charts draw it."""
        overlay = bool(self.overlay)
        return {
            "overlay": overlay,
            "levels": [float(level) for level in self.levels],
            "panel": "price" if overlay else self.panel_name(),
        }

    # -- computing -----------------------------------------------------------------------------

    def new_state(self) -> Any:
        """Fresh computation state for a symbol seen for the first time (used by ``update``)."""
        return {}

    def compute(self, state: Any, bar: BarReceived) -> float:
        """The value for ``bar`` given its symbol's ``state`` (which it may update in place)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute(state, bar) or override update(bar)"
        )

    def update(self, bar: BarReceived) -> float:
        """Compute the value for ``bar.symbol`` from ``bar``, append it to the history, return it."""
        symbol = bar.symbol
        state = self._state.get(symbol, _UNSEEN)
        if state is _UNSEEN:  # a sentinel, so new_state() may return anything, even None
            self._new_history(symbol)
            state = self._state[symbol] = self.new_state()
        value = float(self.compute(state, bar))
        self._history[symbol].append(value)
        return value

    def _new_history(self, symbol: str) -> deque[float]:
        """Create (and register) the bounded history of a symbol seen for the first time."""
        history: deque[float] = deque(maxlen=self.max_history)
        self._history[symbol] = history
        return history

    # -- reading -------------------------------------------------------------------------------

    def __getitem__(self, key: tuple[str, int]) -> float:
        """``ind[symbol, -n]``: the n-th latest value, NaN when not available."""
        # The hot path (see the module docstring); a non-int offset makes the deque raise
        # TypeError, and offsets >= 0 skip it, so both reach the checked path and its message.
        try:
            symbol, offset = key
            if offset < 0:
                return self._history[symbol][offset]
        except (KeyError, IndexError):
            return NAN
        except (TypeError, ValueError):
            pass
        return self._getitem_checked(key)

    def _getitem_checked(self, key: object) -> float:
        try:
            symbol, offset = key
        except (TypeError, ValueError):
            raise TypeError(
                f"index an indicator as ind[symbol, -n], e.g. ind['AAPL', -1]; got {key!r}"
            ) from None
        if isinstance(offset, bool) or not isinstance(offset, Integral):
            raise TypeError(f"offset must be a negative int (-1 is the latest), got {offset!r}")
        offset = int(offset)
        if offset >= 0:
            raise IndexError(f"offset must be negative: -1 is the latest value, got {offset}")
        history = self._history.get(symbol)
        if history is None or -offset > len(history):
            return NAN
        return history[offset]

    def latest(self, symbol: str) -> float:
        """The latest value for ``symbol`` (NaN before its first bar or during warm-up)."""
        try:
            return self._history[symbol][-1]
        except (KeyError, IndexError):
            return NAN

    def history(self, symbol: str) -> list[float]:
        """The kept values for ``symbol``, oldest first (at most ``max_history``)."""
        return list(self._history.get(symbol, ()))

    @property
    def symbols(self) -> list[str]:
        """Symbols seen so far, in order of first appearance."""
        return list(self._history)


def crossover(a: IndicatorBase | float, b: IndicatorBase | float, symbol: str) -> int:
    """``1`` when ``a`` crossed above ``b`` on ``symbol``'s latest bar (below on the bar before,
    above now), ``-1`` when it crossed below, else ``0`` (also while either is NaN or has fewer
    than two values). Either side may be a number (a fixed level, e.g. RSI against 30).

    The same test as backtesting.py's ``crossover``, read straight from the two histories: one
    call in ``on_bar`` instead of four ``ind[symbol, -n]`` reads.
    """
    try:
        if type(a) in _LEVEL_TYPES:
            a_now = a_before = a
        else:
            history = a._history[symbol]
            a_now, a_before = history[-1], history[-2]
        if type(b) in _LEVEL_TYPES:
            b_now = b_before = b
        else:
            history = b._history[symbol]
            b_now, b_before = history[-1], history[-2]
    except (KeyError, IndexError):
        return 0
    except AttributeError:  # a level of another number type (numpy's float64, Decimal ...)
        return crossover(*(_as_level(side) for side in (a, b)), symbol)
    if a_before < b_before and a_now > b_now:
        return 1
    if a_before > b_before and a_now < b_now:
        return -1
    return 0


#: Types ``crossover`` takes as a fixed level without a look at them.
_LEVEL_TYPES = frozenset({float, int})


def _as_level(side: IndicatorBase | float) -> IndicatorBase | float:
    if isinstance(side, IndicatorBase):
        return side
    if isinstance(side, Number) and not isinstance(side, bool | complex):
        return float(side)
    raise TypeError(f"crossover compares indicators or numbers, got {side!r}")


# -- helpers for built-ins and user indicators -------------------------------------------------


def check_period(owner: str, label: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` or a ``ValueError`` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{owner}: {label} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_positive(owner: str, label: str, value: object) -> float:
    """``value`` as a finite float > 0 or a ``ValueError`` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < math.inf:
        raise ValueError(f"{owner}: {label} must be a finite number > 0, got {value!r}")
    return float(value)


def check_source(owner: str, value: object) -> str:
    """``value`` if it names a bar field in ``SOURCES``, else a ``ValueError`` listing them."""
    if value not in SOURCES:
        raise ValueError(f"{owner}: source must be one of {', '.join(SOURCES)}; got {value!r}")
    return str(value)


def format_name(label: str, *params: object, source: str = "close") -> str:
    """``LABEL(p1,p2[,source])``; the source is shown only when it is not ``close``."""
    parts = [format(p, "g") if isinstance(p, float) else str(p) for p in params]
    if source != "close":
        parts.append(source)
    return f"{label}({','.join(parts)})" if parts else label
