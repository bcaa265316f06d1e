"""Where the two databases live: env overrides, else one ``data/`` folder that does not depend on
the working directory.

Read at call time (never at import) so tests and the dashboard can switch databases.

Design Decision: the default folder is found from the package, not the CWD
    ``TRADECORE_SECMASTER`` / ``TRADECORE_RUNS_DB`` win. Otherwise, when ``tradecore`` is imported
    from a source checkout (the repository, or an editable ``pip install -e .``), the checkout's
    ``data/`` folder is used, so ``python -m tradecore``, the dashboard and the Python API all see
    the same databases from any folder. An installed wheel has no checkout: it uses
    ``$TRADECORE_HOME``, else ``$XDG_DATA_HOME/tradecore`` (``~/.local/share/tradecore``). The
    old default, ``data/`` under the working directory, made a script started elsewhere silently
    create a second, empty secmaster.

Design Decision: look at the file before SQLite does
    SQLite reports a damaged or foreign file as "file is not a database" or "database disk image
    is malformed" at the first query, often deep inside a run, and never says which file. Its
    first 100 bytes say enough to tell up front: the magic string, the page size and the page
    count. A file shorter than its header's page count, with no write-ahead log to hold the
    rest, was cut off (a copy that stopped, a truncation). This costs one 100-byte read and
    catches the common cases before anything is written; damage inside the pages is still
    found by SQLite itself.
"""

from __future__ import annotations

import os
from pathlib import Path

_MAGIC = b"SQLite format 3\x00"

# The folder holding the ``tradecore`` package; a checkout also has these files beside it.
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent
_CHECKOUT_MARKERS = ("pyproject.toml", "dashboard.py")


def checkout_root() -> Path | None:
    """The source checkout ``tradecore`` is imported from, or None for an installed wheel."""
    if all((_PACKAGE_PARENT / marker).is_file() for marker in _CHECKOUT_MARKERS):
        return _PACKAGE_PARENT
    return None


def data_dir() -> Path:
    """The default folder of secmaster.db and runs.db (see the module docstring)."""
    root = checkout_root()
    if root is not None:
        return root / "data"
    if os.environ.get("TRADECORE_HOME"):
        return Path(os.environ["TRADECORE_HOME"])
    xdg = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(xdg) / "tradecore"


def runs_db_path() -> Path:
    return Path(os.environ.get("TRADECORE_RUNS_DB") or data_dir() / "runs.db")


def secmaster_path() -> Path:
    return Path(os.environ.get("TRADECORE_SECMASTER") or data_dir() / "secmaster.db")


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
