"""The recorder's writer process: ``python -m tradecore.recorder_process DB RUN_ID``.

Reads pickled messages from stdin (see ``recorder.ProcessWriter``) and writes them with a
``SQLiteWriter``; on ``finish`` it sets the run's status, replies with the row counts on stdout
and exits. Any error goes to stderr and a non-zero exit, which the recorder reports.
"""

from __future__ import annotations

import gc
import pickle
import sys

from tradecore.recorder import SQLiteWriter


def main(db_path: str, run_id: str) -> int:
    # Only rows pass through here, never reference cycles: the cyclic collector would just
    # rescan the buffered rows over and over.
    gc.disable()
    writer = SQLiteWriter(db_path, run_id)
    source = sys.stdin.buffer
    while True:
        header = source.read(8)
        if len(header) < 8:
            print("the engine closed the pipe before finishing the run", file=sys.stderr)
            writer.finish("interrupted", "the engine process ended before the run finished", None)
            return 1
        message = pickle.loads(source.read(int.from_bytes(header, "little")))
        kind = message[0]
        if kind == "groups":
            for table, rows in message[1]:
                writer.add(table, rows)
        elif kind == "finish":
            writer.finish(*message[1:])
            pickle.dump(writer.rows_written, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
