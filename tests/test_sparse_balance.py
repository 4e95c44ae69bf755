"""Load imbalance and worst-case capacity of sparse work (docs/sparsity.md, "Load balance" and
"Capacity"): the expected slowest of N instances, and the occupancy a compressed tile reserves."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from test_search import arch3

from loopnest.arch.spec import Architecture, ComputeSparse, Fanout, Storage, StorageSparse
from loopnest.mapping.mapping import MappingBatch
from loopnest.model import evaluate_batch
from loopnest.workload.density import Density, _max_of_normals, expected_max_binomial, with_densities
from loopnest.workload.layers import fc


def binom_pmf(n: int, p: float) -> list[float]:
    return [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]


def test_expected_max_of_two_binomials_by_hand():
    # Binomial(2, 1/2): P(0, 1, 2) = 1/4, 1/2, 1/4. The max of two is 0 with 1/16, at most 1 with
    # (3/4)^2 = 9/16, so P(max = 1) = 8/16, P(max = 2) = 7/16: E = 8/16 + 2 x 7/16 = 22/16.
    assert expected_max_binomial(2, 0.5, 2) == pytest.approx(22 / 16, rel=1e-12)
    # one instance, or no zeros: the mean
    assert expected_max_binomial(1000, 0.3, 1) == pytest.approx(300.0)
    assert expected_max_binomial(7, 1.0, 64) == 7.0 and expected_max_binomial(7, 0.0, 64) == 0.0


@pytest.mark.parametrize("n, p, instances", [(5, 0.3, 3), (4, 0.75, 2), (3, 0.1, 4)])
def test_expected_max_by_enumeration(n, p, instances):
    # every joint outcome of the instances, weighted by its probability
    pmf = binom_pmf(n, p)
    exact = sum(math.prod(pmf[k] for k in ks) * max(ks) for ks in product(range(n + 1), repeat=instances))
    assert expected_max_binomial(n, p, instances) == pytest.approx(exact, rel=1e-12)


def exact_by_full_sum(n: int, p: float, N: int) -> float:
    """The sum over every k of 1 - F(k)^N (no window) from the pmf."""
    log_pmf = [math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p)
               + (n - k) * math.log(1 - p) for k in range(n + 1)]
    cdf = np.cumsum(np.exp(log_pmf))
    return float(np.sum(1.0 - np.minimum(cdf[:-1], 1.0) ** N))


def test_expected_max_window_on_a_large_binomial():
    # n = 3000, sd 26.8: the exact sum over the window
    exact = exact_by_full_sum(3000, 0.4, 16)
    assert expected_max_binomial(3000, 0.4, 16) == pytest.approx(exact, rel=1e-9)
    assert exact > 3000 * 0.4  # the slowest of 16 is slower than the mean


@pytest.mark.parametrize("n, p, N", [(10000, 0.5, 64), (30000, 0.14, 2), (12000, 0.3, 1024)])
def test_expected_max_normal_approximation_from_sd_50(n, p, N):
    # sd >= 50 (n p (1 - p) >= 2,500): the normal approximation with its skewness term, within 1e-4
    # of the full sum; the largest of 2 standard normals has mean 1 / sqrt(pi) and E[Zmax^2] = 1
    assert math.sqrt(n * p * (1 - p)) >= 50
    assert expected_max_binomial(n, p, N) == pytest.approx(exact_by_full_sum(n, p, N), rel=1e-4)
    assert _max_of_normals(2) == pytest.approx((1 / math.sqrt(math.pi), 1.0), rel=1e-9)


def two_pe_arch(load_balance: str = "expected_max") -> Architecture:
    """``arch3`` with 2 PEs under the Buffer, MACs skipped on zero weights."""
    a = arch3(Fanout(x=2, y=1, energy_pj=0.3), cap=64, rf_cap=64)
    return a.model_copy(update={"compute": a.compute.model_copy(
        update={"sparse": ComputeSparse(skipping=("weights",), load_balance=load_balance)})})


def one_mapping(temporal: list[list[int]], spatial_m: int, rf_keeps: tuple[bool, ...] = (True, True, True)) -> MappingBatch:
    """fc dims (N, M, C): temporal factors per level (DRAM, Buffer, RF), M split over the Buffer's
    fanout; every level keeps every tensor but the RF (``rf_keeps``: inputs, weights, outputs)."""
    t = np.array([temporal], np.int64)
    sp = np.ones((1, 3, 2, 3), np.int64)
    sp[0, 1, 0, 1] = spatial_m
    keep = np.ones((1, 3, 3), bool)
    keep[0, 2] = rf_keeps
    return MappingBatch(t, np.tile(np.arange(3), (1, 3, 1)), sp, keep)


def test_cycles_wait_for_the_slowest_pe_by_hand():
    # fc C=2, M=2: each of 2 PEs owns one output channel (M spatial) and does C=2 MACs, each kept
    # with the weight density 1/2. One fold (C at the RF): a PE's work is Binomial(2, 1/2), the
    # slowest of two takes 22/16 = 1.375 cycles (ideal: 2 x 1/2 = 1). C at DRAM instead: two folds
    # of one MAC each, the slowest of two Bernoulli(1/2) is 1 - 1/4 = 3/4 per fold: 1.5 cycles.
    layer = with_densities(fc("f", C=2, M=2, N=1), {"weights": Density.uniform(0.5)})
    inner, outer = one_mapping([[1, 1, 1], [1, 1, 1], [1, 1, 2]], 2), one_mapping([[1, 1, 2], [1, 1, 1], [1, 1, 1]], 2)
    assert evaluate_batch(layer, two_pe_arch(), inner).cycles[0] == pytest.approx(1.375, rel=1e-12)
    assert evaluate_batch(layer, two_pe_arch(), outer).cycles[0] == pytest.approx(1.5, rel=1e-12)
    for m in (inner, outer):  # ideal, the default: perfect balance
        assert evaluate_batch(layer, two_pe_arch("ideal"), m).cycles[0] == pytest.approx(1.0, rel=1e-12)
    # one PE in use (M temporal): nothing to wait for
    alone = one_mapping([[1, 1, 1], [1, 1, 1], [1, 2, 2]], 1)
    assert evaluate_batch(layer, two_pe_arch(), alone).cycles[0] == pytest.approx(2.0, rel=1e-12)
    assert ComputeSparse().load_balance == "ideal"


def test_balance_level_must_have_a_fanout():
    a = two_pe_arch()
    bad = a.compute.sparse.model_copy(update={"balance_level": "RF"})
    with pytest.raises(ValueError, match="balance_level: 'RF' is no level with a fanout; levels with a fanout are Buffer"):
        Architecture.model_validate(a.model_dump(by_alias=True) | {"compute": a.compute.model_copy(update={"sparse": bad}).model_dump()})


def test_occupancy_bounds_by_hand():
    # a tile of 4 from a tensor of 8 with 4 nonzeros: hypergeometric P(k) = C(4,k) C(4,4-k) / 70
    # = 1, 16, 36, 16, 1 (/70); CDF 1, 17, 53, 69, 70 (/70): the 0.9 quantile is 3, the 0.99 one 4
    d = Density.uniform(0.5)
    assert d.occupancy_bound(np.array([4]), 8, "expected").tolist() == [2]
    assert d.occupancy_bound(np.array([4]), 8, "quantile", 0.9).tolist() == [3]
    assert d.occupancy_bound(np.array([4]), 8, "quantile", 0.99).tolist() == [4]
    assert d.occupancy_bound(np.array([4, 6, 8]), 8, "worst").tolist() == [4, 4, 4]  # at most the tensor's 4
    # N:M and fixed are deterministic: N per started block, ceil(t d)
    assert Density.structured(2, 4).occupancy_bound(np.array([4, 6]), 8, "quantile").tolist() == [2, 4]
    assert Density.fixed(0.25).occupancy_bound(np.array([6]), 8, "worst").tolist() == [2]


@pytest.mark.parametrize("rule, cap, fits", [("expected", 3, True), ("quantile", 3, False), ("quantile", 4, True),
                                             ("worst", 4, False), ("worst", 5, True)])
def test_capacity_reserves_the_stated_occupancy(rule, cap, fits):
    # fc C=8 at weight density 1/2 (4 nonzeros), a 4-weight tile in an RF keeping weights in cp
    # with 4-bit coordinates in 16-bit words: data 2 (expected) | 3 (0.9 quantile) | 4 (worst)
    # plus ceil(entries x 4 / 16) = 1 metadata word: 3 | 4 | 5 words
    a = arch3(cap=64)
    rf = Storage(name="RF", capacity_words=cap, keeps=("weights",), energy_pj=a.levels[2].energy_pj,
                 sparse=StorageSparse(formats={"weights": "cp"}, occupancy=rule, occupancy_quantile=0.9))
    a = a.model_copy(update={"levels": (*a.levels[:2], rf)})
    layer = with_densities(fc("f", C=8, M=1, N=1), {"weights": Density.uniform(0.5)})
    m = one_mapping([[1, 1, 2], [1, 1, 1], [1, 1, 4]], 1, rf_keeps=(False, True, False))
    assert bool(evaluate_batch(layer, a, m).capacity_ok[0, 2]) is fits


@pytest.mark.parametrize("field, value, words", [
    ("load_balance", "worst", ["compute.sparse.load_balance", "'ideal' or 'expected_max'"]),
    ("balance_level", "RF", ["compute.sparse.balance_level: 'RF' is no level with a fanout", "are Buf"]),
])
def test_bad_load_balance_is_one_line(tmp_path, field, value, words):
    from test_arch_errors import load_bad

    def mutate(d):
        d["compute"]["sparse"] = {"skipping": ["inputs"], "load_balance": "expected_max", field: value}
    message = load_bad(tmp_path, mutate)
    assert "\n" not in message and all(w in message for w in words), message


def test_bad_occupancy_quantile_is_one_line(tmp_path):
    from test_arch_errors import load_bad

    def mutate(d):
        d["levels"][1]["sparse"] = {"formats": {"inputs": "cp"}, "occupancy": "quantile", "occupancy_quantile": 1.5}
    message = load_bad(tmp_path, mutate)
    assert "\n" not in message and "sparse.occupancy_quantile: Input should be less than 1" in message, message
