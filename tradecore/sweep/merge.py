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
    try:
        from tradecore.runs_db import copy_run
    except ImportError:  # INTERIM until tradecore.runs_db lands on main: schema v1 copy
        return _copy_run_v1(src, dst, run_id, sweep_id=sweep_id)
    return copy_run(src, dst, run_id, sweep_id=sweep_id, role=role)


def _copy_run_v1(src: Path, dst: Path, run_id: str, *, sweep_id: str | None) -> str:
    import sqlite3

    from tradecore.events import EVENT_TYPES
    from tradecore.recorder import connect_runs_db

    conn = connect_runs_db(dst)
    try:
        conn.execute("ATTACH DATABASE ? AS src", (str(src),))
        new_id, n = run_id, 1
        while conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (new_id,)).fetchone():
            n += 1
            new_id = f"{run_id}_{n}"
        columns = [r[1] for r in conn.execute("PRAGMA main.table_info(runs)")]
        picks = ", ".join("?" if c in ("run_id", "sweep_id") else c for c in columns)
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(f"INSERT INTO main.runs ({', '.join(columns)}) SELECT "
                         f"{picks.replace('?', '?', 2)} FROM src.runs WHERE run_id = ?",
                         [new_id if c == "run_id" else sweep_id for c in columns
                          if c in ("run_id", "sweep_id")] + [run_id])
            for event_type in EVENT_TYPES:
                cols = [r[1] for r in conn.execute(f"PRAGMA main.table_info({event_type.table})")]
                rest = ", ".join(c for c in cols if c != "run_id")
                conn.execute(f"INSERT INTO main.{event_type.table} (run_id, {rest}) "
                             f"SELECT ?, {rest} FROM src.{event_type.table} WHERE run_id = ?",
                             (new_id, run_id))
        return new_id
    except sqlite3.Error:
        raise
    finally:
        conn.close()
