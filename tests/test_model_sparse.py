"""The sparse cost model (model/sparse.py): density 1 gives the dense counts exactly on presets
and layers, costs never rise when a density falls, an element-by-element simulation of random
sparse tensors matches the expected counts, and the exact mapper still finds the best mapping."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from test_search import arch3, brute_force, found

from loopnest.arch import load_arch
from loopnest.arch.spec import Architecture, Compute, ComputeSparse, Fanout, Storage, StorageSparse
from loopnest.mapping.constraints import parse_constraints
from loopnest.mapping.mapping import LevelMapping, Mapping, MappingBatch, MappingError
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate, evaluate_batch
from loopnest.workload.density import Density, with_densities
from loopnest.workload.layers import conv2d, fc
from loopnest.workload.problem import ROLES, Problem, Tensor


def sample(problem, arch, n=600, seed=0) -> MappingBatch:
    """About n random mappings of the mapspace (four keep choices, random tilings drawn per
    dimension, those that fit first, random loop orders); enumerating the tilings of a preset is
    too slow for a unit test."""
    space = Mapspace(problem, arch)
    rng = np.random.default_rng(seed)
    parts = []
    for keep in space.keep_configs[:4]:
        idx = np.stack([rng.integers(len(o), size=8 * n) for o in space.options], axis=1)
        idx = idx[np.argsort(~space.fits(idx, keep), kind="stable")[:n // 4 + 1]]
        b = space.batch(idx, np.zeros((len(idx), space.L, space.D), np.int64), keep)
        perm = np.argsort(rng.random((len(idx), space.L, space.D)), axis=2)
        parts.append(MappingBatch(b.temporal, perm, b.spatial, b.keep))
    return MappingBatch(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("temporal", "perm", "spatial", "keep")))


def with_features(arch: Architecture, fmt: str = "uncompressed") -> Architecture:
    """``arch`` with every sparse feature switched on: each level gates (or skips) each tensor it
    keeps on the other two and holds them in ``fmt``; the MACs gate on inputs and skip on weights."""
    levels = []
    for i, lv in enumerate(arch.levels):
        acts = [{"target": r, "condition_on": [s for s in ROLES if s != r]} for r in lv.keeps]
        kind = "gating" if i % 2 else "skipping"
        sp = StorageSparse(formats=dict.fromkeys(lv.keeps, fmt), metadata_bits=min(4, lv.word_bits), **{kind: acts})
        levels.append(lv.model_copy(update={"sparse": sp}))
    compute = arch.compute.model_copy(update={"sparse": ComputeSparse(gating=("inputs",), skipping=("weights",))})
    return arch.model_copy(update={"levels": tuple(levels), "compute": compute})


LAYERS = [conv2d("c", C=8, M=16, H=10, W=10, R=3, S=3), fc("f", C=64, M=32, N=2),
          conv2d("dw", C=8, M=8, H=9, W=9, R=3, S=3, groups=8)]


@pytest.mark.parametrize("preset", ["eyeriss", "simple-ws", "simple-os", "simba-like", "tpu-v1", "shidiannao-like"])
@pytest.mark.parametrize("layer", LAYERS, ids=lambda p: p.name)
def test_density_one_gives_the_dense_counts_exactly(preset, layer):
    """Every gating and skipping feature on, every tensor at density 1: the actual counts, the
    energies, cycles and validity are the dense model's, to the last bit."""
    arch = load_arch(preset)
    batch = sample(layer, arch)
    dense = evaluate_batch(layer, arch, batch)
    assert dense.sparse is None
    sparse = evaluate_batch(with_densities(layer, dict.fromkeys(ROLES, Density.uniform(1.0))), with_features(arch), batch)
    c = dense.counts
    for k, name in enumerate(("reads", "fills", "updates")):
        assert np.array_equal(sparse.sparse.actual[..., k], getattr(c, name))
    assert not sparse.sparse.gated.any() and not sparse.sparse.skipped.any() and not sparse.sparse.metadata.any()
    assert np.array_equal(sparse.energy_pj, dense.energy_pj)
    assert np.array_equal(sparse.cycles, dense.cycles) and np.array_equal(sparse.valid, dense.valid)
    # compressed formats at density 1: the same data counts; metadata comes on top
    cp = evaluate_batch(layer, with_features(arch, "cp"), batch)
    for k, name in enumerate(("reads", "fills", "updates")):
        assert np.array_equal(cp.sparse.actual[..., k], getattr(c, name))
    assert (cp.energy_pj >= dense.energy_pj).all()


