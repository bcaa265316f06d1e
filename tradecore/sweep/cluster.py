"""Where a sweep's points run: a local dask cluster or a running one at ``tcp://host:port``.

Design Decision: dask.distributed for the local case too
    One code path for one machine and many: locally a ``LocalCluster`` with one
    single-threaded worker process per core (the engine is pure Python, so threads would
    share one GIL). Its start-up (about 2-3 s here) is paid once per sweep, not per point;
    bench/sweep.py compares it with a plain process pool running the same worker function.

Design Decision: a quiet local cluster
    With dask's defaults an idle LocalCluster of 2 workers used 0.18 cores of this 2-core
    machine (measured: each worker samples its own stacks every 10 ms for dask's profiler,
    every process ticks its event loop every 20 ms, system and memory monitors poll psutil
    several times a second), and a busy worker got about 10% less done per CPU second. The
    local cluster is started with ``QUIET_CONFIG`` (no worker profiler, slower ticks and
    monitors): idle, it used 0.03 cores. A remote cluster keeps whatever its owner set.
    Measured again with the points' own costs cut (bench/sweep.py), that idle 0.026 cores was
    still 1-2 CPU-s of a 40-80 s sweep, 0.05-0.1 s a point; half of it was the workers'
    heartbeats, which a scheduler asks for every 0.5 s from up to 10 workers (dask's
    ``heartbeat_interval``, not a setting). While a local cluster runs, its scheduler asks
    for one every ``LOCAL_HEARTBEAT_S`` (dask's own interval for 50-199 workers; heartbeats
    carry metrics, not task results, and a lost worker is noticed by its closed connection).
    With that, no disk I/O sampling and a 10 s system monitor, an idle cluster of 2 used
    about 0.014 cores (from 0.025). ``worker-saturation`` 1.0 keeps points dask queues on the
    scheduler there until a worker is free (dask's default 1.1 hands a one-thread worker two,
    so at the end of a sweep one worker could sit idle while another still had a point
    waiting behind its running one); work stealing stays on for the first few points, which
    dask assigns to workers as they are submitted.

Design Decision: local workers ignore Ctrl-C
    A terminal's Ctrl-C reaches every process of the foreground group, local workers included;
    they would die with their points. They are started with SIGINT ignored (an ignored signal
    stays ignored in a spawned Python), so only the coordinator hears it and cancels cleanly.

Design Decision: spawned workers do not re-import the caller's ``__main__``
    multiprocessing's spawn re-runs the parent's ``__main__`` in every child. Under
    ``streamlit run``, Streamlit makes each page script ``__main__`` while it runs, so every
    worker would run the sweep page itself (with "missing ScriptRunContext" and "Session state
    does not function" warnings in the server log). Hiding ``__main__``'s file is not enough:
    the page reruns every second while the cluster starts and installs a new ``__main__``.
    So while the local cluster starts its workers, the spawn preparation data is built without
    the main-module entries (``multiprocessing.spawn.get_preparation_data``, restored after).

Design Decision: local workers fork from a preloaded forkserver, not spawned
    A spawned worker starts an interpreter and imports distributed, numpy, pandas, pyarrow and
    duckdb (measured: 1.5 CPU-seconds) and, at its exit, tears all of that down again (0.45
    CPU-s): about 2 CPU-s per worker per sweep, 0.25 s a point on a 16-point sweep of 2
    workers, more than any per-point cost. So local workers start with dask's ``forkserver``
    method: one server process imports those modules once (``FORKSERVER_PRELOAD``) and every
    worker is forked from it, ready; a forked child also leaves through ``os._exit`` (no
    teardown). The server lives as long as the process that started it, so a second sweep in
    the same process (the Python API, the bench) forks at once. Only third-party libraries are
    preloaded, never tradecore or a user's strategies: those are imported after the fork, so
    an edited strategy file is seen by the next sweep. A forked worker gets the current working
    directory and ``sys.path`` from its parent (multiprocessing sends them with each process);
    its environment is the server's, so the coordinator's environment as it is now is passed to
    the workers explicitly (dask sets ``env`` in the worker before it starts).

Design Decision: the forkserver starts before the sweep validates anything
    Its imports take about 1.3 s of one core; the coordinator meanwhile validates the sweep,
    builds the data slice and starts the scheduler (about 0.6 CPU-s), so ``run_sweep`` starts
    it first (:func:`start_forkserver`) and the two overlap on a multi-core machine (measured:
    ready 0.5 s sooner). It is started as a nanny would start it: with dask's pre-spawn
    environment (one BLAS thread, a fixed hash seed) and Ctrl-C ignored, which the forked
    workers inherit.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.spawn as mp_spawn
import os
import signal
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from tradecore.strategies import ParameterError

_PATCH_LOCK = threading.Lock()  # two sweeps starting clusters at once restore in order

# A remote scheduler that does not answer within this time is reported, not waited for.
CONNECT_TIMEOUT_S = 10

#: dask settings of a local cluster (see "a quiet local cluster" above). The profiler only
#: feeds dask's dashboard, which a sweep does not start; the intervals only delay what dask
#: logs about a blocked event loop and how soon a nanny sees a worker's memory grow.
QUIET_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "10s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.worker-saturation": 1.0,
}
#: Seconds between a local worker's heartbeats (see "a quiet local cluster" above).
LOCAL_HEARTBEAT_S = 2.0
_heartbeat_users = 0  # local clusters open in this process, under _PATCH_LOCK

#: Imported once by the forkserver local workers are forked from (see "local workers fork
#: from a preloaded forkserver" above): a worker's heavy third-party imports. An import that
#: fails there is skipped by multiprocessing; the worker then imports it itself.
FORKSERVER_PRELOAD = ("distributed", "numpy", "pandas", "pyarrow", "duckdb")
#: distributed's default ``distributed.nanny.pre-spawn-environ`` (distributed.yaml), used
#: before distributed is imported; a test checks they still agree.
PRE_SPAWN_DEFAULTS = {"MALLOC_TRIM_THRESHOLD_": 65536, "OMP_NUM_THREADS": 1,
                      "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}


def default_workers() -> int:
    return os.cpu_count() or 1


@contextmanager
def open_client(scheduler: str | None = None, workers: int | None = None,
                **cluster_options: Any) -> Iterator[Any]:
    """A ``distributed.Client`` on ``scheduler`` or on a new LocalCluster of ``workers``
    single-threaded processes (default: one per core); closed (and the cluster stopped) after."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
            raise ParameterError(f"the scheduler is an address like tcp://host:8786, not "
                                 f"{scheduler!r}")
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            raise ParameterError(f"no dask scheduler answers at {scheduler}: {error}") from None
        try:
            yield client
        finally:
            client.close()
        return
    count = workers or default_workers()
    if count < 1:
        raise ParameterError(f"a sweep needs at least one worker, not {count}")
    # Forked workers inherit the forkserver's environment, not this process's current one
    # (see the module docstring): hand it over, the caller's own ``env`` on top.
    env = {**os.environ, **cluster_options.pop("env", {})}
    options = {"n_workers": count, "threads_per_worker": 1, "processes": True,
               "dashboard_address": None, "silence_logs": logging.ERROR, "env": env,
               **cluster_options}
    # Read as the scheduler, the nannies and the workers start (a nanny hands its config to
    # the worker process it starts).
    with spawn_without_main(), _sigint_ignored(), warnings.catch_warnings(), \
            dask.config.set(QUIET_CONFIG), _forkserver():
        # The scheduler's small HTTP server (health checks; the dashboard is off) moves to a
        # free port when another cluster holds 8787, and says so on every start.
        warnings.filterwarnings("ignore", message="Port 8787 is already in use")
        cluster = LocalCluster(**options)
    try:
        with _slow_heartbeats():
            client = Client(cluster)
            try:
                yield client
            finally:
                client.close()
    finally:
        cluster.close()


