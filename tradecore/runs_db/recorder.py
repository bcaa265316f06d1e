"""RunRecorder: writes every event of a run to runs.db, plus the run's ``runs`` row.

One table per event type (see ``runs_db.schema``), each row led by the run's integer
``run_key``. SQLite in WAL mode, so readers (the dashboard, through DuckDB) see a run grow.

Design Decision: a sink with its own writer
    The recorder never publishes, so nothing waits for it between bars (``is_sink``). It
    receives events in hand-offs of ``batch_size``, by type (``batch_by_type``: a type is a
    table), and keeps one buffer per table; a buffer of
    ``BATCH_SIZE`` rows is written with one ``executemany`` and a commit, as the seed says, and
    partial buffers at least every ``FLUSH_INTERVAL_S`` so a running run shows its fills live.
    Short runs write from the recorder's own thread; long ones from a writer process (see
    ``ProcessWriter``), since a thread would fight the engine for the GIL at row rate.

Design Decision: rows go in as the events are, under a per-run statement
    An event is a tuple of its fields in table-column order, so the writer binds its fields
    as they are: each table's INSERT names the run's key as a literal (``VALUES (7, ?, ...)``),
    so no row is rebuilt in Python to prefix the key. The writer keeps each table's buffered
    rows as columns, as they crossed the pipe, and binds them column by column
    (``SQLiteWriter._execute_columns``). ``bars_processed`` values go into one column per
    indicator slot as they arrive (REAL columns, NaN -> NULL by SQLite itself), taken as they
    are when every row has its strategy's names in slot order (``handover.Slots``).

Design Decision: a hand-over crosses the pipe packed
    The engine is the busier process, so a hand-over costs it C-level work only: each table's
    events flattened and cut into columns, numbers ``struct``-packed, a column of one value
    sent once (``handover``), and one pickle of that. The writer unpacks the columns and
    binds them as columns. ``str`` enums cross the pipe as their plain
    values (``_PLAIN_ENUMS``): a bound ``StrEnum`` member goes through sqlite3's adapter
    lookup, which cost about 1 µs a row here for ``bar_period`` alone.

Design Decision: the writer process writes through apsw
    Python's ``sqlite3`` spends more per row binding parameters than SQLite spends storing
    them; ``apsw`` (a thin, maintained wrapper over its own, newer SQLite) binds the same rows
    for about a third less CPU (measured: 2.4 against 3.6 µs a 10-column row; a 1M-bar run's
    rows in 7.2 s instead of 9.4 s), with the same rows in the file. Only the writer process
    uses it: two copies of SQLite must never have one WAL file open at once in one process
    (``tradecore.analytics.connection``), and that process opens runs.db with nothing else
    while it writes (its ``--finalize`` step reads it after the writer closed it). Short runs,
    written from the engine's own process beside its ``sqlite3`` connections, keep ``sqlite3``.

Design Decision: the final status is written with the last rows
    The orchestrator decides the status; ``shutdown()`` flushes every buffer and sets the
    status and end time in the same final transaction. A reader that sees ``completed`` sees
    every row of the run.
"""

from __future__ import annotations

import copyreg
import io
import json
import pickle
import time
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar

from tradecore import models
from tradecore.events import EVENT_TYPES, BarProcessed, Event
from tradecore.interprocess import start_helper, widen_pipe, write_frame
from tradecore.messaging import EventBus, Subscriber
from tradecore.runs_db import handover
from tradecore.runs_db import runs as runs_rows
from tradecore.runs_db.config import RunConfig
from tradecore.runs_db.handover import INDICATORS_AT, Slots, one_text
from tradecore.runs_db.schema import (
    SEGMENTED_TABLES,
    connect,
    connect_writer_process,
    event_columns,
    indicator_column,
)
from tradecore.runs_db.status import RunStatus

BATCH_SIZE = 1000
#: Rows bound to one multi-row INSERT, at most: see ``SQLiteWriter._execute_rows``.
ROWS_PER_INSERT = 50
#: Bound parameters per statement, at most (SQLite's own limit before 3.32).
MAX_PARAMETERS = 999
#: Partial buffers are written at least this often, for readers of a run still recording.
FLUSH_INTERVAL_S = 1.0
_PROCESSED = BarProcessed.table
_first, _second = itemgetter(0), itemgetter(1)


class RecorderError(RuntimeError):
    """The recording could not be written (disk full, database locked, writer died)."""


