"""Where the two databases live: env overrides, else one ``data/`` folder that does not depend on
the working directory.

Read at call time (never at import) so tests and the dashboard can switch databases.

Design Decision: the default folder is found from the package, not the CWD
    ``TRADECORE_SECMASTER`` / ``TRADECORE_RUNS_DB`` win. Otherwise, when ``tradecore`` is imported
    from a source checkout (the repository, or an editable ``pip install -e .``), the checkout's
    ``data/`` folder is used, so ``python -m tradecore``, the dashboard and the Python API all see
    the same databases from any folder. An installed wheel has no checkout: it uses
    ``$TRADECORE_HOME``, else ``$XDG_DATA_HOME/tradecore`` (``~/.local/share/tradecore``). The
    old default, ``data/`` under the working directory, made a script started elsewhere silently
    create a second, empty secmaster.
"""

from __future__ import annotations

import os
from pathlib import Path

# The folder holding the ``tradecore`` package; a checkout also has these files beside it.
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent
_CHECKOUT_MARKERS = ("pyproject.toml", "dashboard.py")


def checkout_root() -> Path | None:
    """The source checkout ``tradecore`` is imported from, or None for an installed wheel."""
    if all((_PACKAGE_PARENT / marker).is_file() for marker in _CHECKOUT_MARKERS):
        return _PACKAGE_PARENT
    return None


def data_dir() -> Path:
    """The default folder of secmaster.db and runs.db (see the module docstring)."""
    root = checkout_root()
    if root is not None:
        return root / "data"
    if os.environ.get("TRADECORE_HOME"):
        return Path(os.environ["TRADECORE_HOME"])
    xdg = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(xdg) / "tradecore"


def runs_db_path() -> Path:
    return Path(os.environ.get("TRADECORE_RUNS_DB") or data_dir() / "runs.db")


def secmaster_path() -> Path:
    return Path(os.environ.get("TRADECORE_SECMASTER") or data_dir() / "secmaster.db")
