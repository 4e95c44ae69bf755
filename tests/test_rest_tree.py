"""The level-by-level enumeration of the rest choices (search/rest_tree.py): it lists the same
choices as the one product, its partial floors are below the floor of every completion, and the
streamed exact search built on it finds the brute-force optimum on a five-level hierarchy with
two fanouts (brute force: tests/test_search.py, every tiling, order and bypass choice)."""

from __future__ import annotations

import numpy as np
import pytest

from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.constraints import parse_constraints
from loopnest.mapping.mapspace import Mapspace
from loopnest.search.bounds import rest_instances
from loopnest.search.rest_bounds import RestFloor, deep_floor, deep_transfers
from loopnest.search.rest_tree import RestTree
from loopnest.workload.layers import conv2d, fc
from test_search import brute_force, energies, found


def arch5(multicast: bool = True) -> Architecture:
    """Five levels, two fanouts (one below level 1, one below the innermost buffer), per-tensor
    buffers in one chain (ZigZag's eyeriss_like style, made small)."""
    e = energies() + [{"read": 0.5, "write": 0.7, "update": 0.6}, {"read": 0.2, "write": 0.3, "update": 0.25}]
    return Architecture(name="tiny5", levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=e[0]),
        Storage(name="GB", capacity_words=16, energy_pj=e[1], keeps=("inputs", "outputs"),
                fanout=Fanout(x=2, y=1, energy_pj=0.3, multicast=multicast, reduction=True)),
        Storage(name="WBuf", capacity_words=4, energy_pj=e[2], keeps=("weights",)),
        Storage(name="Acc", capacity_words=4, energy_pj=e[3], keeps=("outputs",),
                fanout=Fanout(x=2, y=1, energy_pj=0.1, multicast=True, reduction=True)),
        Storage(name="Reg", capacity_words=1, energy_pj=e[4], keeps=("weights",)),
    ), compute=Compute(energy_pj=0.5))


def _rows(a: np.ndarray) -> set:
    return {r.tobytes() for r in a.astype(np.int64)}


CASES = [(fc("f", C=4, M=2, N=2), arch5()), (conv2d("c", C=2, M=2, H=4, W=1, R=2, S=1), arch5(multicast=False))]


@pytest.mark.parametrize(("layer", "arch"), CASES)
def test_tree_lists_the_same_choices_as_the_product(layer, arch):
    space = Mapspace(layer, arch)
    tree = RestTree(space)
    assert [len(g) for g in tree.groups] == [2, 2, 1, 1, 1]  # GB and Acc fanouts, then Reg, Acc, WBuf temporal
    for keep in space.keep_configs:
        listed = np.concatenate([c for c, _ in tree.chunks(keep, lambda f, d, alive: alive, chunk=3)])
        assert len(listed) == len(_rows(listed))  # each choice once
        assert _rows(listed) == _rows(space.rests(keep))


def test_tree_carries_each_bypass_choice_alive_to_the_completions():
    """``chunks`` with two bypass choices: one dropped by ``can_win`` at a partial choice stays
    dropped for every completion (and ``can_win`` is not asked about it again), a choice dropped
    for both is not listed, and the others are listed once with what is alive. Here choice 1 is
    dropped where the GB fanout (group 0) is used, choice 0 where the Acc fanout (group 1)
    splits by 2; expected sets from the full listing, filtered by those two rules."""
    layer, arch = CASES[0]
    space = Mapspace(layer, arch)
    tree = RestTree(space)
    g0, g1 = tree.groups[0], tree.groups[1]
    asked = []

    def can_win(f, depth, alive):
        asked.append((depth, alive.copy()))
        alive = alive.copy()
        if depth == 0:
            alive[:, 1] &= f[:, g0].prod(axis=(1, 2)) == 1
        if depth == 1:
            assert not alive[:, 1][f[:, g0].prod(axis=(1, 2)) > 1].any()  # dropped above: still dropped
            alive[:, 0] &= f[:, g1].prod(axis=(1, 2)) != 2
        return alive

    for keep in space.keep_configs:
        every = np.concatenate([c for c, _ in tree.chunks(keep, lambda f, d, alive: alive, chunk=3)]).astype(np.int64)
        want0 = every[:, g1].prod(axis=(1, 2)) != 2
        want1 = every[:, g0].prod(axis=(1, 2)) == 1
        assert (~(want0 | want1)).any() and (want0 & want1).any()  # the rules drop some choices for both, keep some for both
        parts = list(tree.chunks(keep, can_win, chunk=3, width=2))
        rests = np.concatenate([c for c, _ in parts]).astype(np.int64)
        alive = np.concatenate([a for _, a in parts])
        assert _rows(rests) == _rows(every[want0 | want1]) and len(rests) == len(_rows(rests))
        g0_used, acc2 = rests[:, g0].prod(axis=(1, 2)) > 1, rests[:, g1].prod(axis=(1, 2)) == 2
        assert (alive[:, 0] == ~acc2).all() and (alive[:, 1] == ~g0_used).all()
    assert all(a.any(axis=1).all() for _, a in asked)  # never asked about a choice alive for none


