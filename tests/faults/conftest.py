"""Fault tests: the scenarios of ``bench/faults.py`` on small runs, one test each.

Every test gets its own workspace (sample secmaster, one finished run, the bench's counting
strategy) copied from one built per session, and drives real ``python -m tradecore`` processes
in it. A test fails with every broken promise the scenario found, not just the first.
"""

from __future__ import annotations

import shutil

import pytest

from bench import faults


@pytest.fixture(scope="session")
def _workspace_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults-template") / "ws"
    faults.prepare(root, faults.Profile.small())
    return root


@pytest.fixture
def workspace(_workspace_template, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(_workspace_template, root)
    ws = faults.Workspace(root, faults.Profile.small())
    yield ws
    faults.undo_read_only(root)  # undo read-only mounts even when the test failed


def assert_held(outcome: faults.Outcome) -> None:
    assert outcome.held, f"{outcome.scenario}:\n  " + "\n  ".join(outcome.failures)
