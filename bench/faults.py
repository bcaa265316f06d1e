"""Fault bench: kills, concurrent writers, broken files and hostile input, tried from outside.

    python bench/faults.py [--only NAME[,NAME...]] [--small] [--keep]

Every scenario drives real processes (``python -m tradecore ...``, the recorder's writer
process, AppTest page renders in a child process) against real files in a temporary folder,
then checks the result only through stable surfaces: the CLI's output and exit code,
``sqlite3`` with ``PRAGMA integrity_check`` and row counts, and the Runs and run pages. It
prints one row per scenario: held / NOT HELD with the evidence (statuses, counts, messages).
The tests in ``tests/faults/`` call the same scenarios with ``Profile.small()``.

Design Decision: a strategy that counts what it publishes
    "Nothing lost" needs an independent number to compare row counts with. The bench writes a
    user strategy (``strategies/faultbench.py`` in its working folder, found by the registry's
    normal discovery) that counts its own bars, orders and fills and writes them to a JSON file
    named by its ``tag`` parameter when it shuts down; the bar count is also checked against
    ``count(*)`` of the secmaster's bars in the run's range. The same strategy can hold
    the run at bar ``hold_at`` (it writes ``held-<tag>`` and waits for ``release-<tag>``), so a
    kill or a delete lands mid-run however fast or busy the machine is; and it can force the
    recorder's writer process for a small run (env ``FAULTBENCH_WRITER``).

Design Decision: wait on conditions, never on the clock
    A kill happens once the run is held and its rows are visible in runs.db; statuses are
    read after the killed processes are gone (polled in ``/proc``). Every wait has a deadline and fails the
    scenario with what it saw, instead of sleeping a fixed time and hoping.

Design Decision: sqlite3 here, DuckDB only in children
    The bench reads runs.db with Python's sqlite3; the CLI and the pages (which use DuckDB)
    always run in child processes, so one process never holds both SQLite copies on one WAL
    file (see ``notes/stack.md``: that crashes with SIGBUS).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EVENT_TABLES = (
    "bars", "bars_processed", "order_submissions", "order_cancellations",
    "order_modifications", "orders_accepted", "orders_rejected", "cancellations_accepted",
    "cancellations_rejected", "modifications_accepted", "modifications_rejected", "fills",
    "expirations",
)
# A message "says what to do" when it names a command, a flag or an action on the file.
ADVICE = re.compile(
    r"python -m tradecore|--[a-z][a-z-]+|\b(move it|rebuild|restore|free (up )?some space|"
    r"make (it|the file|them)|writable|choose|pass --|point --|delete it|remove it|"
    r"cancel (it|them)|wait for|build the|run again|try again|import (your )?data)\b",
    re.IGNORECASE,
)

STRATEGY_SOURCE = '''
"""The fault bench's strategy: SMA crossover that counts what it publishes (see bench/faults.py)."""

import json
import os
import time

import tradecore
from tradecore.strategies import ParamSpec
from tradecore.strategies.examples.sma_crossover import SMACrossover

if os.environ.get("FAULTBENCH_WRITER"):
    # Force the recorder's writer process for a small run (the attribute the recorder reads).
    tradecore.RunRecorder.writer = os.environ["FAULTBENCH_WRITER"]


class FaultBench(SMACrossover):
    name = "Fault Bench"
    parameters = {
        **SMACrossover.parameters,
        "tag": ParamSpec(0, min=0, max=1_000_000_000, step=1, help="names the counts file"),
        "hold_at": ParamSpec(0, min=0, max=1_000_000_000, step=1,
                             help="bar at which to wait for the bench's release file"),
    }

    def setup(self):
        super().setup()
        self.counted = {"bars": 0, "orders": 0, "fills": 0}

    def on_bar(self, bar):
        self.counted["bars"] += 1
        if self.counted["bars"] == self.hold_at:
            self._hold()
        super().on_bar(bar)

    def _hold(self):
        """Tell the bench the run is mid-way, then wait (with a deadline) until it says go."""
        folder = os.environ["FAULTBENCH_COUNTS"]
        open(os.path.join(folder, f"held-{self.tag}"), "w").close()
        release = os.path.join(folder, f"release-{self.tag}")
        deadline = time.monotonic() + 600
        while not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.01)

    def submit_order(self, *args, **kwargs):
        self.counted["orders"] += 1
        return super().submit_order(*args, **kwargs)

    def on_fill(self, fill):
        self.counted["fills"] += 1
        super().on_fill(fill)

    def shutdown(self):
        folder = os.environ.get("FAULTBENCH_COUNTS")
        if folder:
            target = os.path.join(folder, f"{self.tag}.json")
            with open(target + ".tmp", "w") as out:
                json.dump({**self.counted, "pid": os.getpid()}, out)
            os.replace(target + ".tmp", target)
        super().shutdown()
'''

PAGE_PROBE = '''
import json, re, sys, warnings
warnings.simplefilter("ignore")
from streamlit.testing.v1 import AppTest
root, run_id = sys.argv[1], sys.argv[2]
out = {"runs_page": None, "run_page": None, "errors": [], "exceptions": []}
at = AppTest.from_file(root + "/pages/runs.py", default_timeout=120).run()
out["exceptions"] += [e.value for e in at.exception]
out["errors"] += [e.value for e in at.error]
if at.dataframe:
    table = at.dataframe[0].value
    if "run_id" in table and "status" in table:
        match = table[table["run_id"] == run_id]
        out["runs_page"] = str(match["status"].iloc[0]) if len(match) else "(not listed)"
at = AppTest.from_file(root + "/pages/run.py", default_timeout=120)
at.query_params["run"] = run_id
at.run()
out["exceptions"] += [e.value for e in at.exception]
out["errors"] += [e.value for e in at.error]
out["markdown"] = [m.value for m in at.markdown]
for m in at.markdown:
    found = re.search(r"-badge\\[([a-z]+)\\]", m.value)
    if found:
        out["run_page"] = found.group(1)
        break
