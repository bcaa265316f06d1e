"""Strategies: the base class, parameters, the registry and the examples."""

from tradecore.strategies.base import SIZING_PARAMETERS, StrategyBase
from tradecore.strategies.params import ParameterError, ParamSpec
from tradecore.strategies.registry import (
    discover_strategies,
    get_registered_strategies,
    strategy_discovery_errors,
)

__all__ = [
    "SIZING_PARAMETERS",
    "ParamSpec",
    "ParameterError",
    "StrategyBase",
    "discover_strategies",
    "get_registered_strategies",
    "strategy_discovery_errors",
]
