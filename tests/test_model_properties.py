"""Property-based tests (hypothesis) of the cost model over random layers and random valid mappings."""

from __future__ import annotations

import itertools
from math import prod

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.mapping import LevelMapping, Mapping, MappingBatch
from loopnest.model import evaluate_batch
from loopnest.workload.problem import ROLES, Problem, Tensor

DIMS = ("N", "M", "C", "P", "R")


def problem_of(sizes: dict, stride: int, dilation: int) -> Problem:
    return Problem("rand", "conv", sizes, (
        Tensor("W", "weights", ({"M": 1}, {"C": 1}, {"R": 1}), 16, static=True),
        Tensor("I", "inputs", ({"N": 1}, {"C": 1}, {"P": stride, "R": dilation}), 16),
        Tensor("O", "outputs", ({"N": 1}, {"M": 1}, {"P": 1}), 16)))


def arch_of(energies: list[float], multicast: bool, reduction: bool, fan: tuple[int, int]) -> Architecture:
    e = iter(energies)
    levels = []
    for i, name in enumerate(("DRAM", "GLB", "RF")):
        en = {"read": next(e), "write": next(e), "update": next(e)}
        kw = {"class": "dram"} if i == 0 else {"capacity_words": 1 << 30}
        fo = Fanout(x=fan[0], y=fan[1], multicast=multicast, reduction=reduction, energy_pj=next(e)) if i == 1 else None
        levels.append(Storage(name=name, energy_pj=en, fanout=fo, **kw))
    return Architecture(name="rand", levels=tuple(levels), compute=Compute(energy_pj=next(e)))


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def cases(draw):
    sizes = {d: draw(st.sampled_from([1, 2, 3, 4, 6])) for d in DIMS}
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    slots = [{}, {}, {}, {}, {}]  # DRAM temporal, GLB temporal, GLB spatial x, GLB spatial y, RF temporal
    for d, n in sizes.items():
        rest = n
        for s in slots[:-1]:
            f = draw(st.sampled_from(divisors(rest)))
            s[d] = f
            rest //= f
        slots[-1][d] = rest
    orders = [tuple(draw(st.permutations(DIMS))) for _ in range(3)]
    keep_glb = draw(st.sets(st.sampled_from(ROLES)))
    keep_rf = draw(st.sets(st.sampled_from(ROLES)))
    m = Mapping((
        LevelMapping(slots[0], orders[0]),
        LevelMapping(slots[1], orders[1], slots[2], slots[3], frozenset(keep_glb)),
        LevelMapping(slots[4], orders[2], keep=frozenset(keep_rf))))
    energies = draw(st.lists(st.floats(0.1, 100), min_size=11, max_size=11))
    fan = (prod(slots[2].values()), prod(slots[3].values()))
    a = arch_of(energies, draw(st.booleans()), draw(st.booleans()), fan)
    return problem_of(sizes, stride, dilation), a, m


def run(problem, arch, mappings):
    return evaluate_batch(problem, arch, MappingBatch.from_mappings(mappings, problem, arch))


def distinct_touched(problem: Problem, tensor: Tensor) -> int:
    """Brute force: the set of index tuples the whole loop nest touches."""
    names = problem.dim_names
    grids = np.meshgrid(*[np.arange(problem.dims[d]) for d in names], indexing="ij")
    pts = {d: g.ravel() for d, g in zip(names, grids)}
    idx = np.stack([sum(c * pts[d] for d, c in ix.items()) for ix in tensor.indices], axis=1)
    return len(np.unique(idx, axis=0))


@settings(max_examples=150, deadline=None)
@given(cases())
def test_macs_conserved_and_compulsory_traffic(case):
    problem, arch, m = case
    c = run(problem, arch, [m]).counts
    spatial = prod(f for lm in m.levels for f in itertools.chain(lm.spatial_x.values(), lm.spatial_y.values()))
    assert c.compute_cycles[0] * spatial == problem.macs
    batch = MappingBatch.from_mappings([m], problem, arch)
    for t, role in enumerate(ROLES):
        unique = distinct_touched(problem, problem.tensor(role))
        kept = [l for l in range(3) if batch.keep[0, l, t]]
        if role == "outputs":
            assert c.updates[0, 0, t] >= unique  # every output reaches DRAM at least once
        else:
            assert c.reads[0, 0, t] >= unique  # DRAM traffic >= unique data
            for l in kept:  # no keeper reads a tensor fewer times than its distinct elements
                assert c.reads[0, l, t] >= unique


