"""``RunConfig``: everything needed to reproduce a run, typed and frozen, stored as JSON.

The orchestrator builds it from the configured classes; the recorder stores ``to_json()`` in
``runs.config``; analytics, the pages and the CLI read it back with ``from_json``. A config that
is not valid JSON, or lacks what a run needs, raises ``RunConfigError`` -- it never silently
becomes an empty config with default cash.

Design Decision: typed where code reads it, open where users extend it
    The fields code depends on (strategies, symbols, bar period, the broker's money settings,
    the datafeed's range) are typed attributes, so a reader never guesses with ``.get()``
    fallbacks. Class-attribute settings of a user's own broker or datafeed subclass vary, so
    ``broker.attributes`` and ``datafeed.attributes`` keep every configured attribute as
    given; ``to_json(from_json(text))`` gives the same JSON back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


class RunConfigError(ValueError):
    """A stored run configuration cannot be read."""


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class StrategyConfig:
    class_name: str
    module: str
    name: str
    symbols: tuple[str, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"class": self.class_name, "module": self.module, "name": self.name,
                "symbols": list(self.symbols), "parameters": dict(self.parameters)}


@dataclass(frozen=True)
class BrokerConfig:
    class_name: str = "SimulatedBroker"
    initial_cash: float = 100_000.0
    commission_per_unit: float = 0.0
    minimum_commission_per_order: float = 0.0
    slippage_bps: float = 0.0
    #: Every other configured class attribute of the broker, as given.
    attributes: Mapping[str, Any] = field(default_factory=dict)

    _TYPED = ("initial_cash", "commission_per_unit", "minimum_commission_per_order",
              "slippage_bps")

    def to_dict(self) -> dict[str, Any]:
        return {"class": self.class_name, **{k: getattr(self, k) for k in self._TYPED},
                **dict(self.attributes)}


@dataclass(frozen=True)
class DatafeedConfig:
    class_name: str = "SimulatedDatafeed"
    start_ns: int | None = None
    end_ns: int | None = None
    publisher_name: str = ""
    dataset: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)

    _TYPED = ("start_ns", "end_ns", "publisher_name", "dataset")

    def to_dict(self) -> dict[str, Any]:
        return {"class": self.class_name, **{k: getattr(self, k) for k in self._TYPED},
                **dict(self.attributes)}


@dataclass(frozen=True)
class RunConfig:
    strategies: tuple[StrategyConfig, ...]
    symbols: tuple[str, ...]
    bar_period: str
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    datafeed: DatafeedConfig = field(default_factory=DatafeedConfig)
    tradecore_version: str = ""
    risk_free_rate: float = 0.0
    #: Top-level keys this version does not know (kept, so nothing is lost in a round trip).
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def initial_cash(self) -> float:
        return self.broker.initial_cash

    @property
    def strategy_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.strategies)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "strategies": [s.to_dict() for s in self.strategies],
            "symbols": list(self.symbols),
            "bar_period": self.bar_period,
            "broker": self.broker.to_dict(),
            "datafeed": self.datafeed.to_dict(),
            "tradecore_version": self.tradecore_version,
            **dict(self.extra),
        }
        if self.risk_free_rate:
            data["analytics"] = {"risk_free_rate": self.risk_free_rate}
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str, sort_keys=False)

    @classmethod
    def from_json(cls, text: str | bytes | None) -> RunConfig:
        if not text:
            raise RunConfigError("the run has no stored configuration")
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            raise RunConfigError(f"the run's stored configuration is not JSON: {error}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | RunConfig) -> RunConfig:
        if isinstance(data, RunConfig):
            return data
        if not isinstance(data, Mapping):
            raise RunConfigError(f"a run configuration is a JSON object, not {type(data).__name__}")
        try:
            strategies = tuple(_strategy(item) for item in data["strategies"])
            symbols = tuple(str(s) for s in data["symbols"])
            bar_period = str(data["bar_period"])
        except KeyError as missing:
            raise RunConfigError(f"the run configuration has no {missing.args[0]!r}") from None
        except (TypeError, AttributeError) as error:
            raise RunConfigError(f"the run configuration is malformed: {error}") from None
        if not strategies:
            raise RunConfigError("the run configuration names no strategy")
        analytics = data.get("analytics") or {}
        known = {"strategies", "symbols", "bar_period", "broker", "datafeed",
                 "tradecore_version", "analytics"}
        return cls(
            strategies=strategies, symbols=symbols, bar_period=bar_period,
            broker=_broker(data.get("broker") or {}),
            datafeed=_datafeed(data.get("datafeed") or {}),
            tradecore_version=str(data.get("tradecore_version") or ""),
            risk_free_rate=_number(analytics.get("risk_free_rate", 0.0), "risk_free_rate"),
            extra=_frozen({k: v for k, v in data.items() if k not in known}),
        )


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RunConfigError(f"{name} in the run configuration is not a number: {value!r}") from None
    if math.isnan(number):
        raise RunConfigError(f"{name} in the run configuration is NaN")
    return number


def _strategy(item: Mapping[str, Any]) -> StrategyConfig:
    return StrategyConfig(class_name=str(item["class"]), module=str(item.get("module", "")),
                          name=str(item.get("name") or item["class"]),
                          symbols=tuple(str(s) for s in item.get("symbols", ())),
                          parameters=_frozen(item.get("parameters")))


def _broker(item: Mapping[str, Any]) -> BrokerConfig:
    typed = {k: _number(item[k], k) for k in BrokerConfig._TYPED if item.get(k) is not None}
    if typed.get("initial_cash", 1.0) <= 0:
        raise RunConfigError("initial_cash in the run configuration must be positive")
    rest = {k: v for k, v in item.items() if k not in BrokerConfig._TYPED and k != "class"}
    return BrokerConfig(class_name=str(item.get("class", "SimulatedBroker")), **typed,
                        attributes=_frozen(rest))


def _datafeed(item: Mapping[str, Any]) -> DatafeedConfig:
    def ns(key: str) -> int | None:
        value = item.get(key)
        return None if value is None else int(value)

    rest = {k: v for k, v in item.items() if k not in DatafeedConfig._TYPED and k != "class"}
    return DatafeedConfig(class_name=str(item.get("class", "SimulatedDatafeed")),
                          start_ns=ns("start_ns"), end_ns=ns("end_ns"),
                          publisher_name=str(item.get("publisher_name") or ""),
                          dataset=str(item.get("dataset") or ""), attributes=_frozen(rest))
