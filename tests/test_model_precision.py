"""Precision in the cost model (docs/model.md, "Precision"): packing, per-value energies, DRAM
bytes, capacities in packed words, partial sums at the accumulator width, network energy per
bit, MAC energy from the Horowitz 45 nm table. Every expected value is derived in the comment
above it from the rule and the table, not taken from the code."""

import math

import numpy as np
import pytest
from test_search import arch3, brute_force, found

from loopnest.arch.resolve import resolve
from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.constraints import parse_constraints
from loopnest.mapping.mapping import LevelMapping, Mapping, MappingError
from loopnest.model import evaluate
from loopnest.model.precision import prices
from loopnest.workload.layers import conv2d, fc
from loopnest.workload.precision import Precision, PrecisionError

UNIT = {"read": 1.0, "write": 1.0, "update": 1.0}


def arch(buffer_words: int = 1 << 16, packing: str | None = None, fanout: Fanout | None = None,
         rf: bool = False, bandwidth: float | None = None) -> Architecture:
    """DRAM / Buffer (/ RF), 16-bit words, 1 pJ per word access, MAC 1 pJ."""
    levels = [Storage(name="DRAM", **{"class": "dram"}, energy_pj=UNIT, read_bandwidth=bandwidth),
              Storage(name="Buffer", capacity_words=buffer_words, energy_pj=UNIT, packing=packing, fanout=fanout)]
    if rf:
        levels.append(Storage(name="RF", **{"class": "regfile"}, capacity_words=64, energy_pj=UNIT))
    return Architecture(name="p16", levels=tuple(levels), compute=Compute(energy_pj=1.0))


def mapping(*levels: dict) -> Mapping:
    return Mapping(tuple(LevelMapping(temporal=lv.get("t", {}), order=tuple(lv.get("order", ())),
                                      spatial_x=lv.get("x", {}), keep=frozenset(lv["keep"]) if "keep" in lv else None)
                         for lv in levels))


def layer(M=4, C=8, **bits):
    return Precision(**bits).apply(fc("f", C=C, M=M))


# ---------------------------------------------------------------- packing rule
@pytest.mark.parametrize("packing, bits, per_value, words_40", [
    # word: floor(16 / b) values per word; 40 values -> ceil(40 / k) words
    ("word", 4, 1 / 4, 10), ("word", 6, 1 / 2, 20), ("word", 16, 1, 40), ("word", 32, 2, 80),
    # bit: b / 16 words per value; 40 values -> ceil(40 * b / 16)
    ("bit", 4, 1 / 4, 10), ("bit", 6, 6 / 16, 15), ("bit", 24, 1.5, 60),
    # none: each value its own ceil(b / 16) words
    ("none", 4, 1, 40), ("none", 24, 2, 80),
])
def test_packing_rule(packing, bits, per_value, words_40):
    lv = Storage(name="B", capacity_words=64, packing=packing)
    assert lv.words_per_value(bits) == pytest.approx(per_value)
    assert lv.words_for(40, bits) == words_40
    assert lv.words_for(np.array([40]), bits).tolist() == [words_40]


def test_packing_defaults_bit_for_dram_word_on_chip():
    assert Storage(name="D", **{"class": "dram"}).packing_rule == "bit"
    assert Storage(name="S", capacity_words=8).packing_rule == "word"


