"""`python -m tradecore data` and `import ...` options, and where the databases live by default."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd

from tests.data.helpers import daily_bars, stored_bars, to_csv
from tradecore import cli, paths
from tradecore.secmaster import import_csv, list_instruments

ROOT = Path(__file__).resolve().parents[2]


def cli_run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_data_lists_coverage_like_list_instruments(sample_secmaster, capsys) -> None:
    import_csv(sample_secmaster, b"date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n", "MINE",
               "DAY", publisher="vendor", dataset="eod")
    code, out, _ = cli_run(capsys, "data")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["symbol", "period", "publisher/dataset", "first", "last", "bars"]
    held = list_instruments(sample_secmaster)
    body = [line.split() for line in lines[1:1 + len(held)]]
    expected = [[row.symbol, row.bar_period, f"{row.publisher}/{row.dataset}",
                 *f"{row.first_ts:%Y-%m-%d %H:%M}".split(), *f"{row.last_ts:%Y-%m-%d %H:%M}".split(),
                 str(row.bar_count)] for row in held.itertuples()]
    assert body == expected
    assert ["MINE", "DAY", "vendor/eod", "2024-01-02", "00:00", "2024-01-02", "00:00", "1"] in body
    assert f"{len(held)} series" in lines[-1]


def test_data_json_and_rolling_symbols(isolated_databases, capsys, tmp_path) -> None:
    secmaster, _ = isolated_databases
    bars = daily_bars().assign(date=lambda b: b.time.dt.strftime("%Y-%m-%d")).drop(columns="time")
    (tmp_path / "a.csv").write_bytes(to_csv(bars.iloc[:60]))
    (tmp_path / "b.csv").write_bytes(to_csv(bars.iloc[40:]))
    (tmp_path / "roll.csv").write_text("symbol,instrument,start_date,end_date\n"
                                       "CONT,AAA,2023-01-01,2023-03-01\nCONT,BBB,2023-03-01,\n")
    assert cli_run(capsys, "import", "csv", str(tmp_path / "a.csv"), "--symbol", "AAA",
                   "--period", "DAY")[0] == 0
    assert cli_run(capsys, "import", "csv", str(tmp_path / "b.csv"), "--symbol", "BBB",
                   "--period", "DAY")[0] == 0
    code, out, _ = cli_run(capsys, "import", "symbology", str(tmp_path / "roll.csv"))
    assert (code, out.strip()) == (0, "imported 2 symbology mappings for CONT")
    code, out, _ = cli_run(capsys, "data")
    assert "rolling symbols:" in out and "CONT" in out
    code, out, _ = cli_run(capsys, "data", "--json")
    listing = json.loads(out)
    assert [(s["symbol"], s["bar_count"]) for s in listing["series"]] == [("AAA", 60),
                                                                          ("BBB", 90)]
    assert [(m["symbol"], m["instrument"], m["end_date"]) for m in listing["symbology"]] == [
        ("CONT", "AAA", "2023-03-01"), ("CONT", "BBB", "")]


def test_import_csv_options_reach_the_importer(isolated_databases, capsys, tmp_path) -> None:
    secmaster, _ = isolated_databases
    path = tmp_path / "eu.csv"
    path.write_text("datetime;o;h;l;c;vol\n02.01.2024 09:00;1;2;0.5;1.5;10\n"
                    "02.01.2024 10:00;1;2;0.5;1.5;10\n02.01.2024 11:00;1;2;0.5;1.5;10\n")
    code, out, err = cli_run(capsys, "import", "csv", str(path), "--symbol", "EU", "--period",
                             "HOUR", "--date-format", "%d.%m.%Y %H:%M", "--tz", "Europe/Berlin")
    assert code == 0, err
    assert "3 added" in out
    assert [pd.Timestamp(row[2], unit="ns", tz="UTC").hour for row in stored_bars(secmaster)] \
        == [8, 9, 10]
    code, out, err = cli_run(capsys, "import", "csv", str(path), "--symbol", "EU", "--period",
                             "WEEKLY")
    assert code == 1 and "unknown bar period 'WEEKLY'" in err and err.count("\n") == 1


def test_import_csv_refusal_is_one_line_naming_the_fix(isolated_databases, capsys,
                                                        tmp_path) -> None:
    path = tmp_path / "daily.csv"
    bars = daily_bars().assign(date=lambda b: b.time.dt.strftime("%Y-%m-%d")).drop(columns="time")
    path.write_bytes(to_csv(bars))
    code, _, err = cli_run(capsys, "import", "csv", str(path), "--symbol", "D", "--period",
                           "MINUTE")
    assert code == 1
    assert err.startswith("error: cannot import 'daily.csv' as D: the bars are 1 day apart")
    assert "--period DAY" in err


def test_default_paths_are_the_checkouts_data_folder_from_any_folder(monkeypatch,
                                                                     tmp_path) -> None:
    monkeypatch.delenv("TRADECORE_SECMASTER")
    monkeypatch.delenv("TRADECORE_RUNS_DB")
    monkeypatch.chdir(tmp_path)
    assert paths.checkout_root() == ROOT
    assert paths.secmaster_path() == ROOT / "data" / "secmaster.db"
    assert paths.runs_db_path() == ROOT / "data" / "runs.db"


def test_an_installed_wheel_uses_the_user_data_folder(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("TRADECORE_SECMASTER")
    monkeypatch.delenv("TRADECORE_RUNS_DB")
    monkeypatch.setattr(paths, "_PACKAGE_PARENT", tmp_path / "site-packages")
    monkeypatch.delenv("TRADECORE_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.checkout_root() is None
    assert paths.secmaster_path() == tmp_path / "xdg" / "tradecore" / "secmaster.db"
    monkeypatch.setenv("TRADECORE_HOME", str(tmp_path / "home"))
    assert paths.runs_db_path() == tmp_path / "home" / "runs.db"


def test_pyproject_declares_the_package_the_script_and_the_pinned_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["build-system"]["build-backend"] == "setuptools.build_meta"
    assert project["project"]["scripts"] == {"tradecore": "tradecore.cli:main"}
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == [
        "tradecore", "tradecore.*"]
    assert project["tool"]["setuptools"]["dynamic"]["dependencies"]["file"] == [
        "requirements.txt"]
    for name in ("requirements.txt", "dashboard.py", "pages", "tradecore", "tests", "bench",
                 "data/README.md", "data/sample_recipe.toml"):
        assert (ROOT / name).exists(), name
