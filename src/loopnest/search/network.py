"""Whole networks: every MAC layer mapped (each distinct layer shape searched once, in parallel
over processes), per-layer results and network totals.

Layers run one after another on the accelerator, so network cycles and energies are sums over
layers. A layer without any valid mapping is kept in the result with the reason (which capacity,
fanout or constraint excludes it) and counted apart: never silently dropped.

Stopping: a KeyboardInterrupt (SIGINT; the CLI raises ``loopnest.signals.Stop`` on SIGTERM) during the search
cancels the queued shapes at once, terminates the worker processes (none is left behind) and
raises :class:`Interrupted` holding every layer whose search had finished. Workers ignore SIGINT
(the parent decides) and exit by themselves if the parent dies.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.model.result import Result, evaluate
from loopnest.search.mapper import AUTO, REMAINDER_FOLDS, LayerSearch, search_layer
from loopnest.search.objective import Objective
from loopnest.signals import signum_of
from loopnest.workload.network import ElementOp, Network
from loopnest.workload.problem import Problem

Progress = Callable[[int, int, str], None]  # (done, total, layer name)


class Interrupted(KeyboardInterrupt):
    """The run stopped on a signal; ``partial`` holds every layer whose search had finished
    (``partial.pending`` names the others). A KeyboardInterrupt, so callers that do not keep
    partial results stop as on Ctrl-C (``signum`` says which signal)."""

    def __init__(self, partial: NetworkResult, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.partial, self.signum = partial, signum


@dataclass
class LayerOutcome:
    """One layer of the network: its result, or why it has none; ``same_as`` names the layer
    whose search it reuses (identical shape)."""

    problem: Problem
    search: LayerSearch
    result: Result | None
    same_as: str | None = None

    @property
    def name(self) -> str:
        return self.problem.name


@dataclass
class NetworkResult:
    model: str
    arch: Architecture
    batch: int
    dataflow: str | None
    objective: str
    mode: str
    layers: list[LayerOutcome]
    seconds: float = 0.0
    searches: int = 0  # distinct shapes searched
    jobs: int = 1
    notes: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # layers not searched: the run was interrupted
    shapes_total: int = 0  # distinct shapes to search (``searches`` of them finished)
    ops: tuple[ElementOp, ...] = ()  # the network's non-MAC operators (costed by ``model.elementwise``)

    def to_dict(self) -> dict:
        """Every number of the run, per layer and in total, as ``loopnest evaluate --json`` prints it."""
        from loopnest.search.summary import to_dict

        return to_dict(self)

    @property
    def mapped(self) -> list[LayerOutcome]:
        return [lo for lo in self.layers if lo.result is not None]

    @property
    def unmapped(self) -> list[LayerOutcome]:
        return [lo for lo in self.layers if lo.result is None]


def _solve(task: tuple) -> LayerSearch:
    problem, arch, dataflow, user, objective, mode, seed, timeout_s, remainder_folds = task
    constraints = dataflow_constraints(dataflow, problem, arch) if dataflow else None
    if user is not None:
        constraints = user if constraints is None else constraints.meet(user)
    return search_layer(problem, arch, constraints, objective, mode=mode, seed=seed, timeout_s=timeout_s,
                        remainder_folds=remainder_folds)


def map_network(network: Network, arch: Architecture, dataflow: str | None = None, constraints: Constraints | None = None,
                objective: str = "energy", mode: str = AUTO, seed: int = 0, jobs: int | None = None,
                progress: Progress | None = None, layer_timeout_s: float | None = None,
                remainder_folds: bool = REMAINDER_FOLDS) -> NetworkResult:
    """Best mapping of every MAC layer of ``network`` on ``arch``.

    ``dataflow`` names a preset (``loopnest.mapping.dataflows``); ``constraints`` are the user's,
    met with the preset. ``jobs`` processes (default: the CPU count); 1 runs in this process.
    ``mode`` defaults to auto, as on the command line (each layer's ``search.mode`` says which ran).
    ``layer_timeout_s`` bounds each shape's search (the best found so far is kept).
    ``remainder_folds``: also search partial last folds on non-systolic fanouts (``search_layer``). The result
    does not depend on ``jobs`` (each shape's search is a pure function of its inputs). On a
    KeyboardInterrupt it raises :class:`Interrupted` with the layers finished so far.
    """
    Objective.parse(objective)  # fail early on a bad objective
    t0 = time.perf_counter()
    layers = list(network.layers)
    first: dict[str, Problem] = {}
    for p in layers:
        first.setdefault(p.shape_key(), p)
    shapes = sorted(first.values(), key=lambda p: -p.macs)  # big layers first: better balance
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(shapes) or 1))
    tasks = [(p, arch, dataflow, constraints, objective, mode, seed, layer_timeout_s, remainder_folds) for p in shapes]
    found: dict[str, LayerSearch] = {}
    try:
        if jobs == 1:
            for i, (p, task) in enumerate(zip(shapes, tasks)):
                found[p.shape_key()] = _solve(task)
                if progress:
                    progress(i + 1, len(shapes), p.name)
        else:
            _parallel(shapes, tasks, jobs, found, progress)
    except KeyboardInterrupt as stop:
        partial = _assemble(network, arch, dataflow, objective, mode, layers, first, found, t0, len(shapes), jobs)
        raise Interrupted(partial, signum_of(stop)) from None
    return _assemble(network, arch, dataflow, objective, mode, layers, first, found, t0, len(shapes), jobs)


def _parallel(shapes: list[Problem], tasks: list[tuple], jobs: int, found: dict, progress: Progress | None) -> None:
    """Search the shapes over ``jobs`` worker processes into ``found``; on any exception (a signal
    included) the queued shapes are cancelled and the workers terminated before it propagates."""
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(_solve, task): p for p, task in zip(shapes, tasks)}
        for i, fut in enumerate(as_completed(futures)):
            p = futures[fut]
            found[p.shape_key()] = fut.result()
            if progress:
                progress(i + 1, len(shapes), p.name)
    except BaseException:
        _stop_pool(pool)
        raise
    pool.shutdown()


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and end the running workers now (shutdown alone waits for them).
    The workers are taken from the pool's own table before the shutdown (its manager thread may
    empty the table while it runs) and again after it; a killed worker is waited for without a
    time limit (SIGKILL ends it), and so is the manager thread, which reaps the workers it saw."""
    procs = getattr(pool, "_processes", None) or {}  # no public handle on the workers
    manager = getattr(pool, "_executor_manager_thread", None)
    workers = list(procs.values())
    pool.shutdown(wait=False, cancel_futures=True)
    workers += [w for w in list(procs.values()) if w not in workers]
    for w in workers:
        w.terminate()
    for w in workers:
        w.join(5)
        if w.is_alive():
            w.kill()
            w.join()
    if manager is not None:
        manager.join(10)


def _worker_init(parent: int) -> None:
    """In each worker: SIGINT is ignored (the parent stops the pool), SIGTERM ends it, and a
    watcher thread ends it if the parent dies (no orphan keeps searching)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _assemble(network: Network, arch: Architecture, dataflow: str | None, objective: str, mode: str,
              layers: list[Problem], first: dict[str, Problem], found: dict[str, LayerSearch], t0: float,
              shapes: int, jobs: int) -> NetworkResult:
    """The network result over the layers whose shape was searched (the others are ``pending``)."""
    outcomes, pending = [], []
    for p in layers:
        key = p.shape_key()
        s = found.get(key)
        if s is None:
            pending.append(p.name)
            continue
        owner = first[key]
        if s.result is None:
            result = None
        elif owner is p:
            result = s.result
        else:  # same loop nest, another layer name: cost the same mapping for this layer
            result = evaluate(p, arch, s.result.mapping)
        outcomes.append(LayerOutcome(p, s, result, None if owner is p else owner.name))
    return NetworkResult(network.name, arch, network.batch, dataflow, objective, mode, outcomes,
                         time.perf_counter() - t0, len(found), jobs, pending=pending, shapes_total=shapes,
                         ops=network.ops)
