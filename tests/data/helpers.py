"""Known bars written in every shape a vendor or spreadsheet uses, and ways to compare results.

The same bars are written as many files; importing each must store exactly the same bars, and
replaying them must give the same fills as the plain ISO file.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

from tests.engine.helpers import configured, run
from tradecore.strategies.examples import SMACrossover

NY = "America/New_York"


def daily_bars() -> pd.DataFrame:
    """130 weekday DAY bars from 2023-01-02: a wave the SMA crossover trades several times.
    Dates run past the 12th of each month, so day-first and month-first can be told apart."""
    days = pd.bdate_range("2023-01-02", periods=130)
    return _wave(days, period_bars=6.0)


def hourly_bars() -> pd.DataFrame:
    """New York session hours (09:00-16:00 local) on weekdays from 2024-02-26 to 2024-03-28:
    the US clocks go forward on 2024-03-10, so UTC times shift by an hour half-way."""
    days = pd.bdate_range("2024-02-26", "2024-03-28")
    local = [day + pd.Timedelta(hours=h) for day in days for h in range(9, 17)]
    utc = pd.DatetimeIndex(local).tz_localize(NY).tz_convert("UTC")
    return _wave(utc.tz_localize(None), period_bars=9.0)


def _wave(times: pd.DatetimeIndex, period_bars: float) -> pd.DataFrame:
    i = np.arange(len(times))
    close = np.round(100 + 8 * np.sin(i / period_bars) + 0.03 * i, 2)
    open_ = np.r_[100.0, close[:-1]]
    return pd.DataFrame({
        "time": times,  # naive UTC
        "open": open_,
        "high": np.round(np.maximum(open_, close) + 0.5, 2),
        "low": np.round(np.minimum(open_, close) - 0.5, 2),
        "close": close,
        "volume": 1000 + i,
    })


def to_csv(frame: pd.DataFrame, sep: str = ",") -> bytes:
    return frame.to_csv(index=False, sep=sep).encode()


def stored_bars(db: Path) -> list[tuple]:
    """Every stored bar as (raw symbol, period, ts_event, o, h, l, c, v)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT i.raw_symbol, b.bar_period, b.ts_event, b.open, b.high, b.low, b.close, "
            "b.volume FROM bars AS b JOIN instruments AS i USING (instrument_id) "
            "ORDER BY 1, 2, 3"
        ).fetchall()
    finally:
        conn.close()


def table_snapshot(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
            for table in ("publishers", "instruments", "symbology", "bars", "coverage")
        }
    finally:
        conn.close()


def file_state(db: Path) -> tuple[str, bool]:
    """The database file's bytes (hashed) and whether a WAL file exists."""
    return hashlib.sha256(db.read_bytes()).hexdigest(), Path(f"{db}-wal").exists()


def replay_fills(symbol: str, period: str) -> list[tuple]:
    """Run the SMA crossover on ``symbol`` (the test's databases) and return its fills."""
    strategy = configured(SMACrossover, [symbol], bar_period=period, fast_period=3,
                          slow_period=8, quantity=10)
    run_id = run([strategy]).run_id
    return recorded(run_id, "fills", "ts_event_ns, side, quantity_filled, fill_price, commission")


def recorded(run_id: str, table: str, columns: str) -> list[tuple]:
    """Rows of one run from runs.db with plain sqlite3 (works with the run_id or run_key
    schema)."""
    from tradecore import paths

    conn = sqlite3.connect(paths.runs_db_path())
    try:
        names = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if "run_key" in names:
            where = "run_key = (SELECT run_key FROM runs WHERE run_id = ?)"
        else:
            where = "run_id = ?"
        return conn.execute(
            f"SELECT {columns} FROM {table} WHERE {where} ORDER BY ts_event_ns, rowid", (run_id,)
        ).fetchall()
    finally:
        conn.close()
