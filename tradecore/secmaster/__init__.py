"""The security master: secmaster.db with instruments, symbology and OHLCV bars.

* Schema, price storage (REAL doubles) and time convention (``ts_event`` = bar open time, UTC
  nanoseconds): see :mod:`tradecore.secmaster.schema`.
* Imports: :func:`import_csv` (OHLCV CSV in the common vendor shapes), :func:`import_dbn`
  (Databento OHLCV files), :func:`import_symbology` (rolling symbols from a mapping CSV),
  :func:`build_sample` / :func:`ensure_secmaster` (the bundled synthetic sample).
* Reads: :func:`resolve_symbols` and :func:`stream_bars` (the datafeed's replay; windows are
  ``start_ns <= ts_event <= end_ns``, both inclusive), :func:`time_range`, :func:`count_bars`,
  :func:`list_instruments`, :func:`list_symbols`, :func:`list_mappings`, :func:`coverage`,
  :func:`preview_bars`. A rolling symbol resolves to dated :class:`Segment` s.
* The database path defaults to :func:`default_secmaster_path` (``$TRADECORE_SECMASTER`` or
  ``data/secmaster.db``) wherever a ``db_path`` of ``None`` is accepted.

Every problem a user can fix raises :class:`SecmasterError` (a ``ValueError``).

Names are imported lazily (PEP 562), as in ``tradecore``: the bar reader process
(:mod:`tradecore.secmaster.stream`) imports this package and must not pay for pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecore import lazy_exports

_EXPORTS = {
    "BarRow": "tradecore.secmaster.queries",
    "build_sample": "tradecore.secmaster.sample",
    "connect": "tradecore.secmaster.schema",
    "count_bars": "tradecore.secmaster.queries",
    "Coverage": "tradecore.secmaster.queries",
    "coverage": "tradecore.secmaster.queries",
    "create_secmaster": "tradecore.secmaster.schema",
    "default_secmaster_path": "tradecore.secmaster.schema",
    "ensure_secmaster": "tradecore.secmaster.sample",
    "import_csv": "tradecore.secmaster.csv_import",
    "import_dbn": "tradecore.secmaster.dbn_import",
    "import_symbology": "tradecore.secmaster.symbology",
    "ImportSummary": "tradecore.secmaster.writer",
    "list_instruments": "tradecore.secmaster.queries",
    "list_mappings": "tradecore.secmaster.symbology",
    "list_symbols": "tradecore.secmaster.queries",
    "load_recipe": "tradecore.secmaster.sample",
    "preview_bars": "tradecore.secmaster.queries",
    "Recipe": "tradecore.secmaster.sample",
    "resolve_symbols": "tradecore.secmaster.queries",
    "Resolved": "tradecore.secmaster.queries",
    "SAMPLE_DATASET": "tradecore.secmaster.sample",
    "SAMPLE_PUBLISHER": "tradecore.secmaster.sample",
    "SecmasterError": "tradecore.secmaster.errors",
    "Segment": "tradecore.secmaster.queries",
    "stream_bars": "tradecore.secmaster.queries",
    "SymbologySummary": "tradecore.secmaster.symbology",
    "time_range": "tradecore.secmaster.queries",
}

__all__ = [
    "SAMPLE_DATASET",
    "SAMPLE_PUBLISHER",
    "BarRow",
    "Coverage",
    "ImportSummary",
    "Recipe",
    "Resolved",
    "Segment",
    "SecmasterError",
    "SymbologySummary",
    "build_sample",
    "connect",
    "count_bars",
    "coverage",
    "create_secmaster",
    "default_secmaster_path",
    "ensure_secmaster",
    "import_csv",
    "import_dbn",
    "import_symbology",
    "list_instruments",
    "list_mappings",
    "load_recipe",
    "list_symbols",
    "preview_bars",
    "resolve_symbols",
    "stream_bars",
    "time_range",
]


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:
    from tradecore.secmaster.csv_import import import_csv
    from tradecore.secmaster.dbn_import import import_dbn
    from tradecore.secmaster.errors import SecmasterError
    from tradecore.secmaster.queries import (
        BarRow,
        Coverage,
        Resolved,
        Segment,
        count_bars,
        coverage,
        list_instruments,
        list_symbols,
        preview_bars,
        resolve_symbols,
        stream_bars,
        time_range,
    )
    from tradecore.secmaster.sample import (
        SAMPLE_DATASET,
        SAMPLE_PUBLISHER,
        Recipe,
        build_sample,
        ensure_secmaster,
        load_recipe,
    )
    from tradecore.secmaster.schema import connect, create_secmaster, default_secmaster_path
    from tradecore.secmaster.symbology import SymbologySummary, import_symbology, list_mappings
    from tradecore.secmaster.writer import ImportSummary
