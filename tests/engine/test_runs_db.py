"""tradecore.runs_db: the schema's one owner -- versions, RunConfig, rowid segments of runs
written side by side, more indicators than columns, copying and deleting a run."""

from __future__ import annotations

import json
import math
import sqlite3
import threading

import pytest

from tests.analytics.helpers import RunBuilder, config, day
from tradecore import analytics
from tradecore.runs_db import (
    SCHEMA_VERSION,
    RunConfig,
    RunConfigError,
    RunsDatabaseError,
    connect,
    copy_run,
    delete_run,
)
from tradecore.runs_db.recorder import BATCH_SIZE


def _rows(db, run_id, table="bars", indicator_slots=0):
    """A run's rows of ``table`` found the way analytics finds them (segments or key)."""
    from tradecore.analytics.raw import select_sql

    with sqlite3.connect(db) as conn:
        key = conn.execute("SELECT run_key FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
        rows = conn.execute(select_sql(table, indicator_slots, text_reals=False),
                            (key,)).fetchall()
    conn.close()
    return rows


def test_an_older_runs_db_is_refused_with_what_to_do(tmp_path):
    old = tmp_path / "runs.db"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY)")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    with pytest.raises(RunsDatabaseError, match="older tradecore.*move the file aside"):
        connect(old)
    with pytest.raises(RunsDatabaseError, match="older tradecore"):
        analytics.list_runs(old)
    analytics.close_connections()
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.execute("CREATE TABLE x (a)")
    conn.close()
    with pytest.raises(RunsDatabaseError, match="newer tradecore"):
        connect(newer)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    bad = tmp_path / "runs.db"
    bad.write_bytes(b"this is not a database file at all" * 100)
    with pytest.raises(RunsDatabaseError, match="not a usable runs database"):
        connect(bad)


def test_run_config_round_trips_and_refuses_bad_json():
    raw = config(["AAA", "BBB"], cash=50_000.0, commission=0.01,
                 parameters={"fast_period": 3}, extra={"custom": {"x": 1}})
    raw["datafeed"] = {"class": "SimulatedDatafeed", "start_ns": 5, "end_ns": None,
                       "publisher_name": "local", "dataset": "csv", "symbol_type": "raw"}
    parsed = RunConfig.from_json(json.dumps(raw))
    assert parsed.initial_cash == 50_000.0 and parsed.symbols == ("AAA", "BBB")
    assert parsed.strategies[0].parameters["fast_period"] == 3
    assert parsed.datafeed.attributes["symbol_type"] == "raw"
    assert json.loads(parsed.to_json()) == raw
    for text, message in (("{not json", "not JSON"), ("[]", "JSON object"),
                          ('{"symbols": []}', "strategies"), ("", "no stored configuration")):
        with pytest.raises(RunConfigError, match=message):
            RunConfig.from_json(text)
    broken = dict(raw, broker={"initial_cash": "lots"})
    with pytest.raises(RunConfigError, match="initial_cash"):
        RunConfig.from_dict(broken)


