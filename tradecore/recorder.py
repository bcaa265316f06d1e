"""Moved to ``tradecore.runs_db.recorder`` (the one owner of runs.db); kept for old imports."""

from tradecore.runs_db.recorder import (  # noqa: F401
    BATCH_SIZE,
    ProcessWriter,
    RecorderError,
    RunRecorder,
    SQLiteWriter,
)
