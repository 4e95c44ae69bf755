"""The exact mapper with sparse costs (search/bounds.py ``floor_prices``): its floors, priced per
level, tensor and action with the sparse plan's floor factors, stay below the cost of every
mapping, and the exact search returns the brute-force optimum on small sparse layers of the
sparse features the presets use (RLC at DRAM with zero gating, as ``eyeriss-rlc``; compressed
weights with skipping, as ``eyeriss-skipw``; skipping at the outermost level; gated outputs; two-rank
formats with gated reads keeping their port slots and (de)compression energy, as Sparseloop's 04.2.1;
both operands skipped with the expected-max load balance and worst-case / quantile capacities)."""

from __future__ import annotations

import numpy as np
import pytest
from test_search import arch3, brute_force, found, rests  # noqa: F401 (rests: a fixture)

from loopnest.arch.spec import Architecture, ComputeSparse, Fanout, StorageSparse
from loopnest.mapping.constraints import parse_constraints
from loopnest.mapping.mapping import MappingBatch
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate_batch
from loopnest.model.sparse import plan
from loopnest.workload.density import Density, with_densities
from loopnest.workload.layers import conv2d, fc


def sparse_arch(levels: dict, compute: dict | None = None, fan: Fanout | None = None, cap: int = 12,
                bw: float | None = None) -> Architecture:
    """``arch3`` (DRAM, Buffer, RF; DRAM's bandwidth ``bw``) with ``levels``: level index -> StorageSparse fields."""
    base = arch3(fan, cap=cap, bw=bw)
    lv = tuple(l.model_copy(update={"sparse": StorageSparse(**levels[i])}) if i in levels else l
               for i, l in enumerate(base.levels))
    comp = base.compute if compute is None else base.compute.model_copy(update={"sparse": ComputeSparse(**compute)})
    return base.model_copy(update={"levels": lv, "compute": comp})


RLC = sparse_arch({0: {"formats": {"inputs": "rle", "outputs": "rle"}, "metadata_bits": 2},
                   2: {"gating": ({"target": "weights", "condition_on": ("inputs",)},)}},
                  {"gating": ("inputs",)})  # eyeriss-rlc's features, 2-bit runs
SKIPW = sparse_arch({0: {"formats": {"weights": "cp"}},
                     2: {"formats": {"weights": "cp"}, "skipping": ({"target": "inputs", "condition_on": ("weights",)},)}},
                    {"skipping": ("weights",)})  # eyeriss-skipw's features
OUTER = sparse_arch({0: {"formats": {"inputs": "bitmask"}, "metadata_bits": 2,
                         "skipping": ({"target": "weights", "condition_on": ("inputs",)},)},
                     1: {"formats": {"weights": "uop"}}},
                    {"skipping": ("inputs",)}, fan=Fanout(x=2, y=1, energy_pj=0.3))  # skipping at DRAM
GATED_OUT = sparse_arch({1: {"gating": ({"target": "outputs", "condition_on": ("weights",)},)},
                         2: {"formats": {"weights": "cp"}}},
                        {"gating": ("weights",)})  # outputs' read-backs gated: no read floor there
RANKS = sparse_arch({0: {"formats": {"inputs": ["uop", "rle"], "outputs": ["uop", "cp"]}, "metadata_bits": 2,
                         "gating": ({"target": "weights", "condition_on": ("inputs",)},), "gated_keep_slot": True},
                     1: {"decompression_energy_pj": 0.1, "compression_energy_pj": 0.1}},
                    {"gating": ("inputs",)}, bw=1.0)  # two-rank formats, gated reads keeping DRAM's slots, a codec
BALANCED = sparse_arch({0: {"formats": {"weights": "cp"}},
                        1: {"formats": {"inputs": "bitmask"}, "metadata_bits": 2, "occupancy": "quantile",
                            "occupancy_quantile": 0.9},
                        2: {"formats": {"weights": "cp"}, "occupancy": "worst",
                            "skipping": ({"target": "inputs", "condition_on": ("weights",)},)}},
                       {"skipping": ("weights", "inputs"), "load_balance": "expected_max"},
                       fan=Fanout(x=2, y=1, energy_pj=0.3))  # both operands skipped, PEs wait for the slowest,
