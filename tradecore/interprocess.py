"""What the engine shares with its helper processes (the recorder's writer, the bar reader):
how they are started and the pipe between them.

A helper is ``python -m <module>`` with pipes for stdin and stdout, not a ``multiprocessing``
child: it starts from a daemonic process too (a sweep's pool worker), imports only what it
needs, and a broken pipe is how either side learns that the other has gone. Messages cross as
length-prefixed frames, so the reader does one read per message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO


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