# ---------------------------------------------------------------- 4-bit weights, four to a word
def test_four_bit_weights_cost_a_quarter_of_the_buffer_reads_and_the_dram_bytes():
    # fc M=4, C=8, everything in the buffer, loops at the buffer: the MACs read each of the 32
    # weights once (32 values) and DRAM sends each once. 16-bit: 32 word reads of 1 pJ, 64 bytes
    # from DRAM. 4-bit, four to a 16-bit word: 32 / 4 = 8 word reads (8 pJ), 32 * 4 / 8 = 16 bytes.
    m = mapping({}, {"t": {"M": 4, "C": 8}})
    r16 = evaluate(layer(), arch(), m)
    r4 = evaluate(layer(weights=4), arch(), m)
    assert r16.count("Buffer", "weights", "reads") == r4.count("Buffer", "weights", "reads") == 32  # values
    assert r16.words("Buffer", "weights", "reads") == 32 and r4.words("Buffer", "weights", "reads") == 8
    e16 = r16.costs.storage_energy_pj[0, 1, 1]
    e4 = r4.costs.storage_energy_pj[0, 1, 1]
    assert (e16, e4) == pytest.approx((32 + 32, 8 + 8))  # reads + fills, 1 pJ per word
    assert r16.traffic_bytes("DRAM", "weights") == 64 and r4.traffic_bytes("DRAM", "weights") == 16
    assert r4.to_dict()["levels"][1]["words_per_value"]["weights"] == 0.25
    assert r4.to_dict()["levels"][1]["tile_words"]["weights"] == 32 / 4  # the footprint, packed
    # the other tensors do not move
    for t in (0, 2):
        assert r4.costs.storage_energy_pj[0, :, t] == pytest.approx(r16.costs.storage_energy_pj[0, :, t])


def test_dram_bytes_follow_the_bits_exactly_and_the_bandwidth_counts_words():
    # 6-bit weights: DRAM streams bits (b / W = 6 / 16 word per value): 32 weights = 24 bytes;
    # the buffer packs floor(16 / 6) = 2 per word: 16 word fills.
    m = mapping({}, {"t": {"M": 4, "C": 8}})
    r6 = evaluate(layer(weights=6), arch(), m)
    assert r6.traffic_bytes("DRAM", "weights") == pytest.approx(24)
    assert r6.words("Buffer", "weights", "fills") == 16
    # inputs 8 values, weights 32: 16-bit reads 40 words = 40 cycles; 4-bit weights 8 + 8 = 16 cycles;
    # the compute takes 32 cycles (one PE), so the bound moves from DRAM to compute
    bw = arch(bandwidth=1.0)
    assert evaluate(layer(), bw, m).cycles == 40
    assert evaluate(layer(weights=4), bw, m).cycles == 32
    assert evaluate(layer(weights=4, inputs=4), bw, m).cycles == 32  # DRAM 8 + 2 = 10 < 32


# ---------------------------------------------------------------- capacities count packed values
def test_capacity_checks_count_packed_values():
    # Weights kept in a buffer partition of 8 words: 32 weights fit at 4 bits (32 / 4 = 8 words),
    # not at 8 bits (16 words) nor at 16 (32); at 6 bits 2 per word: 16 words; bit packing 12.
    def fits(bits, packing=None, words=8):
        lv = Storage(name="Buffer", partitions={"weights": words}, keeps=("weights",), energy_pj=UNIT, packing=packing)
        a = Architecture(name="cap", levels=(Storage(name="DRAM", **{"class": "dram"}, energy_pj=UNIT), lv),
                         compute=Compute(energy_pj=1.0))
        try:
            evaluate(layer(weights=bits), a, mapping({}, {"t": {"M": 4, "C": 8}}))
            return True
        except MappingError as e:
            assert f"{2 * 32 * bits // 16 if packing == 'bit' else 32 // (16 // bits) if bits <= 16 else 64}" in str(e)
            return False

    assert fits(4) and not fits(8) and not fits(16)
    assert not fits(6, words=12) and fits(6, "bit", words=12) and fits(6, "word", words=16)


def test_the_mapper_finds_what_only_packing_fits():
    # A 12-word buffer holds all 12 weights of fc M=4, C=3 (N=2) with the other tiles only when
    # they are packed; the exact mapper's optimum equals the brute force over every mapping at
    # each width (capacity pruning in the mapspace counts packed words, and the floors price
    # values at their widths, partial sums included).
    a = arch3(cap=12, rf_cap=4)
    for bits in ({}, {"weights": 4}, {"weights": 4, "inputs": 8}, {"weights": 2, "outputs": 8, "accumulator": 32}):
        p = Precision(**bits).apply(fc("f", C=3, M=4, N=2))
        keys, _ = found(p, a)
        assert keys == pytest.approx(brute_force(p, a), rel=1e-12), bits


