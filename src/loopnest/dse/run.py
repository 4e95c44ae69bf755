"""Run a sweep: every (architecture point, workload) pair not yet in the store, on local processes.

Workers compute rows (``evaluate_point``, a pure function); only this driver writes the store,
one committed row per finished point, so a sweep interrupted at any moment resumes where it
stopped. (Distributed executors such as Dask are not provided yet.)
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

from loopnest.dse.point import Point, canonical, evaluate_point
from loopnest.dse.spec import SweepSpec, apply, points
from loopnest.dse.store import Store

Progress = Callable[[int, int], None]  # (done, total) over the points still to compute


@dataclass(frozen=True)
class SweepRun:
    total: int  # distinct points of the sweep (architecture x workload)
    stored: int  # already in the store before this run
    computed: int  # computed by this run
    invalid: int  # of those, invalid


def sweep_points(spec: SweepSpec, base: dict) -> list[Point]:
    """Every point of the sweep, architecture points outer, workloads inner."""
    m = spec.mapper
    out = []
    for i, values in enumerate(points(spec)):
        arch = canonical(apply(base, values))
        for w in spec.workloads:
            out.append(Point(i, tuple(values.items()), arch, spec.table, w.model, w.batch, m.mode, m.objective,
                             m.dataflow, m.seed))
    return out


def run_sweep(spec: SweepSpec, base: dict, store: Store, jobs: int = 1, progress: Progress | None = None) -> SweepRun:
    """Compute the points missing from ``store`` with ``jobs`` processes (1: in this process)."""
    have = store.keys()
    todo, seen = [], set()
    for p in sweep_points(spec, base):
        k = p.key
        if k not in seen:  # two axis values may give the same architecture: one row
            seen.add(k)
            if k not in have:
                todo.append(p)
    invalid = 0

    def done(row: dict, n: int) -> None:
        nonlocal invalid
        store.add(row)
        invalid += row["status"] != "ok"
        if progress:
            progress(n, len(todo))

    if jobs <= 1 or len(todo) <= 1:
        for n, p in enumerate(todo, 1):
            done(evaluate_point(p), n)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            # a bounded window of submissions keeps memory flat for large sweeps
            pending, it, n = set(), iter(todo), 0
            for p in it:
                pending.add(pool.submit(evaluate_point, p))
                if len(pending) >= 2 * jobs:
                    break
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    n += 1
                    done(fut.result(), n)
                    nxt = next(it, None)
                    if nxt is not None:
                        pending.add(pool.submit(evaluate_point, nxt))
    return SweepRun(len(seen), len(seen) - len(todo), len(todo), invalid)
