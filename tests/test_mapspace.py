"""Mapspace, constraints and dataflow presets: counts and classes derived by hand."""

from __future__ import annotations

import math
import signal

import numpy as np
import pytest

from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.constraints import ConstraintError, FactorRule, parse_constraints
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.mapping.factors import (
    MapspaceError,
    divisors,
    factorizations,
    prime_factors,
    split_bound,
    split_count,
)
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate_batch
from loopnest.search.mapper import search_layer
from loopnest.workload.layers import conv2d, fc

E = {"read": 1.0, "write": 1.0, "update": 1.0}


FAN = Fanout(x=2, y=2)


def small_arch(cap: int = 64, fan: Fanout | None = FAN, partitions=None, keeps=None) -> Architecture:
    """DRAM -> Buffer (fanout) -> RF, unit energies."""
    rf = {"partitions": partitions} if partitions else {"capacity_words": 8}
    return Architecture(name="small", levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=E),
        Storage(name="Buffer", capacity_words=cap, energy_pj=E, fanout=fan, **({"keeps": keeps} if keeps else {})),
        Storage(name="RF", energy_pj=E, **rf),
    ), compute=Compute(energy_pj=1.0))


def test_factorizations_count_ordered_factorizations():
    # ordered factorizations of 12 = 2^2 * 3 into 3 factors: C(2+2, 2) * C(1+2, 2) = 6 * 3 = 18
    assert len(factorizations(12, [(1, 12)] * 3)) == 18
    # bounds: the last factor at most 2 leaves 1 or 2 there: C(2+1,1)*C(1+1,1) + C(1+1,1)*C(1+1,1) = 6 + 4 = 10
    got = factorizations(12, [(1, 12), (1, 12), (1, 2)])
    assert len(got) == 10 and (got.prod(axis=1) == 12).all() and (got[:, 2] <= 2).all()
    # an exact middle factor of 5 cannot divide 12
    assert len(factorizations(12, [(1, 12), (5, 5), (1, 12)])) == 0


def test_tiling_count_without_pruning():
    # fc N=1, M=4, C=2 on DRAM -> Buffer (no fanout) -> RF: 3 slots per dim;
    # M=4: C(2+2, 2) = 6 splits, C=2: 3 splits, N=1: 1 -> 18 tilings before pruning
    p = fc("f", C=2, M=4)
    space = Mapspace(p, small_arch(fan=None))
    assert [len(o) for o in space.options] == [1, 6, 3]
    assert len(space.tilings(space.keep_configs[-1], prune=False)) == 18


def test_keep_configs_are_all_bypass_choices():
    # Buffer and RF may each keep any subset of 3 tensors: 2^3 * 2^3 = 64; DRAM keeps all
    space = Mapspace(fc("f", C=2, M=2), small_arch())
    assert len(space.keep_configs) == 64 and space.keep_configs[:, 0].all()
    fixed = parse_constraints([{"level": "RF", "keep": ["weights"]}])
    assert len(Mapspace(fc("f", C=2, M=2), small_arch(), fixed).keep_configs) == 8


def test_pruning_is_exact_against_the_model():
    """Every pruned-in tiling fits and every pruned-out one does not (the model decides)."""
    p = conv2d("c", C=4, M=4, H=6, W=3, R=3, S=1)
    arch = small_arch(cap=40)
    space = Mapspace(p, arch)
    keep = space.keep_configs[-1]
    every = space.tilings(keep, prune=False)
    kept = {tuple(r) for r in space.tilings(keep)}
    batch = space.batch(every, np.tile(np.arange(space.D), (len(every), space.L, 1)), keep)
    valid = evaluate_batch(p, arch, batch).valid
    assert {tuple(r) for r, v in zip(every, valid) if v} == kept
    assert 0 < len(kept) < len(every)


