"""Eyexam (Chen et al., arXiv:1807.07928; seed 001 slides 7-10): the sequence of performance
bounds of one layer on one architecture and dataflow, in MACs/cycle, each step adding one
constraint, ending at the mapper's achieved value.

1. workload parallelism: every MAC of the layer in parallel (= the layer's MACs).
2. dataflow parallelism: the largest spatial unrolling the dataflow allows (only its spatial
   dimensions, with its factor rules), on an unbounded array.
3. finite PE array size: the same, with at most ``PEs`` instances in all (perfect factors).
4. fixed PE array dimensions: each fanout's X and Y separately (the exact spatial mapspace).
5. storage capacity: the most active PEs of any mapping whose tiles fit every level (checked
   with the mapspace's exact capacity test on the smallest-footprint mapping of each spatial
   choice: all free temporal factors at the outermost level).
6. average bandwidth: the best MACs/cycle of any mapping under the cost model, whose cycles
   charge each level's traffic against its bandwidth over the whole layer (the mapper's best
   mapping for latency; in heuristic mode, the faster of it and the chosen mapping).
7. instantaneous bandwidth: the MACs/cycle of the chosen mapping (the mapper's best for its
   objective). Burst model: none beyond the average: transfers are assumed to overlap compute
   (double buffering), so bursts inside the layer are absorbed; step 7 differs from step 6 only
   by the choice of mapping. ``no_overlap_macs_per_cycle`` gives the pessimistic other end: every
   bandwidth-limited transfer serialized with compute.
Steps 3-5 count active PEs; one PE does ``1 / cycles_per_mac`` MACs per cycle.
"""

from __future__ import annotations

from math import prod

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints, FactorRule
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.mapping.factors import divisors
from loopnest.mapping.mapspace import TEMPORAL, Mapspace, X
from loopnest.search.mapper import REMAINDER_FOLDS, search_layer
from loopnest.workload.problem import Problem

STEPS = ("workload parallelism", "dataflow parallelism", "finite PE array size", "fixed PE array dimensions",
         "storage capacity", "average bandwidth", "instantaneous bandwidth")


def _spatial_rule_bounds(problem: Problem, arch: Architecture, constraints: Constraints) -> dict[str, tuple[int, int]]:
    """Per dimension, the product of the constraints' (lo, hi) over every spatial axis, fanout sizes ignored."""
    out = {}
    for d, n in problem.dims.items():
        lo = hi = 1
        for lv in arch.levels:
            if lv.fanout is None:
                continue
            lc = constraints.at(lv.name)
            for rules in (lc.spatial_x, lc.spatial_y):
                if rules is not None and d not in rules:
                    continue
                a, b = (rules[d] if rules is not None else FactorRule()).bounds(n)
                lo, hi = lo * a, hi * b
        out[d] = (lo, min(hi, n))
    return out


def dataflow_parallelism(problem: Problem, arch: Architecture, constraints: Constraints) -> int:
    """Step 2: the product of each dimension's largest allowed spatial factor (a divisor)."""
    b = _spatial_rule_bounds(problem, arch, constraints)
    return prod(max((f for f in divisors(n) if b[d][0] <= f <= b[d][1]), default=0) for d, n in problem.dims.items())


def finite_array_parallelism(problem: Problem, arch: Architecture, constraints: Constraints) -> int:
    """Step 3: the largest product of allowed spatial factors that is at most the number of PEs."""
    b = _spatial_rule_bounds(problem, arch, constraints)
    reach = {1}
    for d, n in problem.dims.items():
        fs = [f for f in divisors(n) if b[d][0] <= f <= b[d][1]]
        reach = {r * f for r in reach for f in fs if r * f <= arch.pes}
    return max(reach, default=0)


def spatial_choices(ms: Mapspace) -> tuple[np.ndarray, np.ndarray]:
    """Every spatial unrolling that fits the fanouts, each with its smallest-footprint tiling.

    Returns option indices (K, D) into ``ms.options`` and the spatial product (K,) per choice.
    """
    sp = [s for s, (_, a) in enumerate(ms.slots) if a != TEMPORAL]
    tp = [s for s, (_, a) in enumerate(ms.slots) if a == TEMPORAL]
    limits = np.array([ms.arch.levels[l].fanout.x if a == X else ms.arch.levels[l].fanout.y
                       for l, a in (ms.slots[s] for s in sp)], np.int64)
    idx = np.zeros((1, 0), np.int64)
    used = np.ones((1, len(sp)), np.int64)
    for d in range(ms.D):
        opts = ms.options[d]
        # per distinct spatial tuple, the option with the largest outer temporal factors
        order = np.lexsort(tuple(-opts[:, s] for s in reversed(tp)))
        _, first = np.unique(opts[order][:, sp], axis=0, return_index=True)
        pick = order[first]
        k = len(pick)
        if k == 0:
            return np.zeros((0, ms.D), np.int64), np.zeros(0, np.int64)
        grown_used = (np.repeat(used, k, axis=0) * np.tile(opts[pick][:, sp], (len(used), 1)))
        ok = (grown_used <= limits).all(axis=1)
        idx = np.concatenate([np.repeat(idx, k, axis=0), np.tile(pick, len(idx))[:, None]], axis=1)[ok]
        used = grown_used[ok]
    return idx, used.prod(axis=1)


def storage_parallelism(ms: Mapspace, idx: np.ndarray, spatial: np.ndarray) -> int:
    """Step 5: the largest spatial product among the choices whose tiles fit some bypass choice."""
    fits = np.zeros(len(idx), bool)
    for keep in ms.keep_configs:
        fits |= ms.fits(idx, keep)
    return int(spatial[fits].max()) if fits.any() else 0


