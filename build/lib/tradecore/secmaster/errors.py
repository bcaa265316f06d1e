"""The one exception the secmaster raises for anything a user can fix (bad input, missing data)."""

from __future__ import annotations


class SecmasterError(ValueError):
    """A problem with secmaster input or content, with a message a user can act on.

    A subclass of ``ValueError`` so callers that already treat bad input as ``ValueError`` (the CLI,
    ``st.error`` in the dashboard) need nothing special.
    """
