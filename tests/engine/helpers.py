"""Helpers for engine tests: run a strategy on the test databases, read tables back."""

from __future__ import annotations

import sqlite3
from collections import Counter

from tradecore.brokers import SimulatedBroker
from tradecore.datafeeds import SimulatedDatafeed
from tradecore.events import EVENT_TYPES
from tradecore.messaging import EventBus
from tradecore.orchestrator import Orchestrator


def configured(strategy, symbols, **values):
    """A configured strategy subclass (the dashboard's type() pattern)."""
    from tradecore.configure import configured_strategy

    return configured_strategy(strategy, symbols, values)


def run(strategies, *, broker=SimulatedBroker, datafeed=SimulatedDatafeed) -> Orchestrator:
    orchestrator = Orchestrator(strategies=strategies, broker=broker, datafeed=datafeed)
    orchestrator.run()
    return orchestrator


def _run_key(conn, run_id) -> int:
    row = conn.execute("SELECT run_key FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    assert row is not None, f"no run {run_id}"
    return row[0]


def table_rows(db, table, run_id, ignore=("ts_created_ns",)):
    """A run's rows of ``table`` in insertion order, without ``run_key`` and ``ignore``."""
    with sqlite3.connect(db) as conn:
        cursor = conn.execute(f"SELECT * FROM {table} WHERE run_key = ? ORDER BY rowid",
                              (_run_key(conn, run_id),))
        names = [d[0] for d in cursor.description]
        keep = [i for i, n in enumerate(names) if n not in ignore and n != "run_key"]
        return [tuple(row[i] for i in keep) for row in cursor]


def indicator_values(db, run_id, strategy) -> dict[str, list]:
    """``{indicator name: [value per bars_processed row of the strategy]}`` (None = warm-up)."""
    with sqlite3.connect(db) as conn:
        key = _run_key(conn, run_id)
        slots = conn.execute("SELECT slot, name FROM run_indicators WHERE run_key = ?"
                             " AND strategy = ? ORDER BY slot", (key, strategy)).fetchall()
        columns = ", ".join(f"indicator_{slot}" for slot, _ in slots)
        rows = conn.execute(f"SELECT {columns} FROM bars_processed WHERE run_key = ?"
                            " AND strategy = ? ORDER BY rowid", (key, strategy)).fetchall()
    return {name: [row[i] for row in rows] for i, (_, name) in enumerate(slots)}


def row_counts(db, run_id) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        key = _run_key(conn, run_id)
        return {t.table: conn.execute(f"SELECT count(*) FROM {t.table} WHERE run_key = ?",
                                      (key,)).fetchone()[0] for t in EVENT_TYPES}


def run_row(db, run_id) -> dict:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone())


class PublishCounter:
    """Counts every event published on any EventBus, by table (monkeypatches publish)."""

    def __init__(self, monkeypatch):
        self.counts: Counter = Counter()
        original = EventBus.publish

        def counting_publish(bus, event):
            self.counts[event.table] += 1
            return original(bus, event)

        monkeypatch.setattr(EventBus, "publish", counting_publish)

    def as_dict(self) -> dict[str, int]:
        return {t.table: self.counts.get(t.table, 0) for t in EVENT_TYPES}
