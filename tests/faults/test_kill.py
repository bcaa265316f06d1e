"""SIGKILL mid-run of the engine, of the recorder's writer process, or of both (OOM killer,
power cut): runs.db intact, committed rows kept, and the run shown ``interrupted`` by the CLI and
both pages without another run starting (the writer alone: ``failed``/``interrupted`` with its
reason, from the surviving engine)."""

from __future__ import annotations

from bench import faults
from tests.faults.conftest import assert_held


def test_sigkill_of_the_engine_leaves_the_run_interrupted_everywhere(workspace):
    assert_held(faults.kill_engine(workspace))


def test_sigkill_of_the_writer_process_ends_the_run_with_its_reason(workspace):
    assert_held(faults.kill_writer(workspace))


def test_sigkill_of_engine_and_writer_together_leaves_the_run_interrupted(workspace):
    assert_held(faults.kill_both(workspace))


def test_sigterm_of_the_engine_never_leaves_the_run_running(workspace):
    assert_held(faults.sigterm_engine(workspace))


def test_ctrl_c_cancels_the_run(workspace):
    assert_held(faults.sigint_engine(workspace))


def test_a_killed_sweep_leaves_none_of_its_runs_running(workspace):
    assert_held(faults.kill_sweep(workspace))