@pytest.mark.parametrize(("layer", "arch"), CASES)
def test_partial_floors_are_below_every_completion(layer, arch):
    """Every partial choice's floor is at most the rest floor (plus ``fill_floor``) of each of its
    completions; and on some partial choice it equals it (within 1e-9), so a floor inflated by
    1 % fails this test."""
    space = Mapspace(layer, arch)
    tree = RestTree(space)
    order = [s for g in tree.groups for s in g]
    ends = np.cumsum([len(g) for g in tree.groups])
    tight = 0.0
    for keep in space.keep_configs:
        partials = []
        leaves = np.concatenate([c for c, _ in tree.chunks(keep, lambda f, d, alive: partials.append((f, d)) or alive)])
        _credit, leaf = tree.rest_floor(RestFloor(space), keep, leaves)
        for f, depth in partials:
            fixed = order[:ends[depth]]
            floor = tree.partial_floor(keep, f, depth)
            match = (f[:, None, fixed] == leaves[None, :, fixed]).all(axis=(2, 3))  # (P, R): r completes p
            assert match.any(axis=1).all()
            least = np.where(match, leaf[None], np.inf).min(axis=1)
            assert (floor <= least + 1e-9 * np.abs(least)).all()
            ratio = floor[least > 0] / least[least > 0]
            tight = max(tight, ratio.max(initial=0.0))
    assert tight == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize(("layer", "arch"), CASES)
def test_partial_instances_bound_every_completion(layer, arch):
    """``RestTree.instances`` of a partial choice (its fixed spatial factors times the size of
    every unfixed fanout) is at least the MAC units of each completion, so the cycles floor it
    gives is below theirs; and equal to the most of them on some partial choice."""
    space = Mapspace(layer, arch)
    tree = RestTree(space)
    order = [s for g in tree.groups for s in g]
    ends = np.cumsum([len(g) for g in tree.groups])
    equal = False
    for keep in space.keep_configs:
        partials = []
        leaves = np.concatenate([c for c, _ in tree.chunks(keep, lambda f, d, alive: partials.append((f, d)) or alive)])
        used = rest_instances(space, leaves)
        for f, depth in partials:
            fixed = order[:ends[depth]]
            match = (f[:, None, fixed] == leaves[None, :, fixed]).all(axis=(2, 3))
            most = np.where(match, used[None], 0.0).max(axis=1)
            bound = tree.instances(f, depth)
            assert (bound >= most).all()
            equal |= bool((bound == most).any())
    assert equal


@pytest.mark.parametrize("objective", ["cycles", "cycles,energy"])
def test_streamed_exact_equals_brute_force_cycles(objective, streamed):
    """The cycles objectives prune rests by their MAC units (``compute_cycles_floor``), level by level."""
    layer = fc("f", C=4, M=4, N=1)
    keys, r = found(layer, arch5(), None, objective)
    assert r.mode == "exact" and r.rests_streamed > 0
    assert keys == pytest.approx(brute_force(layer, arch5(), None, objective), rel=1e-12)


