"""Run a backtest or a sweep: the one entry point the CLI, the pages and sweep workers share.

``run(request)`` validates a ``RunRequest``, builds the orchestrator (``tradecore.configure``),
runs it and does the post-run work once, returning a ``RunResult``; ``sweep(request, grid)``
runs a grid through ``tradecore.sweep`` and returns a ``SweepResult`` with how many points
completed and failed.

Design Decision: a strategy's failure is a result, a bad request is an exception
    Everything a user can get wrong before a run starts (strategy, parameters, dates, symbols,
    a range without bars, broker values) raises a ``ValueError`` subclass with a one-line
    message, and nothing is recorded. Once the run exists, whatever happens to it is in the
    ``RunResult`` (status, error, traceback) and in runs.db, so every caller reports failures
    the same way. Only ``KeyboardInterrupt`` propagates (the run is marked cancelled first).

Design Decision: the post-run work lives in ``_finish_run`` only
    Whatever analytics wants done at the end of a run (today: computing and keeping its
    statistics and caches) happens there, off the page's script thread, so the run page opens
    warm and no caller repeats it.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tradecore import paths
from tradecore.configure import RunRequest, bar_period_of, build_orchestrator, find_strategy
from tradecore.models import RunStatus
from tradecore.strategies import ParameterError

__all__ = ["RunRequest", "RunResult", "SweepResult", "prepare", "run", "sweep"]

#: ``progress(fraction, run_id)``: the share replayed (0..1) and the run id once it exists.
Progress = Callable[[float, "str | None"], None]
_POLL_S = 0.1


@dataclass(frozen=True)
class RunResult:
    run_id: str | None
    status: RunStatus
    error: str | None = None
    error_traceback: str | None = None
    statistics: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.COMPLETED


@dataclass(frozen=True)
class SweepResult:
    sweep_id: str
    completed: int
    failed: int
    run_ids: list[str] = field(default_factory=list)


def prepare(request: RunRequest) -> RunRequest:
    """``request`` with both databases pinned (the env may change before a thread or worker
    reads it), checked: raises ``ParameterError``/``SecmasterError`` (ValueErrors) with a
    one-line message for anything the user can fix, a range without bars included."""
    from tradecore.secmaster import resolve_symbols, time_range

    if not request.secmaster_path:
        request.secmaster_path = str(paths.secmaster_path())
    if not request.runs_db_path:
        request.runs_db_path = str(paths.runs_db_path())
    orchestrator = build_orchestrator(request)  # parameters, dates, broker values
    config = orchestrator.configuration()  # symbols and the bar period
    strategy = find_strategy(request.strategy)
    period = bar_period_of(strategy, request.parameters)
    feed = config["datafeed"]
    instruments = resolve_symbols(request.secmaster_path, config["symbols"], period,
                                  publisher_name=request.publisher_name,
                                  dataset=request.dataset)
    first_in_range, _ = time_range(request.secmaster_path, instruments, period,
                                   feed["start_ns"], feed["end_ns"])  # two index look-ups
    if first_in_range is None:
        first, last = time_range(request.secmaster_path, instruments, period, None, None)
        held = (f"the data covers {_date(first)} to {_date(last)}" if first is not None
                else "there are none at all")
        raise ParameterError(f"no {period.name} bars of {', '.join(config['symbols'])} in the "
                             f"chosen range; {held}")
    return request


def run(request: RunRequest, *, progress: Progress | None = None,
        cancel_event: threading.Event | None = None) -> RunResult:
    """Validate ``request`` (see ``prepare``), run it, do the post-run work; never raises for
    what happens inside the run (see the module docstring)."""
    request = prepare(request)
    orchestrator = build_orchestrator(request)
    done = threading.Event()
    watcher = None
    if progress is not None or cancel_event is not None:
        watcher = threading.Thread(target=_watch, name="tradecore-run-watch", daemon=True,
                                   args=(orchestrator, done, progress, cancel_event))
        watcher.start()
    error = error_traceback = None
    try:
        if cancel_event is not None and cancel_event.is_set():
            orchestrator.cancel()
        orchestrator.run()
    except Exception as exc:  # noqa: BLE001 - the run is recorded as failed; reported below
        error = f"{type(exc).__name__}: {exc}"
        error_traceback = traceback.format_exc()
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    status = orchestrator.status or RunStatus.FAILED
    run_id = orchestrator.run_id
    statistics = None
    if run_id is not None and status.has_statistics:
        statistics = _finish_run(run_id, request.runs_db_path)
    if progress is not None and status is RunStatus.COMPLETED:
        progress(1.0, run_id)
    return RunResult(run_id, status, error, error_traceback, statistics)


def sweep(request: RunRequest, grid: dict[str, list[Any]], **kwargs: Any) -> SweepResult:
    """Run every point of ``grid`` (``tradecore.sweep.run_sweep``'s arguments in ``kwargs``)
    and count how its runs ended."""
    from tradecore import analytics
    from tradecore.sweep import run_sweep

    request = prepare(request)
    sweep_id = run_sweep(request, grid, **kwargs)
    runs = analytics.list_runs(request.runs_db_path)
    runs = runs[runs["sweep_id"] == sweep_id]
    completed = int((runs["status"] == RunStatus.COMPLETED).sum())
    return SweepResult(sweep_id, completed, len(runs) - completed, list(runs["run_id"]))


def _finish_run(run_id: str, runs_db_path: str | None) -> dict[str, Any]:
    """The post-run work, in one place. The orchestrator has stored the run's statistics and
    overviews in runs.db as it ended (``analytics.finalize_run``); this reads them back."""
    from tradecore import analytics

    return analytics.statistics(run_id, runs_db_path)


def _watch(orchestrator, done: threading.Event, progress: Progress | None,
           cancel_event: threading.Event | None) -> None:
    while not done.wait(_POLL_S):
        if cancel_event is not None and cancel_event.is_set():
            orchestrator.cancel()
        if progress is not None:
            progress(min(max(orchestrator.progress, 0.0), 1.0), orchestrator.run_id)


def _date(ns: int) -> str:
    import pandas as pd

    stamp = pd.Timestamp(int(ns), unit="ns")
    return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%d %H:%M")
