"""The mapper's padded folds on systolic arrays (``search.padded``): the padded variants it tries
and a hand-derived case where the partial last fold wins."""

import pytest

from loopnest.arch.spec import Fanout
from loopnest.mapping.constraints import Constraints, FactorRule, LevelConstraint
from loopnest.search.mapper import search_layer
from loopnest.search.padded import padded_variants
from loopnest.workload.layers import fc
from model_helpers import arch

GEMM = fc("g", C=10, M=6, N=5)  # 300 MACs (test_systolic's partial-fold case)


def _array(systolic="ws"):
    return arch("DRAM", "Buf", "PE", fanout=Fanout(x=4, y=3, reduction=True, systolic=systolic))


def test_the_variants_pad_each_dimension_an_axis_does_not_divide():
    """4 rows x 3 columns. Rows: C 10 -> 12, M 6 -> 8, N 5 -> 8; columns: C 10 -> 12, N 5 -> 6 (M 6
    divides by 3). One padded dimension per axis, never the same one on both, at least one padded;
    the padded dimension takes the whole axis."""
    rows = {"C": 12, "M": 8, "N": 8}
    cols = {"C": 12, "N": 6}
    want = [{d: n} for d, n in rows.items()] + [{d: n} for d, n in cols.items()] + \
        [{r: rows[r], c: cols[c]} for r in rows for c in cols if r != c]
    got = [sizes for sizes, _ in padded_variants(GEMM, _array())]
    assert sorted(map(sorted, (s.items() for s in got))) == sorted(map(sorted, (s.items() for s in want)))
    c12 = [c.at("Buf") for s, c in padded_variants(GEMM, _array()) if s == {"C": 12}]
    assert {(str(c.spatial_x), str(c.spatial_y)) for c in c12} == {(str({"C": FactorRule(4, 4)}), "None"),
                                                                   ("None", str({"C": FactorRule(3, 3)}))}
    assert padded_variants(GEMM, arch("DRAM", "Buf", "PE", fanout=Fanout(x=4, y=3))) == []  # not systolic


def test_the_mapper_pads_c_when_a_partial_fold_is_faster():
    """WS (C on the 4 rows, M on the 3 columns, N streamed in the PEs), fewest cycles. Exact splits:
    C 10 on at most 2 rows (5 folds) x M 6 on 3 columns (2 folds) = 10 folds of N 5 + (2*4 + 3 - 2)
    = 14 cycles: 140. Padded C 12 on 4 rows: 3 x 2 = 6 folds, 84 cycles (test_systolic's hand
    case), with the layer's own 300 MACs."""
    ws = Constraints({"Buf": LevelConstraint(spatial_x={"C": FactorRule()}, spatial_y={"M": FactorRule()}),
                      "PE": LevelConstraint(temporal={"N": FactorRule(full=True), "C": FactorRule(1, 1),
                                                         "M": FactorRule(1, 1)})})
    plain = search_layer(GEMM, _array(), ws, objective="cycles", padded_folds=False)
    assert plain.result.cycles == 140
    best = search_layer(GEMM, _array(), ws, objective="cycles")
    r = best.result
    assert r.cycles == 84 and r.problem.macs == 300 and best.problem is GEMM
    assert r.mapping.levels[1].spatial_x == {"C": 4} and any("C 10 -> 12" in n for n in best.notes)
    assert r.to_dict()["utilization"] == pytest.approx(300 / (84 * 12))


def test_the_mapper_finds_scalesims_partial_fold_on_alexnet_conv1():
    """SCALE-Sim's AlexNet conv1 (its im2col GEMM: 3,025 pixels, 96 filters, window 363) in WS on
    32 x 32, fewest cycles: the window's exact splits put at most 11 on the rows (33 folds); padded,
    ceil(363 / 32) = 12 row folds x 3 column folds of 3,025 + (2*32 + 32 - 2) = 112,284 cycles
    (test_systolic; SCALE-Sim 3.0.0 prints 112,283)."""
    from loopnest.validation import scalesim

    run = scalesim.im2col(scalesim.NETS["AlexNet"][0], "ws")
    assert scalesim.mapper_cycles(run) == 36 * (3025 + 94) == 112_284