@pytest.fixture
def streamed(monkeypatch):
    """The streamed exact search (the level-by-level enumeration) on every space, rests 5 at a time."""
    from loopnest.search import mapper, streamed

    monkeypatch.setattr(mapper, "STREAM_RESTS", 0)
    monkeypatch.setattr(streamed, "REST_CHUNK", 5)


@pytest.mark.parametrize("objective", ["energy", "edp"])
def test_streamed_exact_equals_brute_force_five_levels(objective, streamed):
    layer = fc("f", C=4, M=2, N=1)
    keys, r = found(layer, arch5(), None, objective)
    assert r.mode == "exact" and r.rests_streamed > 0
    assert keys == pytest.approx(brute_force(layer, arch5(), None, objective), rel=1e-12)


def test_streamed_exact_equals_brute_force_five_levels_sliding_window(streamed):
    layer = conv2d("c", C=1, M=2, H=3, W=1, R=2, S=1)
    arch = arch5(multicast=False)
    fixed = parse_constraints([{"level": "GB", "keep": ["inputs", "outputs"]}])
    keys, r = found(layer, arch, fixed)
    assert r.mode == "exact"
    assert keys == pytest.approx(brute_force(layer, arch, fixed), rel=1e-12)


def test_streamed_exact_honours_min_usage_of_an_inner_fanout(streamed):
    """A partial choice holds its unfixed fanout factors at 1: ``min_usage`` must be tested on
    complete choices only (tested on partials, the tree would drop every completion that uses
    the inner fanout fully). Acc's fanout of 2 at min_usage 1: both instances in use."""
    layer = fc("f", C=4, M=2, N=1)
    a = arch5()
    levels = list(a.levels)
    levels[3] = levels[3].model_copy(update={"fanout": levels[3].fanout.model_copy(update={"min_usage": 1.0})})
    a = a.model_copy(update={"levels": tuple(levels)})
    keys, r = found(layer, a)
    assert r.mode == "exact" and r.rests_streamed > 0
    assert r.mapping.levels[3].spatial_x and np.prod(list(r.mapping.levels[3].spatial_x.values())) == 2
    assert keys == pytest.approx(brute_force(layer, a), rel=1e-12)


def _partials_and_leaves(space, tree, keep):
    """Every partial choice the tree prices (factors, depth), and the complete choices."""
    partials = []
    leaves = np.concatenate([c for c, _ in tree.chunks(keep, lambda f, d, alive: partials.append((f, d)) or alive)])
    return partials, leaves


def _completes(tree, f, depth, leaves):
    """(P, R): whether complete choice r completes partial choice p (fixed through ``depth``)."""
    fixed = [s for g in tree.groups[:depth + 1] for s in g]
    return (f[:, None, fixed] == leaves[None, :, fixed]).all(axis=(2, 3))


def _random_deep_cases(n: int, seed: int = 7):
    """Small fc and convolution layers (random sizes, a sliding window in half of the convolutions)
    on the five-level hierarchy with random buffer capacities and multicast; those with at most
    2,000 choices below level 1 (seconds to check)."""
    rng = np.random.default_rng(seed)
    i = 0
    while n:
        i += 1
        a = arch5(multicast=bool(rng.integers(2)))
        levels = list(a.levels)
        for l, cap in ((1, rng.choice([8, 16, 32])), (2, rng.choice([2, 4, 8])), (3, rng.choice([2, 4, 8]))):
            levels[l] = levels[l].model_copy(update={"capacity_words": int(cap)})
        a = a.model_copy(update={"levels": tuple(levels)})
        if i % 2:
            layer = fc("f", C=int(rng.choice([2, 4, 8])), M=int(rng.choice([2, 4])), N=int(rng.choice([1, 2])))
        else:
            r = int(rng.choice([1, 2]))
            layer = conv2d("c", C=int(rng.choice([1, 2])), M=int(rng.choice([2, 4])), H=int(rng.choice([3, 4])) + r - 1, W=1, R=r, S=1)
        if Mapspace(layer, a).rest_count() <= 2000:
            n -= 1
            yield layer, a


