"""The coordinator: expands the grid, ships the data, hands points to dask workers, merges
each recorded run into runs.db as it lands, runs each fold's in-sample winner out of sample.

The coordinator is runs.db's only writer during a sweep (workers record into private files;
see :mod:`tradecore.sweep.worker`). It never reads runs.db: points are ranked by the
statistics the workers computed.

Cancel (Ctrl-C, or ``cancel`` set by the page's runner): a dask Event tells running points to
stop (they end ``cancelled`` and are merged like any run) and points not yet started to skip;
the coordinator waits up to ``CANCEL_GRACE_S`` for them. Nothing is ever left ``running`` in
runs.db, because a run reaches runs.db only once it has ended.

Design Decision: the slice is built while the cluster starts
    Both are paid once per sweep before the first point can run; the slice is built in a
    thread while the main thread starts the LocalCluster (whose start is mostly waiting for
    worker processes to import), so a user waits for the longer of the two, not their sum.
    Validation (``prepare``) still comes first: a bad request never starts a cluster (only
    the forkserver local workers fork from, started first so its imports overlap all of
    this; see ``tradecore.sweep.cluster``).

Design Decision: finished points reach the loop through a queue, not by polling dask
    Each point's future puts itself on a queue when it finishes (``add_done_callback``); the
    loop blocks on the queue, waking every ``POLL_S`` only to look at the cancel flag, which
    costs nothing. Asking dask every ``POLL_S`` (``distributed.wait`` with a timeout) cost a
    round of the client's event loop per wake, for a sweep of minutes hundreds of them.

Design Decision: one writer connection for the whole sweep
    Each run lands through the same ``RunCopier`` (``merge.open_merger``), opened once: no
    connect, schema check or temporary file per point, and runs.db keeps its one writer.
    Each point is recorded under a run key reserved below every key in runs.db (counting
    down), which the merge keeps, so its rows are copied without being rewritten.

Design Decision: in-sample points of every fold at once, each fold's winner as soon as its
grid is in
    Submitting all folds' grids together keeps every worker busy; the out-of-sample run of a
    fold needs only its own fold's grid, so it starts while other folds still run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import signal
import sqlite3
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Any

from tradecore import paths
from tradecore.configure import RunRequest, build_orchestrator, find_strategy
from tradecore.runs_db import RunNotFoundError, RunsDatabaseError
from tradecore.strategies import ParameterError
from tradecore.sweep.cluster import open_client, start_forkserver
from tradecore.sweep.data import build_slice, request_range
from tradecore.sweep.grid import grid_points, validate_grid
from tradecore.sweep.merge import handback_folder, merge_outcome, open_merger
from tradecore.sweep.results import PointRecord, SweepResult, best_records, better_of
from tradecore.sweep.windows import Fold, Window, holdout_folds, single_fold, walk_forward_folds
from tradecore.sweep.worker import PointOutcome, PointTask, run_point

log = logging.getLogger(__name__)

# After a cancel, how long running points get to stop and hand their run back.
CANCEL_GRACE_S = 30.0
# How often the coordinator looks at the cancel flag while it waits for points (a landed
# point wakes it at once; a wake without one only reads the flag).
POLL_S = 0.5
# A bigger grid is refused: it would take long and fill runs.db.
MAX_POINTS = 2000

Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class Validation:
    """Out-of-sample validation: a held-out fraction, or walk-forward windows."""

    holdout: float | None = None
    train: str | None = None
    test: str | None = None
    step: str | None = None

    def folds(self, first_ns: int, last_ns: int) -> list[Fold]:
        if self.holdout is not None and (self.train or self.test):
            raise ParameterError("choose a holdout or walk-forward windows, not both")
        if self.holdout is not None:
            return holdout_folds(first_ns, last_ns, self.holdout)
        if self.train or self.test:
            if not (self.train and self.test):
                raise ParameterError("walk-forward needs both a train and a test window")
            return walk_forward_folds(first_ns, last_ns, self.train, self.test, self.step)
        if self.step:
            raise ParameterError("a walk-forward step needs train and test windows")
        return single_fold(first_ns, last_ns)


def new_sweep_id() -> str:
    return f"sweep_{dt.datetime.now(dt.UTC):%Y-%m-%d_%H-%M-%S}_{uuid.uuid4().hex[:6]}"


def prepare(request: RunRequest, grid: dict[str, list[Any]], *, metric: str = "sharpe",
            validation: Validation | None = None) -> tuple[RunRequest, dict[str, list[Any]],
                                                           list[Fold], tuple[int, int]]:
    """Check everything a user can get wrong before any worker starts; return the request with
    its database paths pinned, the converted grid, the folds and the data range.

    Raises ParameterError / SecmasterError (ValueErrors) with one-line messages."""
    request = dataclasses.replace(
        request,
        secmaster_path=str(request.secmaster_path or paths.secmaster_path()),
        runs_db_path=str(request.runs_db_path or paths.runs_db_path()))
    strategy = find_strategy(request.strategy)
    grid = validate_grid(strategy, request.parameters, grid)
    points = grid_points(grid)
    if len(points) > MAX_POINTS:
        raise ParameterError(f"{len(points)} points is more than {MAX_POINTS}: widen a step or "
                             f"narrow a range")
    better_of(metric)
    build_orchestrator(dataclasses.replace(
        request, parameters={**request.parameters, **points[0]})).configuration()
    first, last, _ = request_range(request)
    folds = (validation or Validation()).folds(first, last)
    return request, grid, folds, (first, last)


def run_sweep(request: RunRequest, grid: dict[str, list[Any]], *, workers: int | None = None,
              scheduler: str | None = None, metric: str = "sharpe",
              validation: Validation | None = None, progress: Progress | None = None,
              on_point: Callable[[PointRecord], None] | None = None,
              cancel: threading.Event | None = None, sweep_id: str | None = None,
              client: Any = None) -> SweepResult:
    """Run every grid point (per fold, then each fold's best point out of sample).

    ``workers``: size of the local cluster (default one per core); ``scheduler``: a running
    dask scheduler's address instead; ``client``: an already connected ``distributed.Client``
    (tests, bench). ``progress(done, total)`` after every point; ``on_point`` with each record
    as it lands in runs.db. ``cancel`` (or Ctrl-C) stops the sweep; the result then has
    ``cancelled`` set. A failing point is a failed run; the sweep goes on.
    """
    if workers is not None and workers < 1:
        raise ParameterError(f"workers must be at least 1, not {workers}")
    started = time.perf_counter()
    if client is None and not scheduler:
        start_forkserver()  # overlaps what follows (see tradecore.sweep.cluster)
    request, grid, folds, (first, last) = prepare(request, grid, metric=metric,
                                                  validation=validation)
    sweep_id = sweep_id or new_sweep_id()
    points = grid_points(grid)
    validating = folds[0].out_of_sample is not None
    total = len(folds) * len(points) + (len(folds) if validating else 0)
    timings = {"prepare": time.perf_counter() - started}
    result = SweepResult(sweep_id, metric, [], folds, timings=timings)
    session = _Session(request, sweep_id, metric, result, total, progress, on_point, cancel)
    with ThreadPoolExecutor(1, thread_name_prefix="tradecore-slice") as background:
        slicing = background.submit(_timed, build_slice, request,
                                    folds[0].in_sample.start_ns, last)
        began = time.perf_counter()
        # the hand-over folder outlives the cluster: a late point cannot leave a file behind
        with _ctrl_c_cancels(session.cancel), handback_folder() as session.handback, (
                nullcontext(client) if client is not None
                else open_client(scheduler, workers)) as dask_client:
            timings["cluster_start"] = time.perf_counter() - began
            data, timings["slice"] = slicing.result()
            timings["setup"] = time.perf_counter() - started
            session.run(dask_client, data, folds, points, validating)
    timings["total"] = time.perf_counter() - started
    return result


def _timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    began = time.perf_counter()
    return function(*args), time.perf_counter() - began


@contextmanager
def _ctrl_c_cancels(cancel: threading.Event) -> Iterator[None]:
    """In the main thread, a first Ctrl-C cancels the sweep (running points stop and are
    kept), a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_interrupt(signum: int, frame: Any) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Session:
    """The loop of one sweep: submit, wait, merge, rank, submit out-of-sample, cancel."""

    def __init__(self, request: RunRequest, sweep_id: str, metric: str, result: SweepResult,
                 total: int, progress: Progress | None,
                 on_point: Callable[[PointRecord], None] | None,
                 cancel: threading.Event | None) -> None:
        self.request = request
        self.sweep_id = sweep_id
        self.metric = metric
        self.result = result
        self.total = total
        self.progress = progress
        self.on_point = on_point
        self.cancel = cancel or threading.Event()
        self.event_name = f"tradecore-cancel-{sweep_id}"
        self.done = 0
        self.merge_seconds = self.merge_cpu_seconds = 0.0
        self.merger: Any = None
        self.next_key = -1
        self.handback: tuple[str, str] | None = None  # see tradecore.sweep.merge
        self.finished: queue.SimpleQueue[Any] = queue.SimpleQueue()  # futures as they end

    def run(self, client: Any, data, folds: list[Fold], points: list[dict[str, Any]],
            validating: bool) -> None:
        began_cpu = time.process_time()  # this process: merges, client, a local scheduler
        try:
            self._start_and_run(client, data, folds, points, validating)
        finally:
            self.result.timings["session_cpu"] = time.process_time() - began_cpu

    def _start_and_run(self, client: Any, data, folds: list[Fold],
                       points: list[dict[str, Any]], validating: bool) -> None:
        began = time.perf_counter()
        content = client.scatter(data.content, broadcast=True, hash=False)
        self.result.timings["ship"] = time.perf_counter() - began
        with open_merger(self.request.runs_db_path) as self.merger:
            self.next_key = self.merger.first_free_key_below()
            self._run(client, content, data.digest, folds, points, validating)

    def _run(self, client: Any, content: Any, digest: str, folds: list[Fold],
             points: list[dict[str, Any]], validating: bool) -> None:
        from distributed import Event

        event = Event(self.event_name, client=client)
        event.clear()
        role = "in_sample" if validating else None
        pending: dict[Any, PointTask] = {}
        for fold in folds:
            for point in points:
                task = self._task(point, fold, fold.in_sample, role,
                                  keep_dates=not validating)
                pending[self._submit(client, task, content, digest)] = task
        remaining = {fold.index: len(points) for fold in folds}
        deadline = None
        try:
            while pending:
                if self.cancel.is_set() and deadline is None:
                    deadline = self._start_cancel(event)
                if deadline is not None and time.monotonic() > deadline:
                    client.cancel(list(pending))
                    self.result.not_started += len(pending)
                    break
                try:
                    finished = [self.finished.get(timeout=POLL_S)]
                except queue.Empty:
                    continue
                except KeyboardInterrupt:
                    self.cancel.set()
                    continue
                for future in finished:
                    task = pending.pop(future, None)
                    if task is None:  # not one of this loop's points (cancelled, dropped)
                        continue
                    record = self._land(future, task)
                    if record is None:
                        continue
                    if task.role == "in_sample":
                        remaining[task.fold] -= 1
                        if remaining[task.fold] == 0 and not self.cancel.is_set():
                            oos = self._out_of_sample_task(folds[task.fold])
                            if oos is not None:
                                pending[self._submit(client, oos, content, digest)] = oos
        except KeyboardInterrupt:
            # A second Ctrl-C while cancelling: stop waiting, drop what is still out there.
            self.cancel.set()
            client.cancel(list(pending))
            self.result.not_started += len(pending)
        finally:
            if self.cancel.is_set():
                self.result.cancelled = True
            self.result.timings["merge"] = self.merge_seconds
            self.result.timings["merge_cpu"] = self.merge_cpu_seconds
            # The sweep is over: its cancel watchers on the workers (which wait on this Event,
            # see tradecore.sweep.worker) end now, not cut off by a closing scheduler.
            try:
                event.set()
            except Exception as error:  # noqa: BLE001 - scheduler gone: nothing waits there
                log.debug("sweep event not set at the end: %s", error)

    def _task(self, point: dict[str, Any], fold: Fold, window, role: str | None, *,
              keep_dates: bool) -> PointTask:
        request = dataclasses.replace(
            self.request, parameters={**self.request.parameters, **point},
            sweep_id=self.sweep_id)
        if not keep_dates:
            request = dataclasses.replace(request, start=window.start_ns, end=window.end_ns)
        self.next_key -= 1
        return PointTask(request, dict(point), fold.index, role, self.event_name,
                         run_key=self.next_key + 1, handback=self.handback)

    def _submit(self, client: Any, task: PointTask, content: Any, digest: str) -> Any:
        future = client.submit(run_point, task, content, digest, pure=False,
                               key=f"tradecore-point-{uuid.uuid4().hex}")
        future.add_done_callback(self.finished.put)  # from dask's callback thread
        return future

    def _out_of_sample_task(self, fold: Fold) -> PointTask | None:
        winners = best_records(self.result.in_sample(fold.index), self.metric, 1)
        if not winners:
            log.warning("fold %d has no completed point with a %s: nothing to validate",
                        fold.index, self.metric)
            self.total -= 1
            return None
        return self._task(winners[0].point, fold, fold.out_of_sample, "out_of_sample",
                          keep_dates=False)

    def _start_cancel(self, event: Any) -> float:
        try:
            event.set()
        except Exception as error:  # noqa: BLE001 - scheduler gone; the deadline still holds
            log.warning("could not tell the workers to cancel: %s", error)
        return time.monotonic() + CANCEL_GRACE_S

    def _land(self, future: Any, task: PointTask) -> PointRecord | None:
        """Merge a finished point into runs.db and record it (None for a skipped point)."""
        try:
            outcome: PointOutcome = future.result()
        except Exception as error:  # noqa: BLE001 - the worker died under the point
            outcome = PointOutcome(task, None, "failed",
                                   error=f"{type(error).__name__}: {error}")
        if outcome.status == "skipped":
            self.result.not_started += 1
            return None
        run_id = outcome.run_id
        if (outcome.db is not None or outcome.db_path is not None) and run_id is not None:
            began, began_cpu = time.perf_counter(), time.thread_time()
            try:
                run_id = merge_outcome(self.merger, outcome, sweep_id=self.sweep_id,
                                       role=task.role)
            except (RunsDatabaseError, RunNotFoundError, sqlite3.DatabaseError,
                    OSError) as error:
                # A run runs.db cannot take (a worker of another tradecore version, a
                # damaged transfer, a handed-over file gone) or a failed write: this point
                # fails, the sweep goes on.
                # Its copy was one transaction, rolled back: nothing of it is in runs.db.
                log.warning("point %s: its run could not be stored: %s", task.point, error)
                outcome = dataclasses.replace(
                    outcome, status="failed", traceback=traceback.format_exc(),
                    error=f"its run could not be stored in runs.db "
                          f"({type(error).__name__}: {error})")
                run_id = None
            outcome.db = None  # the run is in runs.db (or refused): let its bytes go now
            self.merge_seconds += time.perf_counter() - began
            self.merge_cpu_seconds += time.thread_time() - began_cpu
        window = (Window(int(task.request.start), int(task.request.end))
                  if task.role is not None else None)
        record = PointRecord(run_id, task.point, task.fold, task.role, outcome.status, window,
                             outcome.statistics, outcome.error, outcome.traceback,
                             outcome.timings)
        self.result.points.append(record)
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)
        if self.on_point is not None:
            self.on_point(record)
        return record
