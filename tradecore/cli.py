"""``python -m tradecore`` (or ``tradecore``): run backtests, list runs, import and list data,
build the sample.

Every command takes ``--secmaster PATH`` and ``--runs-db PATH`` (they set the same env vars
the engine and dashboard read). Errors are one line on stderr and a non-zero exit code; the
run id is the last line printed by ``run``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tradecore import paths

_DAY_NS = 86_400 * 10**9


class CliError(Exception):
    """A problem the user can fix; printed as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one ``error:`` line (the usage block is one
    ``--help`` away), like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {_one_line(message)} (see `{self.prog} --help`)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # A secmaster the user named (flag or env) is never replaced by the sample behind their back.
    named_secmaster = bool(getattr(args, "secmaster", None)
                           or os.environ.get("TRADECORE_SECMASTER"))
    if getattr(args, "secmaster", None):
        os.environ["TRADECORE_SECMASTER"] = str(Path(args.secmaster).resolve())
    if getattr(args, "runs_db", None):
        os.environ["TRADECORE_RUNS_DB"] = str(Path(args.runs_db).resolve())
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    previous = _stop_on_sigterm()
    try:
        _check_files(args, named_secmaster)
        return args.handler(args) or 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except (CliError, ValueError, LookupError, TypeError) as error:
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - a strategy's own exception: one line, exit 1
        print(f"error: {_one_line(_explain(error))}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop_on_sigterm():
    """SIGTERM (``kill``, ``timeout``, a service manager) stops a command as Ctrl-C does, so a
    run ends ``cancelled`` with its rows flushed instead of vanishing mid-write. Returns the
    previous handler (None when not on the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame) -> None:
        raise KeyboardInterrupt("terminated")

    return signal.signal(signal.SIGTERM, stop)


def _check_files(args: argparse.Namespace, named_secmaster: bool) -> None:
    """Refuse a damaged, foreign or unwritable database before a command starts on it."""
    command = args.command
    writes_runs = command in ("run", "sweep") or getattr(args, "runs_command", "") == "delete"
    if command in ("run", "sweep", "runs"):
        runs = paths.runs_db_path()
        problem = paths.file_problem(runs)
        if problem:
            raise CliError(f"the runs database {runs} {problem}; move it aside (or restore a "
                           f"backup) and run again, or pass --runs-db with another file")
        if command == "runs" and args.runs_command != "list" and not runs.exists():
            wanted = getattr(args, "run_id", None) or ", ".join(getattr(args, "run_ids", []))
            raise CliError(f"no run {wanted!r}: no runs database at {runs} yet; start a run "
                           f"with `python -m "
                           f"tradecore run STRATEGY --symbols S`, or pass --runs-db with the "
                           f"file that holds your runs")
        problem = paths.writable_problem(runs) if writes_runs else None
        if problem:
            raise CliError(f"cannot write the runs database {runs}: {problem}; make it "
                           f"writable, or pass --runs-db with a writable path")
    if command in ("run", "sweep") and named_secmaster:
        secmaster = paths.secmaster_path()
        if not secmaster.exists():
            raise CliError(f"no secmaster database at {secmaster}; build the sample there with "
                           f"`python -m tradecore sample --secmaster {secmaster}` or import data "
                           f"with `python -m tradecore import csv FILE --symbol S --period P`")


def _explain(error: BaseException) -> str:
    """An error from deep inside (SQLite, DuckDB, the OS, a strategy) as what to do about it."""
    detail = str(error).strip() or type(error).__name__
    module = type(error).__module__ or ""
    database = isinstance(error, OSError) or module.startswith(("sqlite3", "duckdb", "_duckdb"))
    return _database_advice(detail, database) or f"{type(error).__name__}: {detail}"


def _database_advice(detail: str, database: bool = False) -> str | None:
    """What to do about a disk or database problem in ``detail`` (None: not one of those)."""
    text = detail.lower()
    if not (database or "sqlite" in text or "database" in text or "disk" in text):
        return None
    if "secmaster" in text:
        return None  # the secmaster's own errors already say what to do
    runs = paths.runs_db_path()
    if any(word in text for word in ("disk is full", "no space", "file too large", "quota")):
        return (f"the disk holding {runs} is full ({detail}); free some space (or pass "
                f"--runs-db on another disk) and run again")
    if "disk i/o" in text:  # SQLite's word for a failed write: usually no space left
        return (f"writing {runs} failed ({detail}); check that its disk has free space and "
                f"works (or pass --runs-db on another disk), then run again")
    if any(word in text for word in ("readonly", "read-only", "permission denied",
                                     "unable to open")):
        return (f"cannot write the runs database {runs} ({detail}); make the file and its folder "
                f"writable, or pass --runs-db with a writable path")
    if any(word in text for word in ("not a database", "malformed", "encrypted", "corrupt")):
        return (f"the runs database {runs} is damaged ({detail}); move it aside (or restore a "
                f"backup) and run again, or pass --runs-db with another file")
    if "locked" in text or "busy" in text:
        return (f"the runs database {runs} stayed locked by another process ({detail}); wait "
                f"for it to finish and try again")
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: the option may stand before or after the command without one hiding the other.
    common.add_argument("--secmaster", metavar="PATH", default=argparse.SUPPRESS,
                        help="secmaster.db (default: $TRADECORE_SECMASTER or data/secmaster.db)")
    common.add_argument("--runs-db", metavar="PATH", default=argparse.SUPPRESS,
                        help="runs.db (default: $TRADECORE_RUNS_DB or data/runs.db)")
    parser = _Parser(prog="python -m tradecore", parents=[common],
                                     description="tradecore backtesting engine")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", parents=[common], help="run one backtest")
    _add_run_arguments(run)
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=_cmd_run)

    runs = commands.add_parser("runs", parents=[common], help="list, show or delete runs")
    runs_commands = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    listing = runs_commands.add_parser("list", parents=[common], help="every run")
    listing.add_argument("--status", help="only runs with this status")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_cmd_runs_list)
    show = runs_commands.add_parser("show", parents=[common], help="one run in detail")
    show.add_argument("run_id")
    show.set_defaults(handler=_cmd_runs_show)
    delete = runs_commands.add_parser("delete", parents=[common], help="delete runs")
    delete.add_argument("run_ids", nargs="+")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler=_cmd_runs_delete)

    data = commands.add_parser("import", parents=[common], help="import bars into secmaster")
    data_commands = data.add_subparsers(dest="format", metavar="FORMAT", required=True)
    csv = data_commands.add_parser("csv", parents=[common], help="a CSV of OHLCV bars")
    csv.add_argument("file")
    csv.add_argument("--symbol", required=True)
    csv.add_argument("--period", required=True, help="SECOND, MINUTE, HOUR, DAY or WEEK")
    csv.add_argument("--publisher", default="local")
    csv.add_argument("--dataset", default="csv")
    csv.add_argument("--date-format", metavar="FORMAT",
                     help="strptime layout of the times, e.g. %%d/%%m/%%Y or '%%d.%%m.%%Y %%H:%%M'")
    csv.add_argument("--tz", metavar="ZONE",
                     help="IANA time zone of times written without one (default UTC)")
    csv.add_argument("--time-unit", choices=["s", "ms", "us", "ns"],
                     help="unit of numeric epoch times (default: told from their size)")
    csv.add_argument("--replace", action="store_true",
                     help="overwrite stored bars that differ from the file's")
    csv.set_defaults(handler=_cmd_import_csv)
    dbn = data_commands.add_parser("dbn", parents=[common], help="a Databento OHLCV file")
    dbn.add_argument("file")
    dbn.add_argument("--symbol", help="instrument name when the file carries no symbology")
    dbn.add_argument("--replace", action="store_true",
                     help="overwrite stored bars that differ from the file's")
    dbn.set_defaults(handler=_cmd_import_dbn)
    symbology = data_commands.add_parser(
        "symbology", parents=[common],
        help="rolling symbols: a CSV of symbol,instrument,start_date,end_date")
    symbology.add_argument("file")
    symbology.add_argument("--publisher", default="local", help="where the instruments live")
    symbology.add_argument("--dataset", default="csv")
    symbology.add_argument("--symbol-type", default="raw_symbol")
    symbology.set_defaults(handler=_cmd_import_symbology)

    listing = commands.add_parser("data", parents=[common],
                                  help="what the secmaster holds (coverage per series)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_cmd_data)

    sample = commands.add_parser("sample", parents=[common], help="(re)build the sample data")
    sample.set_defaults(handler=_cmd_sample)

    sweep = commands.add_parser("sweep", parents=[common], help="run a parameter grid")
    _add_run_arguments(sweep)
    sweep.add_argument("--grid", action="append", default=[], metavar="K=A:B:STEP|K=V1,V2",
                       help="a parameter's values (repeatable); a range must end on a step")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="local worker processes (default: one per core)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="send the points to a running dask scheduler instead")
    sweep.add_argument("--metric", default="sharpe",
                       help="statistic that ranks points and picks each fold's winner")
    sweep.add_argument("--top", type=int, default=5, help="how many best points to print")
    sweep.add_argument("--holdout", type=float, metavar="FRACTION",
                       help="hold out the last FRACTION of the dates for out-of-sample")
    sweep.add_argument("--train", metavar="LENGTH", help="walk-forward train window (e.g. 2Y)")
    sweep.add_argument("--test", metavar="LENGTH", help="walk-forward test window (e.g. 6M)")
    sweep.add_argument("--step", metavar="LENGTH",
                       help="walk-forward step (default: the test window)")
    sweep.set_defaults(handler=_cmd_sweep)
    return parser


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("strategy", help="class or display name of a registered strategy")
    parser.add_argument("--symbols", required=True, help="comma-separated, e.g. ACME,GLOBX")
    parser.add_argument("--param", action="append", default=[], metavar="K=V",
                        help="a strategy parameter (repeatable)")
    parser.add_argument("--start", help="first date (YYYY-MM-DD, UTC)")
    parser.add_argument("--end", help="last date, inclusive")
    parser.add_argument("--period", help="bar period (DAY, MINUTE, ...); default the strategy's")
    parser.add_argument("--commission", type=float, help="commission per unit")
    parser.add_argument("--min-commission", type=float, help="minimum commission per order")
    parser.add_argument("--slippage-bps", type=float)
    parser.add_argument("--cash", type=float, help="initial cash")
    parser.add_argument("--publisher", default="", help="secmaster publisher of the symbols")
    parser.add_argument("--dataset", default="")


def reproduce_command(config: Mapping[str, Any]) -> str:
    """The ``python -m tradecore run ...`` line that repeats a run from its recorded ``config``
    (the options of ``_add_run_arguments``; ``tests/engine/test_cli.py`` parses it back and
    checks it gives the same configuration)."""
    strategies = config.get("strategies") or [{}]
    strategy = strategies[0] if isinstance(strategies[0], Mapping) else {}
    parts = ["python -m tradecore run", shlex.quote(str(strategy.get("class", "?")))]
    symbols = config.get("symbols") or strategy.get("symbols") or []
    parts.append(f"--symbols {shlex.quote(','.join(map(str, symbols)))}")
    for key, value in (strategy.get("parameters") or {}).items():
        if key == "bar_period":
            parts.append(f"--period {value}")
        else:
            parts.append(f"--param {shlex.quote(f'{key}={value}')}")
    feed = config.get("datafeed") or {}
    if feed.get("start_ns") is not None:
        parts.append(f"--start {_time_option(int(feed['start_ns']), end=False)}")
    if feed.get("end_ns") is not None:
        parts.append(f"--end {_time_option(int(feed['end_ns']), end=True)}")
    broker = config.get("broker") or {}
    for option, key in (("--commission", "commission_per_unit"),
                        ("--min-commission", "minimum_commission_per_order"),
                        ("--slippage-bps", "slippage_bps"), ("--cash", "initial_cash")):
        if broker.get(key) is not None:
            parts.append(f"{option} {float(broker[key])!r}".removesuffix(".0"))
    for option, key in (("--publisher", "publisher_name"), ("--dataset", "dataset")):
        if feed.get(key):
            parts.append(f"{option} {shlex.quote(str(feed[key]))}")
    return " ".join(parts)


def _time_option(ns: int, *, end: bool) -> str:
    """A date when the bound is a whole day (an end date covers its whole day, as ``--end``
    reads it), else an ISO time to the microsecond."""
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ns // 1000)
    whole_day = (ns + 1) % _DAY_NS == 0 if end else ns % _DAY_NS == 0
    if whole_day:
        return moment.date().isoformat()
    return moment.replace(tzinfo=None).isoformat()


def _run_request(args: argparse.Namespace):
    from tradecore.configure import RunRequest

    parameters = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CliError(f"--param takes KEY=VALUE, not {item!r}")
        parameters[key.strip()] = value.strip()
    if args.period:
        parameters["bar_period"] = args.period
    return RunRequest(
        strategy=args.strategy, symbols=args.symbols.split(","), parameters=parameters,
        start=args.start, end=args.end, commission_per_unit=args.commission,
        minimum_commission_per_order=args.min_commission, slippage_bps=args.slippage_bps,
        initial_cash=args.cash, publisher_name=args.publisher, dataset=args.dataset,
    )


def _report_discovery_errors() -> None:
    from tradecore.strategies import get_registered_strategies, strategy_discovery_errors

    get_registered_strategies()
    for error in strategy_discovery_errors():
        print(f"warning: {error}", file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    from tradecore import service
    from tradecore.models import RunStatus
    from tradecore.secmaster import ensure_secmaster

    _report_discovery_errors()
    ensure_secmaster(paths.secmaster_path())
    printer = None if args.quiet else _RunProgress(sys.stderr)
    result = service.run(_run_request(args), progress=printer)
    if printer is not None:
        printer.close(result.status is RunStatus.COMPLETED)
    if result.statistics is not None:
        _print_headline(result.statistics)
    if result.status is not RunStatus.COMPLETED:
        _print_failure(result.status, result.error, result.error_traceback)
    if result.run_id is not None:
        print(result.run_id)
    return 0 if result.status is RunStatus.COMPLETED else 1


def _print_headline(stats: dict) -> None:
    """The headline statistics on one line (stderr: stdout's last line is the run id)."""
    from tradecore.analytics.catalogue import HEADLINE, format_value, label

    print("  ".join(f"{label(key)} {format_value(key, stats.get(key))}" for key in HEADLINE),
          file=sys.stderr)


def _print_failure(status, error: str | None, error_traceback: str | None) -> None:
    """Why a run did not complete: its status and error, and the whole traceback if any."""
    advice = _database_advice(error or "")
    print(f"run {status}: {_one_line(advice or error or 'no error recorded')}", file=sys.stderr)
    if error_traceback and not advice:  # a disk or database problem needs no traceback
        print(error_traceback.rstrip(), file=sys.stderr)


class _RunProgress:
    """``progress(fraction, run_id)`` for ``service.run``: a bar redrawn in place on a
    terminal; elsewhere (a pipe, a CI log) one line per tenth, never run together."""

    width = 30

    def __init__(self, stream) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.terminal = stream.isatty()
        self.printed_tenths = -1

    def __call__(self, fraction: float, run_id: str | None) -> None:
        elapsed = time.monotonic() - self.started
        if self.terminal:
            filled = int(fraction * self.width)
            print(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {fraction:6.1%} "
                  f"{elapsed:6.1f}s", end="", file=self.stream, flush=True)
            return
        tenths = int(fraction * 10 + 1e-9)
        if tenths > self.printed_tenths:
            self.printed_tenths = tenths
            print(f"{tenths * 10:3d}% {elapsed:6.1f}s", file=self.stream, flush=True)

    def close(self, completed: bool) -> None:
        """End the bar's line (left full on success, erased otherwise)."""
        if not self.terminal:
            return
        if completed:
            print(file=self.stream)
        else:
            print("\r" + " " * (self.width + 20) + "\r", end="", file=self.stream, flush=True)


def _cmd_runs_list(args: argparse.Namespace) -> int:
    from tradecore.analytics import list_runs
    from tradecore.analytics.catalogue import HEADLINE, format_value, label

    runs = list_runs()
    if args.status:
        runs = runs[runs["status"] == _status(args.status)]
    if args.json:
        print(runs.to_json(orient="records", default_handler=str))
        return 0
    if runs.empty:
        print("no runs yet")
        return 0
    columns = {"run_id": "Run", "status": "Status", "strategy": "Strategy",
               "symbols": "Symbols", "bar_period": "Period"}
    table = {title: runs[key].astype(str).tolist() for key, title in columns.items()
             if key in runs.columns}
    for key in HEADLINE:
        if key in runs.columns:
            table[label(key)] = [format_value(key, value) for value in runs[key]]
    import pandas as pd

    print(pd.DataFrame(table).to_string(index=False))
    return 0


def _status(text: str):
    from tradecore.models import RunStatus

    try:
        return RunStatus(text.strip().lower())
    except ValueError:
        choices = ", ".join(status.value for status in RunStatus)
        raise CliError(f"unknown status {text!r}; choose one of {choices}") from None


def _cmd_runs_show(args: argparse.Namespace) -> int:
    from tradecore.analytics import list_runs, run_config, statistics
    from tradecore.analytics.catalogue import STATISTICS, format_value
    from tradecore.models import RunStatus

    runs = list_runs()
    match = runs[runs["run_id"] == args.run_id]
    if match.empty:
        raise CliError(f"no run {args.run_id!r} in {paths.runs_db_path()}")
    row = match.iloc[0]
    status = RunStatus(row["status"])
    print(f"run:       {row['run_id']}\nstatus:    {status}")
    error = row.get("error")
    error_traceback = row.get("error_traceback")
    if isinstance(error, str) and error or isinstance(error_traceback, str) and error_traceback:
        print(f"error:     {error}")
        if isinstance(error_traceback, str) and error_traceback:
            print(error_traceback.rstrip())
    config = run_config(args.run_id)
    print(f"reproduce: {reproduce_command(config)}")
    print("config:")
    print(json.dumps(config, indent=2))
    if status.has_statistics:
        print("statistics:")
        stats = statistics(args.run_id)
        width = max(len(s.label) for s in STATISTICS.values())
        for key, statistic in STATISTICS.items():
            if key in stats:
                print(f"  {statistic.label:{width}s}  {format_value(key, stats[key])}")
    return 0


def _cmd_runs_delete(args: argparse.Namespace) -> int:
    from tradecore.analytics import delete_runs, list_runs

    known = set(list_runs()["run_id"])
    missing = [r for r in args.run_ids if r not in known]
    if missing:
        raise CliError(f"no such run: {', '.join(missing)}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("refusing to delete without confirmation; pass --yes")
        answer = input(f"Delete {len(args.run_ids)} run(s) and all their events? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    deleted = delete_runs(args.run_ids)
    print(f"deleted {deleted} run(s)")
    return 0


def _cmd_import_csv(args: argparse.Namespace) -> int:
    from tradecore.secmaster import import_csv

    progress = _import_progress() if sys.stderr.isatty() else None
    summary = import_csv(paths.secmaster_path(), args.file, args.symbol, args.period,
                         publisher=args.publisher, dataset=args.dataset,
                         date_format=args.date_format, tz=args.tz, time_unit=args.time_unit,
                         replace=args.replace, on_progress=progress)
    if progress is not None:
        print(file=sys.stderr)
    print(f"imported {summary.rows} bars of {summary.symbol} into {paths.secmaster_path()}: "
          f"{summary.added:,} added, {summary.unchanged:,} already stored, "
          f"{summary.replaced:,} replaced; {summary.bar_count:,} {summary.bar_period.name} bars "
          f"stored ({summary.first_ts} to {summary.last_ts} in this file)")
    for note in summary.notes:
        print(f"note: {note}")
    return 0


def _import_progress():
    """A progress line on stderr for big files (only on a terminal)."""
    started = time.monotonic()

    def show(fraction: float, stage: str) -> None:
        filled = int(fraction * 30)
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:6.1%} "
              f"{time.monotonic() - started:6.1f}s {stage:8s}", end="", file=sys.stderr,
              flush=True)

    return show


def _cmd_import_dbn(args: argparse.Namespace) -> int:
    from tradecore.secmaster import import_dbn

    summaries = import_dbn(paths.secmaster_path(), args.file, symbol=args.symbol,
                           replace=args.replace)
    for summary in summaries:
        print(summary)
    return 0


def _cmd_import_symbology(args: argparse.Namespace) -> int:
    from tradecore.secmaster import import_symbology

    print(import_symbology(paths.secmaster_path(), args.file, publisher=args.publisher,
                           dataset=args.dataset, symbol_type=args.symbol_type))
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    """Coverage per series (symbol, period, source, first, last, bars), then rolling symbols."""
    from tradecore.secmaster import list_instruments, list_mappings

    path = paths.secmaster_path()
    if not path.is_file():
        raise CliError(f"no secmaster database at {path}; build the sample with "
                       "`python -m tradecore sample` or import a file")
    held = list_instruments(path)
    mappings = list_mappings(path)
    if args.json:
        series = held.assign(first_ts=held["first_ts"].astype(str),
                             last_ts=held["last_ts"].astype(str))
        print(json.dumps({"series": series.to_dict(orient="records"),
                          "symbology": mappings.to_dict(orient="records")}))
        return 0
    if held.empty:
        print(f"{path} holds no bars yet")
        return 0
    table = held.assign(source=held["publisher"] + "/" + held["dataset"],
                        first=held["first_ts"].dt.strftime("%Y-%m-%d %H:%M"),
                        last=held["last_ts"].dt.strftime("%Y-%m-%d %H:%M"))
    table = table[["symbol", "bar_period", "source", "first", "last", "bar_count"]]
    print(table.rename(columns={"bar_period": "period", "source": "publisher/dataset",
                                "bar_count": "bars"}).to_string(index=False))
    if not mappings.empty:
        print("\nrolling symbols:")
        print(mappings.drop(columns=["instrument_id"]).to_string(index=False))
    print(f"\n{len(held)} series, {int(held['bar_count'].sum()):,} bars in {path}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from tradecore.secmaster import build_sample

    path = paths.secmaster_path()
    started = time.monotonic()
    build_sample(path)
    print(f"built the sample data in {path} in {time.monotonic() - started:.1f}s")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    """Exit 0 when every point completed, 1 when any failed, 130 when cancelled (Ctrl-C)."""
    from tradecore.sweep.cluster import start_forkserver_early

    start_forkserver_early(args.scheduler)  # first: its imports overlap the ones below
    from tradecore import service
    from tradecore.secmaster import ensure_secmaster
    from tradecore.sweep import Validation, parse_grid

    _report_discovery_errors()
    ensure_secmaster(paths.secmaster_path())
    request = _run_request(args)
    grid = parse_grid(args.grid)
    validation = Validation(holdout=args.holdout, train=args.train, test=args.test,
                            step=args.step)
    result = service.sweep(request, grid, workers=args.workers, scheduler=args.scheduler,
                           metric=args.metric, validation=validation,
                           progress=_sweep_progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    _print_sweep_summary(result, args.top)
    print(result.sweep_id)
    if result.cancelled:
        return 130
    return 1 if result.failed else 0


def _sweep_progress(done: int, total: int) -> None:
    # On a terminal the count is redrawn in place; in a pipe or log each count is its own line.
    if sys.stderr.isatty():
        print(f"\r{done}/{total} runs", end="", file=sys.stderr, flush=True)
    else:
        print(f"{done}/{total} runs", file=sys.stderr, flush=True)


def _print_sweep_summary(result, top: int) -> None:
    from tradecore.ui.formatting import stat_label

    metric = result.metric
    counts = f"completed {result.completed}, failed {result.failed}"
    if result.cancelled:
        counts += (f", cancelled {result.cancelled_runs} running and {result.not_started} "
                   f"not started")
    print(counts)
    for record in result.points:
        if record.status == "failed":
            print(f"failed: {record.run_id or '(no run)'} {_point_text(record.point)}: "
                  f"{record.error}", file=sys.stderr)
    best = result.best(top) if len(result.folds) == 1 else []
    if best:
        print(f"best by {stat_label(metric)}:")
        for record in best:
            print(f"  {record.statistics.get(metric, float('nan')):10.4f}  "
                  f"{_point_text(record.point)}  {record.run_id}")
    table = result.validation()
    if not table.empty:
        print(f"out of sample ({stat_label(metric)}: in sample -> out of sample, fall):")
        for _, row in table.iterrows():
            fold = result.folds[int(row["fold"])]
            print(f"  fold {row['fold']}: {_point_text(row['parameters'])}  "
                  f"{row[f'in_sample_{metric}']:.4f} -> {row[f'out_of_sample_{metric}']:.4f}"
                  f"  fall {row['fall']:.4f}  (test {fold.out_of_sample.text()})")


def _point_text(point: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in point.items())
