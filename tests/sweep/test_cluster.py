"""Local workers forked from a preloaded forkserver (tradecore.sweep.cluster) behave as
spawned ones did: they see the coordinator's environment and working directory as they are
when the cluster starts (not when the server started), ignore Ctrl-C, and use one BLAS
thread."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tradecore.sweep.cluster import (
    FORKSERVER_PRELOAD,
    LOCAL_HEARTBEAT_S,
    PRE_SPAWN_DEFAULTS,
    open_client,
    start_forkserver,
)


def _seen() -> dict:
    import sys

    return {"probe": os.environ.get("TRADECORE_TEST_PROBE"), "cwd": os.getcwd(),
            "sigint": signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
            "blas": os.environ.get("OPENBLAS_NUM_THREADS"),
            "preloaded": [m for m in FORKSERVER_PRELOAD if m in sys.modules],
            "hash": hash("tradecore")}


def test_forked_workers_see_the_coordinator_as_it_is_now(tmp_path, monkeypatch):
    start_forkserver()  # before the variable and the folder change: the server keeps neither
    monkeypatch.setenv("TRADECORE_TEST_PROBE", "after-the-server-started")
    monkeypatch.chdir(tmp_path)
    with open_client(workers=2) as client:
        seen = list(client.run(_seen).values())
        pids = client.run(os.getpid)
    assert len(seen) == 2 and seen[0] == seen[1]  # one hash seed across workers, too
    assert seen[0]["probe"] == "after-the-server-started"
    assert seen[0]["cwd"] == str(tmp_path)
    assert seen[0]["sigint"] is True
    assert seen[0]["blas"] == "1"
    assert seen[0]["preloaded"] == list(FORKSERVER_PRELOAD)
    assert os.getpid() not in pids.values()


def test_pre_spawn_defaults_match_distributed():
    """start_forkserver reads these before distributed is imported; they must stay dask's."""
    import dask
    import distributed  # noqa: F401 - loads distributed's defaults into dask.config

    packaged = dask.config.merge(*dask.config.defaults)  # not a user's config files
    assert packaged["distributed"]["nanny"]["pre-spawn-environ"] == PRE_SPAWN_DEFAULTS


def test_local_workers_heartbeat_slowly_while_the_cluster_is_open():
    import distributed.scheduler as dask_scheduler

    original = dask_scheduler.heartbeat_interval
    assert original(2) < LOCAL_HEARTBEAT_S  # dask's own: 0.5 s for a few workers

    def interval(dask_worker) -> float:
        return dask_worker.periodic_callbacks["heartbeat"].callback_time / 1000

    with open_client(workers=1) as client, open_client(workers=1):
        assert dask_scheduler.heartbeat_interval(2) == LOCAL_HEARTBEAT_S
        deadline = time.monotonic() + 30
        while set(client.run(interval).values()) != {LOCAL_HEARTBEAT_S}:
            assert time.monotonic() < deadline, client.run(interval)
            time.sleep(0.1)
    assert dask_scheduler.heartbeat_interval is original  # back once both have closed


def _hold(name: str, index: int) -> int:
    from distributed import Event, get_client

    Event(name, client=get_client()).wait(60)
    return index


def test_a_local_worker_holds_only_the_point_it_runs():
    """The rest wait on the scheduler, so whichever worker frees first takes the next (no
    point stuck behind a running one while another worker idles at the end of a sweep)."""
    from distributed import Event

    def load(dask_scheduler) -> tuple[list[int], int]:
        return ([len(ws.processing) for ws in dask_scheduler.workers.values()],
                len(dask_scheduler.queued))

    with open_client(workers=2) as client:
        release = Event("tradecore-test-release", client=client)
        # one graph: dask queues such a batch of like tasks on the scheduler ("root-ish")
        futures = client.map(_hold, [release.name] * 5, range(5), pure=False)
        deadline = time.monotonic() + 30
        while sum(client.run_on_scheduler(load)[0]) < 2:
            assert time.monotonic() < deadline, client.run_on_scheduler(load)
            time.sleep(0.05)
        assert client.run_on_scheduler(load) == ([1, 1], 3)
        release.set()
        assert client.gather(futures) == list(range(5))


