"""The bundled sample data: clearly synthetic, seeded, built in well under a second.

Five made-up tickers (ACME, GLOBX, INITECH, UMBRL, WAYNE) under publisher ``sample``, dataset
``synthetic``:

* DAY bars on every weekday (no holiday calendar) from 2015-01-02 to 2024-12-31, stamped at
  00:00 UTC of the date.
* MINUTE bars for ACME, GLOBX and INITECH on the weekdays from 2024-10-01 to 2024-12-31, 390 bars
  a day covering the 09:30-16:00 New York session, converted to UTC (so the session starts at
  13:30 or 14:30 UTC depending on daylight saving time; both occur in the window).

Prices follow a geometric Brownian motion with fat-tailed (Student-t) shocks whose drift and
volatility change in regimes of 2-12 months, so trend and mean-reversion strategies both find
trades. Part of each day's move happens overnight (open != previous close). Prices are in cents,
volumes whole numbers, and every bar satisfies low <= open, close <= high. On days that also have
minute bars the minutes are a Brownian bridge from the day's open to its close and the DAY bar's
high, low and volume are those of its minutes, so both periods tell the same story.

The recipe (seed, dates, symbols and their profiles) is also written out in
``data/sample_recipe.toml``; :func:`load_recipe` reads such a file so a variant can be built with
``build_sample(path, recipe=load_recipe(file))``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tradecore.models import BarPeriod
from tradecore.secmaster import schema
from tradecore.secmaster.errors import SecmasterError
from tradecore.secmaster.writer import ImportSummary, delete_publisher, write_bars

SAMPLE_PUBLISHER = "sample"
SAMPLE_DATASET = "synthetic"
DAILY_START, DAILY_END = "2015-01-02", "2024-12-31"
MINUTE_START = "2024-10-01"
MINUTE_SYMBOLS = ("ACME", "GLOBX", "INITECH")
SESSION_TIMEZONE = "America/New_York"
SESSION_OPEN = pd.Timedelta(hours=9, minutes=30)
MINUTES_PER_SESSION = 390
TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class _Profile:
    symbol: str
    start_price: float
    volatility: float  # typical annual volatility
    drift: float  # long-run annual drift
    volume: float  # typical daily volume


PROFILES = (
    _Profile("ACME", 48.0, 0.28, 0.10, 2_500_000),
    _Profile("GLOBX", 135.0, 0.22, 0.07, 1_200_000),
    _Profile("INITECH", 22.0, 0.40, 0.05, 4_000_000),
    _Profile("UMBRL", 80.0, 0.33, -0.01, 900_000),
    _Profile("WAYNE", 310.0, 0.18, 0.08, 600_000),
)


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the sample's bars (``data/sample_recipe.toml`` spells it out)."""

    seed: int = 42
    daily_start: str = DAILY_START
    daily_end: str = DAILY_END
    minute_start: str = MINUTE_START
    minute_symbols: tuple[str, ...] = MINUTE_SYMBOLS
    profiles: tuple[_Profile, ...] = field(default=PROFILES)


