"""Bringing a worker's private runs.db into runs.db: one transaction per run.

The coordinator is the only writer of runs.db during a sweep. It keeps one
:class:`~tradecore.runs_db.copy.RunCopier` open for the whole sweep and copies each run out of
what a worker handed back: the private file's bytes, in memory (no temporary file, no connect
per point), or the file itself when the worker could move it into the sweep's hand-over folder.

Design Decision: a worker that sees the coordinator's folder hands the file over, not its bytes
    No shared disk is assumed: a worker anywhere sends its run back as bytes. But a local
    worker shares the coordinator's file system, and sending 20 MB a point (a 100k-bar run)
    through dask cost both sides CPU: the worker read and sent it, the coordinator received
    and unpacked it, about 0.06 CPU-s a point together (bench/sweep.py, 2 workers: overhead in
    CPU without setup 0.30 -> 0.24 s a point). So each sweep makes a hand-over folder
    (:func:`handback_folder`) holding a random token, and names both in every task; a
    worker that reads the same token there moves its closed private file into the folder
    (``os.replace``: a rename, no copy) and hands back its path. A worker that cannot (another
    machine, another user, another file system) sends the bytes as before. The folder is the
    coordinator's own, so the file is where the coordinator can read it, and the folder goes
    with whatever is left in it when the sweep ends.
"""

from __future__ import annotations

import glob
import os
import platform
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tradecore import paths
from tradecore.runs_db.copy import RunCopier

#: The file in a hand-over folder that holds its token.
TOKEN_FILE = "token"


def open_merger(dst_db_path: str | Path | None) -> RunCopier:
    """The sweep's one writer of ``dst_db_path`` (default the runs db in use); close it after."""
    return RunCopier(Path(dst_db_path) if dst_db_path else paths.runs_db_path())


def merge_run(content: bytes, run_id: str, dst_db_path: str | Path | None, *,
              sweep_id: str | None, role: str | None) -> str:
    """Copy run ``run_id`` out of a private runs.db's bytes into ``dst_db_path`` (default the
    runs db in use), tagged with the sweep and role; return its run id there (renamed when the
    id is taken). One connection for one run: a sweep uses :func:`open_merger` instead."""
    with open_merger(dst_db_path) as merger:
        return merger.copy_bytes(content, run_id, sweep_id=sweep_id, role=role)


@contextmanager
def handback_folder() -> Iterator[tuple[str, str]]:
    """A new folder for workers to move their runs into, and its token: ``(folder, token)``
    (see the module docstring). Removed, with anything left in it, on leaving."""
    folder = temp_folder("handback")
    try:
        token = secrets.token_hex(16)
        (folder / TOKEN_FILE).write_text(token)
        yield str(folder), token
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def merge_outcome(merger: RunCopier, outcome: Any, *, sweep_id: str | None,
                  role: str | None) -> str:
    """Copy the run a worker handed back (``outcome``: a ``PointOutcome`` with ``db`` bytes or
    a ``db_path`` in the hand-over folder) under its reserved key; its run id in runs.db. A
    handed-over file is deleted afterwards, copied or not."""
    if outcome.db_path is None:
        return merger.copy_bytes(outcome.db, outcome.run_id, sweep_id=sweep_id, role=role,
                                 keep_key=True)
    try:
        return merger.copy_file(outcome.db_path, outcome.run_id, sweep_id=sweep_id, role=role,
                                keep_key=True)
    finally:
        delete_in_background(sqlite_files(outcome.db_path))


def temp_folder(kind: str) -> Path:
    """A new folder of this process in the temp folder, named for ``kind``, this host and this
    process; folders of the same kind left by processes of this host that no longer exist are
    removed first.

    A sweep's processes remove their folders as they end, but a process killed outright (the
    OOM killer, ``kill -9``) cannot: its worker folder (the data slice, up to a run) or its
    hand-over folder (runs not yet merged) would stay in the temp folder for good. A process
    id alone could be reused by an unrelated process; that one is alive, so its folder is
    kept, which only delays the clean-up. Other hosts' folders (a temp folder shared between
    machines) are left alone: their processes cannot be checked from here."""
    import psutil  # here: the coordinator module imports this one at start-up

    prefix = f"tradecore-sweep-{kind}-{_host()}-"
    root = Path(tempfile.gettempdir())
    for folder in root.glob(f"{glob.escape(prefix)}*"):
        pid = folder.name.removeprefix(prefix).split("-", 1)[0]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=root))


def _host() -> str:
    return "".join(c if c.isalnum() or c in "._" else "_" for c in platform.node())


def sqlite_files(db: str | Path) -> list[Path]:
    """A database file and the files SQLite may keep beside it."""
    return [Path(f"{db}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]


def delete_in_background(files: Iterable[Path]) -> None:
    """Delete ``files`` from a thread of their own: deleting a 100k-bar run's 20 MB took
    0.03 s of wall time, waiting on the file system, which the caller need not wait for."""
    threading.Thread(target=_delete, args=(list(files),), name="tradecore-sweep-delete",
                     daemon=True).start()


def _delete(files: list[Path]) -> None:
    for file in files:
        file.unlink(missing_ok=True)