@pytest.mark.parametrize("fmt", ["uncompressed", "bitmask", "rle", "cp", "uop"])
@pytest.mark.parametrize("kind", ["uniform", "structured"])
def test_costs_never_rise_when_a_density_falls(fmt, kind):
    layer = conv2d("c", C=8, M=16, H=10, W=10, R=3, S=3)
    arch = with_features(load_arch("eyeriss"), fmt)
    batch = sample(layer, arch, n=400)
    make = Density.uniform if kind == "uniform" else (lambda d: Density.structured(round(d * 8), 8))
    prev, last = None, 1.0
    for d in (1.0, 0.875, 0.5, 0.25, 0.125):
        for w in (last, d):  # lower the inputs' density, then the weights' to the same
            costs = evaluate_batch(with_densities(layer, {"inputs": make(d), "weights": make(w)}), arch, batch)
            if prev is not None:
                assert (costs.energy_pj <= prev.energy_pj * (1 + 1e-12)).all()
                assert (costs.cycles <= prev.cycles * (1 + 1e-12)).all()
                assert (costs.valid >= prev.valid).all()  # compressed tiles only shrink
            prev = costs
        last = d


def matvec(bits: int = 8) -> Problem:
    """O[m] += W[m, k] * I[k], M = 4, K = 16, ``bits``-bit values."""
    return Problem("mv", "fc", {"M": 4, "K": 16}, (
        Tensor("I", "inputs", ({"K": 1},), bits), Tensor("W", "weights", ({"M": 1}, {"K": 1}), bits),
        Tensor("O", "outputs", ({"M": 1},), bits)))


def test_brute_force_random_tensors_match_the_expected_counts():
    """DRAM: for k1 in [0:4); Buffer: for k0 in [0:4), for m in [0:4) (k = 4 k1 + k0); MAC.
    DRAM gates W's transfer into the Buffer on I's Buffer tile (4 values) holding a nonzero; the
    Buffer skips W reads and O updates where I[k] = 0; the MAC skips with them.
    Simulated element by element over 4,000 draws of I with 4 nonzeros of 16 at random places
    (the hypergeometric model), the mean of each count is within 5 standard errors of the model's
    expected value (a false alarm about once in 3.5 million runs; seeded, so deterministic)."""
    rng = np.random.default_rng(7)
    draws = 4000
    fills, reads, updates, out_reads, macs = (np.zeros(draws) for _ in range(5))
    for n in range(draws):
        x = np.zeros(16, bool)
        x[rng.choice(16, 4, replace=False)] = True
        written = set()
        for k1 in range(4):
            if x[4 * k1:4 * k1 + 4].any():
                fills[n] += 16  # the W tile: 4 m x 4 k
            for k0 in range(4):
                for m in range(4):
                    if x[4 * k1 + k0]:
                        reads[n] += 1
                        macs[n] += 1
                        updates[n] += 1
                        out_reads[n] += m in written  # read-modify-write but the first write
                        written.add(m)
    arch = Architecture(name="t", levels=(
        Storage(name="DRAM", **{"class": "dram"}, word_bits=8, energy_pj={"read": 1, "write": 1, "update": 1},
                sparse={"gating": [{"target": "weights", "condition_on": ["inputs"]}]}),
        Storage(name="Buffer", capacity_words=1024, word_bits=8, energy_pj={"read": 1, "write": 1, "update": 1},
                sparse={"skipping": [{"target": "weights", "condition_on": ["inputs"]},
                                     {"target": "outputs", "condition_on": ["inputs"]}]})),
        compute=Compute(operand_bits=8, energy_pj=1.0, sparse={"skipping": ["inputs"]}))
    m = Mapping((LevelMapping({"K": 4}, ()), LevelMapping({"K": 4, "M": 4}, ("K", "M"))))
    r = evaluate(with_densities(matvec(), {"inputs": Density.uniform(0.25)}), arch, m)
    sp = r.costs.sparse
    expected = {"W fills": (fills, sp.actual[0, 1, 1, 1]), "W reads": (reads, sp.actual[0, 1, 1, 0]),
                "O updates": (updates, sp.actual[0, 1, 2, 2]), "O reads": (out_reads, sp.actual[0, 1, 2, 0]),
                "MACs": (macs, sp.actual_macs)}
    # by hand: 64 W values fetched, the Buffer tile of I empty with C(12,4)/C(16,4); 64 reads at 1/4
    assert expected["W fills"][1] == pytest.approx(64 * (1 - comb(12, 4) / comb(16, 4)), rel=1e-12)
    assert expected["W reads"][1] == 16 and expected["MACs"][1] == 16 and expected["O reads"][1] == 12
    for name, (sim, model) in expected.items():
        err = sim.std(ddof=1) / np.sqrt(draws)
        assert abs(sim.mean() - model) <= 5 * err + 1e-9, name


