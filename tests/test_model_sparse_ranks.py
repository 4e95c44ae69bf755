"""Formats rank by rank, the gated-slot timing switch and (de)compression energy (model/sparse.py
rules 3, 6, 7), each against counts derived by hand here; the numbers of Sparseloop's 04.2.1
(timeloop-accelergy-exercises, sparseloop/04.2.1-eyeriss-like-gating, ref_outputs
timeloop-mapper.stats.txt) are checked in tests/test_validate.py."""

from __future__ import annotations

import pytest
from test_model_sparse import matvec

from loopnest.arch.spec import Architecture, Compute, Storage
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
from loopnest.workload.density import Density, with_densities
from loopnest.workload.problem import Problem, Tensor

E1 = {"read": 1.0, "write": 1.0, "update": 1.0}
I, W, O = 0, 1, 2  # ROLES order
READS, FILLS, UPDATES = 0, 1, 2


def two_levels(dram_sparse: dict | None = None, buf_sparse: dict | None = None, buf_cap: int = 1024,
               buf_keeps=("inputs", "weights", "outputs")) -> Architecture:
    return Architecture(name="t", levels=(
        Storage(name="DRAM", **{"class": "dram"}, word_bits=16, energy_pj=E1, sparse=dram_sparse),
        Storage(name="Buffer", capacity_words=buf_cap, word_bits=16, energy_pj=E1, keeps=buf_keeps, sparse=buf_sparse)),
        compute=Compute(operand_bits=16, energy_pj=0.0))


# matvec: O[m] += W[m, k] * I[k], M = 4, K = 16. DRAM loops M 4 (outer), K 4; the Buffer K 4: the
# Buffer holds a 4-value tile of I, DRAM's tile of I (all 16) is n = 4 such tiles, and every M
# iteration reads all of I again: 4 passes x 16 = 64 DRAM reads of I in 16 tiles of 4.
SPLIT = Mapping((LevelMapping({"M": 4, "K": 4}, ("M", "K")), LevelMapping({"K": 4}, ("K",))))


def run(arch, density=None, mapping=SPLIT, check_capacity=True):
    p = matvec(16)
    return evaluate(p if density is None else with_densities(p, {"inputs": density}), arch, mapping, check_capacity=check_capacity)


def test_outer_uop_rank_reads_its_offsets_once_per_pass():
    """[uop, uncompressed] at DRAM: the outer rank's fiber holds n + 1 = 5 offsets over the 4
    Buffer tiles; each pass over I reads the 5 (Sparseloop's rule: its 04.2.1 reads 65 offsets of
    64 input tiles in each of 6 passes, 390): 4 passes x 5 = 20 metadata words, data dense."""
    r = run(two_levels({"formats": {"inputs": ["uop", "uncompressed"]}}))
    sp = r.costs.sparse
    assert r.costs.counts.reads[0, 0, I] == 64
    assert sp.actual[0, 0, I, READS] == 64
    assert sp.metadata[0, 0, I, READS] == pytest.approx(20, rel=1e-12)


@pytest.mark.parametrize("outer, words", [
    ("uop", 16 * 5 / 4),  # 16 tiles moved x (n + 1) / n
    ("bitmask", 16 / 4),  # one flag per tile moved, 4 flags (metadata_bits) per word
    ("cp", 16 * 0.4),  # one coordinate per nonempty tile: fixed 0.1 -> P(a 4-value tile nonempty) = min(1, 0.4)
])
def test_outer_rank_over_an_inner_cp_rank(outer, words):
    """[outer, cp] at DRAM, I at fixed density 0.1: the inner rank moves 64 x 0.1 = 6.4 values and
    as many coordinates; the outer rank adds its words per Buffer tile moved (16 of them)."""
    r = run(two_levels({"formats": {"inputs": [outer, "cp"]}, "metadata_bits": 4}), Density.fixed(0.1))
    sp = r.costs.sparse
    assert sp.actual[0, 0, I, READS] == pytest.approx(6.4, rel=1e-12)
    assert sp.metadata[0, 0, I, READS] == pytest.approx(6.4 + words, rel=1e-12)


