"""What runs on a sweep worker: one grid point, recorded into a private runs.db, handed back.

A worker (a dask worker process, possibly on another machine) sees no shared disk. It gets
the :class:`PointTask` and the secmaster slice's bytes (scattered once per worker, so a task
only carries a reference), writes the slice once into its own temp folder, replays the point
into a fresh private runs.db there, computes the run's statistics (the coordinator ranks
points by them without reading runs.db), and returns the private database's bytes. Nothing
here imports streamlit.

Design Decision: one private runs.db per point, returned whole
    A fresh file per point makes the hand-back trivial (the recorder's and the orchestrator's
    result-storing connections are closed, so SQLite has checkpointed its WAL and the file's
    bytes are the whole run, statistics included) and keeps a worker's disk use at one run.
    The bytes are read after this process's DuckDB (which read the statistics back through
    ``service.run``) has let go of the file, and go back with their header already in
    rollback-journal mode, so the coordinator loads them straight into memory with no copy
    (:func:`tradecore.runs_db.copy.database_bytes_for_copy`). A worker that sees the
    coordinator's hand-over folder moves the file itself there instead (header set the same
    way) and hands back its path: see ``tradecore.sweep.merge``.

Design Decision: the run is recorded under the key it keeps in runs.db
    The coordinator hands each point a (negative) run key it reserved; recorded under it,
    the run's rows need no rewriting when they are merged (see ``tradecore.runs_db.copy``).

Design Decision: each private runs.db starts as a copy of an empty one, unsynced
    Creating a database and its schema per point cost a few fsyncs (0.02-0.05 s of wall time
    before each run on a busy disk, 0.05 s measured with the stand-in row's commit). A worker
    process makes one empty runs.db, copies it per point, and writes the stand-in row with
    ``synchronous=OFF`` on its own connection: the file is scratch, read back and deleted
    within the point, and a crash loses the point whatever was synced. The recorder's own
    connection keeps runs.db's settings.

Design Decision: timings in CPU seconds too
    ``run_cpu`` is this process's CPU time over the run (its recorder thread included): the
    machine is shared, so bench/sweep.py reads a point's overhead as the sweep's CPU seconds
    minus its runs' CPU seconds rather than from wall times other users stretch.

Design Decision: one cancel watcher per worker process and sweep, waiting, not polling
    The sweep's cancel flag is a dask Event on the scheduler. A point used to ask for it before
    it started and then every second while it ran, from a thread of its own joined after the
    run: each ask a round trip to the scheduler, answered late when the coordinator was busy
    merging (measured: 0.06-0.16 s of wall time a point before its run started, on a loaded
    machine). Now the first point of a sweep on a worker process asks once and starts a
    thread that waits on the Event (``Event.wait``: the scheduler answers when it is set, or
    after ``CANCEL_WAIT_S``); every point of that sweep on the process reads its answer there
    and registers its run to be cancelled. The thread ends when the Event is set, when the
    scheduler is gone, or after ``CANCEL_IDLE_S`` without a point of its sweep.

Design Decision: a point records and reads in its own process, never through helpers
    A single backtest hands its rows to a writer process, and a long one reads its bars in a
    bar reader process, so that both run beside the engine on another core. In a sweep every
    core already runs a point, so those extra processes only add start-ups and the pickling
    of every row, and they make a 1-worker sweep use more than one core, which hides how the
    sweep scales. Worker processes set the recorder to its in-thread writer and the datafeed
    to read in-process (:func:`_stay_in_process`).
"""

from __future__ import annotations

import dataclasses
import multiprocessing.util as mp_util
import os
import shutil
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradecore.configure import RunRequest

# How long one wait on the sweep's cancel Event lasts on the scheduler before the watcher
# looks whether its sweep still has points here (see the module docstring).
CANCEL_WAIT_S = 10.0
# A watcher whose sweep has had no point on this process for this long stops.
CANCEL_IDLE_S = 60.0

_folder: Path | None = None
_slices: dict[str, Path] = {}
_lock = threading.Lock()
_watchers: dict[str, _SweepCancel] = {}  # by the cancel Event's name, under _lock


@dataclass(frozen=True)
class PointTask:
    """One run of a sweep: the full request (parameters, window, sweep id) and its place."""

    request: RunRequest
    point: dict[str, Any]
    fold: int
    role: str | None  # None (plain sweep), "in_sample" or "out_of_sample"
    cancel_event: str | None = None  # name of the dask Event that cancels the sweep
    run_key: int | None = None  # the key the coordinator keeps for the run in runs.db
    # The coordinator's hand-over folder and its token (see tradecore.sweep.merge)
    handback: tuple[str, str] | None = None


@dataclass
class PointOutcome:
    """What a worker hands back: the private runs.db as ``db`` bytes, or moved into the
    coordinator's hand-over folder at ``db_path`` (both None when no run was made)."""

    task: PointTask
    run_id: str | None
    status: str  # completed / failed / cancelled, or "skipped" (cancelled before it started)
    error: str | None = None
    traceback: str | None = None
    statistics: dict[str, Any] = field(default_factory=dict)
    db: bytes | bytearray | None = None
    db_path: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    host: str = ""
    pid: int = 0


