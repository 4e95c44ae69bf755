"""Run a sweep: every (architecture point, workload) pair not yet in the store, on an executor.

Executors compute rows (``evaluate_point``, a pure function of its point, so every executor gives
the same bytes); only this driver writes the store, one committed row per finished point, so a
sweep interrupted at any moment resumes where it stopped. Executors: ``local`` (this process, or
``jobs`` worker processes) and ``dask`` (Dask distributed: a scheduler's address, or a
LocalCluster of ``jobs`` worker processes; see ``loopnest.dse.dask_executor``). The optuna
sampling method proposes points as results come in (``loopnest.dse.optimize``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from itertools import islice

from loopnest.dse.point import Point, canonical, evaluate_point
from loopnest.dse.spec import SweepSpec, apply, points
from loopnest.dse.store import Store

Progress = Callable[[int, int, dict], None]  # (done, total, the row just stored) over the points still to compute
Evaluate = Callable[[Point], dict]
EXECUTORS = ("local", "dask")


class ExecutorError(RuntimeError):
    """The executor cannot run the sweep (package missing, scheduler unreachable, points killing workers)."""


@dataclass(frozen=True)
class SweepRun:
    architectures: int  # architecture points of the sweep
    total: int  # distinct points of the sweep (architecture x workload)
    stored: int  # already in the store before this run
    computed: int  # computed by this run
    invalid: int  # of those, invalid


def sweep_points(spec: SweepSpec, base: dict) -> list[Point]:
    """Every point of the sweep, architecture points outer, workloads inner."""
    return [p for i, values in enumerate(points(spec, base)) for p in arch_points(spec, base, i, values)]


def arch_points(spec: SweepSpec, base: dict, index: int, values: dict) -> list[Point]:
    """The points of one architecture (``values``: {path: value}), one per workload."""
    m = spec.mapper
    arch = canonical(apply(base, values))
    return [Point(index, tuple(values.items()), arch, spec.table, w.model, w.batch, m.mode, m.objective, m.dataflow, m.seed,
                  m.remainder_folds)
            for w in spec.workloads]


def run_sweep(spec: SweepSpec, base: dict, store: Store, jobs: int = 1, progress: Progress | None = None,
              executor: str = "local", scheduler: str | None = None, evaluate: Evaluate = evaluate_point) -> SweepRun:
    """Compute the points missing from ``store`` on ``executor`` with ``jobs`` workers.

    ``scheduler`` (dask only): a ``tcp://HOST:PORT`` address; None starts a LocalCluster.
    ``evaluate`` is the point function (``evaluate_point``; tests pass one that kills its worker)."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    if spec.sampling.method == "optuna":
        from loopnest.dse.optimize import run_optuna

        return run_optuna(spec, base, store, lambda todo: compute(todo, jobs, executor, scheduler, evaluate), progress)
    have = store.keys()
    todo, seen = [], set()
    pts = sweep_points(spec, base)
    for p in pts:
        k = p.key
        if k not in seen:  # two axis values may give the same architecture: one row
            seen.add(k)
            if k not in have:
                todo.append(p)
    invalid = 0
    for n, row in enumerate(compute(todo, jobs, executor, scheduler, evaluate), 1):
        store.add(row)
        invalid += row["status"] != "ok"
        if progress:
            progress(n, len(todo), row)
    return SweepRun(len({p.index for p in pts}), len(seen), len(seen) - len(todo), len(todo), invalid)


def compute(todo: list[Point], jobs: int, executor: str, scheduler: str | None, evaluate: Evaluate) -> Iterator[dict]:
    """The rows of ``todo``, in finishing order, from ``executor`` (the caller stores them)."""
    if not todo:
        return iter(())
    if executor == "dask":
        from loopnest.dse.dask_executor import dask_rows

        return dask_rows(todo, jobs, scheduler, evaluate)
    return local_rows(todo, jobs, evaluate)


def local_rows(todo: list[Point], jobs: int, evaluate: Evaluate) -> Iterator[dict]:
    """Rows in finishing order, from this process (``jobs`` 1) or a pool of ``jobs`` processes."""
    if jobs <= 1 or len(todo) <= 1:
        yield from map(evaluate, todo)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from windowed(todo, 2 * jobs, lambda p: pool.submit(evaluate, p), _wait_local)


def _wait_local(pending: set) -> tuple[set, set]:
    return wait(pending, return_when=FIRST_COMPLETED)


def windowed(todo: list[Point], window: int, submit: Callable, wait_some: Callable) -> Iterator[dict]:
    """Keep at most ``window`` points in flight (memory stays flat in the number of points) and
    yield each finished row; ``wait_some(pending)`` returns (finished, still pending) futures."""
    it = iter(todo)
    pending = {submit(p) for p in islice(it, window)}  # exactly ``window`` taken: the rest stay in ``it``
    while pending:
        finished, pending = wait_some(pending)
        for fut in finished:
            yield fut.result()
            nxt = next(it, None)
            if nxt is not None:
                pending.add(submit(nxt))