def test_uop_over_rle_at_dram_is_the_sum_of_both_ranks():
    """[uop, rle] (04.2.1's DRAM format) at uniform density 0.25 with 5-bit runs: the rle rank's
    entries per position 0.25 / (1 - 0.75**32) (docs/sparsity.md) for data and run lengths, plus
    the uop rank's 20 offsets."""
    r = run(two_levels({"formats": {"inputs": ["uop", "rle"]}, "metadata_bits": 5}), Density.uniform(0.25))
    entries = 64 * 0.25 / (1 - 0.75**32)
    sp = r.costs.sparse
    assert sp.actual[0, 0, I, READS] == pytest.approx(entries, rel=1e-12)
    assert sp.metadata[0, 0, I, READS] == pytest.approx(entries + 20, rel=1e-12)
    assert sp.outer_metadata[0, 0, I, READS] == pytest.approx(20, rel=1e-12)  # the uop rank's part
    assert run(two_levels({"formats": {"inputs": "rle"}}), Density.uniform(0.25)).costs.sparse.outer_metadata is None


def test_two_ranks_at_a_filled_level():
    """[uop, uncompressed] at the Buffer, whose consumer is the MAC (tiles of one value): its tile
    of I (4 values) is n = 4 fibers, 5 offsets. Each of the 16 fills of the tile writes its 5
    offsets (80); each of the 64 reads to the MACs reads (n + 1) / n = 5/4 offsets (80)."""
    r = run(two_levels(buf_sparse={"formats": {"inputs": ["uop", "uncompressed"]}}))
    sp = r.costs.sparse
    assert r.costs.counts.fills[0, 1, I] == 64 and r.costs.counts.reads[0, 1, I] == 64
    assert sp.metadata[0, 1, I, FILLS] == pytest.approx(80, rel=1e-12)
    assert sp.metadata[0, 1, I, READS] == pytest.approx(80, rel=1e-12)


def test_outer_rank_metadata_in_the_capacity():
    """The Buffer keeps only I, all 16 values (Buffer loops K 16), in [uop, cp] with 4-bit metadata at
    fixed density 0.25: 4 values, 4 coordinates and 16 + 1 offsets, (4 + 17) x 4 / 16 = 5.25 -> 6
    words: 10 words fit in 10, not in 9; with cp alone 4 + ceil(4 x 4 / 16) = 5 fit in 9."""
    whole = Mapping((LevelMapping({"M": 4}, ("M",)), LevelMapping({"K": 16}, ("K",))))

    def valid(formats, cap):
        arch = two_levels(buf_sparse={"formats": {"inputs": formats}, "metadata_bits": 4}, buf_cap=cap, buf_keeps=("inputs",))
        return bool(run(arch, Density.fixed(0.25), whole, check_capacity=False).costs.valid[0])

    assert valid(["uop", "cp"], 10) and not valid(["uop", "cp"], 9)
    assert valid("cp", 9)


def test_two_ranks_at_density_one_keep_the_dense_data_counts():
    r = run(two_levels({"formats": {"inputs": ["uop", "rle"], "outputs": ["uop", "rle"]}, "metadata_bits": 5}))
    dense = run(two_levels())
    sp = r.costs.sparse
    for k, counts in enumerate((dense.costs.counts.reads, dense.costs.counts.fills, dense.costs.counts.updates)):
        assert (sp.actual[0, ..., k] == counts[0]).all()


