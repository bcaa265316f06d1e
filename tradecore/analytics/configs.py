"""Run configurations read side by side: flattened to dotted keys, the settings that differ
between runs, and a strategy's parameters as one line of text.

A configuration is the JSON ``runs.config`` holds (``Orchestrator.configuration()``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"broker": {"slippage_bps": 1}}`` -> ``{"broker.slippage_bps": 1}``.

    A one-strategy run's ``strategies`` list flattens to ``strategy.<key>`` so two runs of
    different strategies still line up key by key; lists of scalars stay whole values.
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if key == "strategies" and isinstance(value, list):
            for i, strategy in enumerate(value):
                label = "strategy" if len(value) == 1 else f"strategy[{i}]"
                flat.update(flatten_config(strategy, f"{prefix}{label}.") if isinstance(
                    strategy, Mapping) else {f"{prefix}{label}": strategy})
        elif isinstance(value, Mapping):
            flat.update(flatten_config(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def config_value_text(value: Any, key: str = "") -> str:
    """A setting's value as text: ``*_ns`` times (``datafeed.start_ns``) as UTC dates (an
    inclusive end at 23:59:59.999999999 reads as its day), lists of names comma-separated."""
    if value is None:
        return "–"
    if key.endswith("_ns") and isinstance(value, int) and not isinstance(value, bool):
        stamp = pd.Timestamp(value, unit="ns")
        for candidate in (stamp, stamp + pd.Timedelta(1, unit="ns")):
            if candidate == candidate.normalize():
                return stamp.strftime("%Y-%m-%d")
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def strategy_parameters(config: Mapping[str, Any]) -> dict[str, Any]:
    strategies = config.get("strategies") or []
    if strategies and isinstance(strategies[0], Mapping):
        return dict(strategies[0].get("parameters") or {})
    return {}


def parameters_text(parameters: Mapping[str, Any], *, skip: Iterable[str] = ("bar_period",)
                    ) -> str:
    skipped = set(skip)
    return ", ".join(f"{k}={v}" for k, v in parameters.items() if k not in skipped)


def config_diff(configs: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Only the configuration keys whose values differ between runs: one row a key (its
    dotted path), one column a run, values as text (times as dates). Keys a run lacks show as
    missing; a one-strategy run's symbols are listed once."""
    flat = {label: _without_repeats(flatten_config(config)) for label, config in configs.items()}
    keys: list[str] = []
    for values in flat.values():
        keys.extend(k for k in values if k not in keys)
    rows = {}
    for key in keys:
        values = [flat[label].get(key, _MISSING) for label in flat]
        texts = {config_value_text(v, key) if v is not _MISSING else "\0missing"
                 for v in values}
        if len(texts) > 1:
            rows[key] = ["(not set)" if v is _MISSING else config_value_text(v, key)
                         for v in values]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(flat))
    frame.index.name = "setting"
    return frame


def _without_repeats(flat: dict[str, Any]) -> dict[str, Any]:
    """A one-strategy run's ``strategy.symbols`` repeats the run's ``symbols``: keep one."""
    if "strategy.symbols" in flat and flat["strategy.symbols"] == flat.get("symbols"):
        flat = {k: v for k, v in flat.items() if k != "strategy.symbols"}
    return flat


_MISSING = object()
