"""The mapspace with remainder tiles (``Mapspace(imperfect=True)``: ceil splits at the fanouts,
costed exactly by model/clipped.py): the splits follow mapping.py's rule, the capacity pruning
stays exact against the model (a level's tile is its box clipped at the sizes), and over the whole
mapspace (brute force: every tiling, loop order and bypass choice) the remainder optimum is never
above the exact-split one, and below it where a dimension does not divide the array."""

from __future__ import annotations

import numpy as np
from test_search import arch3, brute_force

from loopnest.arch.spec import Fanout
from loopnest.mapping.factors import ceil_factorizations
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate_batch
from loopnest.workload.layers import conv2d, fc


def test_ceil_splits_follow_the_rule():
    # 13 over (temporal, fanout of 7, temporal): the perfect splits (13 at one temporal slot) and
    # the fanout ones padding 13 by less than one iteration of the outermost loop: x = 7 leaves
    # ceil(13 / 7) = 2 inside (14, padded by 1 < 2), x = 5 leaves 3 (15: 2 < 3), x = 2 leaves 7
    # (14: 1 < 7), x = 4 leaves 4 (16: 3 < 4), x = 3 leaves 5 (15: 2 < 5); x = 6 leaves 3 (18:
    # padded by 5, more than one column's 3: the sixth column would idle) is refused. The outer
    # temporal slot takes divisors only (13 is prime: no 2 x 7).
    rows = {tuple(r) for r in ceil_factorizations(13, [(1, 13), (1, 7), (1, 13)], [False, True, False]).tolist()}
    assert rows == {(13, 1, 1), (1, 1, 13), (1, 7, 2), (1, 5, 3), (1, 2, 7), (1, 4, 4), (1, 3, 5)}


def test_pruning_with_remainders_is_exact_against_the_model():
    p = conv2d("c", C=3, M=5, H=5, W=1, R=3, S=1)  # P = 3
    arch = arch3(Fanout(x=2, y=2, energy_pj=0.3, reduction=True), cap=14, rf_cap=5)
    space = Mapspace(p, arch, imperfect=True)
    keep = space.keep_configs[-1]
    every = space.tilings(keep, prune=False)
    kept = {tuple(r) for r in space.tilings(keep)}
    batch = space.batch(every, np.tile(np.arange(space.D), (len(every), space.L, 1)), keep)
    valid = evaluate_batch(p, arch, batch).valid
    assert {tuple(r) for r, v in zip(every, valid) if v} == kept
    assert 0 < len(kept) < len(every)
    assert len(every) > len(Mapspace(p, arch).tilings(keep, prune=False))


def test_the_remainder_optimum_is_never_above_the_exact_split_one():
    arch = arch3(Fanout(x=2, y=2, energy_pj=0.3, reduction=True), cap=16, rf_cap=6)
    for p in (fc("f", C=3, M=5, N=1), conv2d("c", C=1, M=3, H=5, W=1, R=3, S=1)):
        for objective in ("energy", "cycles"):
            assert brute_force(p, arch, objective=objective, imperfect=True) <= brute_force(p, arch, objective=objective)
    # strictly below where the array would idle: M = 5 and C = 3 on 2 x 2 PEs (a reducing fanout)
    # take 15 MAC steps on one PE split exactly (5 and 3 are primes: 2 x 2 fits neither); with
    # remainders C spreads over x 2 and y 2 (4, padded by 1 < 2: 3 PEs busy, reduced) and M's 5
    # steps remain: 5, the least with 15 MACs on 3 PEs
    p = fc("f", C=3, M=5, N=1)
    assert brute_force(p, arch, objective="cycles") == (15.0,)
    assert brute_force(p, arch, objective="cycles", imperfect=True) == (5.0,)
