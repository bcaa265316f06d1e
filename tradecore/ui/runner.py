"""Backtests and sweeps on a background thread, so the page script never blocks.

A job lives in ``st.session_state`` (one per session and kind). The page starts it, then
polls it: ``progress`` (0..1), ``run_id`` once the recorder has created the run, ``running``
and, when it ended, ``status`` and ``error``. ``cancel()`` is thread-safe (the orchestrator's).

Design Decision: validate in the script thread, replay in a background thread
    Everything a user can get wrong (parameters, dates, symbols, source) is checked before the
    thread starts, so a typo is an ``st.error`` on the form and never a recorded failed run.
    Only the strategy's own code can then fail, and that failure is a recorded run to link to.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import streamlit as st

from tradecore import paths
from tradecore.configure import RunRequest, bar_period_of, build_orchestrator, find_strategy
from tradecore.models import RunStatus
from tradecore.orchestrator import Orchestrator
from tradecore.secmaster import resolve_symbols
from tradecore.sweep import grid_points, run_sweep

BACKTEST_KEY = "_tradecore_backtest_job"
SWEEP_KEY = "_tradecore_sweep_job"


class BackgroundRun:
    """One backtest replaying on a daemon thread."""

    def __init__(self, orchestrator: Orchestrator, request: RunRequest) -> None:
        self.orchestrator = orchestrator
        self.request = request
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self.finished: float | None = None
        self.handled = False  # the page has navigated to / reported the finished run
        self._thread = threading.Thread(target=self._replay, name="tradecore-backtest",
                                        daemon=True)

    def start(self) -> BackgroundRun:
        self._thread.start()
        return self

    def _replay(self) -> None:
        try:
            self.orchestrator.run()  # stores the run's statistics and overviews as it ends
        except Exception as error:  # noqa: BLE001 - kept for the page; the run is marked failed
            self.error = error
        finally:
            self.finished = time.monotonic()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def progress(self) -> float:
        return 1.0 if not self.running else min(max(self.orchestrator.progress, 0.0), 1.0)

    @property
    def run_id(self) -> str | None:
        return self.orchestrator.run_id

    @property
    def status(self) -> RunStatus | None:
        """``None`` while running; afterwards what the orchestrator recorded."""
        if self.running:
            return None
        if self.orchestrator.status is not None:
            return self.orchestrator.status
        return RunStatus.FAILED if self.error is not None else None

    @property
    def error_text(self) -> str:
        return f"{type(self.error).__name__}: {self.error}" if self.error else ""

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def cancel(self) -> None:
        self.orchestrator.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (tests and CLI-like callers only); True when it did."""
        self._thread.join(timeout)
        return not self.running


def with_default_paths(request: RunRequest) -> RunRequest:
    """Pin both databases now: the env may differ by the time a thread reads it."""
    if not request.secmaster_path:
        request.secmaster_path = str(paths.secmaster_path())
    if not request.runs_db_path:
        request.runs_db_path = str(paths.runs_db_path())
    return request


def check_request(request: RunRequest) -> None:
    """Raise ParameterError/SecmasterError (ValueErrors) for anything the user can fix."""
    strategy = find_strategy(request.strategy)
    period = bar_period_of(strategy, request.parameters)
    resolve_symbols(request.secmaster_path, request.symbols, period,
                    request.publisher_name, request.dataset)


def start_backtest(request: RunRequest) -> BackgroundRun:
    """Validate ``request``, start it on a background thread and remember it in the session.

    Raises ValueError subclasses (ParameterError, SecmasterError) with a user-facing message.
    """
    current = current_backtest()
    if current is not None and current.running:
        raise RuntimeError("a backtest is already running in this session")
    request = with_default_paths(request)
    orchestrator = build_orchestrator(request)  # checks parameters, dates, broker values
    orchestrator.configuration()  # checks symbols and the bar period
    check_request(request)
    job = BackgroundRun(orchestrator, request).start()
    st.session_state[BACKTEST_KEY] = job
    return job


def current_backtest() -> BackgroundRun | None:
    return st.session_state.get(BACKTEST_KEY)


def forget_backtest() -> None:
    st.session_state.pop(BACKTEST_KEY, None)


# -- sweeps ----------------------------------------------------------------------------------

class BackgroundSweep:
    """``run_sweep`` on a daemon thread (which itself fans out to worker processes)."""

    def __init__(self, request: RunRequest, grid: dict[str, list[Any]], workers: int,
                 sweep_id: str) -> None:
        self.request = request
        self.grid = grid
        self.workers = workers
        self.sweep_id = sweep_id
        self.total = len(grid_points(grid))
        self.done = 0
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._sweep, name="tradecore-sweep", daemon=True)

    def start(self) -> BackgroundSweep:
        self._thread.start()
        return self

    def _sweep(self) -> None:
        try:
            run_sweep(self.request, self.grid, workers=self.workers, progress=self._progress,
                      sweep_id=self.sweep_id)
        except Exception as error:  # noqa: BLE001 - shown on the page
            self.error = error

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 1.0

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self.running


def start_sweep(request: RunRequest, grid: dict[str, list[Any]], *, workers: int,
                sweep_id: str) -> BackgroundSweep:
    current = current_sweep()
    if current is not None and current.running:
        raise RuntimeError("a sweep is already running in this session")
    request = with_default_paths(request)
    strategy = find_strategy(request.strategy)
    for point in grid_points(grid):  # every grid value, before any process starts
        for key, value in point.items():
            strategy.parameters[key].validate(key, value)
    build_orchestrator(request).configuration()
    check_request(request)
    job = BackgroundSweep(request, grid, workers, sweep_id).start()
    st.session_state[SWEEP_KEY] = job
    return job


def current_sweep() -> BackgroundSweep | None:
    return st.session_state.get(SWEEP_KEY)