def tiny_sparse(cap: int = 12) -> Architecture:
    base = arch3(Fanout(x=2, y=1, energy_pj=0.3), cap=cap)
    lv = base.levels
    buf = lv[1].model_copy(update={"sparse": StorageSparse(formats={"inputs": "cp"}, metadata_bits=4,
                                                           skipping=({"target": "weights", "condition_on": ("inputs",)},))})
    rf = lv[2].model_copy(update={"sparse": StorageSparse(gating=({"target": "outputs", "condition_on": ("weights",)},))})
    return base.model_copy(update={"levels": (lv[0], buf, rf), "compute": Compute(energy_pj=0.5, sparse={"skipping": ["inputs"]})})


@pytest.mark.parametrize("objective", ["energy", "edp"])
def test_exact_mapper_equals_brute_force_with_sparsity(objective):
    """The mapper's floors scaled for sparsity (outputs gated here: no floor) and the compressed
    capacity pruning leave the exact search exact."""
    p = with_densities(fc("f", C=3, M=4, N=2), {"inputs": Density.uniform(0.5), "weights": Density.structured(1, 2)})
    arch = tiny_sparse()
    fixed = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]}])
    keys, r = found(p, arch, fixed, objective)
    assert r.result.costs.sparse is not None
    assert keys == pytest.approx(brute_force(p, arch, fixed, objective), rel=1e-12)


def tiny_no_output_feature(cap: int = 12) -> Architecture:
    """``tiny_sparse`` without the RF's gating of outputs: the mapper's floors then apply."""
    arch = tiny_sparse(cap)
    return arch.model_copy(update={"levels": arch.levels[:2] + (arch.levels[2].model_copy(update={"sparse": None}),)})


def test_floor_factors_by_hand():
    """Inputs 0.5 in cp at the Buffer, weights 1:2 (0.5) skipped at the Buffer on inputs, outputs
    dense (rules 1-2 of model.sparse, derived by hand). Reads: inputs 0.5 at the Buffer (their
    stored share), weights 0.5 there (the leader's density), 1 elsewhere. Fills: weights 0.5 at
    the RF only (only the Buffer, above it, skips them), inputs 0.5 at the Buffer. Fanout words
    below the Buffer and the RF: inputs 0.5 (the Buffer's share), weights 0.5; below DRAM 1. With
    the RF gating outputs on weights too: the RF's output reads 0, its updates 0.5, the outputs'
    fanout words below the RF 0.5 (their fills come from the Buffer: 1)."""
    from loopnest.model.sparse import plan

    p = with_densities(fc("f", C=3, M=4, N=2), {"inputs": Density.uniform(0.5), "weights": Density.structured(1, 2)})
    storage, network = plan(p, tiny_no_output_feature()).floor_factors()
    want = np.ones((3, 3, 3))  # [level DRAM | Buffer | RF, role, read | fill | update]
    want[1, 0] = 0.5  # inputs in cp at the Buffer: every action
    want[1, 1, 0] = want[1, 1, 2] = want[2, 1, 1] = 0.5  # weights: read at the Buffer (never updated), filled at the RF
    np.testing.assert_array_equal(storage, want)
    np.testing.assert_array_equal(network, [[1, 1, 1], [0.5, 0.5, 1], [0.5, 0.5, 1]])
    storage, network = plan(p, tiny_sparse()).floor_factors()
    want[2, 2] = [0.0, 1.0, 0.5]  # RF outputs: reads may all go, updates times the weights' density
    np.testing.assert_array_equal(storage, want)
    np.testing.assert_array_equal(network, [[1, 1, 1], [0.5, 0.5, 1], [0.5, 0.5, 0.5]])


