"""The ADX Donchian breakout example runs end to end on the hand-made secmaster and trades
exactly as worked out by hand; it also shows on the Backtest page like the other examples."""

from __future__ import annotations

import math

import pytest

from tests.engine.helpers import configured, run
from tradecore import analytics
from tradecore.strategies import get_registered_strategies
from tradecore.strategies.examples import ADXDonchianBreakout
from tradecore.strategies.params import ParameterError, ParamSpec


def test_trades_on_the_hand_secmaster(hand_secmaster, runs_db) -> None:
    """CCC (high, low, close): (5.5, 4.5, 5.2) (5.6, 5.0, 5.4) (5.8, 5.3, 5.7) (5.9, 5.1, 5.2)
    (5.3, 4.9, 5.0) (5.4, 4.8, 5.3), opens 5.0 5.2 5.4 5.7 5.2 5.0.

    With 2-bar channels and ADX(1) (100 whenever one directional move is zero, so always here):
    bar 2's close 5.7 beats bar 1's channel top max(5.5, 5.6) -> buy, filled at bar 3's open
    5.7; bar 3's close 5.2 is above bar 2's channel bottom min(5.0, 5.3); bar 4's close 5.0 is
    below bar 3's min(5.3, 5.1) -> sell, filled at bar 5's open 5.0.
    """
    strategy = configured(ADXDonchianBreakout, ["CCC"], channel_period=2, exit_period=2,
                          adx_period=1, adx_threshold=25.0, quantity=10)
    orchestrator = run([strategy])
    fills = analytics.fills(orchestrator.run_id, runs_db)
    assert list(fills["side"]) == ["BUY", "SELL"]
    assert list(fills["fill_price"]) == pytest.approx([5.7, 5.0])
    assert list(fills["quantity_filled"]) == [10, 10]


@pytest.mark.parametrize(("adx_period", "trades"), [(1, True), (2, False)])
def test_no_entry_until_the_adx_exists(hand_secmaster, runs_db, adx_period, trades) -> None:
    """The only breakout (bar 2) trades with ADX(1) (ready at bar 1) and not with ADX(2),
    whose first value is at bar 3: the filter blocks entries during its warm-up."""
    strategy = configured(ADXDonchianBreakout, ["CCC"], channel_period=2, exit_period=2,
                          adx_period=adx_period, adx_threshold=0.0)
    orchestrator = run([strategy])
    assert (len(analytics.fills(orchestrator.run_id, runs_db)) > 0) is trades


def test_registered_with_docstring_and_parameter_specs() -> None:
    assert get_registered_strategies()["ADXDonchianBreakout"] is ADXDonchianBreakout
    assert ADXDonchianBreakout.display_name() == "ADX Donchian Breakout"
    assert "ADX" in (ADXDonchianBreakout.__doc__ or "")
    specs = ADXDonchianBreakout.parameters
    assert set(specs) == {"bar_period", "channel_period", "exit_period", "adx_period",
                          "adx_threshold", "quantity"}
    assert all(isinstance(spec, ParamSpec) and spec.help for spec in specs.values())
    values = ADXDonchianBreakout.parameter_values()
    assert values["adx_threshold"] == 25.0 and not math.isnan(values["adx_threshold"])
    with pytest.raises(ParameterError):
        configured(ADXDonchianBreakout, ["CCC"], adx_threshold=150.0).parameter_values()


def test_the_backtest_page_shows_and_runs_it(sample_secmaster, runs_db) -> None:
    from tests.ui.test_backtest_page import backtest_page, choose_strategy, finish, recorded

    at = choose_strategy(backtest_page(), "ADXDonchianBreakout")
    assert "ADX Donchian Breakout" in at.selectbox(key="backtest.strategy").options
    assert "highest high of the" in " ".join(m.value for m in at.markdown)
    key = "backtest.param.ADXDonchianBreakout.{}".format
    channel = at.slider(key=key("channel_period"))
    assert (channel.min, channel.max, channel.value) == (1, 250, 20)
    assert at.slider(key=key("adx_threshold")).value == 25.0
    at.button(key="backtest.run").click().run()
    job = finish(at, timeout=120)
    status, config, error = recorded(runs_db, job.run_id)
    assert (status, error) == ("completed", None)
    assert config["strategies"][0]["class"] == "ADXDonchianBreakout"
