"""The life of a run: ``RunStatus`` and the questions pages and tools ask of it.

A run is ``running`` from its first row until the process running it sets a final status
(``completed``, ``failed``, ``cancelled``) with its last rows; a ``running`` run whose process
is gone is ``interrupted`` by whoever looks (see ``runs_db.runs.mark_interrupted``).
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_terminal(self) -> bool:
        """Nothing more will be recorded for the run."""
        return self is not RunStatus.RUNNING

    @property
    def has_statistics(self) -> bool:
        """Statistics can be shown for it: it ended cleanly with everything it replayed
        recorded (``completed``, or ``cancelled`` by the user: the statistics of the part it
        ran). A failed or interrupted run stopped at an arbitrary point; it shows its error
        instead."""
        return self in (RunStatus.COMPLETED, RunStatus.CANCELLED)