def dot(read_bw: float, keep_slot: bool) -> Architecture:
    """A 16-element dot product Z += A[k] B[k] (as the Sparseloop tutorial's 01.2) on one buffer that
    reads 1 word per cycle, B's reads gated on A, the MAC skipping on A."""
    return Architecture(name="dot", levels=(
        Storage(name="Buffer", capacity_words=64, word_bits=8, energy_pj=E1, read_bandwidth=read_bw, sparse={
            "gating": [{"target": "weights", "condition_on": ["inputs"]}], "gated_keep_slot": keep_slot}),),
        compute=Compute(operand_bits=8, energy_pj=0.0, sparse={"skipping": ["inputs"]}))


def test_gated_reads_keep_their_port_slot_only_when_switched_on():
    """A at fixed density 0.25: the Buffer reads A 16 times, B 4 times (12 gated), Z 15 times (the
    first update needs no read): 35 reads at 1 per cycle; with gated_keep_slot the 12 gated reads
    take their slots too: 47 cycles (the MACs skip to 4 cycles, below both)."""
    p = Problem("dot", "dot", {"K": 16}, (
        Tensor("A", "inputs", ({"K": 1},), 8, density=Density.fixed(0.25)),
        Tensor("B", "weights", ({"K": 1},), 8), Tensor("Z", "outputs", ({},), 8)))
    m = Mapping((LevelMapping({"K": 16}, ()),))
    off, on = evaluate(p, dot(1, False), m), evaluate(p, dot(1, True), m)
    assert off.costs.counts.reads[0, 0].tolist() == [16, 16, 15]
    assert off.cycles == 35 and on.cycles == 47
    assert off.energy_pj == on.energy_pj  # the switch is timing only


def test_decompression_and_compression_energy():
    """I in rle at DRAM, O in rle at DRAM, both kept uncompressed in the Buffer, which decompresses
    at 0.5 pJ per value and compresses at 0.25 pJ per entry: the Buffer's 16 fills of I add 8 pJ;
    O's 4 write-backs at density 0.5 store 4 x 0.5 / (1 - 0.5**32) entries (5-bit runs), times 0.25 pJ."""
    codec = {"decompression_energy_pj": 0.5, "compression_energy_pj": 0.25}
    dram = {"formats": {"inputs": "rle", "outputs": "rle"}, "metadata_bits": 5}
    whole = Mapping((LevelMapping({}, ()), LevelMapping({"K": 16, "M": 4}, ("K", "M"))))
    p = with_densities(matvec(16), {"inputs": Density.uniform(0.25), "outputs": Density.fixed(0.5)})
    plain, coded = (evaluate(p, two_levels(dram, b), whole) for b in (None, codec))
    extra = coded.costs.storage_energy_pj[0, 1] - plain.costs.storage_energy_pj[0, 1]
    assert coded.costs.counts.fills[0, 1, I] == 16 and coded.costs.counts.updates[0, 0, O] == 4
    assert extra[I] == pytest.approx(8.0, rel=1e-12)
    assert extra[O] == pytest.approx(0.25 * 4 * 0.5 / (1 - 0.5**32), rel=1e-12)
    assert extra[W] == 0.0
    assert (coded.costs.storage_energy_pj[0, 0] == plain.costs.storage_energy_pj[0, 0]).all()


@pytest.mark.parametrize("sparse, words", [
    ({"formats": {"inputs": ["uop", "uop", "rle"]}}, ["formats", "3 ranks", "two ranks outer -> inner"]),
    ({"formats": {"inputs": ["rle", "uncompressed"]}}, ["formats", "compressed outer rank (rle)", "not modeled"]),
    ({"formats": {"inputs": ["uop", "zip"]}}, ["formats", "inputs: 'zip' is not a format", "uop", "ranks"]),
])
def test_bad_ranks_are_one_line(tmp_path, sparse, words):
    from test_arch_errors import load_bad

    def mutate(d):
        d["levels"][1] |= {"keeps": ["inputs", "outputs"], "word_bits": 16, "sparse": sparse}
    message = load_bad(tmp_path, mutate)
    assert "\n" not in message and all(w in message for w in words), message
