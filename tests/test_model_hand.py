"""Hand-derived access counts: spatial multicast and reduction, strided and dilated sliding
windows, grouped layers, an operand x operand product. Each expected value is derived in the
comment above it from the loop nest, not taken from the code."""

import pytest
from model_helpers import arch, conv1d, mapping

from loopnest.arch.spec import Fanout
from loopnest.model import evaluate
from loopnest.workload.problem import Problem, Tensor


def fc(M: int, C: int) -> Problem:
    """Outputs[m] += Weights[m, c] * Inputs[c]."""
    return Problem("fc", "fc", {"M": M, "C": C}, (
        Tensor("W", "weights", ({"M": 1}, {"C": 1}), 8, static=True),
        Tensor("I", "inputs", ({"C": 1},), 8),
        Tensor("O", "outputs", ({"M": 1},), 8)))


@pytest.mark.parametrize("multicast", [True, False])
def test_spatial_multicast_of_an_irrelevant_operand(multicast):
    # M=4 spread over 4 PEs, each PE loops C=2. Every PE needs the same 2 inputs:
    # RF input fills = 4 PEs x 2 = 8; with multicast the buffer reads them once (2), else 8.
    # Weights are relevant to M: each PE gets its own 2, buffer reads 8 either way.
    a = arch("DRAM", "Buffer", "RF", fanout=Fanout(x=4, multicast=multicast))
    r = evaluate(fc(4, 2), a, mapping({}, {"x": {"M": 4}}, {"t": {"C": 2}}))
    assert r.count("RF", "inputs", "fills") == 8
    assert r.count("Buffer", "inputs", "reads") == (2 if multicast else 8)
    assert r.count("RF", "weights", "fills") == r.count("Buffer", "weights", "reads") == 8
    assert r.count("Buffer", "inputs", "network") == 8  # words delivered, one per destination PE


@pytest.mark.parametrize("reduction", [True, False])
def test_spatial_reduction_of_partial_sums(reduction):
    # C=4 spread over 4 PEs, each loops M=2: each PE holds 2 partial sums, updated 2 times in total
    # (8 MAC updates over 4 PEs, each the first write of a fresh psum: RF reads 0).
    # With an adder tree the buffer receives the 2 reduced sums; without it, all 8 psums.
    a = arch("DRAM", "Buffer", "RF", fanout=Fanout(x=4, reduction=reduction))
    r = evaluate(fc(2, 4), a, mapping({}, {"x": {"C": 4}}, {"t": {"M": 2}}))
    assert (r.count("RF", "outputs", "updates"), r.count("RF", "outputs", "reads")) == (8, 0)
    assert r.count("Buffer", "outputs", "updates") == (2 if reduction else 8)
    # no psum is ever sent back down; without the adder tree the buffer accumulates the 8 psums of
    # its 2 outputs: 8 - 2 first writes = 6 read-modify-writes (issue 20; before: 0, uncharged)
    assert r.count("Buffer", "outputs", "reads") == (0 if reduction else 6)
    assert r.count("DRAM", "outputs", "updates") == 2


@pytest.mark.parametrize("order", ["ws", "os"])
def test_stride_two_sliding_window(order):
    # P=8, R=3, stride 2: inputs span (8-1)*2 + (3-1) + 1 = 17 words.
    # OS (MainMemory P8 / Buffer R3): first window 3, each p step shifts by 2 -> 3 + 7*2 = 17.
    # WS (MainMemory R3 / Buffer P8): window (8-1)*2+1 = 15, each r step shifts by 1 -> 15 + 2*1 = 17.
    p = conv1d(R=3, P=8, stride=2)
    outer, inner = ({"P": 8}, {"R": 3}) if order == "os" else ({"R": 3}, {"P": 8})
    r = evaluate(p, arch("MainMemory", "Buffer"), mapping({"t": outer}, {"t": inner}))
    assert r.count("Buffer", "inputs", "fills") == r.count("MainMemory", "inputs", "reads") == 17
    assert r.count("Buffer", "inputs", "reads") == p.macs == 24


def test_stride_larger_than_window_fetches_no_gaps_twice():
    # P=4, R=3, stride 4: windows [0..2], [4..6], [8..10], [12..14] never overlap: 4 x 3 = 12 fills.
    r = evaluate(conv1d(R=3, P=4, stride=4), arch("MainMemory", "Buffer"), mapping({"t": {"P": 4}}, {"t": {"R": 3}}))
    assert r.count("Buffer", "inputs", "fills") == 12


@pytest.mark.parametrize("order", ["ws", "os"])
def test_dilated_sliding_window(order):
    # P=8, R=3, dilation 2: inputs span 7 + 2*2 + 1 = 12 words.
    # OS: window (3-1)*2+1 = 5, shifts by 1 per p -> 5 + 7 = 12. WS: window 8, shifts by 2 per r -> 8 + 2*2 = 12.
    outer, inner = ({"P": 8}, {"R": 3}) if order == "os" else ({"R": 3}, {"P": 8})
    r = evaluate(conv1d(R=3, P=8, dilation=2), arch("MainMemory", "Buffer"), mapping({"t": outer}, {"t": inner}))
    assert r.count("Buffer", "inputs", "fills") == 12


