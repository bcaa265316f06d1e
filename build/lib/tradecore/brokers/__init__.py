"""Brokers: the simulated one, and the base a real one would implement."""

from tradecore.brokers.base import BrokerBase
from tradecore.brokers.simulated import SimulatedBroker

__all__ = ["BrokerBase", "SimulatedBroker"]
