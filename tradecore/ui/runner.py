"""Backtests and sweeps in child processes, so the page script never blocks and the
dashboard's own process never writes runs.db.

A job lives in ``st.session_state`` (one per session and kind). The page starts it, then
polls it: ``progress`` (0..1), ``run_id`` once the recorder has created the run, ``running``
and, when it ended, ``status`` and ``error_text``. ``cancel()`` asks the child to cancel.

Design Decision: validate in the page's process, replay in a child process
    Everything a user can get wrong (parameters, dates, symbols, source) is checked before the
    child starts (reading only the secmaster), so a typo is an ``st.error`` on the form and
    never a recorded failed run. Only the strategy's own code can then fail, and that failure
    is a recorded run to link to.

Design Decision: child processes, not threads
    The recorder writes runs.db with Python's sqlite3 while the pages read it through DuckDB's
    SQLite; two SQLite copies on one WAL file in one process can crash it with SIGBUS
    (notes/stack.md). A ``spawn`` child owns all writing. It sends the run id, progress and
    the final status over a Pipe; "cancel" goes the other way and becomes
    ``Orchestrator.cancel()`` (the run is recorded as cancelled), with ``terminate()`` as the
    last resort when the child does not end within ``CANCEL_GRACE_SECONDS``. A child that
    dies without saying how the run ended leaves an error for the page to show.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

import streamlit as st

from tradecore import service
from tradecore.configure import RunRequest, find_strategy
from tradecore.models import RunStatus
from tradecore.sweep import grid_points
from tradecore.sweep import prepare as prepare_sweep
from tradecore.sweep.cluster import spawn_without_main
from tradecore.ui import child_jobs

BACKTEST_KEY = "_tradecore_backtest_job"
SWEEP_KEY = "_tradecore_sweep_job"
CANCEL_GRACE_SECONDS = 15.0
_SPAWN = multiprocessing.get_context("spawn")


class ChildError(RuntimeError):
    """A job's child process ended without reporting how (killed, crashed)."""


class _ChildJob:
    """A child process and the Pipe to it; ``poll()`` reads what it reported."""

    def __init__(self, target: Any, args: tuple) -> None:
        self._conn, child_conn = _SPAWN.Pipe()
        self._process = _SPAWN.Process(target=target, args=(*args, child_conn),
                                       name="tradecore-job")
        self.started = time.monotonic()
        self.finished: float | None = None
        self.status: RunStatus | None = None
        self.error: BaseException | None = None
        self._cancel_sent: float | None = None
        self._child_conn = child_conn

    def start(self) -> _ChildJob:
        # Under streamlit run, __main__ is the page script: a spawned child must not re-run it
        with spawn_without_main():
            self._process.start()
        self._child_conn.close()  # the child holds its own copy
        return self

    def _on_message(self, message: tuple) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def poll(self) -> None:
        """Read every message the child sent; notice a child that died or ignores a cancel."""
        try:
            while self.status is None and self._conn.poll():
                message = self._conn.recv()
                if message[0] == "done":
                    self.status = RunStatus(message[1])
                    self.error = ChildError(message[2]) if message[2] else None
                    self.finished = time.monotonic()
                else:
                    self._on_message(message)
        except (EOFError, OSError):
            pass  # the child closed its end: decided below from its exit
        if self.status is None and not self._process.is_alive():
            self._process.join()
            self.status = RunStatus.CANCELLED if self._cancel_sent else RunStatus.FAILED
            self.error = None if self._cancel_sent else ChildError(
                f"the run's process ended unexpectedly (exit code {self._process.exitcode})")
            self.finished = time.monotonic()
        if self.status is None and self._cancel_sent is not None \
                and time.monotonic() - self._cancel_sent > CANCEL_GRACE_SECONDS:
            self._process.terminate()  # the last resort: the run stays as the recorder left it

    @property
    def running(self) -> bool:
        self.poll()
        return self.status is None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def error_text(self) -> str:
        self.poll()
        return str(self.error) if self.error else ""

    def cancel(self) -> None:
        if self._cancel_sent is None:
            self._cancel_sent = time.monotonic()
            try:
                self._conn.send("cancel")
            except (BrokenPipeError, OSError):
                pass

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (tests and CLI-like callers only); True when it did."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.running:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


