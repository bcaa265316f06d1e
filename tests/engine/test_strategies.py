"""ParamSpec validation and grids; discovery of user strategies; position bookkeeping."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from tradecore.models import BarPeriod
from tradecore.strategies import ParameterError, ParamSpec, get_registered_strategies
from tradecore.strategies.registry import discover_strategies, strategy_discovery_errors


@pytest.mark.parametrize("spec, text, expected", [
    (ParamSpec(10, min=2, max=50), "12", 12),
    (ParamSpec(1.5, min=0.0, max=3.0), "2.25", 2.25),
    (ParamSpec(True), "false", False),
    (ParamSpec(BarPeriod.DAY), "minute", BarPeriod.MINUTE),
    (ParamSpec("fast", choices=["fast", "slow"]), "slow", "slow"),
])
def test_values_from_text_are_coerced(spec, text, expected):
    assert spec.validate("p", text) == expected


@pytest.mark.parametrize("spec, value, message", [
    (ParamSpec(10, min=2, max=50), 51, "p must be at most 50, not 51"),
    (ParamSpec(10, min=2, max=50), 1, "p must be at least 2, not 1"),
    (ParamSpec(10, min=2, max=50), 2.5, "p must be a whole number"),
    (ParamSpec(10), "ten", "p must be a whole number"),
    (ParamSpec(1.0), "nan", "p must be a finite number"),
    (ParamSpec(True), "maybe", "p must be true or false"),
    (ParamSpec(BarPeriod.DAY), "fortnight", "p must be one of SECOND, MINUTE"),
    (ParamSpec("a", choices=["a", "b"]), "c", "p must be one of 'a', 'b', not 'c'"),
])
def test_bad_values_are_rejected_with_a_clear_message(spec, value, message):
    with pytest.raises(ParameterError, match=message):
        spec.validate("p", value)


def test_enum_default_implies_choices_and_grids():
    assert ParamSpec(BarPeriod.DAY).choices == tuple(BarPeriod)
    assert ParamSpec(5, min=5, max=20, step=5).grid() == [5, 10, 15, 20]
    assert ParamSpec(0.5, min=0.5, max=1.5, step=0.25).grid() == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert ParamSpec(False).grid() == [False, True]
    with pytest.raises(ParameterError):
        ParamSpec(3, min=5, max=1)


def test_user_strategies_are_discovered_and_errors_reported(tmp_path, monkeypatch):
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "mine.py").write_text(textwrap.dedent('''
        from tradecore import ParamSpec, StrategyBase

        class DiscoveredByFolder(StrategyBase):
            """A user strategy."""
            parameters = {"n": ParamSpec(3, min=1, max=9)}

        class _PrivateHelper(StrategyBase):
            pass
    '''))
    (folder / "broken.py").write_text("import this_module_does_not_exist\n")
    module_dir = tmp_path / "pkg"
    module_dir.mkdir()
    (module_dir / "env_strategies.py").write_text(textwrap.dedent('''
        from tradecore import StrategyBase

        class DiscoveredByEnv(StrategyBase):
            pass
    '''))
    monkeypatch.syspath_prepend(str(module_dir))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADECORE_STRATEGIES", "env_strategies, missing_module_xyz")

    registry = get_registered_strategies()
    assert "DiscoveredByFolder" in registry and "DiscoveredByEnv" in registry
    assert "_PrivateHelper" not in registry
    assert list(registry["DiscoveredByFolder"].parameters) == ["bar_period", "n"]
    errors = {str(e) for e in strategy_discovery_errors()}
    assert any("broken.py" in e and "this_module_does_not_exist" in e for e in errors)
    assert any("missing_module_xyz" in e for e in errors)

    (folder / "broken.py").write_text("from tradecore import StrategyBase\n"
                                      "class FixedLater(StrategyBase):\n    pass\n")
    discover_strategies()
    assert "FixedLater" in get_registered_strategies()
    assert not any("broken.py" in str(e) for e in strategy_discovery_errors())


def test_position_and_average_price_follow_own_fills_only():
    import math

    from tradecore.events import FillEvent
    from tradecore.messaging import EventBus
    from tradecore.models import OrderType, TradeSide
    from tradecore.strategies import StrategyBase

    class _Book(StrategyBase):
        symbols = ["AAA"]

    bus = EventBus()
    strategy = _Book(bus)
    fill_ids = iter(range(1000, 2000))

    def fill(order_id, side, quantity, price):
        bus.publish(FillEvent(1, fill_id=next(fill_ids), associated_order_id=order_id,
                              strategy="x", symbol="AAA", side=side, quantity_filled=quantity,
                              fill_price=price, commission=0.0))

    orders = [strategy.submit_order(OrderType.MARKET, TradeSide.BUY, 10) for _ in range(6)]
    fill(orders[0], TradeSide.BUY, 10, 100.0)
    fill(orders[1], TradeSide.BUY, 30, 104.0)             # scale in: (1000 + 3120) / 40
    assert (strategy.position_of("AAA"), strategy.average_price_of("AAA")) == (40, 103.0)
    fill(orders[2], TradeSide.SELL, 15, 110.0)            # partial exit keeps the average
    assert (strategy.position_of("AAA"), strategy.average_price_of("AAA")) == (25, 103.0)
    fill(orders[3], TradeSide.SELL, 35, 90.0)             # through zero: short 10 at 90
    assert (strategy.position_of("AAA"), strategy.average_price_of("AAA")) == (-10, 90.0)
    fill(orders[4], TradeSide.BUY, 10, 95.0)              # flat again
    assert strategy.position_of("AAA") == 0 and math.isnan(strategy.average_price_of("AAA"))
    fill(999_999, TradeSide.BUY, 5, 1.0)                  # another strategy's order: ignored
    assert strategy.position_of("AAA") == 0
    assert set(strategy.open_orders) == {orders[5]}


# -- parameter labels --------------------------------------------------------------------------


@pytest.mark.parametrize("name, label", [
    ("rsi_period", "RSI period"),
    ("entry_discount_pct", "Entry discount (%)"),
    ("take_profit_pct", "Take profit (%)"),
    ("slippage_bps", "Slippage (bps)"),
    ("fast_period", "Fast period"),
    ("exit_on_middle", "Exit on middle"),
])
def test_parameter_labels_read_as_words(name, label):
    assert ParamSpec(1).label_for(name) == label


def test_an_explicit_label_wins_and_every_example_parameter_reads_well():
    assert ParamSpec(1, label="Lookback").label_for("n") == "Lookback"
    for cls in get_registered_strategies().values():
        for name, spec in cls.parameters.items():
            label = spec.label_for(name)
            assert "_" not in label and " pct" not in label.lower(), (cls, name, label)
            assert label[0].isupper() or label[0] in "%", (cls, name, label)


# -- position sizing ---------------------------------------------------------------------------


class _Account:
    def __init__(self, cash: float, equity: float) -> None:
        self.cash, self.equity = cash, equity


def _sized(symbols=("AAA",), **values):
    from tradecore.configure import configured_strategy
    from tradecore.messaging import EventBus
    from tradecore.strategies.examples import SMACrossover

    strategy = configured_strategy(SMACrossover, list(symbols), values)(EventBus())
    strategy.attach_account(_Account(cash=40_000.0, equity=100_000.0))
    return strategy


def test_order_size_by_quantity_percent_of_equity_and_cash():
    from tradecore.models import Sizing

    # 95 % of 100,000 = 95,000 at 50 -> 1,900 units; at 30 -> 3,166.67 -> 3,166 (whole units).
    assert _sized().order_size(50.0) == 1900
    assert _sized().order_size(30.0) == 3166
    assert _sized(sizing="CASH", size=10_000).order_size(30.0) == 333
    assert _sized(quantity=100).order_size(12345.0) == 100  # the fixed-quantity shorthand
    assert _sized(sizing=Sizing.QUANTITY, size=7).order_size() == 7
    # Two symbols share the percentage: 47,500 each at 50 -> 950.
    assert _sized(("AAA", "BBB")).order_size(50.0) == 950
    assert _sized(sizing="CASH", size=10).order_size(30.0) == 0  # less than a unit
    strategy = _sized()
    assert (strategy.cash, strategy.equity) == (40_000.0, 100_000.0)
    with pytest.raises(ValueError, match="price 0"):
        strategy.order_size(0.0)


@pytest.mark.parametrize("values, message", [
    ({"size": 0}, "size must be more than 0"),
    ({"size": 5000}, "at most 1000"),
    ({"quantity": 10, "size": 5}, "either quantity or sizing"),
    ({"sizing": "HALF"}, "sizing must be one of"),
])
def test_bad_sizing_is_refused_before_a_run(values, message):
    with pytest.raises(ParameterError, match=message):
        _sized(**values)


def test_an_unattached_strategy_says_why_it_has_no_equity():
    from tradecore.messaging import EventBus
    from tradecore.strategies import StrategyBase

    class _Alone(StrategyBase):
        symbols = ["AAA"]

    with pytest.raises(RuntimeError, match="no broker account attached"):
        _ = _Alone(EventBus()).equity


def _probe_class():
    """Buys order_size() on day 1, sells on day 3, buys again on day 4; records equity/cash."""
    from tradecore.models import OrderType, TradeSide
    from tradecore.strategies import StrategyBase
    from tradecore.strategies.base import SIZING_PARAMETERS

    class _SizingProbe(StrategyBase):
        symbols = ["AAA"]
        parameters = {**SIZING_PARAMETERS}
        seen: list = []

        def setup(self) -> None:
            self.count = 0

        def on_bar(self, bar) -> None:
            self.count += 1
            type(self).seen.append((self.count, self.cash, self.equity))
            if self.count in (1, 4):
                self.submit_order(OrderType.MARKET, TradeSide.BUY, self.order_size())
            elif self.count == 3:
                self.submit_order(OrderType.MARKET, TradeSide.SELL, self.position)

    return _SizingProbe


def test_sized_entries_follow_the_equity_in_a_real_run(hand_secmaster, runs_db):
    """AAA closes 10.5, 11.5, 12, 11 on days 1-4 and opens 10.5, 11.5, 12, 11 on days 2-5;
    cash 100,000, no commission, 95 % of equity an entry.

    Day 1: 95,000 / 10.5 = 9,047.6 -> buy 9,047, filled day 2 at 10.5: cash 5,006.5.
    Day 2: equity 5,006.5 + 9,047 x 11.5 = 109,047.
    Day 3: sell 9,047, filled day 4 at 12: cash 113,570.5.
    Day 4: 0.95 x 113,570.5 / 11 = 9,808.4 -> buy 9,808, filled day 5 at 11.
    """
    from tests.engine.helpers import run, table_rows

    probe = _probe_class()
    probe.seen = []
    orchestrator = run([probe])
    fills = [(qty, price) for _ts, _f, _o, _s, _sym, _side, qty, price, _c
             in table_rows(runs_db, "fills", orchestrator.run_id)]
    assert fills == [(9047, 10.5), (9047, 12.0), (9808, 11.0)]
    assert probe.seen[1] == (2, pytest.approx(5006.5), pytest.approx(109_047.0))
    assert probe.seen[3][1] == pytest.approx(113_570.5) == probe.seen[3][2]


def test_an_order_sent_from_on_fill_carries_the_fill_time(hand_secmaster, runs_db):
    """The fill on day 2 reaches the strategy before its on_bar for day 2: the take-profit it
    sends from on_fill must be stamped day 2, not day 1."""
    from tests.engine.helpers import run, table_rows
    from tradecore.models import OrderType, TradeSide
    from tradecore.strategies import StrategyBase

    class _ExitOnFill(StrategyBase):
        symbols = ["AAA"]

        def on_bar(self, bar) -> None:
            if self.position == 0 and not self.open_orders:
                self.submit_order(OrderType.MARKET, TradeSide.BUY, 10)

        def on_fill(self, fill) -> None:
            if fill.side is TradeSide.BUY:
                self.submit_order(OrderType.LIMIT, TradeSide.SELL, 10, limit_price=99.0)

    orchestrator = run([_ExitOnFill])
    fills = table_rows(runs_db, "fills", orchestrator.run_id)
    submissions = table_rows(runs_db, "order_submissions", orchestrator.run_id)
    day1, day2 = pd.Timestamp("2024-01-01").value, pd.Timestamp("2024-01-02").value
    assert fills[0][0] == day2
    assert [(ts, kind) for ts, _id, _s, _sym, kind, *_ in submissions] == [
        (day1, "MARKET"), (day2, "LIMIT")]
