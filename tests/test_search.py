"""The mapper against a brute-force enumeration of the whole mapspace (no pruning at all: every
tiling, every permutation of every level's loops, every bypass choice), on small layers."""

from __future__ import annotations

from itertools import permutations, product

import numpy as np
import pytest

from loopnest.arch import load_arch
from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.constraints import parse_constraints
from loopnest.mapping.mapping import MappingBatch
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate_batch
from loopnest.search.mapper import search_layer
from loopnest.search.objective import Objective
from loopnest.workload.layers import conv2d, fc


def energies(dram=100.0, buf=6.0, rf=1.0):
    return [{"read": e, "write": e * 1.5, "update": e * 1.2} for e in (dram, buf, rf)]


def arch3(fan: Fanout | None = None, cap: int = 12, rf_cap: int = 4, bw: float | None = None) -> Architecture:
    e = energies()
    return Architecture(name="tiny3", levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=e[0], read_bandwidth=bw, write_bandwidth=bw),
        Storage(name="Buffer", capacity_words=cap, energy_pj=e[1], fanout=fan),
        Storage(name="RF", capacity_words=rf_cap, energy_pj=e[2]),
    ), compute=Compute(energy_pj=0.5))


def arch2(cap: int = 10) -> Architecture:
    e = energies()
    return Architecture(name="tiny2", levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=e[0]),
        Storage(name="Buffer", capacity_words=cap, energy_pj=e[1], fanout=Fanout(x=2, y=2, energy_pj=0.3, reduction=True)),
    ), compute=Compute(energy_pj=0.5))


def brute_force(problem, arch, constraints=None, objective="energy", imperfect=False, inner_order_free=False,
                enumerate_on=None):
    """Best objective keys over every mapping: no capacity pruning, no order classes. With
    ``inner_order_free`` the innermost level keeps one loop order (where no keeper lies below it,
    no count depends on its order). ``enumerate_on``: an architecture whose mapspace is enumerated
    instead of ``arch``'s (the same levels without a rule the mapspace prunes by), each mapping
    still costed and checked on ``arch``."""
    space = Mapspace(problem, enumerate_on or arch, constraints, imperfect=imperfect)
    obj = Objective.parse(objective)
    active = [i for i, d in enumerate(space.dims) if problem.dims[d] > 1]  # the model drops size-1 dims
    rest = [i for i in range(space.D) if i not in active]
    level_perms = [list(p) + rest for p in permutations(active)]
    ordered = space.L - 1 if inner_order_free else space.L
    combos = np.array([list(c) + [level_perms[0]] * (space.L - ordered)
                       for c in product(level_perms, repeat=ordered)], np.int64)  # (P, L, D)
    best = None
    for keep in space.keep_configs:
        idx = space.tilings(keep, prune=False)
        rep = np.repeat(np.arange(len(idx)), len(combos))
        base = space.batch(idx, np.zeros((len(idx), space.L, space.D), np.int64), keep)
        batch = MappingBatch(base.temporal[rep], np.tile(combos, (len(idx), 1, 1)), base.spatial[rep], base.keep[rep])
        c = evaluate_batch(problem, arch, batch)
        if not c.valid.any():
            continue
        keys = obj.values(c.energy_pj[c.valid], c.cycles[c.valid])[:, :len(obj.keys)]
        k = min(map(tuple, keys))
        best = k if best is None or k < best else best
    return best


@pytest.fixture(params=["enumerated", "streamed"])
def rests(request, monkeypatch):
    """Both exact paths: the rests enumerated at once, and streamed (a heuristic's best cost
    first, then the rests 5 at a time through their floors, only those that can beat it kept),
    the latter with the memory bounds at their tightest: one (outer, rest group) pair priced
    per visit at a time, no cached floor parts kept (each recomputed when needed) and rest groups
    expanded two at a time (several steps per visit)."""
    if request.param == "streamed":
        from loopnest.search import inside_floor, mapper, streamed

        monkeypatch.setattr(mapper, "STREAM_RESTS", 0)
        monkeypatch.setattr(streamed, "REST_CHUNK", 5)
        monkeypatch.setattr(mapper, "PAIRS", 1)
        monkeypatch.setattr(mapper, "GROUPS", 2)
        monkeypatch.setattr(inside_floor, "PARTS_BYTES", 0)
    return request.param


def found(problem, arch, constraints=None, objective="energy", mode="exact"):
    r = search_layer(problem, arch, constraints, objective, mode=mode)
    obj = Objective.parse(objective)
    return tuple(obj.values(np.array([r.result.energy_pj]), np.array([r.result.cycles]))[0, :len(obj.keys)]), r