@settings(max_examples=60, deadline=None)
@given(cases(), st.integers(0, 10), st.floats(0.5, 50))
def test_energy_is_linear_in_each_per_action_energy(case, which, bump):
    problem, arch, m = case
    base = run(problem, arch, [m])
    c = base.counts
    d = arch.model_dump(by_alias=True)
    if which == 10:
        d["compute"]["energy_pj"] += bump
        slope = problem.macs
    elif which == 9:
        d["levels"][1]["fanout"]["energy_pj"] += bump
        slope = c.network[0, 1].sum()
    else:
        l, a = divmod(which, 3)
        d["levels"][l]["energy_pj"][("read", "write", "update")[a]] += bump
        slope = (c.reads, c.fills, c.updates)[a][0, l].sum()
    bumped = run(problem, Architecture.model_validate(d), [m])
    assert np.isclose(bumped.energy_pj[0] - base.energy_pj[0], bump * slope, rtol=1e-9, atol=1e-6)


def reorder(m: Mapping, level: int, order: tuple[str, ...]) -> Mapping:
    lv = list(m.levels)
    old = lv[level]
    lv[level] = LevelMapping(old.temporal, order, old.spatial_x, old.spatial_y, old.keep)
    return Mapping(tuple(lv))


def same_counts(a, b) -> bool:
    return all(np.array_equal(getattr(a.counts, f), getattr(b.counts, f)) for f in ("reads", "fills", "updates", "network"))


@settings(max_examples=100, deadline=None)
@given(cases(), st.integers(0, 2), st.data())
def test_moving_loops_of_bound_one_changes_nothing(case, level, data):
    problem, arch, m = case
    lm = m.levels[level]
    real = [d for d in lm.order if lm.temporal.get(d, 1) > 1]
    ones = [d for d in lm.order if lm.temporal.get(d, 1) == 1]
    order = list(real)
    for d in data.draw(st.permutations(ones)):
        order.insert(data.draw(st.integers(0, len(order))), d)
    assert same_counts(run(problem, arch, [m]), run(problem, arch, [reorder(m, level, tuple(order))]))


@settings(max_examples=100, deadline=None)
@given(cases(), st.integers(0, 2), st.integers(0, 3))
def test_swapping_adjacent_loops_alike_for_every_tensor_changes_nothing(case, level, pos):
    # Two adjacent loops that every tensor sees alike (both irrelevant, or both relevant with no
    # sliding window between them) can be swapped without changing any count.
    problem, arch, m = case
    order = list(m.levels[level].order)
    a, b = order[pos], order[pos + 1]
    for t in problem.tensors:
        ra, rb = a in t.dims(), b in t.dims()
        window = any(len(ix) > 1 and (a in ix or b in ix) for ix in t.indices)
        if ra != rb or (ra and window):
            return
    order[pos], order[pos + 1] = b, a
    assert same_counts(run(problem, arch, [m]), run(problem, arch, [reorder(m, level, tuple(order))]))


@settings(max_examples=30, deadline=None)
@given(cases(), st.data())
def test_a_batch_equals_its_rows_evaluated_alone(case, data):
    problem, arch, m = case
    ms = [m]
    for _ in range(data.draw(st.integers(1, 5))):
        lv = [LevelMapping(lm.temporal, tuple(data.draw(st.permutations(DIMS))), lm.spatial_x, lm.spatial_y,
                           frozenset(data.draw(st.sets(st.sampled_from(ROLES)))) if i else None)
              for i, lm in enumerate(m.levels)]
        ms.append(Mapping(tuple(lv)))
    both = run(problem, arch, ms)
    for i, one_m in enumerate(ms):
        one = run(problem, arch, [one_m])
        assert same_counts_row(both, i, one)
        assert np.isclose(both.energy_pj[i], one.energy_pj[0], rtol=1e-12)  # float sums may differ in order
        assert both.cycles[i] == one.cycles[0] and both.valid[i] == one.valid[0]


def same_counts_row(batch, i, one) -> bool:
    return all(np.array_equal(getattr(batch.counts, f)[i], getattr(one.counts, f)[0])
               for f in ("reads", "fills", "updates", "network"))
