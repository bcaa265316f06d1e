"""Bringing a worker's private runs.db into runs.db: one transaction per run.

The coordinator is the only writer of runs.db during a sweep. It keeps one
:class:`~tradecore.runs_db.copy.RunCopier` open for the whole sweep and copies each run out of
the bytes a worker handed back, in memory (no temporary file, no connect per point).
"""

from __future__ import annotations

from pathlib import Path

from tradecore import paths
from tradecore.runs_db.copy import RunCopier


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
