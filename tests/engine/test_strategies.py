"""ParamSpec validation and grids; discovery of user strategies; position bookkeeping."""

from __future__ import annotations

import textwrap

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