@contextmanager
def _slow_heartbeats() -> Iterator[None]:
    """While a local cluster is open, schedulers in this process ask their workers for a
    heartbeat every ``LOCAL_HEARTBEAT_S`` at most (see the module docstring). dask reads
    ``distributed.scheduler.heartbeat_interval`` on each heartbeat, so the workers follow at
    their next one; the original is back once no local cluster is open."""
    import distributed.scheduler as dask_scheduler

    global _heartbeat_users
    with _PATCH_LOCK:
        if _heartbeat_users == 0:
            original = dask_scheduler.heartbeat_interval

            def heartbeat_interval(n: int) -> float:
                return max(original(n), LOCAL_HEARTBEAT_S)

            heartbeat_interval.original = original  # type: ignore[attr-defined]
            dask_scheduler.heartbeat_interval = heartbeat_interval
        _heartbeat_users += 1
    try:
        yield
    finally:
        with _PATCH_LOCK:
            _heartbeat_users -= 1
            if _heartbeat_users == 0:
                dask_scheduler.heartbeat_interval = (
                    dask_scheduler.heartbeat_interval.original)  # type: ignore[attr-defined]


def start_forkserver() -> None:
    """Start the server local workers are forked from, unless it runs: it returns at once and
    the server imports ``FORKSERVER_PRELOAD`` in the background (see the module docstring)."""
    from multiprocessing import forkserver

    import dask

    # What a dask Nanny puts into this process's environment before it starts a worker
    # (distributed.nanny: config values, the environment's own first, and a fixed hash seed);
    # the server reads it once, as it starts (BLAS threads are fixed when numpy is imported),
    # so it is set only while the server starts: the caller's own environment stays as it was.
    # distributed is not imported for its defaults: that would delay the server by 0.5 s.
    variables = dask.config.get("distributed.nanny.pre-spawn-environ",
                                default=PRE_SPAWN_DEFAULTS)
    pre_spawn = {k: os.environ.get(k, str(v)) for k, v in variables.items() if v is not None}
    if pre_spawn.get("PYTHONHASHSEED") in (None, "0"):
        pre_spawn["PYTHONHASHSEED"] = "6640"
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(FORKSERVER_PRELOAD))
    saved = {k: os.environ.get(k) for k in pre_spawn}
    os.environ.update(pre_spawn)
    try:
        with spawn_without_main(), _sigint_ignored():
            forkserver.ensure_running()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def start_forkserver_early(scheduler: str | None) -> None:
    """For a process about to import the engine and run a sweep (the CLI, the dashboard's
    sweep process): start the forkserver now, so that its imports overlap theirs (see
    ``tradecore.sweep``), unless the sweep goes to a running ``scheduler``. A failure is
    ignored here: ``run_sweep`` starts the server again inside its own error handling."""
    if not scheduler:
        with suppress(Exception):
            start_forkserver()


@contextmanager
def _forkserver() -> Iterator[None]:
    """Nannies started inside this block fork their workers from a server that has imported
    ``FORKSERVER_PRELOAD`` (see the module docstring)."""
    import dask
    from distributed.utils import get_mp_context

    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        # distributed names its own preload list on its first forkserver context; ours,
        # a superset, replaces it. Without effect once the server runs (it keeps its modules).
        get_mp_context().set_forkserver_preload(list(FORKSERVER_PRELOAD))
        yield


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread hears signals (and may change their handlers)
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def spawn_without_main() -> Iterator[None]:
    """Processes spawned inside this block do not re-run the parent's ``__main__``."""
    original = mp_spawn.get_preparation_data

    def without_main(name: str) -> dict[str, Any]:
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    with _PATCH_LOCK:
        mp_spawn.get_preparation_data = without_main
        try:
            yield
        finally:
            mp_spawn.get_preparation_data = original
