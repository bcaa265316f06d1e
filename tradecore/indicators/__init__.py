"""Streaming technical indicators: one float per bar per symbol, with bounded history.

See ``base`` for the contract and one module per family for formulas and warm-up lengths.
"""

from tradecore.indicators.atr import ATR
from tradecore.indicators.base import SOURCES, IndicatorBase, get_registered_indicators
from tradecore.indicators.bollinger import (
    BollingerBandwidth,
    BollingerLower,
    BollingerUpper,
)
from tradecore.indicators.macd import MACD, MACDHistogram, MACDSignal
from tradecore.indicators.moving_averages import DEMA, EMA, HMA, KAMA, SMA, TEMA, VWAP, WMA
from tradecore.indicators.roc import ROC
from tradecore.indicators.rsi import RSI

__all__ = [
    "ATR",
    "EMA",
    "MACD",
    "ROC",
    "RSI",
    "SMA",
    "SOURCES",
    "BollingerBandwidth",
    "BollingerLower",
    "BollingerUpper",
    "IndicatorBase",
    "MACDHistogram",
    "MACDSignal",
    "get_registered_indicators",
]