def run_point(task: PointTask, slice_content: bytes, slice_digest: str) -> PointOutcome:
    """Replay one point on this worker (see the module docstring)."""
    timings: dict[str, float] = {}
    started, started_cpu = time.perf_counter(), time.process_time()
    watcher = _SweepCancel.of(task.cancel_event)
    outcome = PointOutcome(task, None, "skipped", host=os.uname().nodename, pid=os.getpid())
    if watcher is not None and watcher.fired:
        return outcome
    _stay_in_process()
    folder = _worker_folder()
    secmaster = _materialize(slice_content, slice_digest)
    timings["slice"] = time.perf_counter() - started
    runs_db = folder / f"runs-{uuid.uuid4().hex}.db"
    request = dataclasses.replace(task.request, secmaster_path=str(secmaster),
                                  runs_db_path=str(runs_db))
    cancel = threading.Event()
    try:
        from tradecore import service  # imported here: service imports this package

        if task.run_key is not None:
            _record_next_run_under(runs_db, task.run_key)

        if watcher is not None:
            watcher.register(cancel)
        began, began_cpu = time.perf_counter(), time.process_time()
        timings["before_run"] = began - started
        try:
            # the same entry point as a single backtest: validation, run, post-run work
            result = service.run(request, cancel_event=cancel)
        finally:
            if watcher is not None:
                watcher.unregister(cancel)
        ended = time.perf_counter()
        timings["run"] = ended - began
        timings["run_cpu"] = time.process_time() - began_cpu
        outcome.run_id = result.run_id
        outcome.status = result.status.value
        outcome.error, outcome.traceback = result.error, result.error_traceback
        outcome.statistics = _plain(result.statistics or {})
        if outcome.run_id is not None and runs_db.exists():
            _close_file(runs_db)
            outcome.db_path = _hand_over(runs_db, task.handback)
            if outcome.db_path is None:
                outcome.db = _database_bytes(runs_db)
    except Exception as error:  # noqa: BLE001 - a point that could not even start
        outcome.status = "failed"
        outcome.error = f"{type(error).__name__}: {error}"
        outcome.traceback = traceback.format_exc()
    finally:
        _forget(runs_db)
    timings["total"] = time.perf_counter() - started
    timings["total_cpu"] = time.process_time() - started_cpu
    if "run" in timings:
        timings["after_run"] = timings["total"] - timings["before_run"] - timings["run"]
    outcome.timings = timings
    return outcome


def _plain(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
            for k, v in stats.items()}


def _record_next_run_under(runs_db: Path, key: int) -> None:
    """Make the next run recorded into the fresh private ``runs_db`` get ``key``: SQLite gives
    a new row the largest key plus one, so a stand-in row holds ``key - 1``. It has no events
    and stays behind in the private file; the coordinator copies the run by its id.

    The file starts as a copy of this process's empty runs.db (:func:`_empty_runs_db`), and
    this connection does not sync it to disk: creating a database and its schema cost a few
    fsyncs, 0.02-0.05 s of wall time a point on a busy disk, for a scratch file that is read
    back and deleted within the point (a crash loses the point either way)."""
    from tradecore.runs_db.schema import connect

    shutil.copyfile(_empty_runs_db(), runs_db)
    conn = connect(runs_db)
    try:
        conn.execute("PRAGMA synchronous=OFF")  # this connection only; the recorder keeps its
        with conn:
            conn.execute("INSERT INTO runs (run_key, run_id, name, status, ts_start, config)"
                         " VALUES (?, ?, ?, ?, ?, ?)",
                         (key - 1, "sweep-key-stand-in", "", "cancelled", 0, "{}"))
    finally:
        conn.close()


def _empty_runs_db() -> Path:
    """A runs.db with the schema and no runs, made once per worker process (its closed
    connection has folded the WAL into the file, so copying the file copies the database)."""
    from tradecore.runs_db.schema import connect

    path = _worker_folder() / "runs-empty.db"
    with _lock:
        if not path.exists():
            building = path.with_suffix(".building")
            connect(building).close()
            building.replace(path)
        return path


def _hand_over(runs_db: Path, handback: tuple[str, str] | None) -> str | None:
    """Move the closed private runs.db into the coordinator's hand-over folder when this
    process sees that folder (its token matches) on the same file system; the new path, or
    None: the bytes go back instead (see ``tradecore.sweep.merge``)."""
    from tradecore.runs_db.copy import file_for_copy

    if handback is None or not _sees(*handback):
        return None
    file_for_copy(runs_db)
    target = Path(handback[0]) / runs_db.name
    try:
        os.replace(runs_db, target)  # a rename: fails across file systems
    except OSError:
        return None
    return str(target)


def _sees(folder: str, token: str) -> bool:
    """Whether this process sees the coordinator's hand-over ``folder``: its token file holds
    ``token``."""
    from tradecore.sweep.merge import TOKEN_FILE

    try:
        return (Path(folder) / TOKEN_FILE).read_text() == token
    except OSError:
        return False