def test_runs_recorded_side_by_side_each_find_exactly_their_rows(tmp_path):
    db = tmp_path / "runs.db"
    builders = {name: RunBuilder(db, name, config(["AAA"])) for name in ("left", "right")}
    bars = 3 * BATCH_SIZE + 17
    errors = []
    # Both threads flush at the same points, so their transactions surely interleave (left
    # alone, one thread can finish before the other starts on a busy machine).
    turns = threading.Barrier(2, timeout=60)

    def record(name: str, offset: float) -> None:
        try:
            builder = builders[name]
            for d in range(bars):
                builder.bar(day(d), "AAA", 10 + offset, 11 + offset, 9 + offset,
                            10 + offset + d / 1000, indicators={"SMA(2)": offset + d})
                if d % 300 == 0:
                    builder.flush()  # interleave the two writers' transactions
                    turns.wait()
            builder.finish()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=record, args=(name, i * 100.0))
               for i, name in enumerate(builders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with sqlite3.connect(db) as conn:
        segments = conn.execute("SELECT count(*) FROM run_segments").fetchone()[0]
    conn.close()
    assert segments > 4  # the writers did interleave
    for offset, name in ((0.0, "left"), (100.0, "right")):
        rows = _rows(db, name)
        assert len(rows) == bars
        assert {row[3] for row in rows} == {10 + offset}  # open: only this run's bars
        assert [row[1] for row in rows] == [day(d) for d in range(bars)]
        processed = _rows(db, name, "bars_processed")
        assert len(processed) == bars


def test_more_indicators_than_columns_get_columns_of_their_own(tmp_path):
    db = tmp_path / "runs.db"
    builder = RunBuilder(db, "wide", config(["AAA"]))
    names = {f"IND({i})": float(i) for i in range(11)}
    for d in range(5):
        builder.bar(day(d), "AAA", 10, 11, 9, 10, indicators=names)
    builder.bar(day(5), "AAA", 10, 11, 9, 10, indicators={"IND(3)": 3.0, "LATE": 99.0})
    builder.finish()
    frame = analytics.bars("wide", db)
    assert list(frame.columns[-12:]) == [*names, "LATE"]
    assert frame["IND(10)"].iloc[0] == 10.0 and frame["LATE"].iloc[5] == 99.0
    assert math.isnan(frame["IND(0)"].iloc[5])  # not in that row: NaN, never another value
    analytics.close_connections()


@pytest.mark.parametrize("indicators", [2, 600], ids=["runs-of-rows", "row-by-row"])
def test_rows_go_in_in_order_whether_bound_in_runs_or_one_by_one(tmp_path, indicators):
    """A full batch is bound in runs of rows (a multi-row INSERT), a partial flush's leftover
    row by row, and a row too wide for two in one statement always row by row: the stored
    rows are the published ones, in order, either way."""
    from tradecore.runs_db.recorder import MAX_PARAMETERS, ROWS_PER_INSERT

    assert (indicators > 100) == (2 * indicators > MAX_PARAMETERS)  # 600: one row at a time
    db = tmp_path / "runs.db"
    builder = RunBuilder(db, "order", config(["AAA"]))
    bars = BATCH_SIZE + ROWS_PER_INSERT + 3 if indicators < 100 else 7
    for d in range(bars):
        builder.bar(day(d), "AAA", d, d + 1.0, d - 1.0, d + 0.5,
                    indicators={f"I{i}": d * 1000.0 + i for i in range(indicators)})
        if d == bars - 2:
            builder.flush()  # a partial flush: rows not a whole number of runs
    builder.finish()
    rows = _rows(db, "order")
    assert [(row[1], row[3], row[6]) for row in rows] == [
        (day(d), float(d), d + 0.5) for d in range(bars)]
    processed = _rows(db, "order", "bars_processed", indicators)
    assert [row[1] for row in processed] == [day(d) for d in range(bars)]
    assert [list(row[4:]) for row in processed] == [
        [d * 1000.0 + i for i in range(indicators)] for d in range(bars)]


@pytest.mark.parametrize("apsw", [False, True], ids=["sqlite3", "apsw"])
def test_text_bound_once_or_per_row_stores_the_same_rows(tmp_path, apsw):
    """A run of rows binds a TEXT column once when it holds one value throughout, and per row
    otherwise: symbols alternating, then constant; a text column all None, then mixed; a
    str enum among equal strings; a row count that leaves rows over. The stored rows and
    their types are exactly those given."""
    from tradecore.models import BarPeriod
    from tradecore.runs_db.recorder import SQLiteWriter
    from tradecore.runs_db.runs import create_run

    db = tmp_path / "runs.db"
    conn = connect(db)
    key, _ = create_run(conn, "text", "text", RunConfig.from_dict(config(["AAA", "BBB"])))
    conn.close()
    count = BATCH_SIZE + 137
    bars = [(day(0) + i, "AAA" if i >= 400 or i % 2 else "BBB",
             BarPeriod.DAY if i % 7 == 0 else "DAY", 1.0 + i, 2.0 + i, 0.5 + i, 1.5 + i,
             float(i), i % 3 if i > 900 else None, 10**18 + i) for i in range(count)]
    orders = [(day(0) + i, i, "S", "AAA", "MARKET", "BUY", 1.0, None, None, None, None,
               None if i < 600 else ("up" if i % 5 else None), 5) for i in range(count)]
    writer = SQLiteWriter(db, key, apsw=apsw)
    for start in range(0, count, 300):  # hand-overs of 300 rows
        part = bars[start:start + 300]
        writer.add_columns([("bars", [list(c) for c in zip(*part)]),
                            ("order_submissions",
                             [list(c) for c in zip(*orders[start:start + 300])])])
    writer.finish("completed", None, None)
    with sqlite3.connect(db) as read:
        stored = read.execute(
            "SELECT ts_event_ns, symbol, bar_period, open, high, low, close, volume,"
            " instrument_id, ts_created_ns, typeof(symbol), typeof(bar_period),"
            " typeof(instrument_id) FROM bars WHERE run_key = ? ORDER BY rowid",
            (key,)).fetchall()
        signals_stored = read.execute(
            "SELECT signal, typeof(signal) FROM order_submissions WHERE run_key = ?"
            " ORDER BY rowid", (key,)).fetchall()
    read.close()
    assert [row[:10] for row in stored] == [
        (b[0], b[1], str(b[2]), *b[3:]) for b in bars]
    assert {row[10:12] for row in stored} == {("text", "text")}
    assert [row[12] for row in stored] == ["null" if b[8] is None else "integer" for b in bars]
    assert signals_stored == [(o[11], "null" if o[11] is None else "text") for o in orders]


def test_copy_run_brings_a_run_over_in_one_piece(tmp_path):
    private, shared = tmp_path / "private.db", tmp_path / "shared.db"
    builder = RunBuilder(private, "point", config(["AAA"]))
    builder.trade(day(2), 1, "AAA", "BUY", 10, 10.0)
    for d in range(2 * BATCH_SIZE + 5):
        builder.bar(day(d), "AAA", 10, 11, 9, 10 + d % 3, indicators={"SMA(2)": 1.0 * d})
    builder.finish()
    RunBuilder(shared, "point", config(["AAA"])).finish()  # the id is taken there
    copied = copy_run(private, shared, "point", sweep_id="sw-1", role="in_sample")
    assert copied == "point_2"
    for table in ("bars", "bars_processed", "fills", "order_submissions"):
        copied_rows = [r[1:] for r in _rows(shared, copied, table)]  # all but the rowid
        assert copied_rows == [r[1:] for r in _rows(private, "point", table)], table
    with sqlite3.connect(shared) as conn:
        sweep, role = conn.execute("SELECT sweep_id, role FROM runs WHERE run_id = ?",
                                   (copied,)).fetchone()
        segments = conn.execute("SELECT count(*) FROM run_segments JOIN runs USING (run_key)"
                                " WHERE run_id = ?", (copied,)).fetchone()[0]
    conn.close()
    assert (sweep, role) == ("sw-1", "in_sample")
    assert segments == 2  # one contiguous range per big table
    assert analytics.statistics(copied, shared)["trades"] == \
        analytics.statistics("point", private)["trades"]
    analytics.close_connections()


def test_delete_run_removes_its_rows_and_no_one_elses(tmp_path):
    db = tmp_path / "runs.db"
    for name in ("a", "b"):
        builder = RunBuilder(db, name, config(["AAA"]))
        for d in range(1500):
            builder.bar(day(d), "AAA", 10, 11, 9, 10)
        builder.finish()
    conn = connect(db)
    try:
        delete_run(conn, "a")
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM bars").fetchone()[0] == 1500
        assert conn.execute("SELECT count(*) FROM bars_processed").fetchone()[0] == 1500
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    assert len(_rows(db, "b")) == 1500


def test_a_field_added_to_an_event_gets_its_column_in_an_older_file(tmp_path):
    db = tmp_path / "runs.db"
    connect(db).close()
    with sqlite3.connect(db) as conn:  # as a file from before BarReceived.instrument_id
        conn.execute("ALTER TABLE bars DROP COLUMN instrument_id")
    conn.close()
    builder = RunBuilder(db, "old-file", config(["AAA"]))
    builder.bar(day(0), "AAA", 10, 11, 9, 10)
    builder.finish()
    assert len(_rows(db, "old-file")) == 1


def test_a_runs_rows_are_found_by_segment_however_many_runs_are_stored(tmp_path):
    """The planner must walk the run's rowid ranges in order, never scan a big table or sort:
    with a plain JOIN it chose a full scan of a 15M-row bars table once run_segments held a
    few hundred runs (seen on bench/analytics.py's runs.db), and ORDER BY t.rowid alone made
    it sort a million rows."""
    from tradecore.analytics.raw import select_sql
    from tradecore.runs_db.schema import delete_run_statements

    db = tmp_path / "runs.db"
    conn = connect(db)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")  # segments of runs this test does not make
        with conn:
            conn.executemany("INSERT INTO run_segments VALUES (?, ?, ?, ?)",
                             [(k, t, k * 100, k * 100 + 99) for k in range(1, 600)
                              for t in ("bars", "bars_processed")])
        conn.execute("ANALYZE")
        statements = [select_sql(t, 2, text_reals=False, after=after, window=window)
                      for t in ("bars", "bars_processed") for after in (False, True)
                      for window in (False, True)]
        statements += delete_run_statements()
        for sql in statements:
            plan = " | ".join(row[3] for row in conn.execute(
                f"EXPLAIN QUERY PLAN {sql}", (1, 0, 1, 0) if "?4" in sql
                else (1, 0, 1) if "?3" in sql else (1,)))
            assert "SCAN t" not in plan and "SCAN bars" not in plan, (sql, plan)
            assert "TEMP B-TREE" not in plan, (sql, plan)
    finally:
        conn.close()


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_indicator_values_land_in_their_strategys_slots_whatever_the_batch(tmp_path, writer,
                                                                           monkeypatch):
    """Batches where every row has the same names in slot order take the column-wise path;
    mixed batches (two strategies with their names in different orders, a row with a new
    name, a row with fewer names) go row by row. Both must store each value in the column
    of its (strategy, name), NaN as NULL, and the text of str enums as they are."""
    from tradecore.runs_db.recorder import RunRecorder

    monkeypatch.setattr(RunRecorder, "writer", writer)
    db = tmp_path / "runs.db"
    builder = RunBuilder(db, "slots", config(["AAA"]))
    expected = []  # (ts, strategy, {name: value}) in publication order
    for d in range(BATCH_SIZE + 7):  # uniform: strategy A, names in slot order
        values = {"F": float(d), "S": math.nan if d < 3 else d / 7}
        builder.bar(day(d), "AAA", 10, 11, 9, 10, indicators=values, strategy="A")
        expected.append((day(d), "A", values))
    base = BATCH_SIZE + 7
    for d in range(base, base + 3 * BATCH_SIZE):  # mixed
        builder.bar(day(d), "AAA", 10, 11, 9, 10, indicators={"F": d + 0.5, "S": d + 0.25},
                    strategy="A")
        expected.append((day(d), "A", {"F": d + 0.5, "S": d + 0.25}))
        other = ({"S": -d, "F": d * 2.0} if d % 3 else {"F": d * 2.0, "NEW": 1.5}
                 if d % 2 else {"S": -d * 1.0})
        builder.processed(day(d), "AAA", "B", other)
        expected.append((day(d), "B", other))
    builder.finish()
    with sqlite3.connect(db) as conn:
        slots = {(strategy, name): slot for strategy, name, slot in conn.execute(
            "SELECT strategy, name, slot FROM run_indicators")}
        periods = {row[0] for row in conn.execute("SELECT DISTINCT bar_period FROM bars")}
    conn.close()
    assert slots[("B", "S")] == 0 and slots[("B", "F")] == 1  # B's first row set its order
    assert periods == {"DAY"}
    width = max(slots.values()) + 1
    rows = _rows(db, "slots", "bars_processed", width)
    assert len(rows) == len(expected)
    for row, (ts, strategy, values) in zip(rows, expected, strict=True):
        assert (row[1], row[3]) == (ts, strategy)
        stored = list(row[4:])
        wanted = [None] * width
        for name, value in values.items():
            wanted[slots[(strategy, name)]] = None if math.isnan(value) else value
        assert stored == wanted, (ts, strategy)


def _by_type(events):
    """A flat list of events as a sink's batch by type: ``(type, its events in order)`` in
    order of first appearance."""
    return [(kind, [event for event in events if type(event) is kind])
            for kind in dict.fromkeys(map(type, events))]


@pytest.mark.parametrize("short", ["one", "all"])
def test_a_hand_over_refuses_events_without_all_their_fields(short):
    """An event tuple built short (``tuple.__new__`` with a field left out) is refused in
    words, never stored with its columns shifted or cut."""
    from tradecore.events import BarReceived
    from tradecore.models import BarPeriod
    from tradecore.runs_db.handover import pack

    def bar(d, fields=10):
        return tuple.__new__(BarReceived, (day(d), "AAA", BarPeriod.DAY, 1.0, 2.0, 0.5, 1.5,
                                           10.0, 1, 5)[:fields])

    events = [bar(d, 9 if short == "all" or d == 2 else 10) for d in range(4)]
    with pytest.raises(ValueError, match="BarReceived events must have exactly its 10 fields"):
        pack(_by_type(events))
    assert pack(_by_type([bar(d) for d in range(4)]))[0][:2] == ("bars", 4)


def test_a_hand_over_unpacks_to_each_tables_fields_in_publication_order():
    """``handover``: interleaved events of three types, by type, come out as one group per
    table, in the groups' order, whose columns zip back to the events' fields in publication
    order -- numbers packed, a column of one value sent once, None among numbers and ints
    beyond 64 bits as they are, indicator pairs as slots only when every event has the same
    names."""
    from tradecore.events import BarProcessed, BarReceived, FillEvent
    from tradecore.models import BarPeriod, TradeSide
    from tradecore.runs_db.handover import RAW, SAME, SLOTS, Slots, pack, unpack

    events = []
    for d in range(5):
        events.append(BarReceived(day(d), "AAA", BarPeriod.DAY, 1.0 + d, 2.0, 0.5, 1.5, 10.0,
                                  instrument_id=2**70 if d == 3 else 1))
        if d % 2:
            events.append(FillEvent(day(d), fill_id=d, associated_order_id=d, strategy="S",
                                    symbol="AAA", side=TradeSide.BUY, quantity_filled=1.0,
                                    fill_price=1.0 + d, commission=None if d == 1 else 0.5))
        events.append(BarProcessed(day(d), "AAA", "S", BarPeriod.DAY,
                                   (("F", d / 3), ("G", math.nan))))
    packed = pack(_by_type(events))
    assert [(table, count) for table, count, _ in packed] == [
        ("bars", 5), ("bars_processed", 5), ("fills", 2)]
    bars, processed, fills = (dict(zip(type_.fields, columns, strict=True))
                              for type_, (_, _, columns) in zip(
                                  (BarReceived, BarProcessed, FillEvent), packed, strict=True))
    assert bars["open"][0] == "d" and bars["ts_event_ns"][0] == "n"
    assert bars["symbol"] == (SAME, "AAA") and bars["instrument_id"][0] == RAW  # 2**70
    assert fills["commission"][0] == RAW and processed["indicators"][0] == SLOTS
    for (table, columns), (_, count, _) in zip(unpack(packed), packed, strict=True):
        expected = [event for event in events if event.table == table]
        assert len(expected) == count
        if table == "bars_processed":
            slots = columns[4]
            assert type(slots) is Slots and slots.names == ("F", "G")
            columns = [*columns[:4], [tuple(zip(slots.names, values))
                                      for values in zip(*slots.values)], *columns[5:]]
        rows = list(zip(*columns, strict=True))
        for row, event in zip(rows, expected, strict=True):
            assert [type(v) for v in row if v == v] == [type(v) for v in event if v == v]
            assert repr(row) == repr(tuple(event))  # NaN included
    mixed = [BarProcessed(day(0), "AAA", "S", BarPeriod.DAY, (("F", 1.0),)),
             BarProcessed(day(1), "AAA", "S", BarPeriod.DAY, (("G", 2.0),))]
    code, pairs = pack(_by_type(mixed))[0][2][4]
    assert (code, list(pairs)) == (RAW, [(("F", 1.0),), (("G", 2.0),)])
    wider = [*mixed[:1], BarProcessed(day(1), "AAA", "S", BarPeriod.DAY,
                                      (("F", 2.0), ("G", 3.0)))]
    code, pairs = pack(_by_type(wider))[0][2][4]
    assert (code, list(pairs)) == (RAW, [event.indicators for event in wider])
    # Per slot: values all None (sent once), None among numbers (as they are), numbers.
    gaps = [BarProcessed(day(d), "AAA", "S", BarPeriod.DAY,
                         (("A", None), ("B", None if d == 1 else d / 7), ("C", d * 1.5)))
            for d in range(3)]
    [(_, (names, values))] = [column for column in pack(_by_type(gaps))[0][2] if column[0] == SLOTS]
    assert names == ("A", "B", "C") and [code for code, _ in values] == [SAME, RAW, "d"]
    slots = unpack(pack(_by_type(gaps)))[0][1][4]
    assert [list(column) for column in slots.values] == [
        [None] * 3, [0.0, None, 2 / 7], [0.0, 1.5, 3.0]]