def _run_until_cancelled(name: str, started: str) -> tuple[bool, bool]:
    """A stand-in for a running point: registered with the sweep's cancel watcher, it waits
    for its cancel flag. Returns (flag set, watcher fired)."""
    import threading

    from distributed import Event, get_client

    from tradecore.sweep.worker import _SweepCancel

    watcher = _SweepCancel.of(name)
    cancel = threading.Event()
    watcher.register(cancel)
    Event(started, client=get_client()).set()
    try:
        return cancel.wait(60), watcher.fired
    finally:
        watcher.unregister(cancel)


def _skipped(name: str) -> bool:
    from tradecore.sweep.worker import _SweepCancel

    return _SweepCancel.of(name).fired


def test_a_cancelled_sweep_stops_running_points_and_skips_the_rest():
    from distributed import Event

    with open_client(workers=1) as client:
        cancel = Event("tradecore-test-cancel", client=client)
        started = Event("tradecore-test-started", client=client)
        running = client.submit(_run_until_cancelled, cancel.name, started.name, pure=False)
        assert started.wait(60)
        cancel.set()
        assert running.result(timeout=60) == (True, True)
        assert client.submit(_skipped, cancel.name, pure=False).result(timeout=60) is True


def _folder_with_a_point_left() -> str:
    """The worker's folder, holding what a point leaves there (the slice, an empty runs.db)."""
    from tradecore.sweep.worker import _empty_runs_db

    return str(_empty_runs_db().parent)


def test_a_local_worker_removes_its_folder_when_the_cluster_closes():
    """Forked workers leave through os._exit, which skips atexit: their folders (the slice,
    an empty runs.db) used to stay in the temp folder after every sweep."""
    with open_client(workers=2) as client:
        folders = list(client.run(_folder_with_a_point_left).values())
        assert len(folders) == 2 and all(os.path.isdir(f) for f in folders)
    deadline = time.monotonic() + 30  # the workers have exited; wait for their files anyway
    while any(os.path.exists(f) for f in folders):
        assert time.monotonic() < deadline, [os.listdir(f) for f in folders
                                             if os.path.exists(f)]
        time.sleep(0.05)


def test_the_forkserver_can_start_before_the_engine_is_imported():
    """The CLI and the dashboard's sweep process start the forkserver first, so that its
    imports overlap theirs: reaching start_forkserver must not import the engine or pandas."""
    import subprocess
    import sys

    probe = ("import sys; from tradecore.sweep.cluster import start_forkserver; "
             "print(sorted(m for m in ('pandas', 'duckdb', 'distributed', 'tradecore.service', "
             "'tradecore.sweep.coordinator', 'tradecore.orchestrator') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_sweep_package_still_offers_every_name_it_lists():
    import tradecore.sweep as sweep
    from tradecore.sweep import coordinator, results, windows

    assert sweep.run_sweep is coordinator.run_sweep
    assert sweep.SweepResult is results.SweepResult and sweep.Window is windows.Window
    assert all(getattr(sweep, name) is not None for name in sweep.__all__)
    assert set(sweep.__all__) <= set(dir(sweep))
    try:
        sweep.no_such_name  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("an unknown name was found")


def test_folders_of_killed_sweep_processes_are_removed_by_the_next_of_their_kind(
        tmp_path, monkeypatch):
    """A SIGKILLed worker or coordinator cannot remove its temp folder; the next process of
    this host making a folder of that kind removes it, and nothing of a live process."""
    import subprocess
    import sys
    import tempfile

    from tradecore.sweep import merge

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its process id now belongs to no process
    host = merge._host()
    made = {name: tmp_path / name for name in (
        f"tradecore-sweep-worker-{host}-{gone.pid}-a1", f"tradecore-sweep-handback-{host}-"
        f"{gone.pid}-b2", f"tradecore-sweep-worker-{host}-{os.getpid()}-c3",
        f"tradecore-sweep-worker-elsewhere-{gone.pid}-d4")}
    for folder in made.values():
        folder.mkdir()
        (folder / "runs-1.db").write_bytes(b"x" * 1000)
    new = merge.temp_folder("worker")
    assert new.parent == tmp_path and new.name.startswith(
        f"tradecore-sweep-worker-{host}-{os.getpid()}-")
    left = {p.name for p in tmp_path.iterdir()} - {new.name}
    assert left == set(made) - {f"tradecore-sweep-worker-{host}-{gone.pid}-a1"}
    with merge.handback_folder() as (folder, _):
        assert Path(folder).parent == tmp_path
    assert {p.name for p in tmp_path.iterdir()} == left - {
        f"tradecore-sweep-handback-{host}-{gone.pid}-b2"} | {new.name}
