"""What the dashboard's child processes run: one backtest or one sweep through
``tradecore.service`` (the entry point the CLI shares). Imports no streamlit, so a child's log
stays free of Streamlit's warnings.

Messages to the parent (a ``multiprocessing`` Pipe): ``("progress", fraction, run_id)`` for a
backtest or ``("progress", done, total)`` for a sweep, and last ``("done", status, error)`` with
``status`` a ``RunStatus`` value and ``error`` a one-line text or None. The parent may send
``"cancel"``; the child sets the service's cancel event (``Orchestrator.cancel()``).
"""

from __future__ import annotations

import importlib
import os
import threading
from multiprocessing.connection import Connection
from typing import Any

LISTEN_SECONDS = 0.2


def _import_strategy_module(module: str | None) -> None:
    """Register the strategy's class in this fresh process: its module is imported (a
    strategy defined outside the registry's discovery, such as a test's, lives there)."""
    if module:
        try:
            importlib.import_module(module)
        except ImportError:  # a file loaded by discovery: discovery finds it again
            pass


def _channel(conn: Connection) -> tuple[threading.Event, threading.Event, Any]:
    """``(cancel, finished, send)`` for a child job: a thread turns the parent's "cancel"
    (or the parent going away) into ``cancel`` until ``finished`` is set; ``send`` is safe
    from any thread."""
    cancel, finished, lock = threading.Event(), threading.Event(), threading.Lock()

    def send(message: tuple) -> None:
        with lock:
            conn.send(message)

    def listen() -> None:
        while not finished.is_set():
            try:
                if conn.poll(LISTEN_SECONDS) and conn.recv() == "cancel":
                    cancel.set()
            except (EOFError, OSError):  # the parent is gone: stop the job
                cancel.set()
                return

    threading.Thread(target=listen, name="tradecore-cancel-listener", daemon=True).start()
    return cancel, finished, send


def backtest(request: Any, strategy_module: str | None, cwd: str, conn: Connection) -> None:
    from tradecore import service
    from tradecore.models import RunStatus

    os.chdir(cwd)
    _import_strategy_module(strategy_module)
    cancel, finished, send = _channel(conn)
    try:
        result = service.run(request, cancel_event=cancel,
                             progress=lambda fraction, run_id: send(("progress", fraction,
                                                                     run_id)))
        status, error = result.status, result.error
        if result.run_id:
            send(("progress", 1.0 if result.ok else 0.0, result.run_id))
    except Exception as failure:  # noqa: BLE001 - a request the page did not check: reported
        status, error = RunStatus.FAILED, f"{type(failure).__name__}: {failure}"
    finally:
        finished.set()
    send(("done", status.value, error))
    conn.close()


def sweep(request: Any, grid: dict[str, list[Any]], workers: int, sweep_id: str,
          strategy_module: str | None, cwd: str, options: dict[str, Any],
          conn: Connection) -> None:
    """``options``: ``run_sweep``'s scheduler, metric and validation. Sends the SweepResult
    as ``("result", result)`` before ``done``; "cancel" cancels the sweep (running points end
    ``cancelled``, the others are skipped)."""
    from tradecore.sweep.cluster import start_forkserver_early

    start_forkserver_early(options.get("scheduler"))  # first: its imports overlap the ones below
    from tradecore import service
    from tradecore.models import RunStatus

    os.chdir(cwd)
    _import_strategy_module(strategy_module)
    cancel, finished, send = _channel(conn)
    error: str | None = None
    try:
        result = service.sweep(request, grid, workers=workers, sweep_id=sweep_id,
                               cancel=cancel, progress=lambda done, total: send(
                                   ("progress", done, total)), **options)
        send(("result", result))
        if result.failed:
            error = f"{result.failed} of {result.completed + result.failed} runs failed"
    except Exception as failure:  # noqa: BLE001 - reported to the page
        error = f"{type(failure).__name__}: {failure}"
    finally:
        finished.set()
    status = RunStatus.FAILED if error and "runs failed" not in error else RunStatus.COMPLETED
    send(("done", status.value, error))
    conn.close()
