"""Example strategies, one per file; importing this package registers them."""

from tradecore.strategies.examples.adx_donchian_breakout import ADXDonchianBreakout
from tradecore.strategies.examples.bollinger_breakout import BollingerBreakout
from tradecore.strategies.examples.rsi_reversion import RSIMeanReversion
from tradecore.strategies.examples.sma_crossover import SMACrossover

__all__ = ["ADXDonchianBreakout", "BollingerBreakout", "RSIMeanReversion", "SMACrossover"]
