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
"""

from tradecore.sweep.cluster import default_workers, open_client
from tradecore.sweep.coordinator import (
    MAX_POINTS,
    Validation,
    new_sweep_id,
    prepare,
    run_sweep,
)
from tradecore.sweep.grid import expand_range, grid_points, parse_grid, validate_grid
from tradecore.sweep.results import (
    PointRecord,
    SweepResult,
    best_cells,
    best_records,
    better_of,
    degradation,
    smoothed,
    stitch_equity,
    validation_table,
)
from tradecore.sweep.windows import (
    Fold,
    Window,
    holdout_folds,
    parse_duration,
    walk_forward_folds,
)

__all__ = [
    "MAX_POINTS", "Fold", "PointRecord", "SweepResult", "Validation", "Window", "best_cells",
    "best_records", "better_of", "default_workers", "degradation", "expand_range",
    "grid_points", "holdout_folds", "new_sweep_id", "open_client", "parse_duration",
    "parse_grid", "prepare", "run_sweep", "smoothed", "stitch_equity", "validate_grid",
    "validation_table", "walk_forward_folds",
]
