"""Whole networks: every MAC layer mapped (each distinct layer shape searched once, in parallel
over processes), per-layer results and network totals.

Layers run one after another on the accelerator, so network cycles and energies are sums over
layers. A layer without any valid mapping is kept in the result with the reason (which capacity,
fanout or constraint excludes it) and counted apart: never silently dropped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.model.result import Result, evaluate
from loopnest.search.mapper import AUTO, LayerSearch, search_layer
from loopnest.search.objective import Objective
from loopnest.workload.network import Network
from loopnest.workload.problem import Problem

Progress = Callable[[int, int, str], None]  # (done, total, layer name)


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

    @property
    def mapped(self) -> list[LayerOutcome]:
        return [lo for lo in self.layers if lo.result is not None]

    @property
    def unmapped(self) -> list[LayerOutcome]:
        return [lo for lo in self.layers if lo.result is None]


def _solve(task: tuple) -> LayerSearch:
    problem, arch, dataflow, user, objective, mode, seed = task
    constraints = dataflow_constraints(dataflow, problem, arch) if dataflow else None
    if user is not None:
        constraints = user if constraints is None else constraints.meet(user)
    return search_layer(problem, arch, constraints, objective, mode=mode, seed=seed)


def map_network(network: Network, arch: Architecture, dataflow: str | None = None, constraints: Constraints | None = None,
                objective: str = "energy", mode: str = AUTO, seed: int = 0, jobs: int | None = None,
                progress: Progress | None = None) -> NetworkResult:
    """Best mapping of every MAC layer of ``network`` on ``arch``.

    ``dataflow`` names a preset (``loopnest.mapping.dataflows``); ``constraints`` are the user's,
    met with the preset. ``jobs`` processes (default: the CPU count); 1 runs in this process.
    ``mode`` defaults to auto, as on the command line (each layer's ``search.mode`` says which ran).
    """
    Objective.parse(objective)  # fail early on a bad objective
    t0 = time.perf_counter()
    layers = list(network.layers)
    first: dict[str, Problem] = {}
    for p in layers:
        first.setdefault(p.shape_key(), p)
    shapes = sorted(first.values(), key=lambda p: -p.macs)  # big layers first: better balance
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(shapes) or 1))
    tasks = [(p, arch, dataflow, constraints, objective, mode, seed) for p in shapes]
    found: dict[str, LayerSearch] = {}
    if jobs == 1:
        for i, (p, task) in enumerate(zip(shapes, tasks)):
            found[p.shape_key()] = _solve(task)
            if progress:
                progress(i + 1, len(shapes), p.name)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_solve, task): p for p, task in zip(shapes, tasks)}
            for i, fut in enumerate(as_completed(futures)):
                p = futures[fut]
                found[p.shape_key()] = fut.result()
                if progress:
                    progress(i + 1, len(shapes), p.name)
    outcomes = []
    for p in layers:
        key = p.shape_key()
        s = found[key]
        owner = first[key]
        if s.result is None:
            result = None
        elif owner is p:
            result = s.result
        else:  # same loop nest, another layer name: cost the same mapping for this layer
            result = evaluate(p, arch, s.result.mapping)
        outcomes.append(LayerOutcome(p, s, result, None if owner is p else owner.name))
    return NetworkResult(network.name, arch, network.batch, dataflow, objective, mode, outcomes,
                         time.perf_counter() - t0, len(shapes), jobs)

