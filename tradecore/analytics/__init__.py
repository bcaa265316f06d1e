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

How it is read (``connection``, ``source``, ``raw``, ``finalize``)
    runs.db is the only store, and DuckDB's SQLite extension reads it: per-run SQL runs inside
    SQLite through ``sqlite_query`` (a run's rows found by their rowid segments or the
    ``run_key`` index, so a read costs what the run holds, whatever else is stored), and DuckDB
    aggregates and down-samples. A finished run's statistics, round trips and equity and price
    overviews are computed once at its end (``finalize``, by the process that recorded it) and
    kept in runs.db; a running run, a zoomed window or another resolution is computed from its
    raw rows. The dashboard's process touches runs.db only through DuckDB (see
    ``connection`` for why two copies of SQLite must not share it).
"""

from tradecore.analytics.connection import AnalyticsSetupError, close_connections
from tradecore.analytics.finalize import OVERVIEW_POINTS, finalize_run
from tradecore.analytics.metrics import (
    DEFINITIONS_VERSION,
    STATISTICS,
)
from tradecore.analytics.results import (
    bars,
    compare,
    equity_curve,
    fills,
    indicator_info,
    order_log,
    round_trips,
    statistics,
)
from tradecore.analytics.runs import HEADLINE, delete_runs, list_runs, run_config, run_row
from tradecore.analytics.source import RunsDatabaseNotFoundError
from tradecore.runs_db.runs import RunIsRunningError, RunNotFoundError

__all__ = [
    "DEFINITIONS_VERSION",
    "HEADLINE",
    "OVERVIEW_POINTS",
    "STATISTICS",
    "AnalyticsSetupError",
    "RunIsRunningError",
    "RunNotFoundError",
    "RunsDatabaseNotFoundError",
    "bars",
    "close_connections",
    "compare",
    "delete_runs",
    "equity_curve",
    "fills",
    "finalize_run",
    "indicator_info",
    "list_runs",
    "order_log",
    "round_trips",
    "run_config",
    "run_row",
    "statistics",
]