def grouped(G: int, M: int, C: int, P: int) -> Problem:
    """Outputs[g, m, p] += Weights[g, m, c] * Inputs[g, c, p] (1x1 grouped convolution)."""
    return Problem("grouped", "conv", {"G": G, "M": M, "C": C, "P": P}, (
        Tensor("W", "weights", ({"G": 1}, {"M": 1}, {"C": 1}), 8, static=True),
        Tensor("I", "inputs", ({"G": 1}, {"C": 1}, {"P": 1}), 8),
        Tensor("O", "outputs", ({"G": 1}, {"M": 1}, {"P": 1}), 8)))


def test_grouped_layer_fetches_each_group_once():
    # G=2 outer, M2 C3 P4 inside the buffer: per group the buffer fills C*P = 12 inputs and
    # M*C = 6 weights, and writes back M*P = 8 outputs: totals 24, 12, 16 (= the tensor sizes).
    r = evaluate(grouped(2, 2, 3, 4), arch("DRAM", "Buffer"), mapping({"t": {"G": 2}}, {"t": {"M": 2, "C": 3, "P": 4}}))
    assert r.macs == 48
    assert (r.count("Buffer", "inputs", "fills"), r.count("Buffer", "weights", "fills")) == (24, 12)
    assert r.count("DRAM", "outputs", "updates") == 16


def test_depthwise_layer_has_no_input_reuse_across_channels():
    # Depthwise: G=4 channels, M=C=1, P=4: inputs and outputs 16 each, weights 4; MACs 16.
    # Buffer holds one channel at a time (G outer): every word is filled exactly once.
    r = evaluate(grouped(4, 1, 1, 4), arch("DRAM", "Buffer"), mapping({"t": {"G": 4}}, {"t": {"P": 4}}))
    assert (r.count("Buffer", "inputs", "fills"), r.count("Buffer", "weights", "fills")) == (16, 4)
    assert r.count("Buffer", "weights", "reads") == 16  # one read per MAC


def test_attention_scores_have_two_activation_operands():
    # S[p, m] += Q[p, c] * K[m, c], P=4 queries, M=4 keys, C=2; no static weights.
    # DRAM: P4 / Buffer: M4 C2. K (weights slot) does not depend on P: filled once (8 words);
    # Q refills 2 words per query (8); each of the 16 scores is written back once.
    q = Problem("qk", "attention", {"P": 4, "M": 4, "C": 2}, (
        Tensor("Q", "inputs", ({"P": 1}, {"C": 1}), 8),
        Tensor("K", "weights", ({"M": 1}, {"C": 1}), 8, static=False),
        Tensor("S", "outputs", ({"P": 1}, {"M": 1}), 8)))
    r = evaluate(q, arch("DRAM", "Buffer"), mapping({"t": {"P": 4}}, {"t": {"M": 4, "C": 2}}))
    assert r.count("Buffer", "weights", "fills") == 8
    assert r.count("Buffer", "inputs", "fills") == 8
    assert r.count("DRAM", "outputs", "updates") == 16
    assert r.count("Buffer", "inputs", "reads") == r.count("Buffer", "weights", "reads") == 32


def test_energy_is_the_sum_of_counts_times_per_action_energies():
    # Exercise 1 (WS) with read 2 pJ, write 3 pJ, update 5 pJ everywhere and 1 pJ per MAC:
    # MainMemory: reads 3 + 18 = 21 (x2), updates 16 (x5); Buffer: reads 48+48+32 = 128 (x2),
    # fills 3 + 18 = 21 (x3), updates 48 (x5); MACs 48 (x1).
    e = {"read": 2.0, "write": 3.0, "update": 5.0}
    r = evaluate(conv1d(), arch("MainMemory", "Buffer", energy=e), mapping({"t": {"R": 3}}, {"t": {"P": 16}}))
    assert r.energy_pj == pytest.approx(21 * 2 + 16 * 5 + 128 * 2 + 21 * 3 + 48 * 5 + 48)


def test_capacity_overflow_is_named():
    from loopnest.mapping.mapping import MappingError
    with pytest.raises(MappingError, match="Buffer.*capacity 8"):
        evaluate(conv1d(), arch("MainMemory", "Buffer", capacity=8), mapping({"t": {"R": 3}}, {"t": {"P": 16}}))


def test_partial_sums_of_a_non_reducing_fanout_are_accumulated_at_the_parent():
    # Issue 20: 4 PEs split C (4 on a fanout that cannot reduce, 2 in each PE) for 2 outputs; each
    # PE writes its partial sum of each output back to Buf: 4 x 2 = 8 updates. Buf holds 2 distinct
    # outputs, so all but the first write of each (8 - 2 = 6) are accumulated: read first. (Before:
    # 0, each PE's write counted as a first write.) With a reducing fanout the network adds them:
    # 2 updates, no reads. DRAM gets 2 either way.
    from loopnest.workload.layers import fc

    outs = {}
    for reduce in (False, True):
        a = arch("DRAM", "Buf", "PE", fanout=Fanout(x=4, reduction=reduce))
        r = evaluate(fc("g", C=8, M=2, N=1), a, mapping({}, {"t": {"M": 2}, "x": {"C": 4}}, {"t": {"C": 2}}))
        outs[reduce] = [(lv["counts_words"]["outputs"]["updates"], lv["counts_words"]["outputs"]["reads"])
                        for lv in r.to_dict()["levels"][:2]]
    assert outs[False] == [(2, 0), (8, 6)]
    assert outs[True] == [(2, 0), (2, 0)]
