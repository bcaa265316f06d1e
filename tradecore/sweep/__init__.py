"""Parameter sweeps on dask.distributed: a grid of ordinary runs, optionally validated out of
sample (a held-out tail or walk-forward folds).

* :mod:`~tradecore.sweep.grid` — range and ``--grid`` arithmetic, points, validation.
* :mod:`~tradecore.sweep.windows` — holdout and walk-forward windows.
* :mod:`~tradecore.sweep.data` — the secmaster slice shipped to workers.
* :mod:`~tradecore.sweep.worker` — one point on a worker, recorded into a private runs.db.
* :mod:`~tradecore.sweep.cluster` — a LocalCluster, or a running scheduler (``tcp://...``).
* :mod:`~tradecore.sweep.coordinator` — :func:`run_sweep`: ship, run, merge, validate, cancel.
* :mod:`~tradecore.sweep.results` — best points, smoothed best cell, stitched OOS equity.

Every run of a sweep is an ordinary run in runs.db with ``sweep_id`` naming the sweep and
``role`` ``in_sample`` / ``out_of_sample`` when the sweep validates (``NULL`` otherwise).

Design Decision: the package imports its modules when a name is first used
    ``import tradecore.sweep.cluster`` runs this file first. The CLI and the dashboard's sweep
    process start the forkserver local workers fork from (``tradecore.sweep.cluster``) before
    they import the engine, so that its 1.5 s of imports overlap theirs (measured: a CLI sweep
    of two points of the sample, 5.3 -> 4.3 s, median of 4 pairs); importing every module here
    would put those imports first.
    So the names below load their module on first use (PEP 562), as if imported here.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = {
    "tradecore.sweep.cluster": ("default_workers", "open_client"),
    "tradecore.sweep.coordinator": ("MAX_POINTS", "Validation", "new_sweep_id", "prepare",
                                    "run_sweep"),
    "tradecore.sweep.grid": ("expand_range", "grid_points", "parse_grid", "validate_grid"),
    "tradecore.sweep.results": ("PointRecord", "SweepResult", "best_cells", "best_records",
                                "better_of", "degradation", "smoothed", "stitch_equity",
                                "validation_table"),
    "tradecore.sweep.windows": ("Fold", "Window", "holdout_folds", "parse_duration",
                                "walk_forward_folds"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next use is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
