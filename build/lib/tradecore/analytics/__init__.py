"""tradecore.analytics: read runs.db back as pandas objects for the dashboard, CLI and tests.

Every per-run function takes ``(run_id, db_path=None)``; ``db_path`` defaults to the runs
database in use (env ``TRADECORE_RUNS_DB`` or ``data/runs.db``). Nothing here writes events or
imports streamlit.

Per run
    ``fills``, ``order_log``, ``bars`` (down-sampled, with indicator columns), ``equity_curve``,
    ``round_trips``, ``statistics``; ``compare(run_ids)`` puts several runs' statistics side by
    side. The definitions of every statistic, the annualisation rule (equity resampled to
    calendar days, 252 periods a year without weekend bars and 365 with, risk-free rate 0
    unless configured) and the conventions are written down in
    ``tradecore.analytics.metrics``; equity, round trips and the order log in their modules.

All runs
    ``list_runs`` (status, configuration summary and headline metrics), ``run_config``,
    ``delete_runs``.

How it is read (``store``, ``connection``)
    One run's rows come from runs.db through indexed sqlite3 reads (``WHERE run_id = ?``): DuckDB's
    SQLite scanner pushes no filter down, so through it every query would scan every run, and
    a second copy of SQLite in the process is unsafe beside sqlite3 on a WAL database (see
    ``connection``). A finished run is read once into a Parquet cache beside runs.db and then
    queried with DuckDB (offline, a cursor per query from one shared connection, no transaction
    held); a running run is read live and incrementally, in short read transactions. Its
    statistics are kept in runs.db (``run_statistics``) once it has finished.
"""

from tradecore.analytics.connection import AnalyticsSetupError, close_connections
from tradecore.analytics.metrics import (
    DEFINITIONS_VERSION,
    STATISTICS,
)
from tradecore.analytics.results import (
    bars,
    compare,
    equity_curve,
    fills,
    order_log,
    round_trips,
    statistics,
)
from tradecore.analytics.runs import HEADLINE, delete_runs, list_runs, run_config
from tradecore.analytics.store import (
    RunNotFoundError,
    RunsDatabaseNotFoundError,
    build_cache,
    drop_cache,
)

__all__ = [
    "DEFINITIONS_VERSION",
    "HEADLINE",
    "STATISTICS",
    "AnalyticsSetupError",
    "RunNotFoundError",
    "RunsDatabaseNotFoundError",
    "bars",
    "build_cache",
    "close_connections",
    "compare",
    "delete_runs",
    "drop_cache",
    "equity_curve",
    "fills",
    "list_runs",
    "order_log",
    "round_trips",
    "run_config",
    "statistics",
]