def test_order_classes_by_hand():
    p = conv2d("c", C=4, M=4, H=6, W=6, R=3)
    space = Mapspace(p, small_arch())
    dims = space.dims
    act = lambda *names: tuple(d in names for d in dims)
    keep_all = np.ones((3, 3), bool)
    # M, C at the buffer: order MC keeps the weight's innermost relevant loop C, CM makes it M:
    # the weights see different reuse, so both orders stay
    assert len(space.order_classes(1, act("M", "C"), keep_all)) == 2
    # only weights kept below: every order with M outermost reuses the weight across P and Q;
    # those with P or Q outside M reuse less and are dominated -> one class, M outermost
    w_only = np.array([[1, 1, 1], [0, 0, 0], [0, 1, 0]], bool)
    cls = space.order_classes(0, act("M", "P", "Q"), w_only)
    assert len(cls) == 1 and dims[cls[0][0]] == "M"
    # nothing kept below the innermost level: one order
    assert len(space.order_classes(2, act("M", "C", "P"), keep_all)) == 1
    # a partial order (Q above P) removes the orders with P above Q
    c = parse_constraints([{"level": "Buffer", "order": ["Q", "P"]}])
    for perm in Mapspace(p, small_arch(), c).order_classes(1, act("P", "Q"), keep_all):
        names = [dims[i] for i in perm]
        assert names.index("Q") < names.index("P")


def test_constraint_rules_and_errors():
    assert FactorRule.parse("<=4", "x").bounds(16) == (1, 4)
    assert FactorRule.parse(">=2", "x").bounds(16) == (2, 16)
    assert FactorRule.parse("all", "x").bounds(7) == (7, 7)
    assert FactorRule.parse(3, "x").bounds(9) == (3, 3)
    with pytest.raises(ConstraintError, match="level RF.temporal.C"):
        parse_constraints([{"level": "RF", "temporal": {"C": "lots"}}])
    with pytest.raises(ConstraintError, match="unknown key"):
        parse_constraints([{"level": "RF", "tempo": {}}])
    with pytest.raises(ConstraintError, match="keep"):
        parse_constraints([{"level": "RF", "keep": ["psums"]}])
    with pytest.raises(ConstraintError, match="unknown level"):
        Mapspace(fc("f", C=2, M=2), small_arch(), parse_constraints([{"level": "L9"}]))
    with pytest.raises(ConstraintError, match="may not keep"):
        Mapspace(fc("f", C=2, M=2), small_arch(keeps=["inputs"]), parse_constraints([{"level": "Buffer", "keep": ["weights"]}]))


def test_spatial_constraint_limits_axes_and_fanout():
    p = fc("f", C=4, M=4, N=2)
    c = parse_constraints([{"level": "Buffer", "spatial": {"x": {"M": "*"}, "y": {}}}])
    space = Mapspace(p, small_arch(fan=Fanout(x=2, y=4)), c)
    f = space.factors(space.tilings(space.keep_configs[-1]))
    x_slot, y_slot = space.slots.index((1, 1)), space.slots.index((1, 2))
    m = space.dims.index("M")
    assert (f[:, y_slot] == 1).all()  # nothing on Y
    assert set(f[:, x_slot, m]) == {1, 2}  # M on X, at most the fanout's 2
    assert (np.delete(f[:, x_slot], m, axis=1) == 1).all()


def test_dataflow_presets():
    p = conv2d("c", C=4, M=8, H=8, W=8, R=3)
    arch = small_arch(fan=Fanout(x=4, y=4))
    ws = dataflow_constraints("ws", p, arch)
    assert set(ws.at("Buffer").spatial_x) == {"G", "M", "C", "R", "S"}  # dims that index weights
    assert all(ws.at("RF").temporal[d].bounds(8) == (1, 1) for d in ("M", "C", "R", "S"))
    os_ = dataflow_constraints("os", p, arch)
    assert set(os_.at("Buffer").spatial_y) == {"N", "G", "M", "P", "Q"}
    assert dataflow_constraints("nlr", p, arch).at("RF").keep == frozenset()
    rs = dataflow_constraints("rs", p, arch)
    assert rs.at("Buffer").spatial_y["R"].full and rs.at("RF").temporal["S"].full
    assert rs.at("RF").temporal["P"].bounds(8) == (1, 1)
    with pytest.raises(ConstraintError, match="valid dataflows: ws"):
        dataflow_constraints("xs", p, arch)


