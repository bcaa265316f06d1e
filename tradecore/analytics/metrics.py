"""Performance statistics of a run, and how each one is defined (definitions version 1).

The definitions follow backtesting.py 0.6.6 (``backtesting/_stats.py``) wherever DESIGN does
not fix them, so the two tools can be compared number for number. Money is in the account
currency; ``*_pct`` and the trade percentages are in percent; ratios are plain numbers. Where
a statistic cannot be computed (no trades, one trade, flat equity, ...) it is NaN, never an
error.

Inputs
    ``E_t``: the equity curve (``equity_curve``), one value per bar timestamp; ``E_0``: the
    broker's initial cash; ``E_T``: the last equity. Trades: the *closed* round trips
    (``round_trips`` with ``open`` False), each with currency ``pnl_j`` and return
    ``R_j = pnl_j / (entry_price_j x quantity_j)`` (net of commission). Positions still open at
    the end are in the equity (marked to the last close) but not in the trade statistics.

Annualisation
    The equity is resampled to calendar days in UTC, keeping each day's last value (days
    without bars are dropped); ``r_i`` are the simple returns between consecutive such days.
    ``P`` (``periods_per_year``) is 252 when the data has no weekend bars and 365 when it has
    (weekend bars make up more than 60 % of the 2/7 share they would have in 24/7 data). Data
    whose typical bar spacing is a week, 31 days or 365 days is resampled to weeks, month ends or
    year ends instead, with ``P`` = 52, 12 or 1. The risk-free rate ``rf`` is 0 unless
    configured (``statistics(..., risk_free_rate=...)`` or ``config["analytics"]
    ["risk_free_rate"]``). The rule, ``P``, ``rf`` and the definitions version are returned with
    the statistics and stored with them.

Equity statistics
    - ``start`` / ``end`` / ``duration``: first and last bar time, and the time between.
    - ``equity_final`` = ``E_T``; ``equity_peak`` = the highest ``E_t``.
    - ``total_return_pct`` = ``(E_T / E_0 - 1) x 100``.
    - ``buy_and_hold_return_pct``: per symbol, ``last close / close of its first bar in the
      run's range - 1``, averaged over symbols, x 100. ``buy_and_hold_curve`` draws the same
      line bar by bar, so the chart and the statistic agree.
    - ``return_ann_pct`` = ``((1 + g)^P - 1) x 100`` with ``g`` the geometric mean of ``r_i``
      (``g`` = 0 if any ``1 + r_i <= 0``).
    - ``volatility_ann_pct`` = ``sqrt((s^2 + (1 + g)^2)^P - (1 + g)^(2P)) x 100`` with ``s^2``
      the sample variance (ddof 1) of ``r_i``: the volatility of compounded returns, as
      backtesting.py (not the ``s x sqrt(P)`` shortcut).
    - ``cagr_pct`` = ``((E_T / E_0)^(1 / years) - 1) x 100`` with ``years`` = ``duration`` in days
      / 365.25.
    - ``sharpe`` = ``(return_ann - rf) / volatility_ann`` (both as fractions).
    - ``sortino`` = ``(return_ann - rf) / (sqrt(mean(min(r_i, 0)^2)) x sqrt(P))``: downside
      deviation over *all* periods, target 0.
    - ``calmar`` = ``return_ann / |max drawdown|``.
    - ``max_drawdown_pct`` = ``min_t (E_t / max_{s<=t} E_s - 1) x 100`` (<= 0, from the
      marked-to-market equity at every bar); ``avg_drawdown_pct``: the mean of the deepest point
      of every drawdown period.
    - ``max_drawdown_duration`` / ``avg_drawdown_duration``: a drawdown period runs from a bar
      at a peak (drawdown 0) to the next bar back at a peak, or to the last bar if the equity
      never recovers; the longest and the mean such period, as time (NaT without any
      drawdown).
    - ``exposure_pct``: the share of bar timestamps during which a position was held (entered,
      carried or traded on that bar) x 100, counting bars, not clock time. (backtesting.py
      counts only the bars of its closed trades unless ``finalize_trades=True``; we count a
      position still open at the end too.)
    - ``commissions``: the sum of every fill's commission (open trades included).

Trade statistics (closed round trips; NaN where there are none)
    - ``trades``: their number; ``open_trades``: round trips still open at the end, and
      ``open_pnl`` their marked P&L.
    - ``win_rate_pct`` = share with ``pnl_j > 0`` x 100.
    - ``best_trade`` / ``worst_trade`` = ``max_j R_j`` / ``min_j R_j`` x 100 (percent).
    - ``avg_trade`` = geometric mean of ``R_j`` x 100 (percent).
    - ``expectancy`` = arithmetic mean of ``R_j`` x 100 (percent).
    - ``profit_factor`` = ``sum of positive R_j / |sum of negative R_j|`` (NaN without a losing
      trade; 0 without a winning one); ``profit_factor_pnl`` the same on currency ``pnl_j``.
    - ``sqn`` = ``sqrt(n) x mean(pnl_j) / std(pnl_j)`` (sample std, ddof 1; NaN for n < 2 or a
      zero std).
    - ``kelly_criterion`` = ``W - (1 - W) / (mean winning pnl / |mean losing pnl|)``, W the win
      rate as a fraction.
    - Currency variants: ``net_pnl`` (sum of ``pnl_j``), ``gross_profit``, ``gross_loss``,
      ``avg_trade_pnl`` / ``expectancy_pnl`` (mean ``pnl_j``), ``best_trade_pnl``,
      ``worst_trade_pnl``.
    - ``max_trade_duration`` / ``avg_trade_duration``: exit time - entry time.

Labels, units and which direction is better are in ``tradecore.analytics.catalogue``.

Design Decision: buy & hold from the first bar of the run's range (definitions version 2)
    backtesting.py starts its buy & hold after the indicators' warm-up, so two runs on the same
    data and range with different indicator periods got different benchmarks, and the tile
    disagreed with the chart line. Ours starts at the first bar of the range for every run, so
    it is one number per data set and range, comparable across runs (and differs from
    backtesting.py's when a strategy has a warm-up).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from tradecore.analytics import catalogue

DEFINITIONS_VERSION = "2"
DEFAULT_RISK_FREE_RATE = 0.0

#: Every statistic ``compute`` returns, in display order: the catalogue (labels, units and
#: directions live there, not here).
STATISTICS = catalogue.STATISTICS

#: How each unit is kept in the JSON form of the statistics.
_STORED_AS = {"time": "time", "duration": "timedelta", "count": "int", "text": "str"}


def _stored_as(key: str) -> str:
    statistic = STATISTICS.get(key)
    return _STORED_AS.get(statistic.unit, "float") if statistic else "float"


NAN = float("nan")


def periods_and_rule(index: pd.DatetimeIndex) -> tuple[int, str]:
    """``(P, resample rule)`` for bar times ``index`` (backtesting.py's rule)."""
    if len(index) < 2:
        return 252, "D"
    spacing = pd.Series(index[-100:]).diff().dropna().median()
    days = spacing.days
    if days == 7:
        return 52, "W"
    if days == 31:
        return 12, "ME"
    if days == 365:
        return 1, "YE"
    weekend_share = float(np.isin(index.day_of_week, (5, 6)).mean())
    return (365 if weekend_share > 2 / 7 * 0.6 else 252), "D"


def geometric_mean(returns: np.ndarray) -> float:
    """``exp(mean(log(1 + r))) - 1``; 0 if some ``1 + r <= 0``; NaN for no returns."""
    growth = np.nan_to_num(np.asarray(returns, dtype=float)) + 1
    if not len(growth):
        return NAN
    if np.any(growth <= 0):
        return 0.0
    return float(np.exp(np.log(growth).sum() / len(growth)) - 1)


def drawdown_periods(drawdown: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(duration, deepest drawdown) of every drawdown period (backtesting.py's rule)."""
    values = drawdown.to_numpy()
    stops = np.unique(np.r_[np.flatnonzero(values == 0), len(values) - 1])
    starts = np.r_[-1, stops[:-1]]  # the peak before each stop
    keep = stops > starts + 1
    starts, stops = starts[keep], stops[keep]
    if not len(stops) or len(values) == 0:
        return pd.Series(dtype="timedelta64[ns]"), pd.Series(dtype=float)
    valid = starts >= 0
    starts, stops = starts[valid], stops[valid]
    index = drawdown.index
    durations = pd.Series(index[stops] - index[starts])
    deepest = pd.Series([values[a:b + 1].min() for a, b in zip(starts, stops, strict=True)])
    return durations, deepest


def _finite_or_nan(value: Any) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return NAN
    return value if math.isfinite(value) else NAN


def _ratio(numerator: float, denominator: float) -> float:
    if not denominator or not math.isfinite(denominator) or not math.isfinite(numerator):
        return NAN
    return numerator / denominator


def compute(equity: pd.DataFrame, trips: pd.DataFrame, symbols: pd.DataFrame,
            commissions: float, initial_cash: float,
            risk_free_rate: float = DEFAULT_RISK_FREE_RATE) -> dict[str, Any]:
    """Every statistic in ``STATISTICS`` from the run's derived tables (see module docstring)."""
    s: dict[str, Any] = dict.fromkeys(STATISTICS, NAN)
    s.update(trades=0, open_trades=0, bars=int(len(equity)), commissions=float(commissions),
             risk_free_rate=float(risk_free_rate), definitions_version=DEFINITIONS_VERSION)
    for key in ("duration", "max_drawdown_duration", "avg_drawdown_duration",
                "max_trade_duration", "avg_trade_duration"):
        s[key] = pd.NaT
    s["start"] = s["end"] = pd.NaT
    index = pd.DatetimeIndex(pd.to_datetime(equity["ts_event_ns"].to_numpy(), unit="ns"))
    periods, rule = periods_and_rule(index)
    s.update(periods_per_year=periods, resample_rule=rule)
    closed = trips[~trips["open"].astype(bool)] if len(trips) else trips
    still_open = trips[trips["open"].astype(bool)] if len(trips) else trips
    s["open_trades"] = int(len(still_open))
    s["open_pnl"] = float(still_open["pnl"].sum()) if len(still_open) else 0.0
    _trade_statistics(s, closed)
    if not len(equity):
        return s

    values = equity["equity"].to_numpy(dtype=float)
    dd = equity["drawdown"].to_numpy(dtype=float)
    s["start"], s["end"] = index[0], index[-1]
    s["duration"] = index[-1] - index[0]
    s["exposure_pct"] = float(equity["exposed"].mean() * 100) if "exposed" in equity else NAN
    s["equity_final"] = float(values[-1])
    s["equity_peak"] = float(values.max())
    s["total_return_pct"] = _ratio(values[-1] - initial_cash, initial_cash) * 100

    if len(symbols):
        moves = symbols["last_close"] / symbols["first_close"] - 1
        s["buy_and_hold_return_pct"] = _finite_or_nan(moves.mean() * 100)

    series = pd.Series(values, index=index)
    day_returns = series.resample(rule).last().dropna().pct_change().dropna().to_numpy()
    g = geometric_mean(day_returns)
    annual = (1 + g) ** periods - 1 if math.isfinite(g) else NAN
    s["return_ann_pct"] = annual * 100
    if len(day_returns) and math.isfinite(g):
        variance = float(np.var(day_returns, ddof=1)) if len(day_returns) > 1 else NAN
        with np.errstate(invalid="ignore", over="ignore"):
            volatility = np.sqrt((variance + (1 + g) ** 2) ** periods - (1 + g) ** (2 * periods))
        s["volatility_ann_pct"] = _finite_or_nan(volatility * 100)
        downside = float(np.sqrt(np.mean(np.minimum(day_returns, 0) ** 2)) * np.sqrt(periods))
        s["sortino"] = _ratio(annual - risk_free_rate, downside)
        s["sharpe"] = _ratio(annual - risk_free_rate, s["volatility_ann_pct"] / 100)
    years = (s["duration"].days + s["duration"].seconds / 86400) / 365.25
    if years > 0 and initial_cash > 0 and values[-1] / initial_cash >= 0:
        s["cagr_pct"] = ((values[-1] / initial_cash) ** (1 / years) - 1) * 100

    max_dd = float(np.nanmin(dd)) if np.isfinite(dd).any() else NAN
    s["max_drawdown_pct"] = max_dd * 100 if math.isfinite(max_dd) else NAN
    s["calmar"] = _ratio(annual, abs(max_dd)) if math.isfinite(max_dd) else NAN
    durations, deepest = drawdown_periods(pd.Series(dd, index=index))
    if len(durations):
        s["max_drawdown_duration"] = durations.max()
        s["avg_drawdown_duration"] = durations.mean()
        s["avg_drawdown_pct"] = float(deepest.mean() * 100)
    elif math.isfinite(max_dd):
        s["avg_drawdown_pct"] = 0.0 if max_dd == 0 else NAN
    return s


def _trade_statistics(s: dict[str, Any], closed: pd.DataFrame) -> None:
    n = len(closed)
    s["trades"] = int(n)
    if not n:
        s.update(net_pnl=0.0, gross_profit=0.0, gross_loss=0.0)
        return
    pnl = closed["pnl"].to_numpy(dtype=float)
    returns = closed["return_pct"].to_numpy(dtype=float) / 100
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    win_rate = len(wins) / n
    s["win_rate_pct"] = win_rate * 100
    s["best_trade"] = float(returns.max() * 100)
    s["worst_trade"] = float(returns.min() * 100)
    s["avg_trade"] = geometric_mean(returns) * 100
    s["expectancy"] = float(returns.mean() * 100)
    s["profit_factor"] = _ratio(returns[returns > 0].sum(), abs(returns[returns < 0].sum()))
    s["profit_factor_pnl"] = _ratio(wins.sum(), abs(losses.sum()))
    std = float(np.std(pnl, ddof=1)) if n > 1 else NAN
    s["sqn"] = _ratio(math.sqrt(n) * pnl.mean(), std)
    s["kelly_criterion"] = (
        win_rate - (1 - win_rate) / _ratio(wins.mean(), -losses.mean())
        if len(wins) and len(losses) else NAN
    )
    s["net_pnl"] = float(pnl.sum())
    s["gross_profit"] = float(wins.sum())
    s["gross_loss"] = float(losses.sum())
    s["avg_trade_pnl"] = s["expectancy_pnl"] = float(pnl.mean())
    s["best_trade_pnl"] = float(pnl.max())
    s["worst_trade_pnl"] = float(pnl.min())
    durations = pd.to_timedelta(closed["duration_ns"].to_numpy(dtype=np.int64), unit="ns")
    s["max_trade_duration"] = durations.max()
    s["avg_trade_duration"] = durations.mean()


# -- JSON form (the statistics cache) --------------------------------------------------------------


def to_json_ready(stats: dict[str, Any]) -> dict[str, Any]:
    """Times and durations as int ns, NaN as None: what the cache table stores."""
    out: dict[str, Any] = {}
    for key, value in stats.items():
        kind = _stored_as(key)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            out[key] = None
        elif kind in ("time", "timedelta"):
            out[key] = int(value.value)
        elif kind == "int":
            out[key] = int(value)
        elif kind == "str":
            out[key] = str(value)
        else:
            out[key] = float(value)
    return out


def from_json_ready(stored: dict[str, Any]) -> dict[str, Any]:
    """The inverse of ``to_json_ready``."""
    out: dict[str, Any] = {}
    for key in STATISTICS:
        value = stored.get(key)
        kind = _stored_as(key)
        if kind == "time":
            out[key] = pd.NaT if value is None else pd.Timestamp(int(value), unit="ns")
        elif kind == "timedelta":
            out[key] = pd.NaT if value is None else pd.Timedelta(int(value), unit="ns")
        elif kind == "str":
            out[key] = value
        elif kind == "int":
            out[key] = NAN if value is None else int(value)
        else:
            out[key] = NAN if value is None else float(value)
    return out


# -- buy & hold as a line ----------------------------------------------------------------------


def buy_and_hold_curve(run_id: str, db_path: Any = None,
                       max_points: int | None = 2000) -> pd.DataFrame:
    """Buying the run's symbols at the close of the first bar of its range and holding them.

    Per bar timestamp (bucket, when down-sampled as ``analytics.bars``): ``ts_event_ns``,
    ``time``, ``return_pct`` (``close / first close - 1`` averaged over symbols, each symbol
    carried forward between its own bars, x 100: its last value is the statistic
    ``buy_and_hold_return_pct``) and ``equity`` (the initial cash grown by that return, to draw
    beside the strategy's equity).
    """
    from tradecore.analytics import results, runs  # read functions import this module

    columns = ["ts_event_ns", "time", "return_pct", "equity"]
    frame = results.bars(run_id, db_path, max_points=max_points or 2**62)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    moves = {}
    for symbol, rows in frame.groupby("symbol", sort=True):
        first_ts = int(rows["ts_event_ns"].min())
        # A down-sampled bucket carries its *last* close; the first bar's own close is read.
        first = results.bars(run_id, db_path, max_points=1, symbol=str(symbol),
                             start_ns=first_ts, end_ns=first_ts)
        base = float(first["close"].iloc[0])
        series = rows.set_index("ts_event_ns")["close"].astype(float)
        moves[symbol] = series.groupby(level=0).last() / base - 1
    table = pd.DataFrame(moves).sort_index().ffill()
    out = pd.DataFrame({"ts_event_ns": table.index.astype("int64"),
                        "return_pct": table.mean(axis=1).to_numpy() * 100})
    out["time"] = pd.to_datetime(out["ts_event_ns"], unit="ns")
    config = runs.run_config(run_id, db_path)
    initial_cash = float((config.get("broker") or {}).get("initial_cash") or 0.0)
    out["equity"] = initial_cash * (1 + out["return_pct"] / 100)
    return out[columns].reset_index(drop=True)
