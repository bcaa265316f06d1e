"""What the dashboard's child processes run: one backtest, or one sweep (which fans out to
its own workers). Imports no streamlit, so a child's log stays free of Streamlit's warnings.

Messages to the parent (a ``multiprocessing`` Pipe): ``("run_id", id)``, ``("progress",
fraction)`` or ``("progress", done, total)`` for a sweep, and last ``("done", status, error)``
with ``status`` a ``RunStatus`` value and ``error`` a one-line text or None. The parent may
send ``"cancel"``; the child turns it into ``Orchestrator.cancel()``.
"""

from __future__ import annotations

import importlib
import os
import threading
from multiprocessing.connection import Connection
from typing import Any

PROGRESS_SECONDS = 0.2


def _import_strategy_module(module: str | None) -> None:
    """Register the strategy's class in this fresh process: its module is imported (a
    strategy defined outside the registry's discovery, such as a test's, lives there)."""
    if module:
        try:
            importlib.import_module(module)
        except ImportError:  # a file loaded by discovery: discovery finds it again
            pass


def backtest(request: Any, strategy_module: str | None, cwd: str, conn: Connection) -> None:
    from tradecore import analytics
    from tradecore.configure import build_orchestrator
    from tradecore.models import RunStatus

    os.chdir(cwd)
    _import_strategy_module(strategy_module)
    orchestrator = build_orchestrator(request)
    finished = threading.Event()
    lock = threading.Lock()

    def send(message: tuple) -> None:
        with lock:
            conn.send(message)

    def listen() -> None:
        while not finished.is_set():
            try:
                if conn.poll(PROGRESS_SECONDS) and conn.recv() == "cancel":
                    orchestrator.cancel()
            except (EOFError, OSError):  # the parent is gone: stop the run
                orchestrator.cancel()
                return

    def report() -> None:
        sent_id = None
        while not finished.wait(PROGRESS_SECONDS):
            if orchestrator.run_id and orchestrator.run_id != sent_id:
                sent_id = orchestrator.run_id
                send(("run_id", sent_id))
            send(("progress", float(orchestrator.progress)))

    threads = [threading.Thread(target=listen, daemon=True),
               threading.Thread(target=report, daemon=True)]
    for thread in threads:
        thread.start()
    error: str | None = None
    try:
        run_id = orchestrator.run()
        # The post-run work happens here, off the page's process, so the run page opens warm.
        analytics.statistics(run_id, request.runs_db_path)
    except Exception as failure:  # noqa: BLE001 - reported to the page; the run is marked
        error = f"{type(failure).__name__}: {failure}"
    finally:
        finished.set()
    status = orchestrator.status or (RunStatus.FAILED if error else None)
    if orchestrator.run_id:
        send(("run_id", orchestrator.run_id))
    send(("done", status.value if status else RunStatus.FAILED.value, error))
    conn.close()


def sweep(request: Any, grid: dict[str, list[Any]], workers: int, sweep_id: str,
          strategy_module: str | None, cwd: str, conn: Connection) -> None:
    from tradecore.models import RunStatus
    from tradecore.sweep import run_sweep

    os.chdir(cwd)
    _import_strategy_module(strategy_module)
    error: str | None = None
    try:
        run_sweep(request, grid, workers=workers, sweep_id=sweep_id,
                  progress=lambda done, total: conn.send(("progress", done, total)))
    except Exception as failure:  # noqa: BLE001 - reported to the page
        error = f"{type(failure).__name__}: {failure}"
    conn.send(("done", (RunStatus.FAILED if error else RunStatus.COMPLETED).value, error))
    conn.close()
