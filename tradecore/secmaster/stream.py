"""The bar stream a replay reads, in this process or read ahead in a bar reader process.

``python -m tradecore.secmaster.stream`` is the bar reader: it takes one request (pickled) on
stdin, writes the stream's chunks to stdout as packed rows (``interprocess`` frames) and
exits. :func:`tradecore.secmaster.stream_bars` is the public way to read bars; this module is
its engine room, and imports nothing heavier than sqlite3 so the reader starts in a blink.

Design Decision: a long replay reads its bars in a reader process
    Reading the bars through sqlite3 was an eighth of the engine process's samples (py-spy,
    SMA benchmark): sqlite3 releases and retakes the GIL around every row it steps, and builds
    each row's objects. apsw reads in half the CPU, but a second SQLite library in the engine
    process is not safe: another sqlite3 connection to the WAL file in that process could
    reset the ``-shm`` under its mapping (see ``analytics/connection.py``). The reader is a
    process of its own, where apsw is the file's only user: an ordinary second SQLite user of
    it. It reads the same merged chunks in the same single read transaction (one snapshot) and
    sends each as packed rows, one ``struct`` record a row; the engine replays
    ``Struct.iter_unpack``, rows equal to the in-process ones. ``iter_unpack`` makes a row's
    objects as the replay reaches it, while they are still in the cache: unpacking whole
    columns first and zipping them costs the same machine instructions (valgrind) but the
    engine 11% more CPU (11.4 against 10.2 and 13.3 against 11.7 µs a bar in two interleaved
    A/Bs of 4 pairs of 1M-bar runs, wall 7-9% more). The pipe bounds how far the reader
    runs ahead (a few chunks), so memory stays flat; closing the stream kills the reader, so a
    cancel is as quick as before. Measured: 55,300 -> 47,100 machine instructions a bar in the
    engine (valgrind); the reader takes about 2.4 µs of CPU a bar, about what the engine saves,
    so the gain is in wall time wherever a core is free for it (1M-bar A/B here: engine 16.8
    -> 14.1 µs a bar with the multi-row INSERTs of the same change, wall 19.7 -> 17.1 µs). The
    reader costs a process start (about a tenth of a second), so only runs of at least
    ``SimulatedDatafeed.read_ahead_from_bars`` bars use it, and sweep workers, whose cores are
    all busy with points, never do.
"""

from __future__ import annotations

import pickle
import struct
import sys
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from itertools import islice, starmap
from operator import itemgetter
from typing import Any

from tradecore.interprocess import (
    read_frame,
    start_helper,
    widen_pipe,
    write_frame,
)
from tradecore.secmaster import schema
from tradecore.secmaster.errors import SecmasterError

BarRow = tuple[int, str, float, float, float, float, float, int]
"""``(ts_event_ns, symbol, open, high, low, close, volume, instrument_id)``"""

#: One symbol's rows: ``(symbol or its index, instrument_id, start_ns, end_ns)`` per segment,
#: in time order.
Source = list[tuple[Any, int, int, int]]

#: Rows per list yielded by ``chunks`` (and ``stream_bars(..., chunks=True)``).
CHUNK_ROWS = 2048

#: A ``BarRow`` packed whole: the replay's rows (the symbol's index in place of the symbol)
#: cross as such; a chunk with a value that does not fit (a symbol's text) is pickled as it is.
#: Native sizes and byte order (``n``: the C ``ssize_t``, 8 bytes here), as the reader is a
#: process of the same Python on the same machine: each value is copied as it is, where the
#: standard ``=qqdddddq`` converts it (a 2,048-row chunk: packing 151 -> 90 ns a row in the
#: reader, ``iter_unpack`` 176 -> 126 ns a row in the replay). A value out of ``ssize_t``'s
#: range does not fit, and its chunk is pickled.
_ROW = struct.Struct("nndddddn")


def chunks(path: schema.PathLike, sources: list[Source], period: str,
           chunk_rows: int | None = None, *,
           connect: Callable[[schema.PathLike], Any] = schema.connect) -> Iterator[list[BarRow]]:
    """The sources' rows ordered by ``(ts_event, symbol)``, in lists of up to ``chunk_rows``
    per symbol, all read in one transaction; the database is opened (``connect``: sqlite3,
    or apsw in the bar reader) at the first ``next()`` and closed when the iterator is
    exhausted or closed."""
    if not sources:
        return
    size = chunk_rows or CHUNK_ROWS
    conn = connect(path)
    try:
        conn.execute("BEGIN")
        streams = []
        for source in sources:
            # A rolling symbol's segments are consecutive in time: reading them one after the
            # other keeps order.
            cursors = [conn.execute(schema.STREAM_BARS, (symbol, instrument_id, period, low, high))
                       for symbol, instrument_id, low, high in source]
            streams.append(_chunks_of(cursors, size))
        yield from streams[0] if len(streams) == 1 else _merged(streams)
    finally:
        conn.close()


def read_ahead(path: schema.PathLike, sources: list[Source],
               period: str) -> Iterator[Iterable[BarRow]]:
    """``chunks``' rows, read by a bar reader process a few chunks ahead of the caller; each
    chunk comes as an iterable of rows. The reader starts now, so it opens the file and reads
    its first chunks while the caller sets up the rest of the run (it takes about a twentieth
    of a second to the first chunk). Errors are raised as ``chunks`` would have raised them
    (a ``SecmasterError`` as such); closing the iterator stops the reader at once, also when
    it was never read."""
    if not sources:
        return chunks(path, sources, period)  # nothing to read: no reader
    return _ReadAhead(path, sources, period)