@pytest.mark.parametrize("objective", ["energy", "edp", "cycles"])
def test_exact_equals_brute_force_fc_with_fanout(objective, rests):
    p = fc("f", C=3, M=4, N=2)
    arch = arch3(Fanout(x=2, y=2, energy_pj=0.3, reduction=True))
    fixed = parse_constraints([{"level": "Buffer", "keep": ["inputs", "outputs"]}, {"level": "RF", "keep": ["weights", "outputs"]}])
    keys, _r = found(p, arch, fixed, objective)
    assert keys == pytest.approx(brute_force(p, arch, fixed, objective), rel=1e-12)


def test_exact_equals_brute_force_conv_sliding_window_three_levels(rests):
    """Sliding-window delta fills and two levels whose loop orders matter (separability)."""
    p = conv2d("c", C=2, M=2, H=3, W=1, R=2, S=1)  # P = 2, inputs index P + R
    arch = arch3(cap=10, rf_cap=6)
    fixed = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]}, {"level": "RF", "keep": ["inputs", "outputs"]}])
    keys, _r = found(p, arch, fixed)
    assert keys == pytest.approx(brute_force(p, arch, fixed), rel=1e-12)


def test_exact_equals_brute_force_strided_pointwise(rests):
    """1x1 stride 2: the windows leave gaps (the floors count touched elements, not hulls)."""
    p = conv2d("c", C=2, M=2, H=7, W=1, R=1, S=1, stride=2)  # P = 4, inputs at rows 0, 2, 4, 6
    arch = arch3(Fanout(x=2, y=1, energy_pj=0.3), cap=10, rf_cap=4)
    keys, _r = found(p, arch)
    assert keys == pytest.approx(brute_force(p, arch), rel=1e-12)


def test_exact_equals_brute_force_with_bypass_search(rests):
    """Every bypass choice of the buffer searched (8 of them)."""
    p = conv2d("c", C=2, M=2, H=4, W=1, R=3, S=1)
    arch = arch2()
    keys, _r = found(p, arch)
    assert keys == pytest.approx(brute_force(p, arch), rel=1e-12)


def test_exact_equals_brute_force_cycles_bandwidth_bound(rests):
    """Lexicographic cycles-then-energy with a DRAM bandwidth limit (order-dependent cycles)."""
    p = fc("f", C=3, M=4, N=2)
    arch = arch3(Fanout(x=2, y=1), bw=0.25)
    fixed = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]}, {"level": "RF", "keep": ["weights"]}])
    keys, r = found(p, arch, fixed, "cycles,energy")
    assert keys == pytest.approx(brute_force(p, arch, fixed, "cycles,energy"), rel=1e-12)
    assert r.result.bound == "DRAM bandwidth"  # the limit binds: the case exercises order-dependent cycles



def arch4(inner: tuple[str, ...] = ("outputs",), multicast: bool = False) -> Architecture:
    """A deep hierarchy in the style of ZigZag's eyeriss_like core: per-tensor buffers in one
    chain; ``inner``: what the level-3 register file may keep (a keeper at level 3: the floors
    of rest_bounds.deep_floor)."""
    e = energies() + [{"read": 0.5, "write": 0.7, "update": 0.6}]
    return Architecture(name="tiny4", levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=e[0]),
        Storage(name="IOBuf", capacity_words=12, energy_pj=e[1], keeps=("inputs", "outputs")),
        Storage(name="WBuf", capacity_words=4, energy_pj=e[2], keeps=("weights",),
                fanout=Fanout(x=2, y=1, energy_pj=0.2, multicast=multicast, reduction=True)),
        Storage(name="RF", capacity_words=2, energy_pj=e[3], keeps=inner),
    ), compute=Compute(energy_pj=0.5))


@pytest.mark.parametrize(("layer", "objective"), [(fc("f", C=2, M=2, N=2), "energy"), (fc("f", C=2, M=2, N=2), "edp"),
                                                  (conv2d("c", C=2, M=1, H=3, W=1, R=2, S=1), "energy")])
def test_exact_equals_brute_force_four_levels(layer, objective, rests):
    """Four levels, three of whose loop orders matter, every bypass choice of the inner three."""
    keys, _r = found(layer, arch4(), None, objective)
    assert keys == pytest.approx(brute_force(layer, arch4(), None, objective), rel=1e-12)