class BackgroundRun(_ChildJob):
    """One backtest in a child process."""

    def __init__(self, request: RunRequest, strategy_module: str | None) -> None:
        super().__init__(child_jobs.backtest, (request, strategy_module, os.getcwd()))
        self.request = request
        self.handled = False  # the page has navigated to / reported the finished run
        self._progress = 0.0
        self._run_id: str | None = None

    def _on_message(self, message: tuple) -> None:
        if message[0] == "progress":
            self._progress = float(message[1])
            self._run_id = message[2] or self._run_id

    @property
    def progress(self) -> float:
        return 1.0 if not self.running else min(max(self._progress, 0.0), 1.0)

    @property
    def run_id(self) -> str | None:
        self.poll()
        return self._run_id


class BackgroundSweep(_ChildJob):
    """``run_sweep`` in a child process (which itself fans out to worker processes)."""

    def __init__(self, request: RunRequest, grid: dict[str, list[Any]], workers: int,
                 sweep_id: str, strategy_module: str | None, **options: Any) -> None:
        # options: run_sweep's scheduler, metric and validation
        super().__init__(child_jobs.sweep, (request, grid, workers, sweep_id, strategy_module,
                                            os.getcwd(), options))
        self.result = None  # the SweepResult, once the child sends it
        self.request = request
        self.grid = grid
        self.workers = workers
        self.sweep_id = sweep_id
        self.total = len(grid_points(grid))
        self.done = 0

    def _on_message(self, message: tuple) -> None:
        if message[0] == "progress":
            self.done, self.total = int(message[1]), int(message[2])
        elif message[0] == "result":
            self.result = message[1]

    @property
    def cancelling(self) -> bool:
        return self._cancel_sent is not None

    @property
    def progress(self) -> float:
        self.poll()
        return self.done / self.total if self.total else 1.0


def _strategy_module(request: RunRequest) -> str | None:
    return getattr(find_strategy(request.strategy), "__module__", None)


def start_backtest(request: RunRequest) -> BackgroundRun:
    """Validate ``request``, start it in a child process and remember it in the session.

    Raises ValueError subclasses (ParameterError, SecmasterError) with a user-facing message.
    """
    current = current_backtest()
    if current is not None and current.running:
        raise RuntimeError("a backtest is already running in this session")
    request = service.prepare(request)  # parameters, dates, broker, symbols, bars in range
    job = BackgroundRun(request, _strategy_module(request)).start()
    st.session_state[BACKTEST_KEY] = job
    return job


def current_backtest() -> BackgroundRun | None:
    return st.session_state.get(BACKTEST_KEY)


def forget_backtest() -> None:
    st.session_state.pop(BACKTEST_KEY, None)


def start_sweep(request: RunRequest, grid: dict[str, list[Any]], *, workers: int,
                sweep_id: str, **options: Any) -> BackgroundSweep:
    """``options``: ``run_sweep``'s ``scheduler``, ``metric`` and ``validation``."""
    current = current_sweep()
    if current is not None and current.running:
        raise RuntimeError("a sweep is already running in this session")
    strategy = find_strategy(request.strategy)
    for point in grid_points(grid):  # every grid value, before any process starts
        for key, value in point.items():
            strategy.parameters[key].validate(key, value)
    request = service.prepare(request)
    # the grid, the data range and the out-of-sample windows, before any process starts
    prepare_sweep(request, grid, metric=options.get("metric", "sharpe"),
                  validation=options.get("validation"))
    job = BackgroundSweep(request, grid, workers, sweep_id, _strategy_module(request),
                          **options).start()
    st.session_state[SWEEP_KEY] = job
    return job


def current_sweep() -> BackgroundSweep | None:
    return st.session_state.get(SWEEP_KEY)


__all__ = ["BACKTEST_KEY", "SWEEP_KEY", "BackgroundRun", "BackgroundSweep", "ChildError",
           "current_backtest", "current_sweep", "forget_backtest", "start_backtest",
           "start_sweep"]
