"""Datafeeds: the simulated one replaying secmaster.db, and the base."""

from tradecore.datafeeds.base import DatafeedBase
from tradecore.datafeeds.simulated import SimulatedDatafeed

__all__ = ["DatafeedBase", "SimulatedDatafeed"]
