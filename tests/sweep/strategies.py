"""Strategies only the sweep tests use; workers import them through TRADECORE_STRATEGIES."""

from __future__ import annotations

import time

from tradecore.strategies.examples.sma_crossover import SMACrossover
from tradecore.strategies.params import ParamSpec


class ExplodingSMA(SMACrossover):
    """SMA Crossover that raises on its 20th bar when ``explode`` is set."""

    name = "Exploding SMA"
    parameters = {**SMACrossover.parameters, "explode": ParamSpec(False)}

    def setup(self) -> None:
        super().setup()
        self.seen = 0

    def on_bar(self, bar) -> None:
        self.seen += 1
        if self.explode and self.seen == 20:
            raise RuntimeError("boom on bar 20")
        super().on_bar(bar)


class SlowSMA(SMACrossover):
    """SMA Crossover that sleeps ``delay_ms`` per bar: points long enough to cancel."""

    name = "Slow SMA"
    parameters = {**SMACrossover.parameters,
                  "delay_ms": ParamSpec(20, min=0, max=1000, step=1)}

    def on_bar(self, bar) -> None:
        time.sleep(self.delay_ms / 1000)
        super().on_bar(bar)