@pytest.mark.parametrize("objective", ["energy", "edp"])
def test_exact_mapper_equals_brute_force_with_floors(objective):
    p = with_densities(fc("f", C=3, M=4, N=2), {"inputs": Density.uniform(0.5), "weights": Density.structured(1, 2)})
    arch = tiny_no_output_feature()
    fixed = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]}])
    keys, _ = found(p, arch, fixed, objective)
    assert keys == pytest.approx(brute_force(p, arch, fixed, objective), rel=1e-12)
    keys, _ = found(p, arch, None, objective)
    assert keys == pytest.approx(brute_force(p, arch, None, objective), rel=1e-12)


def test_exact_mapper_uses_compressed_capacity():
    """The Buffer (keeping every tensor) is too small for the dense tiles of the best mapping but
    not for its compressed ones: the exact search finds that mapping, as brute force does."""
    dense = fc("f", C=4, M=2, N=2)
    p = with_densities(dense, {"inputs": Density.uniform(0.25)})
    arch = tiny_sparse(cap=12)
    fixed = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]}])
    keys, r = found(p, arch, fixed)
    assert keys == pytest.approx(brute_force(p, arch, fixed), rel=1e-12)
    with pytest.raises(MappingError, match="do not fit its capacity"):
        evaluate(dense, arch, r.result.mapping)


def test_rle_at_dram_by_hand():
    """Eyeriss' RLC at DRAM (Chen et al., JSSC 2017: 5-bit run lengths, 16-bit values): inputs in
    ``rle`` with 5-bit metadata at DRAM, the Buffer holds them uncompressed and keeps every
    tensor, so DRAM reads each of I's 16 values once (dense). At density 0.25 (4 of 16 nonzero)
    the entries per position are 0.25 / (1 - 0.75**32) (fillers for runs of 32+ zeros): 16 times
    that data words and as many run-length words; a run-length word costs 5/16 of a data word's
    DRAM read (1 pJ per word here); the Buffer still receives 16 values. Density 1 in rle pays
    a run length per value on top of the dense reads."""
    arch = Architecture(name="t", levels=(
        Storage(name="DRAM", **{"class": "dram"}, word_bits=16, energy_pj={"read": 1, "write": 1, "update": 1},
                sparse={"formats": {"inputs": "rle"}, "metadata_bits": 5}),
        Storage(name="Buffer", capacity_words=1024, word_bits=16, energy_pj={"read": 0, "write": 0, "update": 0})),
        compute=Compute(operand_bits=16, energy_pj=0.0))
    m = Mapping((LevelMapping({}, ()), LevelMapping({"K": 16, "M": 4}, ("K", "M"))))
    sparse = evaluate(with_densities(matvec(16), {"inputs": Density.uniform(0.25)}), arch, m)
    dense = evaluate(matvec(16), arch, m)
    entries = 16 * 0.25 / (1 - 0.75**32)
    sp = sparse.costs.sparse
    assert dense.costs.counts.reads[0, 0, 0] == 16
    assert sp.actual[0, 0, 0, 0] == pytest.approx(entries, rel=1e-12)
    assert sp.metadata[0, 0, 0, 0] == pytest.approx(entries, rel=1e-12)
    assert sp.actual[0, 1, 0, 1] == 16  # Buffer fills: decompressed
    assert sparse.costs.storage_energy_pj[0, 0, 0] == pytest.approx(entries * (1 + 5 / 16), rel=1e-12)
    assert dense.costs.storage_energy_pj[0, 0, 0] == 16 * (1 + 5 / 16)  # density 1: every value and its run length
    # DRAM traffic in bits: the RLC stream (16-bit values, 5-bit runs), W's 64 reads, O's 4 write-backs
    assert sparse.traffic_bits(0) == pytest.approx(entries * (16 + 5) + (64 + 4) * 16, rel=1e-12)
    plain = arch.model_copy(update={"levels": (arch.levels[0].model_copy(update={"sparse": None}), arch.levels[1])})
    assert evaluate(matvec(16), plain, m).traffic_bits(0) == (16 + 64 + 4) * 16