def test_pe_array_is_the_largest_fanout_with_pe_storage_below():
    from loopnest.arch import load_arch
    from loopnest.mapping.dataflows import pe_array

    # edge-npu: 4 x 8 PEs (SharedBuffer fanout) each with a PEBuffer and an 8 x 8 MAC unit; the
    # larger MAC fanout has no storage below it, so the PE array is the 32-PE mesh
    assert pe_array(load_arch("edge-npu")) == 1
    assert pe_array(load_arch("eyeriss")) == 1 and pe_array(load_arch("tpu-v1")) == 3  # the accumulators, below the weight FIFO
    p = conv2d("c", C=4, M=8, H=6, W=6, R=3)
    ws = dataflow_constraints("ws", p, load_arch("edge-npu"))
    assert "PEBuffer" in {lc for lc in ws.levels} and "SharedBuffer" in {lc for lc in ws.levels}


# ----- divisors by factorization, and the mapspace size bound (fuzz finding: a dimension of 1e9
# searched for over 300 s because divisors were found by trial division up to n) -----------------

def _is_prime_by_trial(n: int) -> bool:
    return n > 1 and all(n % k for k in range(2, math.isqrt(n) + 1))


def test_prime_factors_of_known_numbers():
    # 2^32 + 1 = 641 x 6700417 (Euler, 1732); 2^61 - 1 is prime (Pervushin, 1883);
    # 1e9 = 2^9 x 5^9; 600851475143 = 71 x 839 x 1471 x 6857 (Project Euler, problem 3)
    assert prime_factors(2**32 + 1) == ((641, 1), (6700417, 1))
    assert prime_factors(10**9) == ((2, 9), (5, 9))
    assert prime_factors(600851475143) == ((71, 1), (839, 1), (1471, 1), (6857, 1))
    assert prime_factors(1) == ()
    with _alarm(60):  # trial division up to n (the old divisors) never returns here
        assert divisors(2**61 - 1) == (1, 2**61 - 1)
        # two 31-bit primes (checked by trial division to their square roots): Pollard's rho splits them
        p, q = 2147483647, 2147483629
        assert _is_prime_by_trial(p) and _is_prime_by_trial(q)
        assert prime_factors(p * q) == ((q, 1), (p, 1))
        assert len(divisors(10**9)) == 10 * 10  # (9 + 1) choices of each prime's exponent


def test_divisors_match_trial_division():
    for n in range(1, 600):
        assert divisors(n) == tuple(k for k in range(1, n + 1) if n % k == 0)


def test_split_bound_counts_what_factorizations_lists():
    # stars and bars: 12 = 2^2 x 3 into 3 unbounded factors: C(4, 2) x C(3, 2) = 18 (as above);
    # with bounds the count must equal the listing, drawn at random against it
    assert split_count(12, 3) == 18 and split_bound(12, [(1, 12)] * 3) == 18
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 3000))
        bounds = [(int(rng.choice([1, 1, 2, 3])), int(rng.choice([n, n, 1, 4, 12]))) for _ in range(int(rng.integers(1, 5)))]
        assert split_bound(n, bounds, work=10**9) == len(factorizations(n, bounds)), (n, bounds)
        assert split_bound(n, bounds, work=1) >= len(factorizations(n, bounds))  # the cheap form is an upper bound


