"""A hand-over of events on its way to the writer process: each table's events as packed columns.

``pack(groups)`` runs in the engine process at every hand-over (about 1000 events, which the
recorder receives by type: ``Subscriber.batch_by_type``); the writer process calls ``unpack``
and binds the columns zipped back into rows. ``unpack(pack(groups))`` gives each table's
columns of the events' fields, in publication order, with the values SQLite stores for them.

Design Decision: numbers cross as struct-packed columns, not pickled objects
    The engine is the busier process, and pickling a number costs it hundreds of machine
    instructions (an ``int`` such as a nanosecond timestamp the most); ``struct.pack`` copies
    it as 8 bytes. So each table's events are turned into columns by C code (``zip``, strict:
    an event short of a field is refused; it was a flat list cut by slices, which grew by
    reallocation as it filled: valgrind, 42,819 -> 42,107 engine instructions a bar with
    ``zip``); a column of a REAL or INTEGER table column is packed with
    ``struct`` ("d" or "n"), a column that holds one value throughout (the symbol, the bar
    period, the strategy) is sent once, and anything else (text, None among numbers, an int
    too big for 64 bits) is pickled as it is. A ``BarProcessed``'s indicator pairs, when every
    event carries the same names, cross as the names once and the values packed. Measured on
    the SMA benchmark's events (two a bar): building and pickling a hand-over cost about
    10,000 machine instructions a bar as pickled rows and 8,400 packed (valgrind); in an
    interleaved A/B of 300k-bar runs, the writer's CPU went from 13.5 to 9.4 µs a bar (it
    unpacks bytes instead of unpickling objects). The whole engine's instruction count fell
    only 0.8% (valgrind, 54,770 -> 54,330 a bar), so its CPU in that A/B (16.9 -> 15.3 µs)
    was mostly this machine's noise: the engine still pays for touching every event once.
    Packing is lossless for what is stored: the table's column type already turns an int in a
    REAL column into a REAL, and NaN into NULL; a column of one text value stores that text.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from tradecore.events import EVENT_TYPES, BarProcessed, Event
from tradecore.runs_db.schema import event_columns

#: How a packed column travels: as it is, one value for every row, struct-packed ("d", "n"),
#: or (indicators only) as slot names and values.
RAW, SAME, SLOTS = "", "=", "slots"
#: Where a ``BarProcessed`` carries its ``(name, value)`` pairs.
INDICATORS_AT = BarProcessed.fields.index("indicators")
#: Native codes (``n``, the C ``ssize_t``, not ``q``): the writer is a process of this machine,
#: and ``n`` converts a big int (a nanosecond timestamp) in 15 ns where ``q`` takes 20.
_STRUCT_CODES = {"REAL": "d", "INTEGER": "n"}
#: event type -> the struct code of each field's column ("" where there is none).
_CODES = {kind: tuple(_STRUCT_CODES.get(dict(event_columns(kind)).get(name), "")
                      for name in kind.fields) for kind in EVENT_TYPES}

PackedColumn = tuple[str, Any]


class Slots(NamedTuple):
    """``BarProcessed`` indicator values unpacked: the names every event carries, in order,
    and one column of values per name."""

    names: tuple[str, ...]
    values: list[tuple]


def pack(groups: Iterable[tuple[type[Event], Sequence[Event]]]
         ) -> list[tuple[str, int, list[PackedColumn]]]:
    """``(table, count, packed columns)`` per ``(event type, its events in order)`` group (a
    sink's batch by type, see ``messaging``), in the groups' order."""
    packed = []
    for kind, rows in groups:
        width, count = len(kind.fields), len(rows)
        if not count:
            continue
        try:
            fields = list(zip(*rows, strict=True))  # each column one tuple of its exact size
        except ValueError:
            fields = []
        if len(fields) != width:
            raise ValueError(f"{kind.__name__} events must have exactly its {width} fields")
        codes = _CODES[kind]
        columns = [_pack_column(fields[at], codes[at], count) for at in range(width)]
        if kind is BarProcessed:
            columns[INDICATORS_AT] = _pack_indicators(fields[INDICATORS_AT], count)
        packed.append((kind.table, count, columns))
    return packed


def _pack_column(column: Sequence, code: str, count: int) -> PackedColumn:
    if code:
        try:
            return code, struct.pack(f"{count}{code}", *column)  # native: the same machine
        except (struct.error, TypeError, OverflowError):
            pass  # None among the numbers, a value too big for 64 bits: pickled as it is
    if one_text(column, count):
        return SAME, column[0]
    return RAW, column


def one_text(values: Sequence, count: int) -> bool:
    """``values`` (``count`` of them) are one text value throughout, or all None: what may
    be sent, and bound, once. Only text (a str enum stores as its text) or None: 1 == 1.0 ==
    True, but they are stored apart."""
    first = values[0]
    return (first is None or isinstance(first, str)) and values.count(first) == count


def _pack_indicators(column: Sequence, count: int) -> PackedColumn:
    """The names once and each slot's values packed, when every event carries the same names
    in the same order; else the pairs as they are. Each slot's pairs and then its names and
    values are taken apart by strict ``zip``s: columns of their exact size, and events that
    carry different numbers of indicators (or a pair that is not one) stop it."""
    try:
        slots = list(zip(*column, strict=True))  # per slot, every event's (name, value)
        names, values = [], []
        for pairs in slots:
            slot_names, slot_values = zip(*pairs, strict=True)
            if slot_names.count(slot_names[0]) != count:
                return RAW, column
            names.append(slot_names[0])
            values.append(_pack_column(slot_values, "d", count))
    except ValueError:
        return RAW, column
    return SLOTS, (tuple(names), values)


def unpack(groups: list[tuple[str, int, list[PackedColumn]]]) -> list[tuple[str, list]]:
    """``pack``'s output -> ``(table, columns)``: a sequence of values per field, except a
    ``BarProcessed`` indicators column sent as slots, which becomes ``Slots``."""
    return [(table, [_unpack_column(code, payload, count) for code, payload in columns])
            for table, count, columns in groups]


def _unpack_column(code: str, payload: Any, count: int) -> Any:
    if code == RAW:
        return payload
    if code == SAME:
        return (payload,) * count
    if code == SLOTS:
        names, values = payload
        return Slots(names, [_unpack_column(*slot, count) for slot in values])
    return struct.unpack(f"{count}{code}", payload)
