"""Where the two databases live, and whether a file there can be used as one.

``data/`` under the working directory unless env overrides. Read at call time (never at import)
so tests and the dashboard can switch databases.

Design Decision: look at the file before SQLite does
    SQLite reports a damaged or foreign file as "file is not a database" or "database disk image
    is malformed" at the first query, often deep inside a run, and never says which file. Its
    first 100 bytes say enough to tell up front: the magic string, the page size and the page
    count. A file shorter than its header's page count, with no write-ahead log to hold the
    rest, was cut off (a copy that stopped, a truncation). This costs one 100-byte read and catches the common cases before anything is
    written; damage inside the pages is still found by SQLite itself.
"""

from __future__ import annotations

import os
from pathlib import Path

_MAGIC = b"SQLite format 3\x00"


class DatabaseFileError(ValueError):
    """A database file that cannot be used, with a message that says what to do."""


def runs_db_path() -> Path:
    return Path(os.environ.get("TRADECORE_RUNS_DB") or Path("data") / "runs.db")


def secmaster_path() -> Path:
    return Path(os.environ.get("TRADECORE_SECMASTER") or Path("data") / "secmaster.db")


def file_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a usable SQLite file (``None``: it is, or it does not exist yet).

    An empty file is fine (SQLite makes it a new database).
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return "is a folder, not a database file"
    except PermissionError:
        return "cannot be read (permission denied)"
    if not header:
        return None
    if not header.startswith(_MAGIC):
        return "is not a SQLite database"
    if len(header) < 100:
        return f"is cut off ({size} bytes, shorter than a SQLite header)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The header's page count is only valid when its "version valid for" matches the change
    # counter (SQLite >= 3.7.0 writes both); otherwise it is not checked.
    valid = header[92:96] == header[24:28]
    # With a write-ahead log beside it the file may legitimately be shorter: a checkpoint
    # that could not grow it (a full disk) leaves the newest pages in the -wal, and SQLite
    # reads them from there.
    wal = Path(f"{path}-wal")
    has_wal = wal.exists() and wal.stat().st_size > 0
    if valid and pages and page_size and size < pages * page_size and not has_wal:
        return f"is cut off ({size:,} of {pages * page_size:,} bytes)"
    return None


def writable_problem(path: str | os.PathLike[str]) -> str | None:
    """Why a database at ``path`` cannot be written (``None``: it can, as far as we can tell).

    Checks the folder too: SQLite writes its journal (``-wal``/``-shm``) beside the file.
    ``os.access`` also answers for read-only mounts, where even root cannot write.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"its folder {existing} is read-only"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    return None