def test_the_mapper_is_exact_with_a_sliding_window_and_a_fanout_at_low_precision():
    p = Precision(weights=4, inputs=8, accumulator=32).apply(conv2d("c", C=2, M=2, H=3, W=1, R=2, S=1))
    a = arch3(Fanout(x=2, y=1, energy_pj=0.3, reduction=True), cap=10, rf_cap=6)
    fixed = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]}, {"level": "RF", "keep": ["inputs", "outputs"]}])
    keys, _ = found(p, a, fixed)
    assert keys == pytest.approx(brute_force(p, a, fixed), rel=1e-12)


# ---------------------------------------------------------------- partial sums
def test_partial_sums_are_stored_at_the_accumulator_width():
    # fc M=2, C=4; the buffer accumulates (C loop at the buffer): 8 updates, 8 - 2 = 6 read-backs.
    # Accumulator 32 bits on 16-bit words: 2 words per psum -> (8 + 6) * 2 = 28 pJ at the buffer.
    # DRAM gets each final output once (2 updates, no read-back): 16-bit outputs, 2 pJ.
    m = mapping({}, {"t": {"M": 2, "C": 4}})
    r = evaluate(layer(M=2, C=4, accumulator=32), arch(), m)
    e = r.costs.storage_energy_pj[0, :, 2]
    assert e.tolist() == pytest.approx([2, 28])
    # with every loop at DRAM, C outside M, the buffer holds one psum at a time and they spill:
    # DRAM takes 8 versions and reads 8 - 2 = 6 back, all 32-bit (bit packing: 32 / 16 = 2 words
    # each): (6 + 8) * 2 = 28 pJ; the buffer's 6 refills, 6 read-backs, 8 updates: 40 pJ
    spill = evaluate(layer(M=2, C=4, accumulator=32), arch(), mapping({"t": {"C": 4, "M": 2}, "order": ["C", "M"]}, {}))
    assert [spill.count("DRAM", "outputs", a) for a in ("reads", "updates")] == [6, 8]
    assert spill.costs.storage_energy_pj[0, :, 2].tolist() == pytest.approx([28, 40])
    # capacity: the buffer's 2 psums take 4 words (and the 8 weights and 4 inputs 12 more)
    with pytest.raises(MappingError, match="'outputs': 4"):
        evaluate(layer(M=2, C=4, accumulator=32), arch(buffer_words=15), m)
    assert evaluate(layer(M=2, C=4, accumulator=32), arch(buffer_words=16), m).energy_pj > 0


def test_an_accumulator_narrower_than_the_outputs_is_rejected():
    with pytest.raises(PrecisionError, match="accumulator width 8 is narrower than the 16-bit outputs"):
        layer(accumulator=8)


# ---------------------------------------------------------------- network energy per bit
def test_network_energy_is_per_bit():
    # 4 PEs under a multicast fanout of 1 pJ per 16-bit word per child: each PE gets the 8
    # inputs (32 values delivered); at 8 bits each costs 8 / 16 pJ: 16 pJ instead of 32.
    a = arch(fanout=Fanout(x=4, energy_pj=1.0), rf=True)
    m = mapping({}, {"x": {"M": 4}}, {"t": {"C": 8}})
    n16 = evaluate(layer(), a, m).costs.network_energy_pj[0, 1, 0]
    n8 = evaluate(layer(inputs=8), a, m).costs.network_energy_pj[0, 1, 0]
    assert (n16, n8) == pytest.approx((32, 16))


# ---------------------------------------------------------------- MAC energy, Horowitz 45 nm
H14_ADD = {8: 0.03, 16: 0.05, 32: 0.1}  # pJ, seed 001 slide 11 (Horowitz ISSCC 2014)
H14_MULT = {8: 0.2, 32: 3.1}