class SQLiteWriter:
    """Buffers rows per table and writes them in ``BATCH_SIZE`` executemany + commit batches.

    Used in the recorder's thread for short runs and inside the writer process for long ones.
    ``finish`` flushes everything and sets the run's final status in one transaction.
    """

    def __init__(self, db_path: str | Path, run_key: int, *, apsw: bool = False) -> None:
        """``apsw=True`` (the writer process only) writes through apsw, not sqlite3."""
        self.run_key = int(run_key)
        self._conn = connect_writer_process(db_path) if apsw else connect(db_path, create=False)
        self._conn.execute("PRAGMA cache_size=-65536")
        # SQLite's default: the WAL is checkpointed every 1,000 pages (16 MB in a new runs.db)
        # while the run records, beside the engine, so the run's end waits for one small
        # checkpoint, not the whole run's (1M bars: 0.04 s instead of 0.21 s at 10,000 pages,
        # the same CPU).
        self._conn.execute("PRAGMA wal_autocheckpoint=1000")
        # The key was just read back from runs: checking it again per row costs 0.5 µs a bar.
        self._conn.execute("PRAGMA foreign_keys=OFF")
        # Each table's buffered rows as columns, in table-column order (run_key excluded).
        self._buffers: dict[str, list[list]] = {t.table: [] for t in EVENT_TYPES}
        self._column_names = {t.table: [c for c, _ in event_columns(t)] for t in EVENT_TYPES}
        # Positions of the TEXT columns: a run of rows that holds one text value throughout
        # (the symbol, the bar period, the strategy) binds it once (``_execute_columns``).
        self._text_at = {t.table: [i for i, (_, kind) in enumerate(event_columns(t))
                                   if kind == "TEXT"] for t in EVENT_TYPES}
        self._statements: dict[tuple[str, int, int, tuple[int, ...]], str] = {}
        self._indicator_columns = sum(
            1 for row in self._conn.execute(f"PRAGMA table_info({_PROCESSED})")
            if row[1].startswith("indicator_"))
        # strategy -> {names tuple: positions of the values, or None when in slot order}
        self._slots: dict[str, dict[str, int]] = {}
        self._layouts: dict[tuple[str, tuple[str, ...]], tuple[list[int] | None, int]] = {}
        self._segment: dict[str, list[int] | None] = dict.fromkeys(SEGMENTED_TABLES)
        self.rows_written: dict[str, int] = dict.fromkeys(self._buffers, 0)
        self._last_flush = time.monotonic()

    # -- bars_processed: indicator values into their slots -------------------------------------

    def _processed_columns(self, columns: list) -> list[Sequence]:
        """BarProcessed events, as columns (``handover.unpack``), -> the table's columns in
        order: the fields without ``indicators``, then one column per slot (None where a row
        has no value). Runs once per row of the biggest table, so the common case -- every
        row with the same indicator names, in its strategy's slot order (``Slots``) -- takes
        the values' columns as they are; anything else goes row by row."""
        at = INDICATORS_AT
        indicators = columns[at]
        if type(indicators) is Slots:
            # In order of first appearance, so new slots are registered as the row path would.
            if not any(self._layout_of(strategy, indicators.names)[0] is not None
                       for strategy in dict.fromkeys(columns[2])):
                return [*columns[:at], *columns[at + 1:], *indicators.values]
            indicators = [tuple(zip(indicators.names, values))
                          for values in zip(*indicators.values)]
        rows = self._flatten_rows(list(zip(*columns[:at], indicators, *columns[at + 1:])))
        width = max(map(len, rows))
        return list(zip(*(row + (None,) * (width - len(row)) for row in rows)))

    def _flatten_rows(self, rows: list[tuple]) -> list[tuple]:
        """Row by row: C-level ``map`` and tuple concatenation only, the layout looked up once
        per distinct (strategy, names)."""
        at = INDICATORS_AT
        flats = []
        append = flats.append
        for row in rows:
            pairs = row[at]
            positions, row_width = self._layout_of(row[2], tuple(map(_first, pairs)))
            if positions is None:
                values = tuple(map(_second, pairs))
            else:
                placed = [None] * row_width
                for position, pair in zip(positions, pairs):
                    placed[position] = pair[1]
                values = tuple(placed)
            append(row[:at] + row[at + 1:] + values)
        return flats

    def _layout_of(self, strategy: str, names: tuple[str, ...]) -> tuple[list[int] | None, int]:
        layout = self._layouts.get((strategy, names))
        if layout is None:
            layout = self._layouts[strategy, names] = self._layout(strategy, names)
        return layout

    def _layout(self, strategy: str, names: tuple[str, ...]) -> tuple[list[int] | None, int]:
        """Slots of ``names`` for ``strategy`` (new names get the next free slots): the
        positions of the values (None when in slot order) and the row's width."""
        slots = self._slots.setdefault(strategy, {})
        with self._conn:  # a transaction of its own, committed now: rows are written later
            for name in names:
                if name not in slots:
                    slots[name] = len(slots)
                    self._conn.execute(
                        "INSERT OR IGNORE INTO run_indicators (run_key, strategy, slot, name)"
                        " VALUES (?, ?, ?, ?)", (self.run_key, strategy, slots[name], name))
            self._ensure_indicator_columns(len(slots))
        positions = [slots[name] for name in names]
        if positions == list(range(len(names))):
            return None, len(names)
        return positions, max(positions) + 1

    def _ensure_indicator_columns(self, wanted: int) -> None:
        while self._indicator_columns < wanted:
            try:
                self._conn.execute(f"ALTER TABLE {_PROCESSED} ADD COLUMN "
                                   f"{indicator_column(self._indicator_columns)} REAL")
            except Exception as error:  # noqa: BLE001 - another writer added it first
                if "duplicate column" not in str(error):
                    raise
            self._indicator_columns += 1

    # -- writing -------------------------------------------------------------------------------

    def add_columns(self, groups: Iterable[tuple[str, list[Sequence]]]) -> None:
        """Events of several tables, each table's as columns of its events' fields, in
        order (``handover.unpack`` of a hand-over). Every buffer that is full is then written
        in one transaction (one commit for a hand-over's bars and bars_processed, not one
        each)."""
        full = False
        for table, columns in groups:
            if table == _PROCESSED:
                columns = self._processed_columns(columns)
            if self._extend(self._buffers[table], columns) >= BATCH_SIZE:
                full = True
        if full:
            with self._conn:
                for table, buffer in self._buffers.items():
                    while buffer and len(buffer[0]) >= BATCH_SIZE:
                        self._insert(table, [column[:BATCH_SIZE] for column in buffer])
                        for column in buffer:
                            del column[:BATCH_SIZE]
        if time.monotonic() - self._last_flush > FLUSH_INTERVAL_S:
            self.flush()

    @staticmethod
    def _extend(buffer: list[list], columns: Sequence[Sequence]) -> int:
        """Append rows given as columns to a buffer of columns; the rows it then holds. A
        ``bars_processed`` hand-over may bring more indicator slots than the rows held before
        it, or fewer: the missing values are None (NULL)."""
        held = len(buffer[0]) if buffer else 0
        added = len(columns[0])
        buffer += [[None] * held for _ in range(len(columns) - len(buffer))]
        for column, values in zip(buffer, columns):
            column += values
        for column in buffer[len(columns):]:
            column += repeat(None, added)
        return held + added

    def _insert(self, table: str, columns: list[list]) -> None:
        """Insert the rows ``columns`` hold (inside the caller's transaction) and note their
        rowid range."""
        count = len(columns[0])
        names = self._column_names[table]
        if len(columns) > len(names):  # bars_processed: the fields, then the indicator slots
            names = names + [indicator_column(i) for i in range(len(columns) - len(names))]
        self._execute_columns(table, names, columns)
        if table in self._segment:
            self._note_segment(table, count)
        self.rows_written[table] += count

    def _execute_columns(self, table: str, names: list[str], columns: list[list]) -> None:
        """Insert the rows of ``columns`` in order: ``executemany`` of a multi-row INSERT,
        each of its parameter sets a run of rows; the rows left over (a partial flush) one
        by one.

        Design Decision: ``executemany`` binds runs of rows, not single rows
            ``executemany`` runs its statement once per parameter set, and apsw looks the
            statement up in its cache for each. With ``INSERT ... VALUES (...), (...), ...``
            of 50 rows (``ROWS_PER_INSERT``) a full batch of 1000 rows is still one
            ``executemany`` and one commit, as the seed has it, but SQLite's insert program
            runs 20 times instead of 1000: valgrind counts 28% fewer machine instructions a
            ``bars`` row through apsw (8,600 -> 6,250) and through sqlite3 (10,850 -> 7,800).
            SQLite inserts a VALUES list in its order, so rowids stay consecutive and in
            publication order (``_note_segment``).

        Design Decision: a run of rows is bound column by column, its one text bound once
            The parameters are numbered (``?NNN``) column by column, so a run's parameter set
            is its columns' slices chained, with no row tuple built; and a TEXT column that
            holds one value throughout the runs (the symbol, the bar period, the strategy: the
            usual case) is one parameter that every row of the statement names. Binding text
            was two thirds of apsw's binding time in a profile of the writer process. The
            writer process storing a 1M-bar run's captured hand-overs: 3.3 -> 2.6 CPU-s
            (median of 3, interleaved), the stored rows and their types identical. Whether a
            column holds one text is asked once for all the runs of an insert, not run by
            run: a column whose text changes (several symbols in a batch) is bound row by
            row, as in a run that holds several.
        """
        count = len(columns[0])
        per = min(ROWS_PER_INSERT, MAX_PARAMETERS // len(names))
        whole = count - count % per if per > 1 else 0
        if whole:
            # A TEXT column holding one value through all the runs is bound once in each; any
            # other is bound row by row (the same rows stored either way).
            once = tuple(i for i in self._text_at[table] if one_text(
                columns[i] if whole == count else columns[i][:whole], whole))
            values = [columns[i][0] for i in once]
            others = [column for i, column in enumerate(columns) if i not in once]
            runs = zip(*([column[at:at + per] for at in range(0, whole, per)]
                         for column in others))
            self._conn.executemany(self._statement(table, names, per, once),
                                   [[*values, *chain.from_iterable(run)] for run in runs])
        if whole < count:
            self._conn.executemany(self._statement(table, names, 1, ()),
                                   list(zip(*(column[whole:] for column in columns))))

    def _statement(self, table: str, names: list[str], rows: int, once: tuple[int, ...]) -> str:
        """``INSERT`` of ``rows`` rows into ``names``: parameters numbered column by column
        (column ``c`` of row ``r``: ``?(len(once) + c' * rows + r + 1)``, ``c'`` counting the
        columns not in ``once``), a column in ``once`` one parameter for all rows."""
        key = (table, len(names), rows, once)
        sql = self._statements.get(key)
        if sql is None:
            if rows == 1 and not once:
                values = [f"({self.run_key:d}, {', '.join('?' * len(names))})"]
            else:
                number = {c: k + 1 for k, c in enumerate(once)}
                others = [c for c in range(len(names)) if c not in number]
                first = {c: len(once) + k * rows + 1 for k, c in enumerate(others)}
                values = [f"({self.run_key:d}, " + ", ".join(
                    f"?{number[c]}" if c in number else f"?{first[c] + r}"
                    for c in range(len(names))) + ")" for r in range(rows)]
            sql = self._statements[key] = (
                f"INSERT INTO {table} (run_key, {', '.join(names)}) VALUES {', '.join(values)}")
        return sql

    def _note_segment(self, table: str, count: int) -> None:
        # One transaction's inserts into a table get consecutive rowids (the writer holds the
        # write lock and a rowid is the table's largest plus one).
        last = self._conn.execute("SELECT last_insert_rowid()").fetchone()[0]
        first = last - count + 1
        segment = self._segment[table]
        if segment is not None and segment[1] + 1 == first:
            segment[1] = last
            self._conn.execute(
                "UPDATE run_segments SET last_rowid = ? WHERE run_key = ? AND table_name = ?"
                " AND first_rowid = ?", (last, self.run_key, table, segment[0]))
        else:
            self._segment[table] = [first, last]
            self._conn.execute(
                "INSERT INTO run_segments (run_key, table_name, first_rowid, last_rowid)"
                " VALUES (?, ?, ?, ?)", (self.run_key, table, first, last))

    def _insert_buffers(self) -> None:
        for table, buffer in self._buffers.items():
            if buffer and buffer[0]:
                self._insert(table, buffer)
                self._buffers[table] = []

    def flush(self) -> None:
        """Write every partial buffer in one transaction (so a live reader sees fills and
        orders of a running run within ``FLUSH_INTERVAL_S``, not only at the end)."""
        with self._conn:
            self._insert_buffers()
        self._last_flush = time.monotonic()

    def finish(self, status: str, error: str | None, error_traceback: str | None) -> None:
        try:
            with self._conn:
                self._insert_buffers()
                runs_rows.finish_run(self._conn, self.run_key, status, error, error_traceback)
        finally:
            self._conn.close()

    def abandon(self, status: str, error: str) -> None:
        """Mark the run ended without writing what is still buffered (the stream broke)."""
        try:
            with self._conn:
                runs_rows.finish_run(self._conn, self.run_key, status, error, None)
        finally:
            self._conn.close()


class ProcessWriter:
    """Sends event tuples to a writer process (``python -m tradecore.runs_db.writer_process``).

    Design Decision: a process for long runs
        SQLite releases the GIL for every row it steps, and a writer *thread* then fights
        the engine for the GIL at row rate; the hand-offs cost more than the writing. A
        separate process writes on the other core; the engine only pickles batches of plain
        tuples (and their types) into a pipe (backpressure comes from the pipe itself).
    """

    def __init__(self, db_path: str | Path, run_key: int, *, finalize: bool = False) -> None:
        self.finalized = False
        self._process = start_helper("tradecore.runs_db.writer_process", str(db_path),
                                     str(int(run_key)), *(["--finalize"] if finalize else []))
        self.pid = self._process.pid
        self.rows_written: dict[str, int] = {}
        self._failure_text: str | None = None
        widen_pipe(self._process.stdin)

    def add_many(self, packed: list[tuple[str, int, list]]) -> None:
        """Events of one hand-over, packed (``handover.pack``)."""
        self._send(("packed", packed))

    def _send(self, message: tuple) -> None:
        stream = io.BytesIO()
        pickler = pickle.Pickler(stream, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = _PLAIN_ENUMS
        pickler.dump(message)
        try:
            write_frame(self._process.stdin, stream.getvalue())
        except (BrokenPipeError, OSError, ValueError):
            raise RecorderError(self._failure()) from None

    def finish(self, status: str, error: str | None, error_traceback: str | None) -> None:
        self._send(("finish", status, error, error_traceback))
        try:
            self._process.stdin.close()
            reply = pickle.load(self._process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            raise RecorderError(self._failure()) from None
        finally:
            self._process.wait()
        self.rows_written, self.finalized = reply

    def _failure(self) -> str:
        # Kept from the first call: the shutdown's finish() asks again after a failed send,
        # and by then stderr is drained -- the real reason (disk full ...) must not be lost.
        if self._failure_text is None:
            self._process.kill()
            self._process.wait()
            detail = self._process.stderr.read().decode(errors="replace").strip().splitlines()
            self._failure_text = (
                f"the recorder's writer process failed: {detail[-1]}" if detail else
                f"the recorder's writer process ended without a word (exit code "
                f"{self._process.returncode}; killed?)")
        return self._failure_text


def _plain_value(member: Enum) -> tuple:
    return type(member._value_), (member._value_,)


#: Pickled as their values: the writer binds a plain ``str`` to SQLite, where a ``StrEnum``
#: member takes sqlite3's adaptation path (about 1 µs a row for ``bar_period`` alone); the
#: stored text is the same. Once per distinct member and message (pickle memoizes it).
_PLAIN_ENUMS = {**copyreg.dispatch_table,
                **{cls: _plain_value for cls in vars(models).values()
                   if isinstance(cls, type) and issubclass(cls, Enum) and cls is not Enum
                   and cls.__module__ == models.__name__}}


def plot_info(indicator: Any) -> dict[str, Any]:
    """How an indicator is drawn, from its ``plot_info()`` (or the class defaults)."""
    method = getattr(indicator, "plot_info", None)
    info = dict(method()) if callable(method) else {}
    overlay = bool(info.get("overlay", getattr(indicator, "overlay", False)))
    levels = [float(v) for v in info.get("levels", getattr(indicator, "levels", ()) or ())]
    panel = str(info.get("panel") or ("price" if overlay else getattr(indicator, "name", "")))
    return {"overlay": overlay, "levels": levels, "panel": panel}


class RunRecorder(Subscriber):
    """Records all 13 event types of one run; creates the ``runs`` row on construction.

    ``writer``: ``"thread"`` writes from the recorder's own thread, ``"process"`` from a
    writer process fed directly by the publishing thread at each hand-over (the pipe gives
    backpressure), ``"auto"`` picks the process once ``expect(events)`` announces a run of at
    least ``PROCESS_FROM_EVENTS`` events (short runs skip the process start-up).
    """

    is_sink = True
    batch_size = BATCH_SIZE
    batch_by_type = True  # a table a type: batches come as (event type, events) pairs
    writer: ClassVar[str] = "auto"
    PROCESS_FROM_EVENTS: ClassVar[int] = 100_000
    #: A writer process also stores the finished run's statistics and overviews (the
    #: orchestrator sets this; see ``tradecore.analytics.finalize``).
    finalize_results: bool = False

    def __init__(self, event_bus: EventBus, run_id: str, db_path: str | Path,
                 config: RunConfig | Mapping[str, Any], *, name: str = "",
                 sweep_id: str | None = None, role: str | None = None) -> None:
        if self.writer not in ("auto", "thread", "process"):
            raise ValueError(f"writer must be auto, thread or process, not {self.writer!r}")
        self._db_path = Path(db_path)
        run_config = RunConfig.from_dict(config)
        conn = connect(db_path)
        try:
            runs_rows.mark_interrupted(conn)
            self.run_key, self.run_id = runs_rows.create_run(
                conn, run_id, name, run_config, sweep_id=sweep_id, role=role)
        finally:
            conn.close()
        self.final_status = RunStatus.COMPLETED
        self.final_error: str | None = None
        self.final_traceback: str | None = None
        self._writer: SQLiteWriter | ProcessWriter | None = None
        super().__init__(event_bus)
        for event_type in EVENT_TYPES:
            self._subscribe(event_type, self._record_one)
        if self.writer == "process":
            self._writer = ProcessWriter(db_path, self.run_key,
                                         finalize=self.finalize_results)

    def describe_indicators(self, strategy: str, indicators: Sequence[Any]) -> None:
        """Record a strategy's indicators in slot order with how each is drawn (before the
        first bar; the slots are the order of the values its BarProcessed events carry)."""
        rows = []
        for slot, indicator in enumerate(indicators):
            info = plot_info(indicator)
            rows.append((self.run_key, strategy, slot, indicator.name, int(info["overlay"]),
                         info["panel"], json.dumps(info["levels"])))
        if not rows:
            return
        conn = connect(self._db_path, create=False)
        try:
            with conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO run_indicators"
                    " (run_key, strategy, slot, name, overlay, panel, levels)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        finally:
            conn.close()

    def expect(self, events: int | None) -> None:
        """Told (before the first bar) roughly how many events the run will make."""
        if (self._writer is None and self.writer == "auto" and events is not None
                and events >= self.PROCESS_FROM_EVENTS):
            self._writer = ProcessWriter(self._db_path, self.run_key,
                                         finalize=self.finalize_results)

    @property
    def finalized(self) -> bool:
        """The writer process stored the run's results as it finished."""
        return isinstance(self._writer, ProcessWriter) and self._writer.finalized

    @property
    def writer_pid(self) -> int | None:
        """The writer process's pid (None when writing from this process)."""
        return self._writer.pid if isinstance(self._writer, ProcessWriter) else None

    def _active_writer(self) -> SQLiteWriter | ProcessWriter:
        if self._writer is None:
            self._writer = SQLiteWriter(self._db_path, self.run_key)
        return self._writer

    @property
    def rows_written(self) -> dict[str, int]:
        return dict(self._writer.rows_written) if self._writer is not None else {}

    def _record_one(self, event: Event) -> None:
        self._handle_batch([(type(event), [event])])

    def _receive_batch(self, groups: list[tuple[type[Event], list[Event]]]) -> None:
        if isinstance(self._writer, ProcessWriter):
            self._handle_batch(groups)  # straight into the pipe, no thread hand-off
        else:
            super()._receive_batch(groups)

    def _handle_batch(self, groups: list[tuple[type[Event], list[Event]]]) -> None:
        packed = handover.pack(groups)
        writer = self._active_writer()
        if isinstance(writer, ProcessWriter):
            writer.add_many(packed)
        else:
            writer.add_columns(handover.unpack(packed))

    def _cleanup(self) -> None:
        try:
            self._active_writer().finish(self.final_status, self.final_error,
                                         self.final_traceback)
        except RecorderError as error:
            # The writer process died (killed, out of memory, disk full): say so on the run
            # here, so it never stays "running".
            status = (RunStatus.FAILED if "failed:" in str(error)
                      else RunStatus.INTERRUPTED)
            SQLiteWriter(self._db_path, self.run_key).abandon(status, f"RecorderError: {error}")
            raise