print(json.dumps(out))
'''


# -- results ---------------------------------------------------------------------------------

@dataclasses.dataclass
class Outcome:
    scenario: str
    held: bool
    evidence: str
    failures: list[str]


class Check:
    """Collects what failed and what was seen, so a scenario reports all of it at once."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.evidence: list[str] = []

    def that(self, condition: bool, failure: str) -> bool:
        if not condition:
            self.failures.append(failure)
        return condition

    def saw(self, text: str) -> None:
        self.evidence.append(text)


@dataclasses.dataclass(frozen=True)
class Profile:
    """How big the runs are: the bench's default, or ``small()`` for the tests."""

    symbols: str = "ACME,GLOBX,INITECH"
    start: str | None = None
    end: str | None = None
    hold_at: int = 40_000        # the bar a held run waits at (of 77k)
    kill_after_bars: int = 20_000  # rows visible in runs.db before a kill
    writer: str = ""            # "" leaves the recorder's own choice (process for 100k+ events)
    sweep_points: int = 4

    @classmethod
    def small(cls) -> Profile:
        return cls(symbols="ACME,GLOBX", start="2024-12-02", end="2024-12-31", hold_at=8000,
                   kill_after_bars=2000, writer="process", sweep_points=2)

    def range_args(self) -> list[str]:
        return [*(["--start", self.start] if self.start else []),
                *(["--end", self.end] if self.end else [])]


@dataclasses.dataclass
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines()
                if re.match(r"(error|run (failed|cancelled|interrupted)):", line)]

    def brief(self) -> str:
        text = (self.error_lines or self.stderr.strip().splitlines() or
                self.stdout.strip().splitlines() or [""])[-1]
        return f"rc={self.returncode} {text[:160]!r}"


# -- the workspace: two databases, the strategy, the CLI -------------------------------------

def _default_sigint() -> None:
    """A shell without job control starts background jobs with SIGINT ignored, and children
    inherit that: give the CLI the default, so Ctrl-C reaches Python as KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Workspace:
    """A folder with secmaster.db, runs.db and the bench strategy; runs the CLI in it."""

    def __init__(self, root: Path, profile: Profile) -> None:
        self.root = root
        self.profile = profile
        self.secmaster = root / "secmaster.db"
        self.runs = root / "runs.db"
        self.counts = root / "counts"
        self.counts.mkdir(parents=True, exist_ok=True)
        (root / "strategies").mkdir(exist_ok=True)
        (root / "strategies" / "faultbench.py").write_text(STRATEGY_SOURCE)
        self._next_tag = 1

    def tag(self) -> int:
        self._next_tag += 1
        return self._next_tag

    def env(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TRADECORE_SECMASTER": str(self.secmaster),
               "TRADECORE_RUNS_DB": str(self.runs), "FAULTBENCH_COUNTS": str(self.counts),
               "PYTHONWARNINGS": "ignore"}
        env.pop("TRADECORE_STRATEGIES", None)
        if self.profile.writer:
            env["FAULTBENCH_WRITER"] = self.profile.writer
        env.update(extra)
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tradecore", *args]

    def cli(self, *args: str, timeout: float = 600, preexec: Callable[[], None] | None = None,
            env: dict[str, str] | None = None) -> CliResult:
        done = subprocess.run(self.command(*args), cwd=self.root, env=env or self.env(),
                              capture_output=True, text=True, timeout=timeout,
                              preexec_fn=preexec, stdin=subprocess.DEVNULL)
        return CliResult(list(args), done.returncode, done.stdout, done.stderr)

    def start(self, *args: str) -> subprocess.Popen:
        """A CLI process in its own session, so ``killpg`` takes it and its writer at once."""
        return subprocess.Popen(self.command(*args), cwd=self.root, env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_default_sigint)

    def run_args(self, tag: int, *, hold: bool = False, quiet: bool = True) -> list[str]:
        hold_at = self.profile.hold_at if hold else 0
        return ["run", "FaultBench", "--symbols", self.profile.symbols, "--period", "MINUTE",
                *self.profile.range_args(), "--param", f"tag={tag}",
                "--param", f"hold_at={hold_at}", *(["--quiet"] if quiet else [])]

    def held(self, tag: int) -> bool:
        return (self.counts / f"held-{tag}").exists()

    def release(self, tag: int) -> None:
        (self.counts / f"release-{tag}").touch()

    def counted(self, tag: int) -> dict[str, int] | None:
        path = self.counts / f"{tag}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def expected_bars(self) -> int:
        """Bars of the profile's symbols and range in the secmaster: an independent count."""
        from tradecore.configure import to_ns

        start = to_ns(self.profile.start) if self.profile.start else 0
        end = to_ns(self.profile.end, end_of_day=True) if self.profile.end else 2**62
        symbols = self.profile.symbols.split(",")
        with closing_db(self.secmaster) as conn:
            marks = ", ".join("?" * len(symbols))
            return conn.execute(
                "SELECT count(*) FROM bars AS b"
                " JOIN instruments AS i ON i.instrument_id = b.instrument_id"
                f" WHERE i.raw_symbol IN ({marks}) AND b.bar_period = 'MINUTE'"
                " AND b.ts_event BETWEEN ? AND ?", (*symbols, start, end)).fetchone()[0]


# -- reading runs.db from outside ------------------------------------------------------------

@contextlib.contextmanager
def closing_db(path: Path, *, read_only: bool = True) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
    except sqlite3.OperationalError:
        if not read_only:
            raise
        # A WAL database in a read-only folder cannot make its -shm: read it as immutable.
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True, timeout=30)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        yield conn
    finally:
        conn.close()


def integrity(path: Path) -> str:
    try:
        with closing_db(path) as conn:
            return ", ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    except sqlite3.Error as error:
        return f"{type(error).__name__}: {error}"


def run_rows(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    with closing_db(path) as conn:
        conn.row_factory = sqlite3.Row
        return {row["run_id"]: dict(row) for row in conn.execute("SELECT * FROM runs")}


def _run_filter(conn: sqlite3.Connection) -> str:
    """Schema v1 keys event rows by ``run_id``, v2 by the integer ``run_key``."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(bars)")}
    if "run_key" in columns:
        return "run_key = (SELECT run_key FROM runs WHERE run_id = ?)"
    return "run_id = ?"


def row_counts(path: Path, run_id: str) -> dict[str, int]:
    with closing_db(path) as conn:
        where = _run_filter(conn)
        return {table: conn.execute(f"SELECT count(*) FROM {table} WHERE {where}",
                                    (run_id,)).fetchone()[0] for table in EVENT_TABLES}


def orphan_rows(path: Path) -> int:
    """Event rows whose run is not in ``runs`` (a delete that raced a recording run)."""
    with closing_db(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(bars)")}
        key = "run_key" if "run_key" in columns else "run_id"
        return sum(conn.execute(f"SELECT count(*) FROM {t} WHERE {key} NOT IN "
                                f"(SELECT {key} FROM runs)").fetchone()[0]
                   for t in EVENT_TABLES)


def snapshot(path: Path) -> tuple:
    """Runs (id, status) and rows per table: what 'nothing changed' compares."""
    if not path.exists():
        return ()
    with closing_db(path) as conn:
        runs = sorted(conn.execute("SELECT run_id, status FROM runs"))
        counts = tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                       for t in EVENT_TABLES)
    return (tuple(runs), counts)


CLI_BATCH = '''
import contextlib, io, json, sys
from tradecore.cli import main
results = []
for args in json.loads(sys.stdin.read()):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exit_:  # argparse refusing an argument
            code = exit_.code if isinstance(exit_.code, int) else 2
    results.append([args, code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
'''


def cli_batch(ws: Workspace, cases: list[list[str]]) -> list[CliResult]:
    """Many CLI commands in one child process (``main(args)`` each): what ``python -m
    tradecore`` does, without paying the interpreter's start-up fifty times."""
    done = subprocess.run([sys.executable, "-c", CLI_BATCH], input=json.dumps(cases),
                          cwd=ws.root, env=ws.env(), capture_output=True, text=True,
                          timeout=1800)
    try:
        rows = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(f"the CLI batch failed: {done.stderr[-1000:]}") from None
    return [CliResult(args, code, out, err) for args, code, out, err in rows]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "(missing)"


def tag_of(row: dict[str, Any]) -> int | None:
    try:
        config = json.loads(row["config"])
        return int(config["strategies"][0]["parameters"]["tag"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


# -- waiting on conditions -------------------------------------------------------------------

def wait_until(condition: Callable[[], Any], timeout: float, what: str,
               interval: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy; raise with ``what`` at the
    deadline. The interval is only how often to look, never an assumption about progress."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def bars_recorded(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with closing_db(path) as conn:
            return conn.execute("SELECT count(*) FROM bars").fetchone()[0]
    except sqlite3.Error:
        return 0


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def writer_of(engine_pid: int) -> int | None:
    """The engine's recorder writer process (``tradecore.runs_db.writer_process``)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == engine_pid and b"writer_process" in cmdline:
            return int(entry.name)
    return None


# -- how a run is seen from outside ----------------------------------------------------------

def status_in_list(ws: Workspace, run_id: str) -> str:
    result = ws.cli("runs", "list", "--json")
    if result.returncode != 0:
        return f"(runs list failed: {result.brief()})"
    for record in json.loads(result.stdout.strip().splitlines()[-1] or "[]"):
        if record.get("run_id") == run_id:
            return str(record.get("status"))
    return "(not listed)"


def status_in_show(ws: Workspace, run_id: str) -> str:
    result = ws.cli("runs", "show", run_id)
    found = re.search(r"^status:\s*(\S+)", result.stdout, re.MULTILINE)
    return found.group(1) if found else f"(runs show: {result.brief()})"


def pages_view(ws: Workspace, run_id: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", PAGE_PROBE, str(ROOT), run_id],
                          cwd=ws.root, env=ws.env(), capture_output=True, text=True,
                          timeout=600)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"runs_page": None, "run_page": None, "errors": [],
                "exceptions": [f"page probe failed: {done.stderr.strip()[-300:]}"]}


def statuses_everywhere(ws: Workspace, run_id: str, *, pages: bool = True) -> dict[str, str]:
    seen = {"runs list": status_in_list(ws, run_id), "runs show": status_in_show(ws, run_id)}
    if pages:
        view = pages_view(ws, run_id)
        seen["Runs page"] = str(view["runs_page"])
        seen["run page"] = str(view["run_page"])
        if view["exceptions"]:
            seen["page exception"] = "; ".join(view["exceptions"])[:200]
    return seen


def one_line_advice(check: Check, result: CliResult, what: str, *, advice: bool = True) -> None:
    """Failed, with exactly one ``error:`` line (that says what to do, with ``advice``), and
    no traceback."""
    check.saw(f"{what}: {result.brief()}")
    check.that(result.returncode != 0, f"{what}: exit code 0 (expected a failure)")
    check.that("Traceback" not in result.stderr, f"{what}: traceback on stderr")
    check.that(len(result.error_lines) == 1,
               f"{what}: {len(result.error_lines)} error lines: {result.stderr.strip()[-300:]!r}")
    if advice and result.error_lines:
        check.that(bool(ADVICE.search(result.error_lines[0].partition(":")[2])),
                   f"{what}: the message does not say what to do: {result.error_lines[0]!r}")
    check.that("database is locked" not in result.stderr, f"{what}: 'database is locked'")


def nothing_lost(check: Check, ws: Workspace, run_id: str, tag: int, expected_bars: int) -> None:
    """Row counts per type equal what the strategy published and what the secmaster holds."""
    counts = row_counts(ws.runs, run_id)
    counted = ws.counted(tag)
    if not check.that(counted is not None, f"{run_id}: the strategy wrote no counts"):
        return
    check.saw(f"{run_id[-30:]}: bars {counts['bars']}/{expected_bars} orders "
              f"{counts['order_submissions']}/{counted['orders']} fills "
              f"{counts['fills']}/{counted['fills']}")
    check.that(counts["bars"] == expected_bars == counted["bars"],
               f"{run_id}: bars rows {counts['bars']}, secmaster {expected_bars}, "
               f"strategy saw {counted['bars']}")
    check.that(counts["bars_processed"] == counted["bars"],
               f"{run_id}: bars_processed {counts['bars_processed']} != {counted['bars']}")
    check.that(counts["order_submissions"] == counted["orders"],
               f"{run_id}: order_submissions {counts['order_submissions']} != "
               f"{counted['orders']}")
    check.that(counts["orders_accepted"] + counts["orders_rejected"]
               == counts["order_submissions"],
               f"{run_id}: accepted+rejected != submitted ({counts})")
    check.that(counts["fills"] == counted["fills"],
               f"{run_id}: fills rows {counts['fills']} != {counted['fills']}")


# -- scenarios: kill and crash ---------------------------------------------------------------

def _kill_mid_run(ws: Workspace, victim: str) -> Outcome:
    """SIGKILL the engine, the writer or both once rows are visible; then only look."""
    check = Check()
    name = victim if victim.startswith("SIG") else f"SIGKILL {victim}"
    tag = ws.tag()
    baseline = bars_recorded(ws.runs)
    engine = ws.start(*ws.run_args(tag, hold=True))
    writer = None
    try:
        def recorded() -> int:
            return bars_recorded(ws.runs) - baseline

        wait_until(lambda: (ws.held(tag) and recorded() >= ws.profile.kill_after_bars)
                   or engine.poll() is not None,
                   300, f"the run held with {ws.profile.kill_after_bars} bars in runs.db")
        seen = recorded()
        writer = writer_of(engine.pid)
        if engine.poll() is not None:
            check.that(False, f"the run ended (rc {engine.returncode}) before the kill: "
                              f"{engine.stderr.read()[-300:]!r}")
            return _outcome(name, check)
        check.that(writer is not None or victim == "engine",
                   "no writer process (tradecore.runs_db.writer_process) under the engine")
        if victim == "engine":
            os.kill(engine.pid, signal.SIGKILL)
        elif victim in ("SIGTERM", "SIGINT"):
            os.kill(engine.pid, getattr(signal, victim))
        elif victim == "writer" and writer is not None:
            os.kill(writer, signal.SIGKILL)
        else:
            os.killpg(engine.pid, signal.SIGKILL)  # engine and writer at once: a power cut
        check.saw(f"killed with {seen} bars visible; writer pid {writer}")
        ws.release(tag)  # a surviving engine goes on (and finds its writer gone)
        engine.wait(300)
        if writer is not None:
            wait_until(lambda: not alive(writer), 60, "the writer process to end")
    except TimeoutError as error:
        check.that(False, str(error))
        return _outcome(name, check)
    finally:
        if engine.poll() is None:
            os.killpg(engine.pid, signal.SIGKILL)
            engine.wait()
    stderr = engine.stderr.read()
    rows = run_rows(ws.runs)
    run_id = next((r for r, row in rows.items() if tag_of(row) == tag), None)
    if not check.that(run_id is not None, "no runs row for the killed run"):
        return _outcome(name, check)
    result = integrity(ws.runs)
    check.saw(f"integrity {result}")
    check.that(result == "ok", f"integrity_check: {result}")
    kept = row_counts(ws.runs, run_id)["bars"]
    check.saw(f"bars kept {kept} (>= {seen} seen before the kill)")
    check.that(kept >= seen, f"committed rows lost: {kept} < {seen}")
    seen_status = statuses_everywhere(ws, run_id)
    check.saw(", ".join(f"{k}: {v}" for k, v in seen_status.items()))
    if victim == "SIGINT":
        wanted = {"cancelled"}  # Ctrl-C: the orchestrator stops the run as cancelled
        check.that(engine.returncode != 0 and "Traceback" not in stderr,
                   f"Ctrl-C: rc {engine.returncode}, stderr {stderr[-200:]!r}")
    elif victim == "writer":
        # The engine survives and ends the run itself: failed (or interrupted), with a reason.
        row = run_rows(ws.runs)[run_id]
        check.saw(f"engine rc {engine.returncode}, error {str(row['error'])[:120]!r}")
        check.that(engine.returncode != 0, "the engine exited 0 after losing its writer")
        first = (stderr.strip().splitlines() or [""])[0]
        check.saw(f"engine stderr starts {first[:100]!r}")
        check.that("writer" in first, f"the engine's first error line does not name the "
                                      f"writer: {first[:200]!r}")
        check.that(row["status"] in ("failed", "interrupted") and bool(row["error"]),
                   f"status {row['status']!r} with error {row['error']!r}")
        wanted = {row["status"]}
    elif victim == "SIGTERM":
        wanted = {"cancelled"}  # the CLI stops on SIGTERM as on Ctrl-C
    else:
        wanted = {"interrupted"}
    for where, status in seen_status.items():
        if where != "page exception":
            check.that(status in wanted, f"{where} shows {status!r}, not {'/'.join(wanted)}")
    check.that("page exception" not in seen_status, "a page raised an exception")
    return _outcome(name, check)


def kill_engine(ws: Workspace) -> Outcome:
    return _kill_mid_run(ws, "engine")


def kill_writer(ws: Workspace) -> Outcome:
    return _kill_mid_run(ws, "writer")


def kill_both(ws: Workspace) -> Outcome:
    return _kill_mid_run(ws, "engine+writer")


def sigterm_engine(ws: Workspace) -> Outcome:
    return _kill_mid_run(ws, "SIGTERM")


def sigint_engine(ws: Workspace) -> Outcome:
    return _kill_mid_run(ws, "SIGINT")


def kill_sweep(ws: Workspace) -> Outcome:
    """SIGKILL a sweep (its process, its workers and their writers) while its runs record:
    none of its runs may stay ``running`` for anyone who looks."""
    check = Check()
    first = ws.tag() * 100
    last = first + ws.profile.sweep_points - 1
    sweep = ws.start("sweep", "FaultBench", "--symbols", ws.profile.symbols, "--period",
                     "MINUTE", *ws.profile.range_args(), "--grid", f"tag={first}:{last}:1",
                     "--param", f"hold_at={ws.profile.hold_at}", "--workers", "2")
    try:
        wait_until(lambda: any(ws.held(t) for t in range(first, last + 1))
                   or sweep.poll() is not None, 300, "a run of the sweep held mid-way")
        check.that(sweep.poll() is None, f"the sweep ended before the kill: rc {sweep.poll()}")
    except TimeoutError as error:
        check.that(False, str(error))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sweep.pid, signal.SIGKILL)
        sweep.wait(60)
        for t in range(first, last + 1):
            ws.release(t)
    wait_until(lambda: not any(alive(pid) for pid in _session_pids(sweep.pid)), 60,
               "every process of the sweep to end")
    check.that(integrity(ws.runs) == "ok", f"integrity_check: {integrity(ws.runs)}")
    # Sweep points record into private files and reach runs.db whole, when they end: a
    # point killed mid-way leaves nothing there, a point merged before the kill is complete.
    rows = {r: row for r, row in run_rows(ws.runs).items() if row["sweep_id"]}
    listed = ws.cli("runs", "list", "--json")
    check.that(listed.returncode == 0, f"runs list failed: {listed.stderr.strip()}")
    records = {rec["run_id"]: rec["status"] for rec in
               json.loads((listed.stdout.strip().splitlines() or ["[]"])[-1])}
    for run_id in rows:
        check.that(records.get(run_id) not in (None, "running"),
                   f"runs list shows {run_id} as {records.get(run_id)}")
        shown = status_in_show(ws, run_id)
        check.that(shown not in (None, "running"), f"runs show: {run_id} is {shown}")
    check.that(not any(status == "running" for status in records.values()),
               "a run is still listed as running")
    check.saw(f"{len(rows)} runs of the killed sweep reached runs.db, listed as "
              f"{sorted(set(records.get(r) for r in rows))}; none running")
    return _outcome("SIGKILL a sweep", check)


def _session_pids(session: int) -> list[int]:
    """Processes of a session (the sweep, its pool workers, their writers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[3]) == session:  # field 6 of stat: the session id
                found.append(int(entry.name))
    return found


# -- scenarios: concurrent writers -----------------------------------------------------------

def _finish(process: subprocess.Popen, timeout: float = 900) -> CliResult:
    out, err = process.communicate(timeout=timeout)
    return CliResult(list(map(str, process.args)), process.returncode, out, err)


def two_runs_at_once(ws: Workspace) -> Outcome:
    check = Check()
    expected = ws.expected_bars()
    tags = [ws.tag(), ws.tag()]
    processes = [ws.start(*ws.run_args(tag)) for tag in tags]
    results = [_finish(p) for p in processes]
    for tag, result in zip(tags, results, strict=True):
        check.that(result.returncode == 0, f"run tag {tag}: {result.brief()}")
        check.that("locked" not in result.stderr, f"run tag {tag}: 'database is locked'")
        run_id = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        row = run_rows(ws.runs).get(run_id)
        if check.that(row is not None, f"run tag {tag}: no row for {run_id!r}"):
            check.that(row["status"] == "completed", f"{run_id}: {row['status']}")
            nothing_lost(check, ws, run_id, tag, expected)
    check.that(integrity(ws.runs) == "ok", f"integrity_check: {integrity(ws.runs)}")
    return _outcome("two CLI runs at once", check)


def run_during_sweep(ws: Workspace) -> Outcome:
    check = Check()
    expected = ws.expected_bars()
    first = ws.tag() * 100
    last = first + ws.profile.sweep_points - 1
    sweep = ws.start("sweep", "FaultBench", "--symbols", ws.profile.symbols, "--period",
                     "MINUTE", *ws.profile.range_args(), "--grid", f"tag={first}:{last}:1",
                     "--workers", "2")
    try:
        wait_until(lambda: any(row["sweep_id"] for row in run_rows(ws.runs).values())
                   or sweep.poll() is not None, 300, "the sweep's first run")
    except TimeoutError as error:
        check.that(False, str(error))
    tag = ws.tag()
    single = ws.start(*ws.run_args(tag))
    sweep_result, single_result = _finish(sweep), _finish(single)
    for name, result in (("sweep", sweep_result), ("run", single_result)):
        check.saw(f"{name}: {result.brief()}")
        check.that(result.returncode == 0, f"{name}: {result.brief()}")
        check.that("locked" not in result.stderr, f"{name}: 'database is locked'")
    rows = run_rows(ws.runs)
    by_tag = {tag_of(row): run_id for run_id, row in rows.items()}
    for wanted in [*range(first, last + 1), tag]:
        run_id = by_tag.get(wanted)
        if check.that(run_id is not None, f"no run for tag {wanted}"):
            check.that(rows[run_id]["status"] == "completed",
                       f"{run_id}: {rows[run_id]['status']} {rows[run_id]['error']}")
            nothing_lost(check, ws, run_id, wanted, expected)
    check.that(integrity(ws.runs) == "ok", f"integrity_check: {integrity(ws.runs)}")
    return _outcome("a run during a sweep", check)


def delete_during_run(ws: Workspace) -> Outcome:
    """Deleting the running run is refused (or cancels it); deleting another run works."""
    check = Check()
    expected = ws.expected_bars()
    other_tag = ws.tag()
    other = ws.cli(*ws.run_args(other_tag))
    other_id = other.stdout.strip().splitlines()[-1] if other.returncode == 0 else ""
    check.that(other.returncode == 0, f"the run to delete later failed: {other.brief()}")
    tag = ws.tag()
    baseline = bars_recorded(ws.runs)
    running = ws.start(*ws.run_args(tag, hold=True))  # held mid-run until the deletes are done
    try:
        wait_until(lambda: (ws.held(tag) and bars_recorded(ws.runs) >= baseline + 200)
                   or running.poll() is not None, 300, "the second run held with rows")
    except TimeoutError as error:
        check.that(False, str(error))
    run_id, row = next(((r, row) for r, row in run_rows(ws.runs).items()
                        if tag_of(row) == tag), ("", {}))
    if not check.that(row.get("status") == "running" and running.poll() is None,
                      f"the run was not recording at the delete: {row.get('status')}"):
        ws.release(tag)
        _finish(running)
        return _outcome("a delete during a run", check)
    refused = ws.cli("runs", "delete", run_id, "--yes")
    check.saw(f"delete running: {refused.brief()}")
    check.that("locked" not in refused.stderr, "delete of the running run: 'database is locked'")
    cancelled = refused.returncode == 0
    if not cancelled:
        one_line_advice(check, refused, "delete of the running run", advice=False)
    deleted = ws.cli("runs", "delete", other_id, "--yes")
    check.saw(f"delete other: {deleted.brief()}")
    check.that(deleted.returncode == 0, f"deleting a finished run during a run: {deleted.brief()}")
    check.that(other_id not in run_rows(ws.runs), "the finished run is still listed")
    ws.release(tag)
    result = _finish(running)
    check.that("locked" not in result.stderr, "the running run hit 'database is locked'")
    rows = run_rows(ws.runs)
    if cancelled:
        check.saw(f"the delete went through; the run's process: {result.brief()}")
        check.that(run_id not in rows or rows[run_id]["status"] == "cancelled",
                   f"after a delete the run is {rows.get(run_id)}")
        check.that(not (result.returncode == 0 and run_id in result.stdout),
                   "the deleted run went on recording to its end")
        check.that(orphan_rows(ws.runs) == 0,
                   f"{orphan_rows(ws.runs)} event rows belong to no run")
    else:
        check.that(result.returncode == 0, f"the running run: {result.brief()}")
        check.that(rows.get(run_id, {}).get("status") == "completed",
                   f"the running run ended {rows.get(run_id, {}).get('status')}")
        if run_id in rows:
            nothing_lost(check, ws, run_id, tag, expected)
    check.that(integrity(ws.runs) == "ok", f"integrity_check: {integrity(ws.runs)}")
    return _outcome("a delete during a run", check)


# -- scenarios: disk and files ---------------------------------------------------------------

def _make_read_only(path: Path) -> None:
    """The database's folder becomes read-only: a read-only bind mount when we are root (root
    ignores file modes), file modes otherwise."""
    folder = path.parent
    if os.geteuid() == 0:
        for command in (["mount", "--bind", str(folder), str(folder)],
                        ["mount", "-o", "remount,bind,ro", str(folder)]):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"cannot simulate a read-only folder: {done.stderr.strip()}")
        return
    for item in folder.iterdir():
        item.chmod(0o444)
    folder.chmod(0o555)


def _read_only_mounted(folder: Path) -> bool:
    return any(line.split()[1] == str(folder)
               for line in Path("/proc/mounts").read_text().splitlines())


def _copy_databases(ws: Workspace, name: str) -> tuple[Path, Path]:
    """Private copies of the workspace's databases, each in its own folder under ``name/``
    (so one can be made read-only without the other)."""
    copies = []
    for source in (ws.secmaster, ws.runs):
        folder = ws.root / name / source.stem
        folder.mkdir(parents=True)
        target = folder / source.name
        if source.exists():
            with closing_db(source) as conn, contextlib.closing(sqlite3.connect(target)) as out:
                conn.backup(out)
        copies.append(target)
    return copies[0], copies[1]


def _file_fault(ws: Workspace, name: str, database: str, damage: Callable[[Path], None],
                commands: list[list[str]]) -> Outcome:
    """Damage one database, run commands, expect one-line advice and an unchanged file."""
    check = Check()
    secmaster, runs = _copy_databases(ws, name.replace(" ", "_"))
    target = secmaster if database == "secmaster.db" else runs
    damage(target)
    digest = file_digest(target)
    env = ws.env(TRADECORE_SECMASTER=str(secmaster), TRADECORE_RUNS_DB=str(runs))
    runs_before = snapshot(runs) if database == "secmaster.db" else None
    for command in commands:
        may_work = command[0] == "?"  # reading may succeed; failing must still be one line
        command = command[1:] if may_work else command
        result = ws.cli(*command, env=env)
        if may_work and result.returncode == 0:
            check.saw(f"{' '.join(command[:2])}: {result.brief()}")
            continue
        one_line_advice(check, result, " ".join(command[:2]))
    check.that(file_digest(target) == digest, f"{database} was changed")
    if database == "secmaster.db" and runs.exists():
        for run_id, row in run_rows(runs).items():
            check.that(row["status"] != "running", f"{run_id} left running")
            if runs_before and run_id not in dict(runs_before[0]) and "read-only" not in name:
                check.saw(f"new run {row['status']}: {str(row['error'])[:100]!r}")
                check.that(row["status"] == "failed" and bool(row["error"]),
                           f"a run on a broken secmaster ended {row['status']} "
                           f"without a reason")
    if "read-only" in name:
        check.that(integrity(target) == "ok", f"integrity_check: {integrity(target)}")
    return _outcome(name, check)


def _truncate(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(max(4096, size // 2))


def _not_a_database(path: Path) -> None:
    path.write_text("date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n" * 200)


def _missing(path: Path) -> None:
    path.unlink()


_SHOW = ["runs", "show", "no-such-run"]
_IMPORT = ["import", "csv", "one.csv", "--symbol", "ONE", "--period", "DAY"]
_RUN = ["run", "SMACrossover", "--symbols", "ACME", "--quiet"]
# name -> (damaged database, damage, commands); "?" first: the command may also just work.
FILE_CASES: dict[str, tuple[str, Callable[[Path], None], list[list[str]]]] = {
    "runs.db read-only": ("runs.db", _make_read_only,
                          [_RUN, ["?", "runs", "list"], ["runs", "delete", "no-such", "--yes"]]),
    "runs.db truncated": ("runs.db", _truncate, [_RUN, ["runs", "list"], _SHOW]),
    "runs.db not a database": ("runs.db", _not_a_database, [_RUN, ["runs", "list"], _SHOW]),
    "runs.db missing": ("runs.db", _missing, [_SHOW, ["runs", "delete", "x", "--yes"]]),
    "secmaster.db read-only": ("secmaster.db", _make_read_only, [["?", *_RUN], _IMPORT]),
    "secmaster.db truncated": ("secmaster.db", _truncate, [_RUN, _IMPORT]),
    "secmaster.db not a database": ("secmaster.db", _not_a_database, [_RUN, _IMPORT]),
    "secmaster.db missing": ("secmaster.db", _missing, [_RUN]),
}


def file_fault(ws: Workspace, name: str) -> Outcome:
    write_input_files(ws)
    database, damage, commands = FILE_CASES[name]
    return _file_fault(ws, name, database, damage, commands)


def file_faults(ws: Workspace) -> list[Outcome]:
    outcomes = []
    for name in FILE_CASES:
        try:
            outcomes.append(file_fault(ws, name))
        except Exception as error:  # noqa: BLE001 - one broken case must not hide the others
            outcomes.append(Outcome(name, False, "", [f"{type(error).__name__}: {error}"]))
    return outcomes


def disk_full(ws: Workspace) -> Outcome:
    """runs.db may not grow past a few MB (RLIMIT_FSIZE on the engine: the file-size limit a
    full disk imposes, without needing root for a loop-mounted filesystem)."""
    check = Check()
    secmaster, runs = _copy_databases(ws, "disk_full")
    limit = (runs.stat().st_size if runs.exists() else 0) + 256 * 1024

    def limited() -> None:
        # SIGXFSZ would kill the process outright; ignored, the write fails with EFBIG and
        # SQLite reports it, as it reports ENOSPC on a full disk.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    before = set(run_rows(runs))
    tag = ws.tag()
    env = ws.env(TRADECORE_SECMASTER=str(secmaster), TRADECORE_RUNS_DB=str(runs))
    result = ws.cli(*ws.run_args(tag), env=env, preexec=limited)
    one_line_advice(check, result, "run on a full disk")
    check.that(integrity(runs) == "ok", f"integrity_check: {integrity(runs)}")
    new = {r: row for r, row in run_rows(runs).items() if r not in before}
    for run_id, row in new.items():
        check.saw(f"status {row['status']}, error {str(row['error'])[:100]!r}")
        seen = statuses_everywhere(ws_at(ws, secmaster, runs), run_id, pages=False)
        check.saw(", ".join(f"{k}: {v}" for k, v in seen.items()))
        check.that(row["status"] == "failed" and bool(row["error"]) or
                   all(v in ("failed", "interrupted") for v in seen.values()),
                   f"a run on a full disk is {row['status']} ({seen})")
    return _outcome("full disk (RLIMIT_FSIZE)", check)


def ws_at(ws: Workspace, secmaster: Path, runs: Path) -> Workspace:
    """The same workspace pointed at other copies of its databases."""
    other = Workspace.__new__(Workspace)
    other.__dict__.update(ws.__dict__)
    other.secmaster, other.runs = secmaster, runs
    return other


# -- scenarios: bad input --------------------------------------------------------------------

HOSTILE = ["ACME'; DROP TABLE runs;--", "<script>alert(1)</script>", "../../etc/passwd",
           "**bold** [x](http://evil.example)"]


def bad_commands() -> list[list[str]]:
    """Every bad command of the bad-input scenario (run from the workspace folder)."""
    return [
        ["run", "NoSuchStrategy", "--symbols", "ACME"],
        ["run", "SMACrossover", "--symbols", "NOPE"],
        ["run", "SMACrossover", "--symbols", ""],
        ["run", "SMACrossover", "--symbols", ","],
        ["run", "SMACrossover", "--symbols", "ACME", "--param", "fast_period=1000"],
        ["run", "SMACrossover", "--symbols", "ACME", "--param", "fast_period=-3"],
        ["run", "SMACrossover", "--symbols", "ACME", "--param", "fast_period=abc"],
        ["run", "SMACrossover", "--symbols", "ACME", "--param", "fast_period=2.5"],
        ["run", "SMACrossover", "--symbols", "ACME", "--param", "fast_period="],
        ["run", "SMACrossover", "--symbols", "ACME", "--param", "no_such=1"],
        ["run", "SMACrossover", "--symbols", "ACME", "--param", "fast_period"],
        ["run", "SMACrossover", "--symbols", "ACME", "--period", "FORTNIGHT"],
        ["run", "SMACrossover", "--symbols", "ACME", "--cash", "-5"],
        ["run", "SMACrossover", "--symbols", "ACME", "--cash", "0"],
        ["run", "SMACrossover", "--symbols", "ACME", "--cash", "nan"],
        ["run", "SMACrossover", "--symbols", "ACME", "--commission", "inf"],
        ["run", "SMACrossover", "--symbols", "ACME", "--slippage-bps", "-1"],
        ["run", "SMACrossover", "--symbols", "ACME", "--cash", "lots"],
        ["run", "SMACrossover", "--symbols", "ACME", "--start", "2030-01-01",
         "--end", "2030-02-01"],
        ["run", "SMACrossover", "--symbols", "ACME", "--start", "2020-02-01",
         "--end", "2020-01-01"],
        ["run", "SMACrossover", "--symbols", "ACME", "--start", "yesterday"],
        ["run", "SMACrossover", "--symbols", "ACME", "--start", "2020-13-01"],
        ["sweep", "SMACrossover", "--symbols", "ACME", "--grid", "fast_period=5:1:1"],
        ["sweep", "SMACrossover", "--symbols", "ACME", "--grid", "fast_period=500,600"],
        ["sweep", "SMACrossover", "--symbols", "ACME", "--grid", "nope"],
        ["sweep", "SMACrossover", "--symbols", "ACME", "--grid", "fast_period=1:9:0"],
        ["sweep", "SMACrossover", "--symbols", "ACME", "--grid", "fast_period=5,6",
         "--workers", "0"],
        *(["run", "SMACrossover", "--symbols", text] for text in HOSTILE),
        *(["run", "SMACrossover", "--symbols", "ACME", "--param", f"fast_period={text}"]
          for text in HOSTILE),
        *(["run", text, "--symbols", "ACME"] for text in HOSTILE),
        *(["runs", "show", text] for text in [*HOSTILE, "x' OR '1'='1", "%", "*"]),
        *(["runs", "delete", text, "--yes"] for text in [*HOSTILE, "x' OR '1'='1", "%", "*"]),
        ["runs", "list", "--status", "x' OR '1'='1"],
        ["import", "csv", "/nonexistent/file.csv", "--symbol", "X", "--period", "DAY"],
        ["import", "csv", "../../etc/passwd", "--symbol", "X", "--period", "DAY"],
        ["import", "csv", "one.csv", "--symbol", "X", "--period", "EON"],
        ["import", "csv", "one.csv", "--symbol", "", "--period", "DAY"],
        ["import", "csv", "bad.csv", "--symbol", "X", "--period", "DAY"],
        ["import", "dbn", "one.csv"],
    ]


def write_input_files(ws: Workspace) -> None:
    (ws.root / "one.csv").write_text("date,open,high,low,close,volume\n"
                                     "2024-01-02,1,2,0.5,1.5,10\n")
    (ws.root / "bad.csv").write_text("date,open,high,low,close,volume\n"
                                     "2024-01-02,1,2,0.5,oops,10\n"
                                     "not a date,1,2,0.5,1.5,10\n")


def bad_input_results(ws: Workspace) -> tuple[list[CliResult], bool, bool]:
    """Run every bad command; return the results and whether runs.db / secmaster.db stayed
    unchanged (``runs list --status`` is a read and must list nothing)."""
    write_input_files(ws)
    runs_before, sec_before = snapshot(ws.runs), file_digest(ws.secmaster)
    results = cli_batch(ws, bad_commands())
    return results, snapshot(ws.runs) == runs_before, file_digest(ws.secmaster) == sec_before


def refused_cleanly(result: CliResult) -> list[str]:
    """What is wrong with how a bad command was answered (empty: one clear line)."""
    check = Check()
    one_line_advice(check, result, " ".join(result.args)[:70], advice=False)
    return check.failures


def bad_input(ws: Workspace) -> Outcome:
    """Every bad value gets one clear line; neither database changes."""
    check = Check()
    results, runs_same, secmaster_same = bad_input_results(ws)
    for result in results:
        check.failures += refused_cleanly(result)
    check.that(runs_same, "runs.db changed")
    check.that(secmaster_same, "secmaster.db changed")
    check.saw(f"{len(results)} bad commands, each refused with one line; both databases "
              f"unchanged")
    return _outcome("bad input (CLI)", check)


def hostile_import_names(ws: Workspace) -> Outcome:
    """A hostile file name and symbol are stored literally or refused; nothing else changes."""
    check = Check()
    hostile_file = ws.root / "x'); DROP TABLE bars;-- <b>.csv"
    hostile_file.write_text("date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n")
    symbol = "EVIL'); DROP TABLE bars;--"
    with closing_db(ws.secmaster) as conn:
        bars_before = conn.execute("SELECT count(*) FROM bars").fetchone()[0]
    result = ws.cli("import", "csv", str(hostile_file), "--symbol", symbol, "--period", "DAY")
    check.saw(f"import: {result.brief()}")
    with closing_db(ws.secmaster) as conn:
        bars_after = conn.execute("SELECT count(*) FROM bars").fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM instruments WHERE raw_symbol = ?",
                              (symbol,)).fetchone()[0]
    if result.returncode == 0:
        check.that(stored == 1 and bars_after == bars_before + 1,
                   f"stored {stored} instruments, bars {bars_before} -> {bars_after}")
    else:
        one_line_advice(check, result, "hostile import", advice=False)
        check.that(bars_after == bars_before, "bars changed by a refused import")
    check.that(integrity(ws.secmaster) == "ok", "secmaster integrity")
    return _outcome("hostile file name and symbol (import)", check)


def hostile_pages(ws: Workspace) -> Outcome:
    """The run page with hostile ``?run=`` values: no exception, no injected link or HTML."""
    check = Check()
    for text in ["x`](http://evil.example) [click](http://evil.example) <img src=x>",
                 "'; DROP TABLE runs;--", "../../etc/passwd"]:
        view = pages_view(ws, text)
        check.that(not view["exceptions"], f"{text!r}: {view['exceptions']}")
        shown = " ".join(view["errors"] + view.get("markdown", []))
        outside_code = re.sub(r"`[^`\n]*`", "", shown)
        check.that("[click](http" not in outside_code and "<img" not in outside_code,
                   f"{text!r} reaches the page as markdown/HTML: {shown[:200]!r}")
        check.saw(f"{text[:20]!r}: {(view['errors'] or ['(no error)'])[0][:80]!r}")
    check.that(integrity(ws.runs) == "ok", "runs.db integrity")
    return _outcome("hostile run ids on the run page", check)


# -- running it ------------------------------------------------------------------------------

def _outcome(name: str, check: Check) -> Outcome:
    evidence = "; ".join(check.evidence)
    return Outcome(name, not check.failures, evidence, check.failures)


SCENARIOS: dict[str, Callable[[Workspace], Outcome | list[Outcome]]] = {
    "kill_engine": kill_engine,
    "kill_writer": kill_writer,
    "kill_both": kill_both,
    "sigterm_engine": sigterm_engine,
    "sigint_engine": sigint_engine,
    "kill_sweep": kill_sweep,
    "two_runs": two_runs_at_once,
    "run_during_sweep": run_during_sweep,
    "delete_during_run": delete_during_run,
    "file_faults": file_faults,
    "disk_full": disk_full,
    "bad_input": bad_input,
    "hostile_import": hostile_import_names,
    "hostile_pages": hostile_pages,
}


def prepare(root: Path, profile: Profile) -> Workspace:
    """A workspace with the sample secmaster and one finished run in runs.db."""
    ws = Workspace(root, profile)
    for command in (["sample"], ["run", "SMACrossover", "--symbols", "ACME", "--quiet"]):
        result = ws.cli(*command)
        if result.returncode != 0:
            raise RuntimeError(f"preparing the workspace: {command}: {result.stderr[-500:]}")
    root.chmod(0o755)  # the unprivileged reader of the read-only scenarios must get in
    return ws


def run_scenario(name: str, profile: Profile, root: Path | None = None) -> list[Outcome]:
    with contextlib.ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="faults-")))
        ws = prepare(root / name, profile)
        try:
            outcome = SCENARIOS[name](ws)
        except Exception as error:  # noqa: BLE001 - a scenario that crashes is "not held"
            outcome = Outcome(name, False, "", [f"{type(error).__name__}: {error}"])
        finally:
            undo_read_only(root / name)
        return outcome if isinstance(outcome, list) else [outcome]


def undo_read_only(folder: Path) -> None:
    """Unmount the read-only bind mounts under ``folder`` and make everything writable."""
    for mounted in sorted(folder.rglob("*"), reverse=True):
        if mounted.is_dir() and _read_only_mounted(mounted):
            # Lazy: detaches even if something still has the folder open.
            subprocess.run(["umount", "-l", str(mounted)], capture_output=True)
    for item in [folder, *folder.rglob("*")]:
        with contextlib.suppress(OSError):
            item.chmod(0o755 if item.is_dir() else 0o644)


def print_table(outcomes: list[Outcome]) -> None:
    width = max(len(o.scenario) for o in outcomes)
    print(f"{'scenario':{width}}  result    evidence")
    for outcome in outcomes:
        mark = "held" if outcome.held else "NOT HELD"
        text = outcome.evidence if outcome.held else " | ".join(outcome.failures)
        lines = textwrap.wrap(text, 120) or [""]
        print(f"{outcome.scenario:{width}}  {mark:8}  {lines[0]}")
        for line in lines[1:]:
            print(f"{'':{width}}  {'':8}  {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated scenario names: " + ", ".join(SCENARIOS))
    parser.add_argument("--small", action="store_true", help="the tests' small runs")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(SCENARIOS)
    profile = Profile.small() if args.small else Profile()
    root = Path(tempfile.mkdtemp(prefix="faults-"))
    outcomes: list[Outcome] = []
    try:
        for name in names:
            started = time.monotonic()
            results = run_scenario(name, profile, root)
            outcomes += results
            for outcome in results:
                print(f"  {outcome.scenario}: {'held' if outcome.held else 'NOT HELD'} "
                      f"({time.monotonic() - started:.0f}s)", file=sys.stderr, flush=True)
    finally:
        if args.keep:
            print(f"work folder: {root}", file=sys.stderr)
        else:
            undo_read_only(root)
            shutil.rmtree(root, ignore_errors=True)
    print_table(outcomes)
    return 0 if all(o.held for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
