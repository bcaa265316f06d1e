"""The strategy registry and discovery of user strategies.

Every StrategyBase subclass whose class name does not start with ``_`` registers itself.
User strategies come from ``strategies/*.py`` in the working directory and from the modules
named (comma-separated) in env ``TRADECORE_STRATEGIES``. A module that fails to import is
reported through ``strategy_discovery_errors()``, never swallowed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

_REGISTRY: dict[str, type] = {}
_discovered: dict[str, float] = {}
_errors: dict[str, DiscoveryError] = {}


@dataclass(frozen=True)
class DiscoveryError:
    source: str
    message: str
    traceback: str

    def __str__(self) -> str:
        return f"could not import strategies from {self.source}: {self.message}"


def register(cls: type) -> None:
    if not cls.__name__.startswith("_"):
        _REGISTRY[cls.__name__] = cls


def get_registered_strategies(discover: bool = True) -> dict[str, type]:
    """``{class name: class}`` of every registered strategy, user strategies included."""
    if discover:
        discover_strategies()
    import tradecore.strategies.examples  # noqa: F401 - the examples register themselves

    return dict(sorted(_REGISTRY.items()))


def strategy_discovery_errors() -> list[DiscoveryError]:
    """Import errors met while discovering user strategies (shown by the CLI and dashboard)."""
    return list(_errors.values())


def discover_strategies(directory: str | Path | None = None) -> list[DiscoveryError]:
    """Import user strategy modules (again when a file changed); return the errors met.

    Errors are those of the sources named now: a file fixed or removed, or a module no longer
    in ``TRADECORE_STRATEGIES``, stops being reported.
    """
    folder = Path(directory) if directory is not None else Path.cwd() / "strategies"
    current: set[str] = set()
    if folder.is_dir():
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            current.add(str(path.resolve()))
            _import_file(path)
    for module_name in filter(None, (m.strip() for m in
                                     os.environ.get("TRADECORE_STRATEGIES", "").split(","))):
        current.add(module_name)
        if module_name in _discovered:
            continue
        try:
            importlib.import_module(module_name)
            _discovered[module_name] = 0.0
            _errors.pop(module_name, None)
        except Exception as error:  # noqa: BLE001 - reported to the user, see module docstring
            _errors[module_name] = _error(module_name, error)
    for source in set(_errors) - current:
        del _errors[source]
    return strategy_discovery_errors()


def _import_file(path: Path) -> None:
    key = str(path.resolve())
    mtime = path.stat().st_mtime
    if _discovered.get(key) == mtime:
        return
    module_name = f"tradecore_user_strategies.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
        _errors.pop(key, None)
    except Exception as error:  # noqa: BLE001 - reported to the user, see module docstring
        sys.modules.pop(module_name, None)
        _errors[key] = _error(str(path), error)
    _discovered[key] = mtime


def _error(source: str, error: BaseException) -> DiscoveryError:
    return DiscoveryError(source, f"{type(error).__name__}: {error}", traceback.format_exc())