class _ReadAhead:
    """The chunks of a bar reader process started by ``__init__``; ``close()`` stops it."""

    def __init__(self, path: schema.PathLike, sources: list[Source], period: str) -> None:
        self._process = process = start_helper("tradecore.secmaster.stream")
        try:
            widen_pipe(process.stdout)
            try:
                process.stdin.write(pickle.dumps((str(path), sources, period, CHUNK_ROWS)))
                process.stdin.close()
            except OSError:
                pass  # the reader is gone already: what it said is read by the first next()
        except BaseException:
            self._stop()
            raise
        self._chunks = self._read(str(path))

    def __iter__(self) -> _ReadAhead:
        return self

    def __next__(self) -> Iterable[BarRow]:
        return next(self._chunks)

    def close(self) -> None:
        self._chunks.close()
        self._stop()

    def _read(self, path: str) -> Iterator[Iterable[BarRow]]:
        process = self._process
        try:
            while (frame := read_frame(process.stdout)) is not None:
                kind, *body = pickle.loads(frame)
                if kind == "rows":
                    yield _ROW.iter_unpack(body[0])
                elif kind == "list":
                    yield body[0]
                elif kind == "end":
                    _add_reader_cpu(body[0])
                    return
                else:
                    is_secmaster_error, message = body
                    raise (SecmasterError(message) if is_secmaster_error else
                           RuntimeError(f"reading bars from {path} failed: {message}"))
            process.kill()
            process.wait()
            detail = process.stderr.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError("the bar reader process " + (
                f"failed: {detail[-1]}" if detail else
                f"ended without a word (exit code {process.returncode}; killed?)"))
        finally:
            self._stop()

    def _stop(self) -> None:
        process = self._process
        if process.poll() is None:
            process.kill()  # stopped early (a cancel, a failed run): nothing more is read
        process.wait()
        for pipe in (process.stdin, process.stdout, process.stderr):
            pipe.close()


_reader_cpu = [0.0]
_reader_cpu_lock = threading.Lock()


def readers_cpu_seconds() -> float:
    """CPU seconds (user and system) of the bar readers that ended their stream in this
    process so far: the benchmark reports a replay's reader apart from the writer process."""
    return _reader_cpu[0]


def _add_reader_cpu(seconds: float) -> None:
    with _reader_cpu_lock:
        _reader_cpu[0] += seconds


def _chunks_of(cursors: list[Iterator[BarRow]], size: int) -> Iterator[list[BarRow]]:
    """One symbol's rows in lists of up to ``size``, its cursors (sqlite3 or apsw) one after
    the other."""
    for cursor in cursors:
        while chunk := list(islice(cursor, size)):
            yield chunk


def _merged(streams: list[Iterator[list[BarRow]]]) -> Iterator[list[BarRow]]:
    """Merge per-symbol chunk streams into chunks ordered by ``(ts_event, symbol)``.

    Design Decision: merge chunks with C-level cuts and sorts, not ``heapq.merge`` by row.
        ``heapq.merge`` is Python code run once per row, which made 20 symbols cost more per
        bar than one. Each round takes the smallest last timestamp among the symbols' current
        chunks as a bound; every row up to it, from every symbol, is cut off with ``bisect``
        and the lot sorted by ``list.sort`` (tuples compare by ``ts_event``, then symbol,
        which is unique per stream). No later row can precede them, since every symbol's
        remaining rows are after the bound. Memory: one chunk per symbol.
    """
    heads = []
    for stream in streams:
        chunk = next(stream, None)
        if chunk:
            heads.append((chunk, stream))
    while heads:
        bound = min(chunk[-1][0] for chunk, _ in heads)
        out: list[BarRow] = []
        kept = []
        for chunk, stream in heads:
            cut = bisect_right(chunk, bound, key=_TS)
            if cut == len(chunk):
                out += chunk
                chunk = next(stream, None)
                if chunk:
                    kept.append((chunk, stream))
            else:
                out += chunk[:cut]
                kept.append((chunk[cut:], stream))
        heads = kept
        out.sort(key=_TS_SYMBOL)
        yield out


_TS, _TS_SYMBOL = itemgetter(0), itemgetter(0, 1)


def main() -> int:
    """The bar reader: one request in, its chunks out, then an ``end`` (or ``error``) frame."""
    path, sources, period, chunk_rows = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    try:
        for chunk in chunks(path, sources, period, chunk_rows, connect=schema.connect_bar_reader):
            try:
                packed: tuple = ("rows", b"".join(starmap(_ROW.pack, chunk)))
            except (struct.error, TypeError, OverflowError):  # a symbol's text, say
                packed = ("list", chunk)
            write_frame(out, pickle.dumps(packed, pickle.HIGHEST_PROTOCOL))
        message: tuple = ("end", time.process_time())
    except BrokenPipeError:
        return 0  # the replay stopped reading: nothing more is wanted
    except Exception as exc:  # noqa: BLE001 -- every failure goes to the replay, in words
        message = ("error", isinstance(exc, SecmasterError), str(exc) or type(exc).__name__)
    try:
        write_frame(out, pickle.dumps(message))
        out.flush()
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
