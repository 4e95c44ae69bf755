"""What one layer's search returns (``search.mapper.search_layer``): the best mapping with its
explained Result, or why there is none, and the counts and bounds that document the search."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from loopnest.mapping.mapping import Mapping
from loopnest.model import Result
from loopnest.search.objective import Objective
from loopnest.workload.problem import Problem


@dataclass
class LayerSearch:
    """Outcome of one layer's search: the best mapping and its explained Result, or the reason
    no mapping exists; with the counts that document the search."""

    problem: Problem
    objective: str
    mode: str
    result: Result | None = None
    reason: str | None = None
    evaluated: int = 0  # mappings costed by the model
    outer_total: int = 0  # outer choices (all bypass choices)
    outer_visited: int = 0  # outer choices not pruned by the bound
    inner_tilings: int = 0  # inner tilings enumerated under visited outer choices
    rests_streamed: int = 0  # streamed exact search: (rest choice, bypass choice) pairs priced
    rests_partial: int = 0  # streamed exact search: partial rest choices priced level by level (rest_tree)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    timed_out: bool = False  # stopped at the layer timeout: the best found so far
    floor_energy_pj: float = np.inf  # the least sound energy floor over every outer choice priced (pJ)
    floor_cycles: float = np.inf  # the least sound cycles floor over them
    lower_bound: float | None = None  # the objective's first key: no mapping of the space is below it
    subspaces: dict = field(default_factory=dict)  # auto mode: dataflow preset -> its subspace's best key (subspaces.py)
    folds: dict = field(default_factory=dict)  # dimension -> (its size, padded size) where a fold variant won (padded.py)

    @property
    def mapping(self) -> Mapping | None:
        return None if self.result is None else self.result.mapping

    @property
    def gap(self) -> float | None:
        """How far the result's objective (its first key) may be above the optimum: result over
        ``lower_bound``, less 1 (0 where proven optimal; None without a result or a positive bound)."""
        if self.result is None or self.lower_bound is None:
            return None
        value = Objective.parse(self.objective).values(np.array([self.result.energy_pj]), np.array([self.result.cycles]))[0, 0]
        if self.lower_bound >= value:
            return 0.0
        return float(value / self.lower_bound - 1.0) if self.lower_bound > 0 else None
