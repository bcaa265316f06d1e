"""The secmaster.db file: where it lives, its tables, how to open it, and every SQL statement.

All SQL for secmaster.db is in this module (STYLE: one place per database); the other modules
call these statements by name and never build SQL themselves.

Tables
------
``publishers``   one row per (name, dataset): ``sample/synthetic``, ``local/csv``,
                 ``databento/XNAS.ITCH`` ...
``instruments``  one row per (publisher, symbol_type, raw_symbol); ``source_instrument_id`` keeps
                 the publisher's own id (Databento's ``instrument_id``), NULL for CSV data.
``symbology``    date-bounded mappings ``(symbol, symbol_type) -> instrument_id`` over
                 ``[start_date, end_date)`` (ISO dates, end exclusive as in Databento's
                 symbology). Imports extend the bounds to the dates of the bars they write.
``bars``         OHLCV bars keyed by ``(instrument_id, bar_period, ts_event)``, a ``WITHOUT ROWID``
                 table so the primary key *is* the storage order and a replay of one instrument
                 is a single range scan.
``coverage``     per (instrument, period): first/last ``ts_event`` and bar count, recomputed by
                 every import so listings never scan ``bars``.

Conventions
-----------
* ``bar_period`` is a :class:`~tradecore.models.BarPeriod` name (``DAY``, ``MINUTE`` ...).
* ``ts_event`` is the bar's **open** time as integer nanoseconds since the Unix epoch, UTC.
  A DAY bar is stamped at 00:00 UTC of its trading date (as Databento's ``ohlcv-1d``).
* Prices and volume are ``REAL`` (IEEE doubles). Why not fixed-point integers: every producer
  (CSV, ``DBNStore.to_df``, the sample generator) and every consumer (strategies, indicators,
  pandas) works in floats, so integers would cost a conversion on the replay hot path for no
  gain; a double holds 15-16 significant digits, exact for any price quoted to 1e-9 below
  ~10 million. Volume is REAL too because some sources report fractional volume (crypto, FX).

Connections use WAL (readers never block the single writer), ``foreign_keys=ON`` and a busy
timeout; writes run in explicit ``BEGIN IMMEDIATE`` transactions (see :func:`transaction`).
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tradecore import paths
from tradecore.secmaster.errors import SecmasterError

SCHEMA_VERSION = 1

# Connections wait this long for another writer (a parallel import) before failing.
BUSY_TIMEOUT_S = 30.0

PathLike = str | os.PathLike[str]


def default_secmaster_path() -> Path:
    """``$TRADECORE_SECMASTER`` if set, else ``secmaster.db`` in :func:`tradecore.paths.data_dir`
    (the checkout's ``data/`` folder, whatever the working directory).

    Read at call time, so tests and the CLI can change the variable after import.
    """
    return paths.secmaster_path()


def resolve_path(db_path: PathLike | None) -> Path:
    return default_secmaster_path() if db_path is None else Path(db_path)


# --------------------------------------------------------------------------------------------
# DDL
# --------------------------------------------------------------------------------------------

DDL = """
CREATE TABLE IF NOT EXISTS publishers (
    publisher_id INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    dataset      TEXT NOT NULL,
    UNIQUE (name, dataset)
);

CREATE TABLE IF NOT EXISTS instruments (
    instrument_id        INTEGER PRIMARY KEY,
    publisher_id         INTEGER NOT NULL
                         REFERENCES publishers (publisher_id) ON DELETE CASCADE,
    raw_symbol           TEXT NOT NULL,
    symbol_type          TEXT NOT NULL,
    source_instrument_id INTEGER,
    UNIQUE (publisher_id, symbol_type, raw_symbol)
);

CREATE TABLE IF NOT EXISTS symbology (
    symbol        TEXT NOT NULL,
    symbol_type   TEXT NOT NULL,
    instrument_id INTEGER NOT NULL
                  REFERENCES instruments (instrument_id) ON DELETE CASCADE,
    start_date    TEXT NOT NULL,
    end_date      TEXT NOT NULL,
    PRIMARY KEY (symbol, symbol_type, instrument_id, start_date)
);

CREATE INDEX IF NOT EXISTS symbology_by_instrument
    ON symbology (instrument_id);

CREATE TABLE IF NOT EXISTS bars (
    instrument_id INTEGER NOT NULL
                  REFERENCES instruments (instrument_id) ON DELETE CASCADE,
    bar_period    TEXT NOT NULL,
    ts_event      INTEGER NOT NULL,
    open          REAL NOT NULL,
    high          REAL NOT NULL,
    low           REAL NOT NULL,
    close         REAL NOT NULL,
    volume        REAL NOT NULL,
    PRIMARY KEY (instrument_id, bar_period, ts_event)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS coverage (
    instrument_id INTEGER NOT NULL
                  REFERENCES instruments (instrument_id) ON DELETE CASCADE,
    bar_period    TEXT NOT NULL,
    first_ts      INTEGER NOT NULL,
    last_ts       INTEGER NOT NULL,
    bar_count     INTEGER NOT NULL,
    PRIMARY KEY (instrument_id, bar_period)
);
"""

# --------------------------------------------------------------------------------------------
# Writes (imports, sample)
# --------------------------------------------------------------------------------------------

SELECT_PUBLISHER_ID = """
SELECT publisher_id
FROM publishers
WHERE name = ?
  AND dataset = ?
"""

INSERT_PUBLISHER = """
INSERT INTO publishers (name, dataset)
VALUES (?, ?)
"""

DELETE_PUBLISHER = """
DELETE FROM publishers
WHERE name = ?
  AND dataset = ?
"""

SELECT_INSTRUMENT_ID = """
SELECT instrument_id
FROM instruments
WHERE publisher_id = ?
  AND symbol_type = ?
  AND raw_symbol = ?
"""

INSERT_INSTRUMENT = """
INSERT INTO instruments (publisher_id, raw_symbol, symbol_type, source_instrument_id)
VALUES (?, ?, ?, ?)
"""

UPDATE_SOURCE_INSTRUMENT_ID = """
UPDATE instruments
SET source_instrument_id = ?
WHERE instrument_id = ?
"""

SELECT_SYMBOLOGY_BOUNDS = """
SELECT start_date, end_date
FROM symbology
WHERE symbol = ?
  AND symbol_type = ?
  AND instrument_id = ?
"""

INSERT_SYMBOLOGY = """
INSERT INTO symbology (symbol, symbol_type, instrument_id, start_date, end_date)
VALUES (?, ?, ?, ?, ?)
"""

# Imports keep one mapping row per (symbol, type, instrument) and widen it to the new dates.
WIDEN_SYMBOLOGY = """
UPDATE symbology
SET start_date = min(start_date, ?),
    end_date = max(end_date, ?)
WHERE symbol = ?
  AND symbol_type = ?
  AND instrument_id = ?
"""

INSERT_BAR = """
INSERT INTO bars (instrument_id, bar_period, ts_event, open, high, low, close, volume)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""

# Only for bars the user asked to replace (--replace); see writer.write_bars.
UPSERT_BAR = """
INSERT INTO bars (instrument_id, bar_period, ts_event, open, high, low, close, volume)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (instrument_id, bar_period, ts_event) DO UPDATE SET
    open = excluded.open,
    high = excluded.high,
    low = excluded.low,
    close = excluded.close,
    volume = excluded.volume
"""

# The stored bars an import overlaps, compared with the incoming ones before anything is written.
SELECT_BARS_BETWEEN = """
SELECT ts_event, open, high, low, close, volume
FROM bars
WHERE instrument_id = ?
  AND bar_period = ?
  AND ts_event >= ?
  AND ts_event <= ?
ORDER BY ts_event
"""

SELECT_BAR_COUNT = """
SELECT bar_count
FROM coverage
WHERE instrument_id = ?
  AND bar_period = ?
"""

# Recomputed from bars (a range scan of the primary key) so merges and replacements stay exact.
REFRESH_COVERAGE = """
INSERT INTO coverage (instrument_id, bar_period, first_ts, last_ts, bar_count)
SELECT instrument_id, bar_period, min(ts_event), max(ts_event), count(*)
FROM bars
WHERE instrument_id = ?
  AND bar_period = ?
GROUP BY instrument_id, bar_period
ON CONFLICT (instrument_id, bar_period) DO UPDATE SET
    first_ts = excluded.first_ts,
    last_ts = excluded.last_ts,
    bar_count = excluded.bar_count
"""

COUNT_INSTRUMENTS = """
SELECT count(*)
FROM instruments
"""

# Symbology files (tradecore.secmaster.symbology): a file replaces the mappings of the symbols it
# names, within its publisher/dataset.
SELECT_INSTRUMENT_IN_SOURCE = """
SELECT i.instrument_id
FROM instruments AS i
JOIN publishers AS p ON p.publisher_id = i.publisher_id
WHERE p.name = ?
  AND p.dataset = ?
  AND i.raw_symbol = ?
ORDER BY i.instrument_id
"""

DELETE_SYMBOL_MAPPINGS_IN_SOURCE = """
DELETE FROM symbology
WHERE symbol = ?
  AND symbol_type = ?
  AND instrument_id IN (
      SELECT i.instrument_id
      FROM instruments AS i
      JOIN publishers AS p ON p.publisher_id = i.publisher_id
      WHERE p.name = ?
        AND p.dataset = ?
  )
"""

# Mappings whose symbol is not the instrument's own raw symbol: the ones a user set up.
SELECT_MAPPINGS = """
SELECT s.symbol, s.symbol_type, p.name AS publisher, p.dataset, i.raw_symbol AS instrument,
       s.start_date, s.end_date, s.instrument_id
FROM symbology AS s
JOIN instruments AS i ON i.instrument_id = s.instrument_id
JOIN publishers AS p ON p.publisher_id = i.publisher_id
WHERE s.symbol <> i.raw_symbol
   OR s.symbol_type <> i.symbol_type
ORDER BY s.symbol, s.symbol_type, p.name, p.dataset, s.start_date
"""

# --------------------------------------------------------------------------------------------
# Reads (datafeed, CLI, dashboard)
# --------------------------------------------------------------------------------------------

# Every mapping of a symbol (with its date window), with the periods its instrument has bars for
# and their first/last bar (NULL: no bars).
SELECT_SYMBOL_CANDIDATES = """
SELECT i.instrument_id, p.name, p.dataset, c.bar_period, s.start_date, s.end_date,
       c.first_ts, c.last_ts, i.raw_symbol
FROM symbology AS s
JOIN instruments AS i ON i.instrument_id = s.instrument_id
JOIN publishers AS p ON p.publisher_id = i.publisher_id
LEFT JOIN coverage AS c ON c.instrument_id = i.instrument_id
WHERE s.symbol = ?
  AND s.symbol_type = ?
ORDER BY p.name, p.dataset, s.start_date, i.instrument_id
"""

SELECT_SYMBOLS = """
SELECT DISTINCT s.symbol
FROM symbology AS s
JOIN coverage AS c ON c.instrument_id = s.instrument_id
WHERE s.symbol_type = ?
  AND (? IS NULL OR c.bar_period = ?)
ORDER BY s.symbol
"""

SELECT_INSTRUMENTS = """
SELECT i.raw_symbol AS symbol,
       p.name AS publisher,
       p.dataset,
       i.symbol_type,
       c.bar_period,
       c.first_ts AS first_ts_ns,
       c.last_ts AS last_ts_ns,
       c.bar_count,
       i.instrument_id
FROM coverage AS c
JOIN instruments AS i ON i.instrument_id = c.instrument_id
JOIN publishers AS p ON p.publisher_id = i.publisher_id
ORDER BY i.raw_symbol, p.name, p.dataset, c.bar_period
"""

SELECT_COVERAGE = """
SELECT first_ts, last_ts, bar_count
FROM coverage
WHERE instrument_id = ?
  AND bar_period = ?
"""

SELECT_PUBLISHER_OF_INSTRUMENT = """
SELECT p.name, p.dataset
FROM instruments AS i
JOIN publishers AS p ON p.publisher_id = i.publisher_id
WHERE i.instrument_id = ?
"""

# The replay query: one instrument, time-ordered, straight off the primary key. The symbol is a
# bound parameter so each row arrives as the finished tuple the datafeed publishes.
STREAM_BARS = """
SELECT ts_event, ?, open, high, low, close, volume, instrument_id
FROM bars
WHERE instrument_id = ?
  AND bar_period = ?
  AND ts_event >= ?
  AND ts_event <= ?
ORDER BY ts_event
"""

COUNT_BARS = """
SELECT count(*)
FROM bars
WHERE instrument_id = ?
  AND bar_period = ?
  AND ts_event >= ?
  AND ts_event <= ?
"""

FIRST_BAR_TS = """
SELECT ts_event
FROM bars
WHERE instrument_id = ?
  AND bar_period = ?
  AND ts_event >= ?
  AND ts_event <= ?
ORDER BY ts_event
LIMIT 1
"""

LAST_BAR_TS = """
SELECT ts_event
FROM bars
WHERE instrument_id = ?
  AND bar_period = ?
  AND ts_event >= ?
  AND ts_event <= ?
ORDER BY ts_event DESC
LIMIT 1
"""

PREVIEW_FIRST_BARS = """
SELECT ts_event, open, high, low, close, volume
FROM bars
WHERE instrument_id = ?
  AND bar_period = ?
  AND ts_event >= ?
  AND ts_event <= ?
ORDER BY ts_event
LIMIT ?
"""

PREVIEW_LAST_BARS = """
SELECT ts_event, open, high, low, close, volume
FROM bars
WHERE instrument_id = ?
  AND bar_period = ?
  AND ts_event >= ?
  AND ts_event <= ?
ORDER BY ts_event DESC
LIMIT ?
"""

# --------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------


def connect(db_path: PathLike | None = None, *, for_writing: bool = False) -> sqlite3.Connection:
    """Open secmaster.db in autocommit mode (transactions are explicit, see :func:`transaction`).

    For reading the file must exist and hold the schema; for writing it is created if needed.
    The connection may be used from another thread than the one that opened it (the datafeed
    creates its stream in one thread and replays it in another), never from two at once.
    A file that is missing, read-only (for writing), cut off or not a database raises
    :class:`SecmasterError` naming the file and what to do.
    """
    path = resolve_path(db_path)
    check_file(path)
    if for_writing:
        create_secmaster(path)
    elif not path.is_file():
        raise SecmasterError(
            f"no secmaster database at {path}; build the sample with `python -m tradecore sample` "
            f"or import data with `python -m tradecore import csv FILE --symbol S --period P`"
        )
    conn = _open(path, read_only=not for_writing)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _unusable(path, exc) from exc
    if not for_writing and version < SCHEMA_VERSION:
        conn.close()
        raise SecmasterError(f"{path} is not a secmaster database (no secmaster schema found); "
                             f"point --secmaster at your secmaster.db, or build the sample "
                             f"there with `python -m tradecore sample --secmaster {path}`")
    return conn


def check_file(path: Path) -> None:
    """Refuse a file that is not a SQLite database or was cut off, before SQLite meets it."""
    problem = paths.file_problem(path)
    if problem:
        raise SecmasterError(
            f"the secmaster database {path} {problem}; restore it from a backup, or move it "
            f"aside and rebuild with `python -m tradecore sample --secmaster {path}` or "
            f"`python -m tradecore import ...`")


def _unusable(path: Path, exc: sqlite3.Error) -> SecmasterError:
    """A SQLite error on opening, as a message that names the file and what to do."""
    text = str(exc)
    if "readonly" in text or "unable to open" in text or "read-only" in text:
        return SecmasterError(
            f"cannot open the secmaster database {path} ({text}); make the file and its "
            f"folder readable and writable, or pass --secmaster with a copy elsewhere")
    return SecmasterError(
        f"the secmaster database {path} is damaged ({text}); restore it from a backup, or "
        f"move it aside and rebuild with `python -m tradecore sample --secmaster {path}`")


def connect_bar_reader(db_path: PathLike | None):
    """An ``apsw`` connection for reading bars in the bar reader process, where nothing else
    opens the file (see :mod:`tradecore.secmaster.stream`); the replay checked the file
    through :func:`connect` before starting it. Opened as :func:`connect` opens for reading."""
    import apsw

    target, uri = _target(resolve_path(db_path), read_only=True)
    conn = apsw.Connection(target, flags=apsw.SQLITE_OPEN_READWRITE | (
        apsw.SQLITE_OPEN_URI if uri else 0))
    conn.setbusytimeout(int(BUSY_TIMEOUT_S * 1000))
    return conn


def _target(path: Path, *, read_only: bool) -> tuple[str, bool]:
    """What to open for ``path``, and whether it is a URI."""
    if read_only and paths.writable_problem(path) and not Path(f"{path}-shm").exists():
        # A WAL database in a read-only folder cannot create its -shm index; nobody can be
        # writing it there, so read it as immutable instead of failing "unable to open".
        return f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro&immutable=1", True
    return str(path), False


def _open(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    target, uri = _target(path, read_only=read_only)
    try:
        conn = sqlite3.connect(
            target, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False,
            uri=uri,
        )
        conn.execute("PRAGMA foreign_keys = ON")
        # WAL makes NORMAL durable up to the last checkpoint and much faster for bulk imports.
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        raise _unusable(path, exc) from exc
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """All-or-nothing block; ``IMMEDIATE`` takes the write lock up front so a parallel writer
    waits (busy timeout) instead of failing half-way with ``database is locked``."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def writing(db_path: PathLike | None) -> Iterator[sqlite3.Connection]:
    """Open ``db_path`` for writing, run the block as one transaction, close: an import."""
    conn = connect(db_path, for_writing=True)
    try:
        with transaction(conn):
            yield conn
    finally:
        conn.close()


@contextmanager
def reading(conn_or_path: sqlite3.Connection | PathLike | None) -> Iterator[sqlite3.Connection]:
    """Use the caller's connection as is, or open (and afterwards close) one on a path."""
    if isinstance(conn_or_path, sqlite3.Connection):
        yield conn_or_path
        return
    conn = connect(conn_or_path)
    try:
        yield conn
    finally:
        conn.close()


def create_secmaster(db_path: PathLike | None = None) -> Path:
    """Create secmaster.db with its schema (and parent directories); harmless if it exists."""
    path = resolve_path(db_path)
    check_file(path)
    unwritable = paths.writable_problem(path)
    if unwritable:
        raise SecmasterError(
            f"cannot write to the secmaster database {path}: {unwritable}; make it writable, "
            f"or pass --secmaster with a writable copy")
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = _open(path)
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            # journal_mode is persistent: set once, every later connection gets WAL.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(DDL)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
    except sqlite3.DatabaseError as exc:
        raise SecmasterError(f"cannot create a secmaster database at {path}: {exc}") from exc
    finally:
        conn.close()
    return path
