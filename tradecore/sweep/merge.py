"""Bringing a worker's private runs.db into runs.db: one transaction per run.

The coordinator is the only writer of runs.db during a sweep. It calls the runs database's
own copy (``tradecore.runs_db.copy_run``) on the bytes a worker handed back.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tradecore import paths


def merge_run(content: bytes, run_id: str, dst_db_path: str | Path | None, *,
              sweep_id: str | None, role: str | None) -> str:
    """Copy run ``run_id`` out of a private runs.db's bytes into ``dst_db_path`` (default the
    runs db in use), tagged with the sweep and role; return its run id there (renamed when the
    id is taken)."""
    dst = Path(dst_db_path) if dst_db_path else paths.runs_db_path()
    with tempfile.TemporaryDirectory(prefix="tradecore-merge-") as folder:
        src = Path(folder) / "runs.db"
        src.write_bytes(content)
        return _copy_run(src, dst, run_id, sweep_id=sweep_id, role=role)


def _copy_run(src: Path, dst: Path, run_id: str, *, sweep_id: str | None,
              role: str | None) -> str:
    from tradecore.runs_db import copy_run

    return copy_run(src, dst, run_id, sweep_id=sweep_id, role=role)
