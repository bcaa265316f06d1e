"""What the engine shares with its helper processes (the recorder's writer, the bar reader):
how they are started, the pipe between them, and numbers packed as columns.

A helper is ``python -m <module>`` with pipes for stdin and stdout, not a ``multiprocessing``
child: it starts from a daemonic process too (a sweep's pool worker), imports only what it
needs, and a broken pipe is how either side learns that the other has gone. Messages cross as
length-prefixed frames, so the reader does one read per message.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

#: How a packed column travels: as it is, one value for every row, or struct-packed (its
#: struct code: "d" for a REAL column, "q" for an INTEGER one).
RAW, SAME = "", "="
STRUCT_CODES = {"REAL": "d", "INTEGER": "q"}

PackedColumn = tuple[str, Any]


def start_helper(module: str, *args: str) -> subprocess.Popen:
    """``python -m module args...`` with stdin, stdout and stderr piped, this package importable."""
    existing = os.environ.get("PYTHONPATH")
    root = str(Path(__file__).resolve().parent.parent)
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{existing}" if existing else root},
    )


def widen_pipe(stream: IO[bytes]) -> None:
    """Let the pipe hold several messages (Linux), so the sender writes the next one while the
    receiver handles the last, instead of waiting for it."""
    try:
        import fcntl

        wanted = 8 * 1024 * 1024
        try:
            wanted = min(wanted, int(Path("/proc/sys/fs/pipe-max-size").read_text()))
        except (OSError, ValueError):
            wanted = 1024 * 1024
        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), wanted)
    except (ImportError, OSError):
        pass  # a smaller pipe only means more, shorter waits


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(len(payload).to_bytes(8, "little") + payload)


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next whole message; ``None`` at the end of the stream or of a broken last message."""
    header = _read_exactly(stream, 8)
    return header and _read_exactly(stream, int.from_bytes(header, "little"))


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def pack_column(column: list | tuple, code: str, count: int) -> PackedColumn:
    """A column of ``count`` values: struct-packed when ``code`` is given and every value fits,
    sent once when it is one text (or None) throughout, else as it is."""
    if code:
        try:
            return code, struct.pack(f"{count}{code}", *column)  # native: the same machine
        except (struct.error, TypeError, OverflowError):
            pass  # None among the numbers, a value too big for 64 bits: sent as it is
    first = column[0] if count else None
    # Only text (a str enum stores as its text) or None: 1 == 1.0 == True, stored apart.
    if count and (first is None or isinstance(first, str)) and column.count(first) == count:
        return SAME, first
    return RAW, column


def unpack_column(code: str, payload: Any, count: int) -> Any:
    """``pack_column``'s column back as a sequence of ``count`` values."""
    if code == RAW:
        return payload
    if code == SAME:
        return (payload,) * count
    return struct.unpack(f"{count}{code}", payload)