def capacity_bound_cycles(problem: Problem, arch: Architecture, constraints: Constraints) -> float:
    """The fewest cycles any mapping allowed by ``constraints`` can take on ``arch`` by step 5:
    MACs / (most active PEs whose tiles fit) x cycles per MAC, without a search. On an
    architecture with no bandwidth limits this is the mapper's latency optimum (cycles are the
    compute cycles of the most parallel fitting mapping); infinite where nothing fits."""
    ms = Mapspace(problem, arch, constraints)
    pes = storage_parallelism(ms, *spatial_choices(ms))
    return problem.macs / pes * arch.compute.cycles_per_mac if pes else float("inf")


def layer_bound_cycles(layers, arch: Architecture, dataflow: str) -> list[float]:
    """``capacity_bound_cycles`` of each layer (an iterable of ``Problem``) under a dataflow preset."""
    return [capacity_bound_cycles(p, arch, dataflow_constraints(dataflow, p, arch)) for p in layers]


def no_overlap_cycles(record: dict, arch: Architecture) -> float:
    """Cycles if every bandwidth-limited transfer were serialized with compute (pessimistic)."""
    total = float(record["compute_cycles"])
    for lv, rec in zip(arch.levels, record["levels"]):
        active = max(rec["active_instances"], 1)
        reads = sum(c["reads"] for c in rec["counts_words"].values())
        writes = sum(c["fills"] + c["updates"] for c in rec["counts_words"].values())
        if lv.read_bandwidth is not None:
            total += reads / active / lv.read_bandwidth
        if lv.write_bandwidth is not None:
            total += writes / active / lv.write_bandwidth
    return total


def eyexam(problem: Problem, arch: Architecture, constraints: Constraints, fastest: dict, chosen: dict) -> dict:
    """The Eyexam steps. ``fastest``: the mapper's best mapping for latency; ``chosen``: its best
    for the reported objective (both ``Result.to_dict()`` records of this layer and constraints).
    The steps count every (algorithmic) MAC; a sparse layer adds the chosen mapping's non-zero
    (actual) MACs per cycle."""
    ms = Mapspace(problem, arch, constraints)
    idx, spatial = spatial_choices(ms)
    per_pe = 1.0 / arch.compute.cycles_per_mac
    pes = [problem.macs, dataflow_parallelism(problem, arch, constraints),
           finite_array_parallelism(problem, arch, constraints),
           int(spatial.max()) if len(spatial) else 0, storage_parallelism(ms, idx, spatial)]
    bounds = [float(problem.macs)] + [p * per_pe for p in pes[1:]]
    if chosen["cycles"] < fastest["cycles"]:  # a heuristic latency search can miss what the other found
        fastest = chosen
    bounds.append(problem.macs / fastest["cycles"])
    bounds.append(problem.macs / chosen["cycles"])
    why = [
        f"{problem.macs:,} MACs, all independent",
        f"spatial dimensions of {constraints.source} on an unbounded array: {pes[1]:,} PEs",
        f"at most {arch.pes} PEs: {pes[2]:,} active",
        "array " + " x ".join(f"{lv.fanout.x}x{lv.fanout.y}" for lv in arch.levels if lv.fanout is not None)
        + f": {pes[3]:,} active",
        f"tiles fit the storage: {pes[4]:,} active",
        f"best mapping for latency: {fastest['cycles']:,.0f} cycles, bound: {fastest['bound']}",
        f"chosen mapping: {chosen['cycles']:,.0f} cycles, bound: {chosen['bound']}",
    ]
    steps = [{"step": i + 1, "name": n, "bound_macs_per_cycle": b, "explanation": w}
             for i, (n, b, w) in enumerate(zip(STEPS, bounds, why))]
    return {
        "layer": problem.name, "arch": arch.name, "constraints": constraints.source,
        "units": "MACs/cycle (1 MAC = 2 ops)", "peak_macs_per_cycle": arch.pes * per_pe,
        "steps": steps, "achieved_macs_per_cycle": bounds[-1],
        "no_overlap_macs_per_cycle": problem.macs / no_overlap_cycles(chosen, arch),
        "burst_model": "average bandwidth: transfers overlap compute (double buffering assumed); "
                       "no_overlap_macs_per_cycle serializes every bandwidth-limited transfer with compute",
        "mapspace_spatial_choices": len(spatial),
        **({"actual_macs": chosen["actual_macs"], "achieved_actual_macs_per_cycle": chosen["actual_macs"] / chosen["cycles"]}
           if chosen.get("sparse") is not None else {}),
    }


class EyexamError(ValueError):
    """A layer the mapper cannot map on the architecture (the reason is given)."""


def run_eyexam(problem: Problem, arch: Architecture, constraints: Constraints | None = None, objective: str = "energy",
               mode: str = "auto", seed: int = 0, remainder_folds: bool = REMAINDER_FOLDS) -> dict:
    """Map the layer twice (for latency, and for ``objective``) and compute the Eyexam steps;
    ``mode`` defaults to auto, as on the command line; ``remainder_folds``: ``search_layer``'s (a
    fold's mapping may pass steps 4 and 5, which count exact splits)."""
    constraints = constraints or Constraints()
    found = {}
    for key, obj in (("fastest", "cycles,energy"), ("chosen", objective)):
        s = search_layer(problem, arch, constraints, obj, mode=mode, seed=seed, remainder_folds=remainder_folds)
        if s.result is None:
            raise EyexamError(f"layer {problem.name} on {arch.name}: no mapping ({s.reason})")
        found[key] = s.result.to_dict()
    out = eyexam(problem, arch, constraints, found["fastest"], found["chosen"])
    out.update({"objective": objective, "mode": mode, "chosen_mapping": found["chosen"]["mapping"]})
    return out