def test_eyeriss_rlc_preset_is_eyeriss_plus_its_zero_handling():
    """``eyeriss-rlc`` (JSSC 2017): RLC of ifmaps and ofmaps at DRAM with 5-bit runs, gating of the
    filter spad read and the MAC on ifmap zeros; everything else is the ``eyeriss`` preset."""
    rlc, base = load_arch("eyeriss-rlc"), load_arch("eyeriss")
    dram, rf = rlc.levels[0].sparse, rlc.levels[2].sparse
    assert dram.formats == {"inputs": "rle", "outputs": "rle"} and dram.metadata_bits == 5
    assert [(a.target, a.condition_on) for a in rf.gating] == [("weights", ("inputs",))]
    assert rlc.compute.sparse.gating == ("inputs",)
    strip = lambda a: a.model_copy(update={"name": "", "description": "", "levels": tuple(
        lv.model_copy(update={"sparse": None}) for lv in a.levels), "compute": a.compute.model_copy(update={"sparse": None})})
    assert strip(rlc) == strip(base)


def test_eyeriss_skipw_preset_is_eyeriss_plus_zero_weight_skipping():
    """``eyeriss-skipw`` (the weight side of Eyeriss v2, JETCAS 2019, and Cambricon-X, MICRO 2016):
    weights in cp format with 4-bit coordinates at DRAM and the RF, the RF's input reads and the MACs
    skipped on zero weights; everything else is the ``eyeriss`` preset (its MAC energy at weight density
    0.5 is tested by hand in test_codesign_pruning.py)."""
    skipw, base = load_arch("eyeriss-skipw"), load_arch("eyeriss")
    dram, rf = skipw.levels[0].sparse, skipw.levels[2].sparse
    assert dram.formats == rf.formats == {"weights": "cp"} and dram.metadata_bits == rf.metadata_bits == 4
    assert [(a.target, a.condition_on) for a in rf.skipping] == [("inputs", ("weights",))] and rf.gating == ()
    assert skipw.compute.sparse.skipping == ("weights",) and skipw.compute.sparse.gating == ()
    strip = lambda a: a.model_copy(update={"name": "", "description": "", "levels": tuple(
        lv.model_copy(update={"sparse": None}) for lv in a.levels), "compute": a.compute.model_copy(update={"sparse": None})})
    assert strip(skipw) == strip(base)


def test_chip_densities_are_table_v():
    """JSSC 2017 Table V's ifmap zeros of AlexNet CONV1-5 (0.01, 38.7, 72.5, 79.3, 77.6 %): each
    layer's inputs at 1 - zeros, its outputs at the next layer's input density, CONV5's dense."""
    from loopnest.search.eyeriss_cases import chip_densities

    layers = chip_densities().layers
    assert {n: layers[n]["inputs"].value for n in layers} == pytest.approx(
        {"conv1": 0.9999, "conv2": 0.613, "conv3": 0.275, "conv4": 0.207, "conv5": 0.224}, rel=1e-12)
    assert [layers[n]["outputs"].value for n in ("conv1", "conv2", "conv3", "conv4")] == pytest.approx([0.613, 0.275, 0.207, 0.224])
    assert "outputs" not in layers["conv5"]


@pytest.mark.parametrize("sparse, words", [
    ({"formats": {"weights": "rle"}}, ["levels[1] (Buf): sparse.formats.weights", "does not keep weights"]),
    ({"formats": {"inputs": "zip"}}, ["sparse.formats", "inputs: 'zip' is not a format", "rle"]),
    ({"formats": {"inputs": "rle"}, "metadata_bits": 32}, ["metadata_bits", "wider than the level's word"]),
    ({"gating": [{"target": "outputs", "condition_on": ["activations"]}]}, ["condition_on", "activations"]),
    ({"skipping": [{"target": "outputs", "condition_on": ["outputs"]}]}, ["its own leader"]),
])
def test_bad_sparse_spec_is_one_line(tmp_path, sparse, words):
    """Bad sparse features: one ArchSpecError line naming the file, the field and what is allowed."""
    from test_arch_errors import load_bad

    def mutate(d):
        d["levels"][1] |= {"keeps": ["inputs", "outputs"], "word_bits": 16, "sparse": sparse}
    message = load_bad(tmp_path, mutate)
    assert "\n" not in message and all(w in message for w in words), message