# compressed tiles reserve a quantile (Buffer) and the worst case (RF)

CONV = conv2d("c", C=1, M=2, H=5, W=1, R=2, S=1)  # a sliding window: P=4, R=2
FC = fc("f", C=3, M=4, N=2)
CASES = {"rlc": (RLC, CONV, {"inputs": Density.uniform(0.5), "outputs": Density.uniform(0.25)}),
         "skipw": (SKIPW, FC, {"weights": Density.uniform(0.25)}),
         "outer": (OUTER, FC, {"inputs": Density.uniform(0.5), "weights": Density.structured(1, 4)}),
         "gated-out": (GATED_OUT, CONV, {"weights": Density.uniform(0.5), "inputs": Density.fixed(0.4)}),
         "ranks": (RANKS, CONV, {"inputs": Density.uniform(0.5), "outputs": Density.uniform(0.25)}),
         "balanced": (BALANCED, FC, {"weights": Density.uniform(0.5), "inputs": Density.uniform(0.5)})}


def every_mapping(problem, arch) -> MappingBatch:
    """Every tiling of every bypass choice, loop orders at the identity (a floor factor's
    worst case does not depend on the order)."""
    space = Mapspace(problem, arch)
    parts = []
    for keep in space.keep_configs:
        idx = space.tilings(keep, prune=False)
        parts.append(space.batch(idx, np.zeros((len(idx), space.L, space.D), np.int64), keep))
    return MappingBatch(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("temporal", "perm", "spatial", "keep")))


@pytest.mark.parametrize("case", CASES)
def test_floor_factors_are_sound_and_attained(case):
    """Over every tiling of a small layer, each (level, tensor, action) sparse count is at least
    its dense count times the floor factor (sound), and every factor below 1 of an action that
    occurs is reached by some mapping (a leader's tile of one value, the supplier that gates):
    inflating one by 1 % would make it unsound."""
    arch, layer, dens = CASES[case]
    p = with_densities(layer, dens)
    storage, _ = plan(p, arch).floor_factors()
    c = evaluate_batch(p, arch, every_mapping(p, arch))
    dense = np.stack([c.counts.reads, c.counts.fills, c.counts.updates], axis=-1).astype(float)  # (B, L, 3, 3)
    actual = c.sparse.actual
    assert (actual >= dense * storage[None] * (1 - 1e-12)).all()
    used = dense > 0
    least = np.where(used, actual / np.where(used, dense, 1.0), np.inf).min(axis=0)  # (L, 3, 3)
    reached = [(l, t, a) for l in range(3) for t in range(3) for a in (0, 1, 2)
               if used[:, l, t, a].any() and storage[l, t, a] < 1]
    assert reached  # the case exercises a sparse factor
    for l, t, a in reached:
        assert least[l, t, a] == pytest.approx(storage[l, t, a], rel=1e-9), (l, t, a)


@pytest.mark.parametrize("case, objective", [(c, "energy") for c in CASES] + [("rlc", "edp"), ("outer", "edp"), ("ranks", "edp"),
                                                                                   ("balanced", "edp"), ("balanced", "cycles")])
def test_exact_sparse_search_equals_brute_force(case, objective, rests):  # noqa: F811
    """The exact search (enumerated and streamed) finds the brute-force optimum of the sparse
    costs, with and without a fixed bypass."""
    arch, layer, dens = CASES[case]
    p = with_densities(layer, dens)
    keys, r = found(p, arch, None, objective)
    assert r.mode == "exact" and r.result.costs.sparse is not None
    assert keys == pytest.approx(brute_force(p, arch, None, objective), rel=1e-12)
    fixed = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]}])
    keys, _ = found(p, arch, fixed, objective)
    assert keys == pytest.approx(brute_force(p, arch, fixed, objective), rel=1e-12)
