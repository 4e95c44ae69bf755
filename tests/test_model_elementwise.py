"""Non-MAC operators costed on the architecture (model/elementwise.py): hand-derived counts,
energies and cycles, and the network totals that include them."""

from __future__ import annotations

import pytest

from loopnest.arch import load_arch
from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.model.elementwise import ElementOpError, evaluate_element_op, vector_level
from loopnest.search.network import map_network
from loopnest.search.summary import to_dict
from loopnest.workload.builder import Builder
from loopnest.workload.network import ElementOp


def arch(bw: float | None = None) -> Architecture:
    return Architecture(name="t", levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj={"read": 10.0, "write": 10.0, "update": 20.0}, read_bandwidth=bw),
        Storage(name="Buf", capacity_words=1024, energy_pj={"read": 2.0, "write": 3.0, "update": 4.0},
                fanout=Fanout(x=4, y=2, multicast=True, reduction=True))), compute=Compute(energy_pj=0.5))


def test_activation_by_hand():
    # 100-element ReLU (100 element ops) at batch 2: 200 inputs, 200 outputs, 200 element ops.
    # DRAM: 200 reads x 10 + 200 updates x 20 = 6,000 pJ; Buf: 200 fills x 3 + 200 reads x 2 +
    # 200 updates x 4 = 1,800 pJ; ALUs 200 x 0.5 = 100 pJ. Cycles: ceil(200 / 8 PEs) = 25;
    # with a DRAM read bandwidth of 4 words/cycle: 200 / 4 = 50, DRAM-bound.
    op = ElementOp("relu", "activation", 2, 100, 100, 100)
    c = evaluate_element_op(op, arch())
    assert c.accesses == {"DRAM": {"reads": 200, "fills": 0, "updates": 200}, "Buf": {"reads": 200, "fills": 200, "updates": 200}}
    assert c.energy_by_level_pj == {"DRAM": 6000.0, "Buf": 1800.0, "MAC": 100.0}
    assert (c.cycles, c.bound) == (25.0, "compute")
    assert (evaluate_element_op(op, arch(4.0)).cycles, evaluate_element_op(op, arch(4.0)).bound) == (50.0, "DRAM bandwidth")


def test_data_movement_is_free_and_resident_activations_stay_on_chip():
    assert evaluate_element_op(ElementOp("cat", "concat", 1, 10, 10, 0), arch()).energy_pj == 0.0
    tpu = load_arch("tpu-v1")  # activations held in the unified buffer: no weight-memory traffic
    c = evaluate_element_op(ElementOp("sig", "activation", 64, 1472, 1472, 1472), tpu)
    assert vector_level(tpu) == 1 and c.accesses["DRAM"] == {"reads": 0, "fills": 0, "updates": 0}
    assert c.accesses["UnifiedBuffer"] == {"reads": 64 * 1472, "fills": 0, "updates": 64 * 1472}


def test_no_vector_level_is_a_clear_error():
    a = Architecture(name="w", levels=(Storage(name="DRAM", **{"class": "dram"}, energy_pj={"read": 1.0, "write": 1.0, "update": 1.0}),
                                       Storage(name="W", capacity_words=8, keeps=("weights",), energy_pj={"read": 1.0, "write": 1.0, "update": 1.0})),
                     compute=Compute(energy_pj=1.0))
    with pytest.raises(ElementOpError, match="inputs and outputs"):
        evaluate_element_op(ElementOp("r", "activation", 1, 4, 4, 4), a)


def test_network_totals_include_the_operators():
    b = Builder("tiny", {"input": (8,)})
    b.act("relu2", b.fc("fc2", b.act("relu1", b.fc("fc1", "input", 8)), 4))
    net = b.build(2)
    data = to_dict(map_network(net, arch(), mode="exact", jobs=1))
    ops = data["element_ops"]
    assert [o["name"] for o in ops] == ["relu1", "relu2"] and [o["elem_ops"] for o in ops] == [16, 8]
    tot = data["totals"]
    assert tot["element_ops"]["energy_pj"] == pytest.approx(sum(o["energy_pj"] for o in ops))
    assert tot["with_element_ops"]["energy_pj"] == pytest.approx(tot["energy_pj"] + tot["element_ops"]["energy_pj"])
    assert tot["with_element_ops"]["cycles"] == tot["cycles"] + 2 + 1  # ceil(16 / 8) + ceil(8 / 8)


def test_shift_and_shuffle_copy_through_the_hierarchy():
    # A shift at batch 2 reading 88 elements and writing 112 per sample (7 channels of 4x4, the
    # cross of tests/test_workload_compact.py): 176 in, 224 out, no ALU op.
    # DRAM: 176 reads x 10 + 224 updates x 20 = 6,240 pJ; Buf: 176 fills x 3 + 176 reads x 2 +
    # 224 updates x 4 = 1,776 pJ; ALUs 0. Cycles: the copy passes the 8 PEs, ceil(224 / 8) = 28;
    # with a DRAM read bandwidth of 4 words/cycle: 176 / 4 = 44, DRAM-bound.
    op = ElementOp("s", "shift", 2, 88, 112, 0)
    c = evaluate_element_op(op, arch())
    assert c.elem_ops == 0
    assert c.accesses == {"DRAM": {"reads": 176, "fills": 0, "updates": 224}, "Buf": {"reads": 176, "fills": 176, "updates": 224}}
    assert c.energy_by_level_pj == {"DRAM": 6240.0, "Buf": 1776.0, "MAC": 0.0}
    assert (c.cycles, c.bound) == (28.0, "compute")
    assert (evaluate_element_op(op, arch(4.0)).cycles, evaluate_element_op(op, arch(4.0)).bound) == (44.0, "DRAM bandwidth")
    # a shuffle of 64 elements at batch 1: 64 each way; split and concat rename (zero)
    sh = evaluate_element_op(ElementOp("sh", "shuffle", 1, 64, 64, 0), arch())
    assert sh.energy_pj == 64 * (10 + 20) + 64 * (3 + 2 + 4) and sh.cycles == 8
    assert evaluate_element_op(ElementOp("sp", "split", 1, 64, 64, 0), arch()).energy_pj == 0.0


def test_network_totals_include_the_shuffles():
    b = Builder("tiny", {"input": (4, 2, 2)})
    b.shuffle("shuffle", b.conv("conv", "input", 4, 1), 2)
    data = to_dict(map_network(b.build(1), arch(), mode="exact", jobs=1))
    (op,) = data["element_ops"]
    # 16 elements each way: DRAM 16 x 10 + 16 x 20, Buf 16 x (3 + 2 + 4); ceil(16 / 8) = 2 cycles
    assert (op["kind"], op["energy_pj"], op["cycles"]) == ("shuffle", 16 * 30 + 16 * 9, 2)
    assert data["totals"]["with_element_ops"]["cycles"] == data["totals"]["cycles"] + 2
    assert data["totals"]["element_ops"]["copied_elements"] == 16
