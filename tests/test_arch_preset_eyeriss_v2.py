"""The eyeriss-v2-like preset against Eyeriss v2's published structure (Chen et al., JETCAS 2019,
Table II and abstract): 192 PEs as 8 x 2 clusters of 3 x 4, 8-bit operands, 65 nm, 200 MHz, CSC
weights and activations with zero skipping."""

import pytest

from loopnest.arch import list_presets, load_arch
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.model import evaluate
from loopnest.search.mapper import search_layer
from loopnest.workload.density import Density, with_densities
from loopnest.workload.layer_ref import load_layer
from loopnest.workload.precision import Precision


def test_structure_is_table_iis():
    a = load_arch("eyeriss-v2-like")
    assert "eyeriss-v2-like" in list_presets()
    assert a.pes == 8 * 2 * 3 * 4 and (a.technology_nm, a.clock_mhz) == (65, 200)
    assert (a.compute.operand_bits, a.compute.accumulator_bits) == (8, 20)
    glb, rf = a.levels[1], a.levels[2]
    # 16 clusters x 3 banks x 1.5 kB of input activations; 16 x 4 x 2.25 kB of psums; 8-bit words
    assert glb.partitions == {"inputs": 16 * 3 * 1536, "outputs": 16 * 4 * 2304} and glb.word_bits == 8
    assert glb.keeps == ("inputs", "outputs") and (glb.fanout.x, glb.fanout.y) == (16, 12)
    # scratchpads: 16 input entries, 96 weight entries (24-bit), 32 psums
    assert rf.partitions == {"inputs": 16, "weights": 96, "outputs": 32} and rf.word_bits == 24


def test_zero_skipping_removes_the_cycles_of_either_zero_operand():
    # MACs skipped where the activation or the weight is zero (perfect load balance, docs/sparsity.md):
    # at densities 0.5 (inputs) and 0.4 (weights), independent, 0.5 x 0.4 = 20 % of the cycles remain
    a = load_arch("eyeriss-v2-like")
    layer = Precision.parse("weights=8,inputs=8,outputs=8,accumulator=20").apply(load_layer("alexnet:conv5", 1))
    dense = search_layer(layer, a, dataflow_constraints("rs", layer, a), "energy", mode="heuristic").result
    sparse = evaluate(with_densities(layer, {"inputs": Density.uniform(0.5), "weights": Density.uniform(0.4)}),
                      a, dense.mapping)
    assert dense.bound == "compute"  # no bandwidth limit
    assert sparse.cycles == pytest.approx(0.2 * dense.cycles, rel=1e-12)
    assert sparse.energy_pj < dense.energy_pj
