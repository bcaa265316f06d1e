"""A run's raw event rows, as Arrow tables: the SQL that finds them in runs.db (written once)
and its two readers.

- ``read_duckdb`` runs it inside SQLite through DuckDB's SQLite extension (``sqlite_query``):
  what the dashboard, the CLI and every analytics function use.
- ``read_connection`` runs it on a connection of its own, Python's sqlite3 or apsw: only
  ``finalize`` uses it, in the process that recorded the run (an engine process, whose sqlite3
  owns runs.db, or the recorder's writer process, whose apsw does; see ``connection``'s note
  on two copies of SQLite).

A run's rows of the two big tables are found by its rowid segments, of the others by the
``run_key`` index (``tradecore.runs_db.schema``).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Any

import numpy as np
import pyarrow as pa

from tradecore.analytics.connection import query_arrow, real_text, sqlite_query
from tradecore.runs_db.schema import SEGMENTED_TABLES, indicator_column

_I, _F, _S = pa.int64(), pa.float64(), pa.string()

#: Columns read from each event table (the recorder's names) and their Arrow types.
RAW_COLUMNS: dict[str, list[tuple[str, pa.DataType]]] = {
    "bars": [("ts_event_ns", _I), ("symbol", _S), ("open", _F), ("high", _F), ("low", _F),
             ("close", _F), ("volume", _F)],
    "bars_processed": [("ts_event_ns", _I), ("symbol", _S), ("strategy", _S)],
    "fills": [("ts_event_ns", _I), ("fill_id", _I), ("associated_order_id", _I),
              ("strategy", _S), ("symbol", _S), ("side", _S), ("quantity_filled", _F),
              ("fill_price", _F), ("commission", _F)],
    "order_submissions": [("ts_event_ns", _I), ("order_id", _I), ("strategy", _S),
                          ("symbol", _S), ("order_type", _S), ("side", _S), ("quantity", _F),
                          ("limit_price", _F), ("stop_price", _F), ("expiry_ns", _I),
                          ("action", _S), ("signal", _S)],
    "order_cancellations": [("ts_event_ns", _I), ("order_id", _I), ("strategy", _S)],
    "order_modifications": [("ts_event_ns", _I), ("order_id", _I), ("strategy", _S),
                            ("quantity", _F), ("limit_price", _F), ("stop_price", _F)],
    "orders_accepted": [("ts_event_ns", _I), ("order_id", _I)],
    "orders_rejected": [("ts_event_ns", _I), ("order_id", _I), ("reason", _S),
                        ("message", _S)],
    "cancellations_accepted": [("ts_event_ns", _I), ("order_id", _I)],
    "cancellations_rejected": [("ts_event_ns", _I), ("order_id", _I), ("reason", _S),
                               ("message", _S)],
    "modifications_accepted": [("ts_event_ns", _I), ("order_id", _I), ("quantity", _F),
                               ("limit_price", _F), ("stop_price", _F)],
    "modifications_rejected": [("ts_event_ns", _I), ("order_id", _I), ("reason", _S),
                               ("message", _S)],
    "expirations": [("ts_event_ns", _I), ("order_id", _I), ("symbol", _S)],
}
ORDER_TABLES = tuple(t for t in RAW_COLUMNS if t not in SEGMENTED_TABLES and t != "fills")


def schema(table: str, indicator_slots: int = 0) -> pa.Schema:
    """Arrow schema of ``table``'s raw rows: ``rowid``, its columns, and for
    ``bars_processed`` ``indicator_0 .. indicator_<slots-1>``."""
    fields = [("rowid", _I), *RAW_COLUMNS[table]]
    if table == "bars_processed":
        fields += [(indicator_column(i), _F) for i in range(indicator_slots)]
    return pa.schema(fields)


def select_sql(table: str, indicator_slots: int = 0, *, text_reals: bool,
               window: bool = False, after: bool = False) -> str:
    """SQLite SQL selecting one run's rows of ``table`` in rowid order; ``?1`` = run_key, with
    ``window`` ``?2``/``?3`` = first/last ``ts_event_ns`` to keep, with ``after`` ``?4`` = the
    last rowid already read (a running run is read incrementally).

    ``text_reals`` renders REAL columns with all their digits (for ``sqlite_query``, whose
    columns arrive as text).
    """
    columns = []
    for field in schema(table, indicator_slots):
        name, kind = field.name, field.type
        column = f"t.{name}"
        columns.append(real_text(column) + f" AS {name}" if kind == _F and text_reals
                       else column)
    select = ", ".join(columns)
    if table in SEGMENTED_TABLES:
        sql = (f"SELECT {select} FROM run_segments AS s CROSS JOIN {table} AS t"
               f" ON t.rowid BETWEEN s.first_rowid AND s.last_rowid"
               f" WHERE s.run_key = ?1 AND s.table_name = '{table}' AND t.run_key = ?1")
        if after:
            sql += " AND s.last_rowid > ?4"
    else:
        sql = f"SELECT {select} FROM {table} AS t WHERE t.run_key = ?1"
    if window:
        sql += " AND t.ts_event_ns BETWEEN ?2 AND ?3"
    if after:
        sql += " AND t.rowid > ?4"
    # CROSS JOIN fixes the loop order (segments outside, the table's rowid ranges inside):
    # left to choose, SQLite's planner scanned the whole big table once it held many runs.
    # Ordering by the segment first lets that loop order deliver rowid order without a sort.
    order = "s.first_rowid, t.rowid" if table in SEGMENTED_TABLES else "t.rowid"
    return f"{sql} ORDER BY {order}"


def read_duckdb(alias: str, run_key: int, table: str, indicator_slots: int = 0, *,
                start_ns: int | None = None, end_ns: int | None = None,
                after_rowid: int | None = None) -> pa.Table:
    """One run's rows of ``table`` through DuckDB's ``sqlite_query`` (typed, exact); with
    ``after_rowid`` only those written after that row."""
    window = start_ns is not None or end_ns is not None
    after = after_rowid is not None
    values: list[int] = [int(run_key)]
    if window or after:
        values += [int(start_ns if start_ns is not None else -(2 ** 63)),
                   int(end_ns if end_ns is not None else 2 ** 63 - 1)]
    if after:
        values.append(int(after_rowid))
    sql = select_sql(table, indicator_slots, text_reals=True, window=window, after=after)
    expression, params = sqlite_query(alias, sql, values)
    target = schema(table, indicator_slots)
    casts = ", ".join(
        f"{name}::{'BIGINT' if kind == _I else 'DOUBLE' if kind == _F else 'VARCHAR'}"
        f" AS {name}" for name, kind in zip(target.names, target.types, strict=True))
    result = query_arrow(f"SELECT {casts} FROM {expression}", params)
    return result.cast(target)


def read_connection(conn: Any, run_key: int, table: str,
                 indicator_slots: int = 0, *,
                 codes: dict[str, Sequence[str]] | None = None) -> pa.Table:
    """One run's rows of ``table`` through ``conn``, a sqlite3 or an apsw connection
    (``finalize`` only).

    For the two big tables ``codes`` (``{"symbol": [...], "strategy": [...]}``, from the run's
    config) lets SQLite hand over small integers instead of a text object per row, and the
    rowid is left out: two million rows cost about half as much to read.
    """
    target = schema(table, indicator_slots)
    if table in SEGMENTED_TABLES and codes:
        coded = _read_coded(conn, run_key, table, target, codes)
        if coded is not None:
            return coded
    cursor = conn.execute(select_sql(table, indicator_slots, text_reals=False), (int(run_key),))
    parts = []
    while rows := list(islice(cursor, 200_000)):
        parts.append(_rows_to_arrow(rows, target))
    return pa.concat_tables(parts) if parts else target.empty_table()


def _read_coded(conn: Any, run_key: int, table: str, target: pa.Schema,
                codes: dict[str, Sequence[str]]) -> pa.Table | None:
    fields = [f for f in target if f.name != "rowid"]
    selected, params = [], []
    for field in fields:
        values = codes.get(field.name) if pa.types.is_string(field.type) else None
        if pa.types.is_string(field.type) and not values:
            return None
        if values:
            cases = " ".join(f"WHEN ? THEN {i}" for i in range(len(values)))
            selected.append(f"CASE t.{field.name} {cases} ELSE -1 END")
            params.extend(values)
        else:
            selected.append(f"t.{field.name}")
    sql = (f"SELECT {', '.join(selected)} FROM run_segments AS s CROSS JOIN {table} AS t"
           f" ON t.rowid BETWEEN s.first_rowid AND s.last_rowid"
           f" WHERE s.run_key = ? AND s.table_name = '{table}' AND t.run_key = ?"
           f" ORDER BY s.first_rowid, t.rowid")
    cursor = conn.execute(sql, (*params, int(run_key), int(run_key)))
    parts = []
    while rows := list(islice(cursor, 100_000)):  # in chunks: Python rows are the costly part
        columns = []
        for position, field in enumerate(fields):
            values = codes.get(field.name) if pa.types.is_string(field.type) else None
            column = pa.array([row[position] for row in rows],
                              type=_I if values else field.type)
            if values:
                if pa.compute.min(column).as_py() < 0:
                    return None  # a name the config does not list: read the text instead
                column = pa.DictionaryArray.from_arrays(
                    column.cast(pa.int32()), pa.array(list(values))).cast(pa.string())
            columns.append(column)
        parts.append(pa.table(columns, schema=pa.schema(fields)))
    return pa.concat_tables(parts) if parts else pa.schema(fields).empty_table()


def _rows_to_arrow(rows: Sequence[tuple], target: pa.Schema) -> pa.Table:
    if not any(pa.types.is_string(t) for t in target.types):
        packed = np.array(rows, dtype=[(n, "i8" if t == _I else "f8")
                                       for n, t in zip(target.names, target.types, strict=True)])
        return pa.table([pa.array(packed[n], type=t)
                         for n, t in zip(target.names, target.types, strict=True)],
                        schema=target)
    columns = list(zip(*rows, strict=True))
    return pa.table([pa.array(c, type=t) for c, t in zip(columns, target.types, strict=True)],
                    schema=target)