def test_exact_equals_brute_force_sliding_window_into_level_3(rests):
    """Inputs slide a window into a level-3 register file fed through a multicasting fanout;
    the outer buffers' keeps fixed, the register file's searched (4 bypass choices)."""
    layer = conv2d("c", C=1, M=2, H=3, W=1, R=2, S=1)
    arch = arch4(("inputs", "outputs"), multicast=True)
    fixed = parse_constraints([{"level": "IOBuf", "keep": ["inputs", "outputs"]}, {"level": "WBuf", "keep": ["weights"]}])
    keys, _r = found(layer, arch, fixed)
    assert keys == pytest.approx(brute_force(layer, arch, fixed), rel=1e-12)


def test_exact_equals_brute_force_two_fanouts(rests):
    """A fanout below the innermost buffer too (edge-npu style): the MACs' traffic the rests'
    floor counts depends on both fanouts' folding."""
    e = energies()
    arch = Architecture(name="twofan", levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=e[0]),
        Storage(name="Buffer", capacity_words=12, energy_pj=e[1], fanout=Fanout(x=2, y=1, energy_pj=0.3, multicast=True)),
        Storage(name="RF", capacity_words=4, energy_pj=e[2], fanout=Fanout(x=2, y=1, energy_pj=0.1, reduction=True)),
    ), compute=Compute(energy_pj=0.5))
    fixed = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]}, {"level": "RF", "keep": ["weights"]}])
    p = fc("f", C=2, M=2, N=2)
    keys, _r = found(p, arch, fixed)
    assert keys == pytest.approx(brute_force(p, arch, fixed), rel=1e-12)


KEEP_ALL = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]},
                              {"level": "RF", "keep": ["inputs", "weights", "outputs"]}])


@pytest.mark.parametrize("objective", ["energy,cycles", "cycles", "edp"])
def test_exact_equals_brute_force_inner_bandwidths(objective, rests):
    """The MACs' reads and updates at their innermost keepers bound the cycles through those
    levels' bandwidths (``RestFloor.cycles``, a pruning rule): an RF read and written one word a
    cycle, a Buffer read two, every bypass choice; energy with its cycles tie-break, cycles, EDP."""
    p = fc("f", C=2, M=4, N=2)
    e = energies()
    arch = Architecture(name="tiny3bw", levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=e[0]),
        Storage(name="Buffer", capacity_words=12, energy_pj=e[1], read_bandwidth=2.0,
                fanout=Fanout(x=2, y=2, energy_pj=0.3, reduction=True)),
        Storage(name="RF", capacity_words=4, energy_pj=e[2], read_bandwidth=1.0, write_bandwidth=1.0),
    ), compute=Compute(energy_pj=0.5))
    keys, _r = found(p, arch, None, objective)
    assert keys == pytest.approx(brute_force(p, arch, None, objective), rel=1e-12)


def test_heuristic_is_seeded_deterministic_and_never_beats_exact():
    p = conv2d("c", C=4, M=8, H=6, W=6, R=3)
    arch = arch3(Fanout(x=2, y=2), cap=64, rf_cap=16)
    a = search_layer(p, arch, KEEP_ALL, mode="heuristic", seed=3, top=2, sample=50)
    b = search_layer(p, arch, KEEP_ALL, mode="heuristic", seed=3, top=2, sample=50)
    exact = search_layer(p, arch, KEEP_ALL)
    assert a.result.mapping == b.result.mapping and a.result.energy_pj == b.result.energy_pj
    assert a.result.energy_pj >= exact.result.energy_pj - 1e-9


def test_heuristic_mode_refines_its_best(monkeypatch):
    """Regression: the heuristic's coordinate descent (``refine``, docs/mapper.md) had moved into
    the handler of the streamed search's memory stop, so heuristic mode never ran it."""
    from loopnest.search import tilings

    calls = []
    real = tilings.TilingEvaluator.refine
    monkeypatch.setattr(tilings.TilingEvaluator, "refine", lambda self, sweeps: calls.append(sweeps) or real(self, sweeps))
    r = search_layer(conv2d("c", C=4, M=8, H=6, W=6, R=3), arch3(Fanout(x=2, y=2), cap=64, rf_cap=16), KEEP_ALL,
                     mode="heuristic", sweeps=2, padded_folds=False)  # one search (no fold variants)
    assert r.mode == "heuristic" and calls == [2]


def test_exact_is_reproducible():
    p = conv2d("c", C=4, M=4, H=4, W=4, R=3)
    arch = arch3(Fanout(x=2, y=2), cap=40, rf_cap=12)
    assert search_layer(p, arch, KEEP_ALL).result.mapping == search_layer(p, arch, KEEP_ALL).result.mapping