def horowitz_arch(operand_bits=16, accumulator_bits=None):
    a = Architecture(name="h45", technology_nm=45, levels=(Storage(name="DRAM", **{"class": "dram"}),),
                     compute=Compute(operand_bits=operand_bits, accumulator_bits=accumulator_bits))
    return resolve(a, "horowitz45")


def mac_pj(p, a):
    return prices(p, a).mac_pj


def test_eight_bit_vs_sixteen_bit_mac_from_the_horowitz_table():
    # 16-bit multiplier: between the 8-bit (0.2) and 32-bit (3.1) points on the table's power law,
    # 16 is their geometric midpoint: sqrt(0.2 * 3.1) = 0.787 pJ; 16-bit add 0.05.
    a = horowitz_arch()
    mult16 = math.sqrt(H14_MULT[8] * H14_MULT[32])
    assert mac_pj(layer(), a) == pytest.approx(mult16 + H14_ADD[16])
    # 8-bit operands: the 8-bit multiplier of the table, the hardware's 16-bit accumulator
    assert mac_pj(layer(weights=8, inputs=8), a) == pytest.approx(H14_MULT[8] + H14_ADD[16])
    # and an 8-bit accumulator too... needs 8-bit outputs: 0.2 + 0.03
    assert mac_pj(layer(weights=8, inputs=8, outputs=8, accumulator=8), a) == pytest.approx(H14_MULT[8] + H14_ADD[8])
    # 32-bit accumulator: 0.2 + 0.1
    assert mac_pj(layer(weights=8, inputs=8, accumulator=32), a) == pytest.approx(H14_MULT[8] + H14_ADD[32])
    # the whole layer's MAC energy is MACs times that
    r = evaluate(layer(weights=8, inputs=8), a, mapping({"t": {"M": 4, "C": 8}}))
    assert r.costs.compute_energy_pj == pytest.approx(32 * (H14_MULT[8] + H14_ADD[16]))


def test_mixed_operand_widths_and_storage_distinct_from_compute():
    a = horowitz_arch()
    # 4-bit x 16-bit: a * b = 64 partial products, as 8 x 8: the 8-bit multiplier (0.2 pJ), by the
    # bits^2 law through the table (the geometric mean of the 4- and 16-bit points is the 8-bit one)
    assert mac_pj(layer(weights=4), a) == pytest.approx(H14_MULT[8] + H14_ADD[16])
    # weights stored at 4 bits but decoded to 16 for the MAC (seed 003): the 16-bit MAC,
    # while the buffer still moves 4-bit weights
    p = layer(weights=4, mac=16)
    assert mac_pj(p, a) == pytest.approx(math.sqrt(H14_MULT[8] * H14_MULT[32]) + H14_ADD[16])
    assert prices(p, arch()).words[1].tolist() == [1, 0.25, 1]


def test_mac_energy_scales_a_given_energy_by_the_law():
    # compute.energy_pj given (1 pJ at 16 bits): 8-bit operands cost 1 * (0.2 + 0.05) / (0.787 + 0.05)
    mult16 = math.sqrt(H14_MULT[8] * H14_MULT[32])
    assert mac_pj(layer(weights=8, inputs=8), arch()) == pytest.approx((0.2 + 0.05) / (mult16 + 0.05))


# ---------------------------------------------------------------- 16 bits: nothing changes
def test_sixteen_bits_on_sixteen_bit_words_prices_exactly_as_the_spec():
    from loopnest.arch import load_arch

    a = load_arch("eyeriss")
    p = Precision(weights=16, inputs=16, outputs=16).apply(fc("f", C=8, M=4))
    pr = prices(p, a)
    assert pr.native and pr.mac_pj == a.compute.energy_pj
    for l, lv in enumerate(a.levels):
        for t, role in enumerate(("inputs", "weights", "outputs")):
            assert pr.storage[l, t].tolist() == [lv.energy_of(role, x) / lv.block_words for x in ("read", "write", "update")]
