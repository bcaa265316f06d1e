"""Bad input everywhere gets a clear one-line answer and changes nothing: unknown names, values
out of range or of the wrong type, empty ranges, and hostile strings (SQL, markdown/HTML,
``../`` paths) in symbols, run ids, parameters, file names and page links."""

from __future__ import annotations

import pytest

from bench import faults
from tests.faults.conftest import assert_held

COMMANDS = faults.bad_commands()


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    """Every bad command, run once in one child process of a fresh workspace."""
    root = tmp_path_factory.mktemp("bad-input") / "ws"
    ws = faults.prepare(root, faults.Profile.small())
    results, runs_same, secmaster_same = faults.bad_input_results(ws)
    return {tuple(r.args): r for r in results}, runs_same, secmaster_same


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c)[:60] for c in COMMANDS])
def test_a_bad_command_is_refused_in_one_line(answered, command):
    result = answered[0][tuple(command)]
    assert not faults.refused_cleanly(result), faults.refused_cleanly(result)


def test_bad_commands_change_neither_database(answered):
    _, runs_same, secmaster_same = answered
    assert runs_same, "runs.db changed"
    assert secmaster_same, "secmaster.db changed"


def test_hostile_file_name_and_symbol_are_stored_literally(workspace):
    assert_held(faults.hostile_import_names(workspace))


def test_hostile_run_ids_never_reach_the_run_page_as_markdown(workspace):
    assert_held(faults.hostile_pages(workspace))
