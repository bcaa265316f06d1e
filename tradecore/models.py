"""Enumerations shared by events, components and the database.

Every enum is a ``StrEnum`` whose values equal the member names, so the recorder stores them by
name (``"DAY"``, ``"BUY"``) without conversion and the analytics read them back as plain text.
"""

from __future__ import annotations

from enum import StrEnum

_NS = {
    "SECOND": 1_000_000_000,
    "MINUTE": 60 * 1_000_000_000,
    "HOUR": 3_600 * 1_000_000_000,
    "DAY": 86_400 * 1_000_000_000,
    "WEEK": 7 * 86_400 * 1_000_000_000,
}


class BarPeriod(StrEnum):
    """The length of one bar."""

    SECOND = "SECOND"
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"

    @property
    def nanoseconds(self) -> int:
        return _NS[self.value]

    @classmethod
    def parse(cls, text: str | BarPeriod) -> BarPeriod:
        """Accept ``DAY``, ``day``, ``1d``, ``1m``, ``minute`` ... and say what is valid otherwise."""
        if isinstance(text, BarPeriod):
            return text
        aliases = {"1s": "SECOND", "1m": "MINUTE", "1min": "MINUTE", "1h": "HOUR", "1d": "DAY",
                   "d": "DAY", "daily": "DAY", "1w": "WEEK", "weekly": "WEEK"}
        key = str(text).strip()
        key = aliases.get(key.lower(), key.upper())
        try:
            return cls[key]
        except KeyError:
            choices = ", ".join(member.name for member in cls)
            raise ValueError(f"unknown bar period {text!r}; choose one of {choices}") from None


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"


class TradeSide(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is TradeSide.BUY else -1


class ActionType(StrEnum):
    """Why a strategy sends an order; recorded for the order log, never interpreted by the broker."""

    ENTRY = "ENTRY"
    EXIT = "EXIT"
    SCALE_IN = "SCALE_IN"
    SCALE_OUT = "SCALE_OUT"
    REVERSE = "REVERSE"


class Sizing(StrEnum):
    """How a strategy sizes an entry (``StrategyBase.order_size``): its ``size`` parameter is a
    number of units, a percentage of the account's equity, or an amount of cash."""

    QUANTITY = "QUANTITY"
    PERCENT_OF_EQUITY = "PERCENT_OF_EQUITY"
    CASH = "CASH"

    @property
    def label(self) -> str:
        return {"QUANTITY": "Fixed quantity", "PERCENT_OF_EQUITY": "% of equity",
                "CASH": "Fixed cash amount"}[self.value]


class RejectionReason(StrEnum):
    INVALID_QUANTITY = "INVALID_QUANTITY"
    MISSING_PRICE = "MISSING_PRICE"
    INVALID_PRICE = "INVALID_PRICE"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    ORDER_NOT_OPEN = "ORDER_NOT_OPEN"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    INVALID_EXPIRY = "INVALID_EXPIRY"
    DUPLICATE_ORDER_ID = "DUPLICATE_ORDER_ID"

# RunStatus lives with the runs database it describes; re-exported here for old imports.
from tradecore.runs_db.status import RunStatus  # noqa: E402, F401
