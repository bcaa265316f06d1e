"""Where the two databases live: ``data/`` under the working directory unless env overrides.

Read at call time (never at import) so tests and the dashboard can switch databases.
"""

from __future__ import annotations

import os
from pathlib import Path


def runs_db_path() -> Path:
    return Path(os.environ.get("TRADECORE_RUNS_DB") or Path("data") / "runs.db")


def secmaster_path() -> Path:
    return Path(os.environ.get("TRADECORE_SECMASTER") or Path("data") / "secmaster.db")