def test_no_mapping_names_the_binding_capacity():
    # RS keeps a whole filter row (S = 5) in the RF; a 4-word RF cannot hold 5 weights
    p = conv2d("c", C=1, M=1, H=5, W=5, R=5)
    arch = arch3(Fanout(x=4, y=8), rf_cap=4)
    from loopnest.mapping.dataflows import dataflow_constraints

    r = search_layer(p, arch, dataflow_constraints("rs", p, arch))
    assert r.result is None and "RF (4 words)" in r.reason and "the smallest tile is" in r.reason


def test_no_mapping_names_the_fanout():
    # RS puts the whole filter height R = 5 on the array's Y axis, which has 4 rows
    p = conv2d("c", C=1, M=1, H=5, W=5, R=5)
    arch = arch3(Fanout(x=4, y=4), rf_cap=64)
    from loopnest.mapping.dataflows import dataflow_constraints

    r = search_layer(p, arch, dataflow_constraints("rs", p, arch))
    assert r.result is None and "dimension R=5" in r.reason and "Buffer spatial.y in [5, 4]" in r.reason


def test_huge_spaces_exact_declines_heuristic_samples(monkeypatch):
    """Beyond EXACT_RESTS choices below level 1 the exact search says so (no silent hours);
    the heuristic samples those choices: a seeded subset of the exhaustive ones."""
    from loopnest.search import mapper

    p = conv2d("c", C=4, M=8, H=6, W=6, R=3)
    arch = arch3(Fanout(x=2, y=2), cap=64, rf_cap=16)
    space = Mapspace(p, arch, KEEP_ALL)
    keep = space.keep_configs[-1]
    every = {r.tobytes() for r in space.rests(keep)}
    n = space.rest_count()  # 24,576 per-dimension combinations, 1,067 of them fit
    sampled = space.rests(keep, sample=n // 2, seed=1)
    assert 0 < len(sampled) < len(every) and all(r.tobytes() in every for r in sampled)
    assert np.array_equal(sampled, Mapspace(p, arch, KEEP_ALL).rests(keep, sample=n // 2, seed=1))
    exact = search_layer(p, arch, KEEP_ALL, mode="exact").result.energy_pj
    monkeypatch.setattr(mapper, "EXACT_RESTS", n - 1)
    monkeypatch.setattr(mapper, "HEURISTIC_RESTS", n // 2)
    r = search_layer(p, arch, KEEP_ALL, mode="exact")
    assert r.result is None and "--mode heuristic" in r.reason and f"{n:.2g}" in r.reason
    h = search_layer(p, arch, KEEP_ALL, mode="heuristic")
    assert h.result.energy_pj >= exact - 1e-9


def test_streamed_exact_search_gives_up_beyond_its_memory_and_says_so(monkeypatch):
    """When more kept rests would be held than KEPT_BYTES allows, the streamed exact search stops:
    the heuristic's mapping is returned, recorded as a heuristic search with a note (never an
    "exact" label on an unproven mapping). With room it finishes and proves the optimum."""
    from loopnest.search import mapper, streamed

    p = conv2d("c", C=4, M=8, H=6, W=6, R=3)
    arch = arch3(Fanout(x=2, y=2), cap=64, rf_cap=16)
    exact = search_layer(p, arch, KEEP_ALL, mode="exact")
    heuristic = search_layer(p, arch, KEEP_ALL, mode="heuristic")
    monkeypatch.setattr(mapper, "STREAM_RESTS", 0)
    monkeypatch.setattr(streamed, "REST_CHUNK", 64)
    found = search_layer(p, arch, KEEP_ALL, mode="exact")
    assert found.mode == "exact" and found.result.energy_pj == pytest.approx(exact.result.energy_pj, rel=1e-12)
    monkeypatch.setattr(streamed, "KEPT_BYTES", 0)
    r = search_layer(p, arch, KEEP_ALL, mode="exact")
    assert r.mode == "heuristic" and "not proven optimal" in r.notes[-1] and "memory" in r.notes[-1]
    assert r.result.energy_pj == pytest.approx(heuristic.result.energy_pj, rel=1e-12)


def test_auto_mode_is_exact_on_small_spaces_heuristic_on_huge_ones(monkeypatch):
    """Auto runs the exact search where there are at most AUTO_EXACT_RESTS choices below level 1
    (on any hierarchy whose outermost level has no fanout); up to EXACT_RESTS the streamed one
    (level by level), which stops with the heuristic's mapping after AUTO_TREE_ROWS partial
    rests; the heuristic beyond; and says which ran (mode) and why (notes)."""
    from loopnest.search import mapper

    p = conv2d("c", C=4, M=8, H=6, W=6, R=3)
    arch = arch3(Fanout(x=2, y=2), cap=64, rf_cap=16)
    n = Mapspace(p, arch, KEEP_ALL).rest_count()
    exact = search_layer(p, arch, KEEP_ALL, mode="exact")
    auto = search_layer(p, arch, KEEP_ALL, mode="auto")
    assert auto.mode == "exact" and auto.notes == [] and auto.result.mapping == exact.result.mapping
    monkeypatch.setattr(mapper, "AUTO_EXACT_RESTS", n - 1)
    monkeypatch.setattr(mapper, "STREAM_RESTS", 0)
    auto = search_layer(p, arch, KEEP_ALL, mode="auto")  # streamed, level by level, within its budget
    assert auto.mode == "exact" and auto.rests_partial > 0 and auto.result.energy_pj == pytest.approx(exact.result.energy_pj, rel=1e-12)
    monkeypatch.setattr(mapper, "AUTO_TREE_ROWS", 0)
    auto = search_layer(p, arch, KEEP_ALL, mode="auto")
    heuristic = search_layer(p, arch, KEEP_ALL, mode="heuristic")
    assert auto.mode == "heuristic" and "not proven optimal" in auto.notes[-1] and "partial choices" in auto.notes[-1]
    assert auto.result.mapping == heuristic.result.mapping
    monkeypatch.setattr(mapper, "EXACT_RESTS", n - 1)
    auto = search_layer(p, arch, KEEP_ALL, mode="auto")
    assert auto.mode == "heuristic" and "not proven optimal" in auto.notes[0] and f"{n:.2g}" in auto.notes[0]
    assert auto.result.mapping == heuristic.result.mapping
    monkeypatch.undo()
    deep = search_layer(fc("f", C=2, M=2, N=2), arch4(), mode="auto")  # four levels
    assert deep.mode == "exact" and deep.notes == []
    assert deep.result.energy_pj == search_layer(fc("f", C=2, M=2, N=2), arch4(), mode="exact").result.energy_pj
    e = energies()[0]
    wide = Architecture(name="fanout0", levels=(  # a fanout on the outermost level: the rests' floors leave it out
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=e, fanout=Fanout(x=2, y=1)),
        Storage(name="Buffer", capacity_words=8, energy_pj=e)), compute=Compute(energy_pj=0.5))
    auto = search_layer(fc("f", C=2, M=2, N=2), wide, mode="auto")
    assert auto.mode == "heuristic" and "the outermost level DRAM has a fanout" in auto.notes[0]
    with pytest.raises(ValueError, match="exact, heuristic, auto"):
        search_layer(p, arch, KEEP_ALL, mode="fast")


def test_outer_costs_in_blocks_equal_brute_force(monkeypatch):
    """The level-0 outer choices priced a few rows at a time (bounded memory, issue 11 item 15)
    give the brute-force best, as in one call."""
    from loopnest.search import outer_costs

    monkeypatch.setattr(outer_costs, "OUTER_ROWS", 3)
    p = conv2d("c", C=2, M=2, H=7, W=1, R=1, S=1, stride=2)
    arch = arch3(Fanout(x=2, y=1, energy_pj=0.3), cap=10, rf_cap=4)
    keys, r = found(p, arch)
    assert r.outer_total > 3  # several blocks were priced
    assert keys == pytest.approx(brute_force(p, arch), rel=1e-12)


def test_streamed_visits_many_rest_groups_edp(monkeypatch):
    """Eyeriss weight stationary, EDP, streamed: over 512 rest groups under one visit, expanded in
    several steps; each step must read the groups' keys (a step once overwrote them with its
    members' and indexed past the groups). The optimum is the enumerated exact search's."""
    from loopnest.mapping.dataflows import dataflow_constraints
    from loopnest.search import mapper

    layer, arch = conv2d("c", C=4, M=8, H=6, W=6, R=3), load_arch("eyeriss")
    ws = dataflow_constraints("ws", layer, arch)
    keys, _r = found(layer, arch, ws, "edp")
    monkeypatch.setattr(mapper, "STREAM_RESTS", 0)
    streamed, r = found(layer, arch, ws, "edp")
    assert r.rests_streamed > 0
    assert streamed == pytest.approx(keys, rel=1e-12)
