"""ParamSpec: one strategy parameter, its default and the values it may take.

The dashboard builds a widget from it (slider for bounded numbers, select for choices and
enums, checkbox for bools, number input when unbounded) and sweeps step through ``min..max``
by ``step``. Values are checked by ``validate`` before a run starts.

A parameter's label is ``label`` when given, else derived from its name by ``label_for``:
``rsi_period`` reads "RSI period", ``take_profit_pct`` reads "Take profit (%)".
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any


class ParameterError(ValueError):
    """A parameter value a strategy cannot run with; the message names parameter and bounds."""


@dataclass(frozen=True)
class ParamSpec:
    default: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple | None = None
    help: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        if self.choices is None and isinstance(self.default, Enum):
            object.__setattr__(self, "choices", tuple(type(self.default)))
        elif self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ParameterError(f"ParamSpec min {self.min} is greater than max {self.max}")
        if self.step is not None and not self.step > 0:
            raise ParameterError(f"ParamSpec step must be positive, not {self.step}")

    @property
    def kind(self) -> str:
        """One of ``bool``, ``enum``, ``choice``, ``int``, ``float``, ``str``."""
        if isinstance(self.default, bool):
            return "bool"
        if isinstance(self.default, Enum):
            return "enum"
        if self.choices is not None:
            return "choice"
        if isinstance(self.default, int):
            return "int"
        if isinstance(self.default, float):
            return "float"
        return "str"

    @property
    def is_bounded(self) -> bool:
        return self.min is not None and self.max is not None

    def validate(self, name: str, value: Any) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise ParameterError.

        Text is accepted for every kind (the CLI passes ``k=v`` strings).
        """
        value = self._coerce(name, value)
        if self.choices is not None and value not in self.choices:
            shown = ", ".join(_show(choice) for choice in self.choices)
            raise ParameterError(f"{name} must be one of {shown}, not {_show(value)}")
        if self.kind in ("int", "float"):
            if self.min is not None and value < self.min:
                raise ParameterError(f"{name} must be at least {self.min}, not {value}")
            if self.max is not None and value > self.max:
                raise ParameterError(f"{name} must be at most {self.max}, not {value}")
        return value

    def label_for(self, name: str) -> str:
        """What a person reads for parameter ``name``: ``label``, or one made from the name."""
        return self.label or parameter_label(name)

    def with_value(self, value: Any) -> ParamSpec:
        """A copy whose default is ``value``: how a configured subclass carries a choice."""
        return dataclasses.replace(self, default=value)

    def grid(self) -> list:
        """Every value from min to max by step (inclusive), for sweeps."""
        if self.choices is not None:
            return list(self.choices)
        if self.kind == "bool":
            return [False, True]
        if not self.is_bounded:
            raise ParameterError("a parameter without min and max has no grid")
        step = self.step or (1 if self.kind == "int" else (self.max - self.min) / 10)
        count = int(math.floor((self.max - self.min) / step + 1e-9)) + 1
        values = [self.min + i * step for i in range(count)]
        if self.kind == "int":
            return [int(round(v)) for v in values]
        return [round(v, 12) for v in values]

    def _coerce(self, name: str, value: Any) -> Any:
        kind = self.kind
        try:
            if kind == "bool":
                if isinstance(value, str):
                    text = value.strip().lower()
                    if text in ("1", "true", "yes", "on"):
                        return True
                    if text in ("0", "false", "no", "off"):
                        return False
                    raise ValueError
                if isinstance(value, (bool, int)) and value in (0, 1):
                    return bool(value)
                raise ValueError
            if kind == "enum":
                enum_type = type(self.default)
                if isinstance(value, enum_type):
                    return value
                return enum_type[str(value).strip().upper()]
            if kind == "int":
                if isinstance(value, bool):
                    raise ValueError
                number = float(value) if isinstance(value, str) else value
                if number != int(number):
                    raise ValueError
                return int(number)
            if kind == "float":
                if isinstance(value, bool):
                    raise ValueError
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError
                return number
            if kind == "choice" and isinstance(value, str):
                for choice in self.choices:
                    if str(choice) == value:
                        return choice
            return value
        except (ValueError, TypeError, KeyError, OverflowError):
            expected = {"bool": "true or false", "enum": "one of " + ", ".join(
                _show(c) for c in (self.choices or ())), "int": "a whole number",
                "float": "a finite number"}.get(kind, "a valid value")
            raise ParameterError(f"{name} must be {expected}, not {value!r}") from None


#: Name parts written as acronyms in labels.
_ACRONYMS = {"rsi": "RSI", "sma": "SMA", "ema": "EMA", "atr": "ATR", "macd": "MACD",
             "roc": "ROC", "ma": "MA", "pnl": "P&L", "bps": "bps", "id": "ID"}
#: Name suffixes that are units, shown in brackets at the end.
_UNITS = {"pct": "%", "bps": "bps", "usd": "$"}


def parameter_label(name: str) -> str:
    """``rsi_period`` -> "RSI period", ``entry_discount_pct`` -> "Entry discount (%)"."""
    words = [w for w in name.split("_") if w]
    unit = _UNITS.get(words[-1].lower()) if len(words) > 1 else None
    if unit:
        words = words[:-1]
    shown = [_ACRONYMS.get(w.lower(), w.lower()) for w in words]
    if shown and shown[0] == words[0].lower():
        shown[0] = shown[0].capitalize()
    text = " ".join(shown)
    return f"{text} ({unit})" if unit else text


def _show(value: Any) -> str:
    return value.name if isinstance(value, Enum) else repr(value)
