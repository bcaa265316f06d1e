"""Parameter sweeps: a grid of ordinary runs on worker processes.

Each grid point is a ``RunRequest`` with some parameters replaced, run in its own process
(``spawn``, so a sweep started from the multi-threaded dashboard is safe); every run carries
the sweep id in ``runs.sweep_id``. A failing point is recorded as a failed run and the sweep
goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as dt
import itertools
import multiprocessing
import os
import uuid
from collections.abc import Callable
from typing import Any

from tradecore.configure import RunRequest, build_orchestrator, find_strategy
from tradecore.strategies import ParameterError


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """``["k=a:b:step", "k2=v1,v2"]`` -> ``{"k": [...], "k2": [...]}`` (ranges inclusive)."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, spec = item.partition("=")
        key = key.strip()
        if not sep or not key or not spec.strip():
            raise ParameterError(f"--grid takes K=A:B:STEP or K=V1,V2,..., not {item!r}")
        if ":" in spec:
            parts = spec.split(":")
            if len(parts) != 3:
                raise ParameterError(f"a range is A:B:STEP, not {spec!r}")
            try:
                start, stop, step = (float(p) for p in parts)
            except ValueError:
                raise ParameterError(f"range {spec!r} must be numbers") from None
            if step <= 0 or stop < start:
                raise ParameterError(f"range {spec!r} needs A <= B and STEP > 0")
            count = int((stop - start) / step + 1e-9) + 1
            values = [start + i * step for i in range(count)]
            as_int = all(float(p).is_integer() for p in parts)
            grid[key] = [str(int(v)) if as_int else repr(round(v, 12)) for v in values]
        else:
            grid[key] = [v.strip() for v in spec.split(",") if v.strip()]
    if not grid:
        raise ParameterError("give at least one --grid")
    return grid


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def run_sweep(request: RunRequest, grid: dict[str, list[Any]], *, workers: int = 2,
              progress: Callable[[int, int], None] | None = None,
              sweep_id: str | None = None) -> str:
    """Run every grid point; return the sweep id. Points are validated before any run."""
    if workers < 1:
        raise ParameterError(f"workers must be at least 1, not {workers}")
    strategy = find_strategy(request.strategy)
    points = grid_points(grid)
    for point in points:  # fail fast on a bad value, before starting processes
        for key, value in {**request.parameters, **point}.items():
            if key not in strategy.parameters:
                raise ParameterError(f"{strategy.display_name()} has no parameter {key}")
            strategy.parameters[key].validate(key, value)
    sweep_id = sweep_id or (f"sweep_{dt.datetime.now(dt.UTC):%Y-%m-%d_%H-%M-%S}_"
                            f"{uuid.uuid4().hex[:6]}")
    requests = [dataclasses.replace(request, parameters={**request.parameters, **point},
                                    sweep_id=sweep_id) for point in points]
    context = multiprocessing.get_context("spawn")
    done = 0
    with cf.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context) as pool:
        futures = [pool.submit(_run_point, r, os.getcwd()) for r in requests]
        for future in cf.as_completed(futures):
            future.result()
            done += 1
            if progress:
                progress(done, len(requests))
    return sweep_id


def _run_point(request: RunRequest, cwd: str) -> str | None:
    os.chdir(cwd)
    orchestrator = build_orchestrator(request)
    try:
        run_id = orchestrator.run()
    except Exception:  # noqa: BLE001 - recorded as a failed run with its error; the sweep goes on
        return orchestrator.run_id
    from tradecore.analytics import statistics

    statistics(run_id, request.runs_db_path)  # computed here, in parallel, kept for the heatmap
    return run_id