def _close_file(runs_db: Path) -> None:
    """Make sure no connection of this process holds the finished private file and that the
    file alone is the whole database."""
    import sqlite3

    from tradecore.analytics.connection import detach

    detach(runs_db)  # never two copies of SQLite on one file in one process
    wal = Path(f"{runs_db}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        # Every writer has closed, which checkpoints; this only guards against one that
        # did not (the file alone would then miss the last transactions).
        conn = sqlite3.connect(runs_db)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()


def _database_bytes(runs_db: Path) -> bytearray:
    """The whole closed private runs.db (:func:`_close_file`) as bytes ready for the
    coordinator's in-memory copy."""
    from tradecore.runs_db.copy import database_bytes_for_copy

    with runs_db.open("rb", buffering=0) as file:
        content = bytearray(os.fstat(file.fileno()).st_size)
        view, done = memoryview(content), 0
        while done < len(content):  # read straight into the buffer: no second copy
            read = file.readinto(view[done:])
            if not read:
                raise OSError(f"{runs_db} shrank while it was read")
            done += read
    return database_bytes_for_copy(content)  # patched in place: a bytearray


def _forget(runs_db: Path) -> None:
    """Detach the private file from this process's DuckDB (the post-run work read it) and
    delete it, unless it was handed over: a worker keeps nothing per point. The files are
    deleted by a thread of their own, so the point's result leaves at once."""
    from tradecore.analytics.connection import detach
    from tradecore.sweep.merge import delete_in_background, sqlite_files

    try:
        detach(runs_db)
    finally:
        delete_in_background(sqlite_files(runs_db))


def _stay_in_process() -> None:
    from tradecore.datafeeds import SimulatedDatafeed
    from tradecore.runs_db import RunRecorder

    RunRecorder.writer = "thread"
    SimulatedDatafeed.read_ahead_from_bars = sys.maxsize


def _worker_folder() -> Path:
    """This worker process's own temp folder, removed when the process exits.

    Through a multiprocessing finalizer, not ``atexit``: a local worker is forked from a
    forkserver (``tradecore.sweep.cluster``) and leaves through ``os._exit``, which skips
    ``atexit`` but not multiprocessing's own exit function; in a process not started by
    multiprocessing, that function runs at exit too. A killed worker's folder is removed by
    the next worker of this host (``tradecore.sweep.merge.temp_folder``)."""
    from tradecore.sweep.merge import temp_folder

    global _folder
    with _lock:
        if _folder is None:
            _folder = temp_folder("worker")
            mp_util.Finalize(None, shutil.rmtree, args=(str(_folder), True), exitpriority=0)
        return _folder


def _materialize(content: bytes, digest: str) -> Path:
    """The slice as a file in this worker's folder, written once per slice and process."""
    with _lock:
        path = _slices.get(digest)
        if path is None or not path.exists():
            assert _folder is not None
            path = _folder / f"secmaster-{digest}.db"
            path.write_bytes(content)
            _slices[digest] = path
        return path


class _SweepCancel:
    """Sets the cancel flag of every run of one sweep on this process once the sweep's dask
    Event is set (see the module docstring). Outside a dask worker (a plain process pool)
    there is no Event and nothing to watch: :meth:`of` returns None."""

    def __init__(self, name: str, event: Any) -> None:
        self.name = name
        self._event = event
        self._runs: set[threading.Event] = set()
        self._last_use = time.monotonic()
        self.fired = bool(event.is_set())  # the one round trip before this sweep's points
        if not self.fired:
            threading.Thread(target=self._wait, name="tradecore-sweep-cancel",
                             daemon=True).start()

    @classmethod
    def of(cls, name: str | None) -> _SweepCancel | None:
        if name is None:
            return None
        with _lock:
            watcher = _watchers.get(name)
            if watcher is not None:
                watcher._last_use = time.monotonic()
                return watcher
        try:
            from distributed import Event, get_client

            event = Event(name, client=get_client())
        except (ImportError, ValueError):
            return None
        watcher = cls(name, event)
        with _lock:
            return _watchers.setdefault(name, watcher)

    def register(self, cancel: threading.Event) -> None:
        """Set ``cancel`` (which stops a run) when the sweep is cancelled."""
        with _lock:
            self._runs.add(cancel)
            self._last_use = time.monotonic()
            if self.fired:
                cancel.set()

    def unregister(self, cancel: threading.Event) -> None:
        with _lock:
            self._runs.discard(cancel)
            self._last_use = time.monotonic()

    def _wait(self) -> None:
        while True:
            try:
                fired = self._event.wait(CANCEL_WAIT_S)
            except Exception:  # noqa: BLE001 - scheduler gone: runs go on, the next asks anew
                with _lock:
                    _watchers.pop(self.name, None)
                return
            with _lock:
                if fired:
                    self.fired = True
                    for cancel in self._runs:
                        cancel.set()
                    return
                if not self._runs and time.monotonic() - self._last_use > CANCEL_IDLE_S:
                    _watchers.pop(self.name, None)
                    return