def test_astronomical_mapspace_is_refused_with_its_count():
    # n = 2^20 x 3^10 x 5^5 x 7^3 over 5 unbounded slots: C(24,4) x C(14,4) x C(9,4) x C(7,4)
    # = 10626 x 1001 x 126 x 35 = 46,908,170,460 ways (stars and bars). On small_arch the two
    # fanout slots take 1 or 2, the 3 temporal slots split the rest n / (x y):
    # (1,1): C(22,2) C(12,2) C(7,2) C(5,2) = 231 x 66 x 21 x 10 = 3,201,660; (2,1) and (1,2): 2^19
    # gives C(21,2) = 210 for 2, so 2,910,600 each; (2,2): C(20,2) = 190, 2,633,400.
    # Total 11,656,260 > MAX_SPLITS (2e6): refused at once, with the count.
    n = 2**20 * 3**10 * 5**5 * 7**3
    assert split_count(n, 5) == 10626 * 1001 * 126 * 35
    assert split_bound(n, [(1, n), (1, n), (1, 2), (1, 2), (1, n)]) == 3_201_660 + 2 * 2_910_600 + 2_633_400
    with _alarm(60), pytest.raises(MapspaceError, match=r"C=66367674777600000 has 1\.17e\+07 ways to split over its 5 loop slots"):
        Mapspace(fc("f", C=n, M=1), small_arch())
    with pytest.raises(MapspaceError, match="64-bit range"):
        factorizations(2**63, [(1, 2**63)], "C=2^63")


def test_a_dimension_of_1e9_maps_quickly():
    # fuzz finding: 1e9 = 2^9 x 5^9 has 100 divisors; over the 5 slots of small_arch its splits
    # are at most C(13,4)^2 = 511,225 (stars and bars), few once the 2x2 fanout bounds apply
    with _alarm(120):
        s = search_layer(fc("f", C=10**9, M=1), small_arch(), mode="exact")
    assert s.result is not None and s.result.macs == 10**9


def test_a_size_with_many_divisors_on_two_slots():
    # 897612484786617600 = 2^8 3^4 5^2 7^2 11 13 17 19 23 29 31 37 has (8+1)(4+1)(2+1)(2+1) 2^8
    # = 103,680 divisors; over DRAM -> Buffer (2 temporal slots) it splits 103,680 ways, under
    # MAX_SPLITS, so it is searched: the search's divisibility test must not build a
    # 103,680^2 table (80 GiB) for it
    n = 897612484786617600
    assert len(divisors(n)) == 103_680
    arch = small_arch(fan=None)
    arch = arch.model_copy(update={"levels": arch.levels[:2]})
    with _alarm(120):
        s = search_layer(fc("f", C=n, M=1), arch, mode="exact")
    assert s.result is not None and s.result.macs == n


class _alarm:
    """Fail (instead of hanging) where the old code never returned: a guard, not a speed target."""

    def __init__(self, seconds: int):
        self.seconds = seconds

    def __enter__(self):
        def fire(*_):
            raise TimeoutError(f"no answer within {self.seconds} s")

        self.old = signal.signal(signal.SIGALRM, fire)
        signal.alarm(self.seconds)

    def __exit__(self, *exc):
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.old)


def test_rest_chunks_stream_every_fitting_rest_in_order():
    """The streamed rests (depth first, a few rows at a time) are the fitting rows of the whole
    product of the per-dimension choices, in its lexicographic order: what ``rests`` lists."""
    from itertools import product

    p = conv2d("c", C=4, M=8, H=6, W=6, R=3)
    arch = small_arch(cap=64)
    space = Mapspace(p, arch)
    keep = space.keep_configs[-1]
    projs = space._rest_projections()
    every = np.array([np.stack(rows, axis=1) for rows in product(*projs)])  # (K, S_rest, D)
    slots = space.slots[space.rest_start:]
    fitting = every[space._fits(every, slots, keep, None)]
    chunks = list(space.rest_chunks(keep, chunk=7))
    assert 0 < len(fitting) < len(every)
    assert all(len(c) >= 7 for c in chunks[:-1]) and len(chunks) > 10
    assert np.array_equal(np.concatenate(chunks), fitting)
    assert np.array_equal(Mapspace(p, arch).rests(keep), fitting)