@pytest.mark.parametrize(("layer", "arch"), list(_random_deep_cases(6)))
def test_partial_deep_floor_is_below_every_completion(layer, arch):
    """Once the fanouts are fixed, ``deep_floor`` of a partial choice (the temporal factors of
    the levels above the fixed ones at 1) is at most ``deep_floor`` of each of its completions,
    and equal to the least of them on some choice whose levels 2.. are not all fixed (so a floor
    of the partial choices inflated by 1e-6 fails here)."""
    space = Mapspace(layer, arch)
    tree = RestTree(space)
    tight = 0
    for keep in space.keep_configs:
        transfers = deep_transfers(keep)
        if not transfers:
            continue
        partials, leaves = _partials_and_leaves(space, tree, keep)
        leaf = deep_floor(space, transfers, leaves)
        for f, depth in partials:
            if depth < len(tree.fanouts):
                continue
            match = _completes(tree, f, depth, leaves)
            least = np.where(match, leaf[None], np.inf).min(axis=1)
            floor = deep_floor(space, transfers, f)
            assert (floor <= least * (1 + 1e-9)).all()
            if depth < len(tree.groups) - 1:
                tight += int(((floor > 0) & np.isclose(floor, least, rtol=1e-9)).sum())
    assert tight > 0


@pytest.mark.parametrize(("layer", "arch"), [(fc("f", C=4, M=2, N=1), arch5()), (fc("f", C=2, M=4, N=1), arch5(multicast=False))])
def test_partial_floor_is_below_the_model_on_every_completion(layer, arch):
    """Brute force: the MACs' floor plus a partial choice's floor is at most the cost model's
    energy of every mapping whose choices below level 1 complete it, each under every loop order
    of every level (no order classes)."""
    from itertools import permutations, product

    from loopnest.mapping.mapping import MappingBatch
    from loopnest.model import evaluate_batch
    from loopnest.search.bounds import mac_floor

    space = Mapspace(layer, arch)
    tree = RestTree(space)
    active = [i for i, d in enumerate(space.dims) if layer.dims[d] > 1]
    rest_dims = [i for i in range(space.D) if i not in active]
    combos = np.array(list(product([list(p) + rest_dims for p in permutations(active)], repeat=space.L)), np.int64)
    checked = 0
    for keep in space.keep_configs:
        idx = space.tilings(keep)
        if len(idx) == 0:
            continue
        f = space.factors(idx)
        rep = np.repeat(np.arange(len(idx)), len(combos))
        base = space.batch(idx, np.zeros((len(idx), space.L, space.D), np.int64), keep)
        batch = MappingBatch(base.temporal[rep], np.tile(combos, (len(idx), 1, 1)), base.spatial[rep], base.keep[rep])
        c = evaluate_batch(layer, arch, batch)
        energy = np.where(c.valid, c.energy_pj, np.inf).reshape(len(idx), len(combos)).min(axis=1)
        tilings = f[:, space.rest_start:]
        partials, _ = _partials_and_leaves(space, tree, keep)
        for p, depth in partials:
            match = _completes(tree, p, depth, tilings)
            least = np.where(match, energy[None], np.inf).min(axis=1)
            floor = mac_floor(space, keep) + tree.partial_floor(keep, p, depth)
            assert (floor <= least * (1 + 1e-9)).all()
            checked += int(np.isfinite(least).sum())
    assert checked > 0


def test_streamed_exact_equals_brute_force_five_levels_deep_keepers(streamed):
    """Where the partial choices' deep floors prune (weights kept in Reg, outputs in Acc)."""
    layer = fc("f", C=8, M=2, N=1)
    keys, r = found(layer, arch5(multicast=False))
    assert r.mode == "exact" and r.rests_streamed > 0
    assert keys == pytest.approx(brute_force(layer, arch5(multicast=False)), rel=1e-12)
