"""The ``rs+`` preset: Eyeriss v2's row stationary plus (Chen, Yang, Emer, Sze, IEEE JETCAS 2019),
which tiles groups, images, channels, output rows and filter rows onto either axis of the array,
against ``rs`` (Eyeriss v1), with active-PE counts derived by hand."""

import math

import pytest

from loopnest.analysis.eyexam import (
    capacity_bound_cycles,
    dataflow_parallelism,
    layer_bound_cycles,
)
from loopnest.mapping.constraints import FactorRule
from loopnest.mapping.dataflows import DATAFLOWS, dataflow_constraints
from loopnest.validation.eyeriss_v2 import scaled_array
from loopnest.workload import load_network
from loopnest.workload.layer_ref import load_layer
from loopnest.workload.layers import conv2d, depthwise

DW = depthwise("dw", C=32, H=114, W=114, R=3)  # MobileNet v1's conv1.dw: G = 32, P = Q = 112, R = S = 3


def test_rs_plus_is_listed_and_rs_is_unchanged():
    assert "rs+" in DATAFLOWS and "rs" in DATAFLOWS
    a = scaled_array(16)
    rs = dataflow_constraints("rs", DW, a)
    assert set(rs.at("GlobalBuffer").spatial_x) == {"P", "N", "M"}
    assert set(rs.at("GlobalBuffer").spatial_y) == {"C", "M", "R"} and rs.at("GlobalBuffer").spatial_y["R"].full


def test_rs_plus_constraints_read_as_stated():
    # either axis: G, N, M, C, P, R, any factor (R no longer whole); in the PE: the whole filter
    # row S, one filter row (R = 1) of one group (G = 1), output rows P free
    a = scaled_array(16)
    c = dataflow_constraints("rs+", DW, a)
    glb, rf = c.at("GlobalBuffer"), c.at("RF")
    assert set(glb.spatial_x) == set(glb.spatial_y) == {"G", "N", "M", "C", "P", "R"}
    assert all(r == FactorRule() for r in (*glb.spatial_x.values(), *glb.spatial_y.values()))
    assert rf.temporal["R"] == rf.temporal["G"] == FactorRule(1, 1) and rf.temporal["S"].full
    assert "P" not in rf.temporal and "Q" not in rf.temporal


def test_depthwise_3x3_g32_on_16x16_by_hand():
    # MACs = G P Q R S = 32 x 112 x 112 x 9 = 3,612,672.
    # rs: M = C = N = 1 per group and G never on the array: X takes output rows P (the largest
    # divisor of 112 = 2^4 x 7 that is <= 16: 16), Y the 3 filter rows: 48 PEs, 75,264 cycles.
    # rs+: X takes 16 groups, Y the other 2 groups x 8 output rows: all 256 PEs, 14,112 cycles.
    a = scaled_array(16)
    assert DW.macs == 3_612_672
    assert capacity_bound_cycles(DW, a, dataflow_constraints("rs", DW, a)) == 3_612_672 / 48 == 75_264
    assert capacity_bound_cycles(DW, a, dataflow_constraints("rs+", DW, a)) == 3_612_672 / 256 == 14_112
    # Eyexam step 2 (unbounded array): rs unrolls P x R = 112 x 3; rs+ also every group: x 32
    assert dataflow_parallelism(DW, a, dataflow_constraints("rs", DW, a)) == 336
    assert dataflow_parallelism(DW, a, dataflow_constraints("rs+", DW, a)) == 336 * 32


def test_rs_plus_tiles_the_filter_rows():
    # R = S = 5 on a 4 x 4 array: rs needs all 5 filter rows on Y (4 PEs): no mapping at all.
    # rs+ may split R (5: 1 or 5 on the array, so 1 here, the rows in time): the 8 output rows
    # P spread as 4 on X x 2 on Y: 8 PEs, 8 x 8 x 25 / 8 = 200 cycles.
    layer = conv2d("c5", C=1, M=1, H=12, W=12, R=5)
    a = scaled_array(4)
    assert capacity_bound_cycles(layer, a, dataflow_constraints("rs", layer, a)) == math.inf
    assert capacity_bound_cycles(layer, a, dataflow_constraints("rs+", layer, a)) == 8 * 8 * 25 / 8


def test_rs_plus_fills_16x16_on_every_mobilenet_layer():
    # By hand from the layer shapes: every MobileNet v1 layer has at least 2^8 in the powers of
    # two of its G, M, C, P (conv0: M 32 x P 112 = 2^9; a depthwise layer: G >= 32 x P >= 7 with
    # P = 112, 56, 28, 14 or 7 and G = 32..1024: at least 2^5 x 2^4 or 2^10; the fc: C = 1024), so
    # rs+ can fill 16 x 16 PEs with perfect factors on every layer: cycles = MACs / 256.
    # rs cannot on the depthwise layers (at most 3 x 16 PEs).
    a = scaled_array(16)
    layers = load_network("mobilenet_v1", batch=1).layers
    plus = layer_bound_cycles(layers, a, "rs+")
    assert plus == [p.macs / 256 for p in layers]
    rs = layer_bound_cycles(layers, a, "rs")
    assert all(q <= r for q, r in zip(plus, rs))
    assert [r >= p.macs / 48 for p, r in zip(layers, rs) if p.attrs.get("depthwise")] == [True] * 13


@pytest.mark.parametrize("name", ["alexnet:conv3", "googlenet:inception3a.5x5"])
def test_every_rs_mapping_is_an_rs_plus_mapping(name):
    # rs+ only widens rs (G = 1 in the PE aside, which a smallest-footprint tiling has anyway), so
    # its bound is never above rs's
    layer = load_layer(name, 1)
    for side in (16, 32):
        a = scaled_array(side)
        assert (capacity_bound_cycles(layer, a, dataflow_constraints("rs+", layer, a))
                <= capacity_bound_cycles(layer, a, dataflow_constraints("rs", layer, a)))