def load_recipe(path: str | os.PathLike[str]) -> Recipe:
    """Read a recipe TOML file (the layout of ``data/sample_recipe.toml``)."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
        return Recipe(
            seed=int(data["seed"]),
            daily_start=str(data["daily_start"]),
            daily_end=str(data["daily_end"]),
            minute_start=str(data["minute_start"]),
            minute_symbols=tuple(data["minute_symbols"]),
            profiles=tuple(
                _Profile(str(p["symbol"]), float(p["start_price"]), float(p["volatility"]),
                         float(p["drift"]), float(p["volume"]))
                for p in data["profiles"]
            ),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise SecmasterError(f"cannot read the sample recipe {path}: {exc!r}") from None


def build_sample(
    db_path: schema.PathLike | None = None, seed: int | None = None, recipe: Recipe | None = None
) -> list[ImportSummary]:
    """(Re)build the sample in ``db_path``: the previous sample data is replaced, anything else
    (imported CSV/DBN data) is left alone. The same recipe and seed always give the same bars
    (``seed`` overrides the recipe's)."""
    recipe = recipe or Recipe()
    seed = recipe.seed if seed is None else seed
    days = pd.bdate_range(recipe.daily_start, recipe.daily_end)
    day_ts = days.as_unit("ns").asi8
    in_minute_window = days >= pd.Timestamp(recipe.minute_start)
    series: list[tuple[str, BarPeriod, np.ndarray, dict[str, np.ndarray]]] = []
    for index, profile in enumerate(recipe.profiles):
        rng = np.random.default_rng([seed, index])
        daily, daily_vol = _daily_bars(profile, len(days), rng)
        if profile.symbol in recipe.minute_symbols:
            minute_ts, minutes = _minute_bars(days[in_minute_window], daily, daily_vol,
                                              in_minute_window, rng)
            series.append((profile.symbol, BarPeriod.MINUTE, minute_ts, minutes))
        series.append((profile.symbol, BarPeriod.DAY, day_ts, daily))

    with schema.writing(db_path) as conn:
        delete_publisher(conn, SAMPLE_PUBLISHER, SAMPLE_DATASET)
        return [
            write_bars(
                conn,
                publisher=SAMPLE_PUBLISHER,
                dataset=SAMPLE_DATASET,
                symbol=symbol,
                symbol_type="raw_symbol",
                period=period,
                ts=ts,
                values=values,
            )
            for symbol, period, ts, values in series
        ]


def ensure_secmaster(db_path: schema.PathLike | None = None, seed: int = 42) -> bool:
    """Build the sample if ``db_path`` does not exist (or holds no instruments at all).

    Returns True when it built. A new file is built under a temporary name and renamed into
    place, so a reader never sees a half-built database.
    """
    path = schema.resolve_path(db_path)
    schema.check_file(path)  # a damaged file is reported, never rebuilt over
    if path.is_file() and path.stat().st_size:
        # Read first: a complete secmaster in a read-only folder is fine to use as it is.
        try:
            conn = schema.connect(path)
        except SecmasterError as error:
            if "no secmaster schema" not in str(error):
                raise
            conn = None  # a SQLite file without the secmaster schema yet: built below
        if conn is not None:
            try:
                has_data = conn.execute(schema.COUNT_INSTRUMENTS).fetchone()[0] > 0
            finally:
                conn.close()
            if has_data:
                return False
        build_sample(path, seed)
        return True
    if path.is_file():
        build_sample(path, seed)
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(f".{path.name}.{os.getpid()}.building")
    try:
        build_sample(building, seed)
        # A WAL left behind by a deleted database must not be replayed into the new one.
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(building, path)
    finally:
        for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            leftover.unlink(missing_ok=True)
    return True


def _daily_bars(
    profile: _Profile, n: int, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Daily OHLCV and the per-day volatility (for the minute bridge)."""
    lengths = []
    while sum(lengths) < n:
        lengths.append(int(rng.integers(40, 260)))
    regimes = len(lengths)
    drift = np.clip(rng.normal(profile.drift, 0.30, regimes), -0.6, 0.9)
    volatility = profile.volatility * rng.uniform(0.6, 1.7, regimes)
    regime_of_day = np.repeat(np.arange(regimes), lengths)[:n]
    mu = drift[regime_of_day] / TRADING_DAYS_PER_YEAR
    sigma = volatility[regime_of_day] / np.sqrt(TRADING_DAYS_PER_YEAR)

    shocks = rng.standard_t(5, n) / np.sqrt(5 / 3)  # unit variance, fat tails
    returns = mu - 0.5 * sigma**2 + sigma * shocks
    close = profile.start_price * np.exp(np.cumsum(returns))
    previous_close = np.r_[profile.start_price, close[:-1]]
    gap = 0.3 * returns + 0.15 * sigma * rng.standard_normal(n)
    open_ = previous_close * np.exp(gap)
    wick = 0.6 * sigma
    high = np.maximum(open_, close) * np.exp(np.abs(rng.standard_normal(n)) * wick)
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.standard_normal(n)) * wick)
    activity = 1 + 0.5 * np.abs(returns) / sigma  # busier on big moves
    volume = np.round(profile.volume * activity * np.exp(0.35 * rng.standard_normal(n)))
    bars = _consistent(open_, high, low, close)
    bars["volume"] = np.maximum(volume, 100.0)
    return bars, sigma


def _minute_bars(
    sessions: pd.DatetimeIndex,
    daily: dict[str, np.ndarray],
    daily_sigma: np.ndarray,
    window: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Minute bars bridging each session's daily open to its close; updates the daily high,
    low and volume of those sessions in place to match their minutes."""
    steps = MINUTES_PER_SESSION
    day_open, day_close = daily["open"][window], daily["close"][window]
    sigma = daily_sigma[window][:, None] / np.sqrt(steps)
    t = np.arange(1, steps + 1) / steps
    walk = np.cumsum(sigma * rng.standard_normal((len(sessions), steps)), axis=1)
    bridge = walk - t * walk[:, -1:]
    log_path = np.log(day_open)[:, None] + t * np.log(day_close / day_open)[:, None] + bridge
    close = np.round(np.exp(log_path), 2)
    close[:, -1] = day_close
    open_ = np.empty_like(close)
    open_[:, 0] = day_open
    open_[:, 1:] = close[:, :-1]
    wick = 0.5 * sigma
    high = np.maximum(open_, close) * np.exp(np.abs(rng.standard_normal(close.shape)) * wick)
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.standard_normal(close.shape)) * wick)
    bars = _consistent(open_, high, low, close)

    smile = 1 + 2.5 * (2 * t - 1) ** 4  # busy open and close, quiet lunch
    share = smile / smile.sum() * np.exp(0.4 * rng.standard_normal(close.shape))
    volume = np.maximum(np.round(daily["volume"][window][:, None] * share), 1.0)
    bars["volume"] = volume

    daily["high"][window] = bars["high"].max(axis=1)
    daily["low"][window] = bars["low"].min(axis=1)
    daily["volume"][window] = volume.sum(axis=1)

    opens = (sessions + SESSION_OPEN).tz_localize(SESSION_TIMEZONE).tz_convert("UTC")
    minute = BarPeriod.MINUTE.nanoseconds
    ts = opens.as_unit("ns").asi8[:, None] + minute * np.arange(steps, dtype="int64")
    return ts.ravel(), {column: array.ravel() for column, array in bars.items()}


def _consistent(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray
) -> dict[str, np.ndarray]:
    """Round to cents, then widen high/low so low <= open, close <= high still holds."""
    open_ = np.maximum(np.round(open_, 2), 0.01)
    close = np.maximum(np.round(close, 2), 0.01)
    high = np.maximum(np.round(high, 2), np.maximum(open_, close))
    low = np.maximum(np.minimum(np.round(low, 2), np.minimum(open_, close)), 0.01)
    return {"open": open_, "high": high, "low": low, "close": close}
