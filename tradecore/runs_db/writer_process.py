"""The recorder's writer process: ``python -m tradecore.runs_db.writer_process DB RUN_KEY``.

Reads length-prefixed pickled messages from stdin (see ``recorder.ProcessWriter``) and writes
them with a ``SQLiteWriter``; on ``finish`` it sets the run's status, with ``--finalize``
stores the run's statistics and overviews (``analytics.finalize``), replies with the row counts
and whether it finalized on stdout, and exits. If the stream ends without ``finish`` -- the engine was killed,
even in the middle of a message -- it commits nothing more of the broken message and marks the
run ``interrupted``. Any error goes to stderr and a non-zero exit, which the recorder reports.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import sys
import threading
import traceback

from tradecore.interprocess import read_frame
from tradecore.runs_db.handover import unpack
from tradecore.runs_db.recorder import SQLiteWriter
from tradecore.runs_db.runs import INTERRUPTED_MESSAGE
from tradecore.runs_db.status import RunStatus

#: Messages the reading thread may hold ahead of the writer (about 100 kB each).
READ_AHEAD_MESSAGES = 32


def _read_messages(source, messages: queue.Queue) -> None:
    """Thread: move whole messages from the pipe to ``messages``; ``None`` at the end of the
    stream (or of a broken last message, which is dropped).

    Design Decision: the pipe is read beside the writing
        A WAL checkpoint or a commit takes the writer away from the pipe for a few hundred
        milliseconds, and a Linux pipe holds 1 MB (``/proc/sys/fs/pipe-max-size``) -- the
        engine's output of a few thousand bars -- so the engine stalled behind it. sqlite3
        releases the GIL while SQLite works, so this thread keeps the pipe drained meanwhile;
        the bounded queue keeps the backpressure (and the memory) of a pipe of about 4 MB.
    """
    try:
        while True:
            payload = read_frame(source)
            if not payload:
                return
            messages.put(payload)
    except OSError:
        return
    finally:
        messages.put(None)


def main(db_path: str, run_key: int, finalize: bool = False) -> int:
    # Only rows pass through here, never reference cycles: the cyclic collector would just
    # rescan the buffered rows over and over.
    gc.disable()
    writer = SQLiteWriter(db_path, run_key, apsw=True)
    messages: queue.Queue = queue.Queue(maxsize=READ_AHEAD_MESSAGES)
    threading.Thread(target=_read_messages, args=(sys.stdin.buffer, messages),
                     name="pipe-reader", daemon=True).start()
    while True:
        payload = messages.get()
        if payload is None:
            # What arrived whole is kept; the run is marked, never left "running".
            writer.flush()
            writer.abandon(RunStatus.INTERRUPTED, INTERRUPTED_MESSAGE)
            # Last, and allowed to fail: a killed engine took the read end of stderr with it,
            # and a BrokenPipeError before the flush lost the rows that had arrived.
            with contextlib.suppress(OSError):
                print("the engine closed the pipe before finishing the run", file=sys.stderr)
            return 1
        message = pickle.loads(payload)
        kind = message[0]
        if kind == "packed":
            writer.add_columns(unpack(message[1]))
        elif kind == "finish":
            writer.finish(*message[1:])
            finalized = finalize and _finalize(db_path, run_key, message[1])
            pickle.dump((writer.rows_written, finalized), sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return 0


def _finalize(db_path: str, run_key: int, status: str) -> bool:
    """The run's statistics and overviews, computed here rather than in the engine process,
    so the engine's memory stays flat in the number of bars (finalizing reads the whole run).
    A failure is reported, never the run's: its page computes the same on first read."""
    if not RunStatus(status).has_statistics:
        return False
    try:
        from tradecore.analytics.finalize import finalize_run
        from tradecore.runs_db.schema import connect_writer_process

        conn = connect_writer_process(db_path)
        try:
            run_id = conn.execute("SELECT run_id FROM runs WHERE run_key = ?",
                                  (run_key,)).fetchone()[0]
        finally:
            conn.close()
        return finalize_run(run_id, db_path, apsw=True)
    except Exception as error:  # noqa: BLE001 - the run is recorded; its results are a cache
        with contextlib.suppress(OSError):
            print(f"results not stored at the end of the run: {error}", file=sys.stderr)
        return False


def _run(argv: list[str]) -> None:
    """``main``, then an immediate exit: the pipe-reading thread may be blocked in a read or
    on a full queue, and must not hold up (or crash) the interpreter's shutdown. An error is
    printed first, its last line the reason the recorder reports."""
    try:
        code = main(argv[1], int(argv[2]), "--finalize" in argv[3:])
    except BaseException:  # noqa: BLE001 - reported on stderr, then a non-zero exit
        traceback.print_exc()
        code = 1
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _run(sys.argv)
