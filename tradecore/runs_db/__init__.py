"""runs.db, owned here: its schema, version and connection (``schema``), the typed run
configuration (``config``), run statuses (``status``), the ``runs`` rows (``runs``), the
recorder and its writer process (``recorder``, ``writer_process``), and copying a run from one
runs.db into another (``copy``, used by sweeps whose workers record privately).

Nothing outside this package writes DDL for runs.db. Names are imported lazily so that
``tradecore.models`` can re-export ``RunStatus`` without importing the recorder.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RunStatus": "status",
    "RunConfig": "config", "RunConfigError": "config", "StrategyConfig": "config",
    "BrokerConfig": "config", "DatafeedConfig": "config",
    "SCHEMA_VERSION": "schema", "RunsDatabaseError": "schema", "connect": "schema",
    "delete_run_statements": "schema",
    "RunRow": "runs", "RunNotFoundError": "runs", "RunIsRunningError": "runs",
    "create_run": "runs", "finish_run": "runs", "get_run": "runs", "delete_run": "runs",
    "mark_interrupted": "runs",
    "RunRecorder": "recorder", "RecorderError": "recorder",
    "copy_run": "copy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tradecore.runs_db' has no attribute {name!r}")
    return getattr(importlib.import_module(f"tradecore.runs_db.{module}"), name)
