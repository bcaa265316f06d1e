"""tradecore: an event-driven backtesting engine with a Streamlit dashboard.

The public surface is small: strategies subclass ``StrategyBase``, runs are assembled by
``Orchestrator``, and ``tradecore.analytics`` reads the results back.

Names are imported lazily (PEP 562) so ``import tradecore.models`` or the recorder's writer
process do not pay for pandas and the rest.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "BrokerBase": "tradecore.brokers",
    "DatafeedBase": "tradecore.datafeeds",
    "EventBus": "tradecore.messaging",
    "IndicatorBase": "tradecore.indicators",
    "Orchestrator": "tradecore.orchestrator",
    "ParamSpec": "tradecore.strategies",
    "RunRecorder": "tradecore.recorder",
    "SimulatedBroker": "tradecore.brokers",
    "SimulatedDatafeed": "tradecore.datafeeds",
    "StrategyBase": "tradecore.strategies",
    "Subscriber": "tradecore.messaging",
    "get_registered_indicators": "tradecore.indicators",
    "get_registered_strategies": "tradecore.strategies",
}

__all__ = [
    "BrokerBase",
    "DatafeedBase",
    "EventBus",
    "IndicatorBase",
    "Orchestrator",
    "ParamSpec",
    "RunRecorder",
    "SimulatedBroker",
    "SimulatedDatafeed",
    "StrategyBase",
    "Subscriber",
    "events",
    "get_registered_indicators",
    "get_registered_strategies",
    "models",
]


def lazy_exports(module: str, exports: dict[str, str], namespace: dict[str, Any]
                 ) -> Callable[[str], Any]:
    """A PEP 562 ``__getattr__`` for a package: each name of ``exports`` (name -> the module
    defining it) is imported on first use and kept in the package's ``namespace``."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = namespace[name] = getattr(importlib.import_module(exports[name]), name)
        return value

    return __getattr__


_exported = lazy_exports(__name__, _EXPORTS, globals())


def __getattr__(name: str) -> Any:
    if name in ("events", "models"):
        return importlib.import_module(f"tradecore.{name}")
    return _exported(name)


if TYPE_CHECKING:
    from tradecore import events, models
    from tradecore.brokers import BrokerBase, SimulatedBroker
    from tradecore.datafeeds import DatafeedBase, SimulatedDatafeed
    from tradecore.indicators import IndicatorBase, get_registered_indicators
    from tradecore.messaging import EventBus, Subscriber
    from tradecore.orchestrator import Orchestrator
    from tradecore.recorder import RunRecorder
    from tradecore.strategies import ParamSpec, StrategyBase, get_registered_strategies
