"""tradecore: an event-driven backtesting engine with a Streamlit dashboard.

The public surface is small: strategies subclass ``StrategyBase``, runs are assembled by
``Orchestrator``, and ``tradecore.analytics`` reads the results back.
"""

__version__ = "0.1.0"

from tradecore import events, models  # noqa: E402
from tradecore.brokers import BrokerBase, SimulatedBroker  # noqa: E402
from tradecore.datafeeds import DatafeedBase, SimulatedDatafeed  # noqa: E402
from tradecore.indicators import IndicatorBase, get_registered_indicators  # noqa: E402
from tradecore.messaging import EventBus, Subscriber  # noqa: E402
from tradecore.orchestrator import Orchestrator  # noqa: E402
from tradecore.recorder import RunRecorder  # noqa: E402
from tradecore.strategies import ParamSpec, StrategyBase, get_registered_strategies  # noqa: E402

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
