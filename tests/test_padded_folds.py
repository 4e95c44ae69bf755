"""The mapper's padded and remainder folds (``search.padded``): the padded variants it tries,
hand-derived cases where the partial last fold wins (costed padded on a systolic array, as exact
remainder tiles on any other fanout), and that it is never worse than the exact splits."""

from dataclasses import replace

import numpy as np
import pytest

from loopnest.arch.spec import Fanout
from loopnest.mapping.constraints import Constraints, FactorRule, LevelConstraint
from loopnest.search.mapper import search_layer
from loopnest.search.objective import Objective
from loopnest.search.padded import padded_variants
from loopnest.workload.density import Density
from loopnest.workload.layers import fc
from model_helpers import arch

GEMM = fc("g", C=10, M=6, N=5)  # 300 MACs (test_systolic's partial-fold case)


def _array(systolic="ws"):
    return arch("DRAM", "Buf", "PE", fanout=Fanout(x=4, y=3, reduction=True, systolic=systolic))


def test_the_variants_pad_each_dimension_an_axis_does_not_divide():
    """4 rows x 3 columns. Rows: C 10 -> 12 (3 folds against 5 of C 2), N 5 -> 8 (2 against 5);
    M 6 -> 8 is left out (2 folds, as many as M 3 on the rows). Columns: C 10 -> 12, N 5 -> 6 (M 6
    divides by 3). One padded dimension per axis, never the same one on both, at least one padded;
    the padded dimension takes the whole axis."""
    rows = {"C": 12, "N": 8}
    cols = {"C": 12, "N": 6}
    want = [{d: n} for d, n in rows.items()] + [{d: n} for d, n in cols.items()] + \
        [{r: rows[r], c: cols[c]} for r in rows for c in cols if r != c]
    got = [sizes for sizes, _ in padded_variants(GEMM, _array())]
    assert sorted(map(sorted, (s.items() for s in got))) == sorted(map(sorted, (s.items() for s in want)))
    c12 = [c.at("Buf") for s, c in padded_variants(GEMM, _array()) if s == {"C": 12}]
    assert {(str(c.spatial_x), str(c.spatial_y)) for c in c12} == {(str({"C": FactorRule(4, 4)}), "None"),
                                                                   ("None", str({"C": FactorRule(3, 3)}))}


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


# Remainder folds on a plain (not systolic) fanout: DRAM > Buf (12 PEs in a row, reducing) > PE
ROW12 = arch("DRAM", "Buf", "PE", fanout=Fanout(x=12, y=1, reduction=True))
M13 = fc("g", C=2, M=13, N=1)  # 26 MACs; 13 is prime


def test_remainder_variants_on_a_plain_fanout_keep_the_last_fold_legal():
    """12 PEs: M 13 -> 24 (2 folds against 13 of M 1). Its padding 11 is not under the fanout's
    iteration of 2, so M stays off the loops below the fanout (both folds above it: an iteration
    of 12 > 11). M 23 -> 24 pads by 1 < 2: no such constraint. C 2 < 12: no variant."""
    [(sizes, c)] = padded_variants(M13, ROW12)
    assert sizes == {"M": 24} and c.at("Buf").spatial_x == {"M": FactorRule(12, 12)}
    assert c.at("PE").temporal == {"M": FactorRule(1, 1)}
    [(sizes, c)] = padded_variants(fc("g", C=2, M=23), ROW12)
    assert sizes == {"M": 24} and c.at("PE").temporal == {}


def test_the_mapper_folds_13_on_12_pes_with_a_partial_last_fold():
    """Fewest cycles. Exact splits: 13 is prime, so M 1 or 13 on the row (13 > 12): at best C 2 on
    the row, M 13 in time, 13 cycles. With a remainder fold: M on all 12 PEs, 2 folds (12, then 1
    active PE), C 2 in time: 2 x 2 = 4 cycles for the layer's own 26 MACs, utilization 26 / (4 x 12)
    (docs/model.md, "Remainder tiles": a clipped fold's steps run only where a PE has work)."""
    plain = search_layer(M13, ROW12, objective="cycles", padded_folds=False)
    assert plain.result.cycles == 13
    best = search_layer(M13, ROW12, objective="cycles", remainder_folds=True)
    r = best.result
    assert r.cycles == 4 and r.problem.macs == 26 and best.problem is M13
    assert r.mapping.levels[1].spatial_x == {"M": 12}
    assert any("remainder folds" in n and "M 13 -> 24" in n for n in best.notes)
    assert search_layer(M13, ROW12, objective="cycles").result.cycles == 13  # off by default on a plain fanout
    assert r.to_dict()["utilization"] == pytest.approx(26 / (4 * 12))


@pytest.mark.parametrize("objective", ["energy", "cycles", "edp"])
def test_remainder_folds_are_never_worse_than_exact_splits(objective):
    """The winner is the best of the exact search and the variants under the objective: never
    above the exact search alone (10 x 13 x 5 GEMM on 12 x 3 PEs)."""
    a = arch("DRAM", "Buf", "PE", fanout=Fanout(x=12, y=3, reduction=True))
    g = fc("g", C=10, M=13, N=5)
    obj = Objective.parse(objective)

    def key(s):
        return tuple(obj.values(np.array([s.result.energy_pj]), np.array([float(s.result.cycles)]))[0])

    assert padded_variants(g, a)  # M 13 on the 12 rows, C 10 and N 5 on the 3 columns
    assert key(search_layer(g, a, objective=objective, remainder_folds=True)) <= key(search_layer(g, a, objective=objective, padded_folds=False))


def test_a_refused_feature_keeps_the_exact_splits():
    """Sparse weights: the model does not cost remainder tiles with sparsity (RemainderError), so
    no variant is searched and the mapping is the exact search's."""
    sparse = replace(M13, tensors=tuple(replace(t, density=Density.uniform(0.5)) if t.role == "weights" else t
                                        for t in M13.tensors))
    assert padded_variants(sparse, ROW12) == []
    plain = search_layer(sparse, ROW12, objective="cycles", padded_folds=False)
    best = search_layer(sparse, ROW12, objective="cycles", remainder_folds=True)
    assert best.result.mapping == plain.result.mapping and best.result.cycles == plain.result.cycles


# --- the bound of the variant searches and the folds on real layers on eyeriss ----------------------

def _eyeriss_layer(net: str, name: str, batch: int = 1):
    from loopnest.arch.loader import load_arch
    from loopnest.mapping.dataflows import dataflow_constraints
    from loopnest.workload import load_network

    eyeriss = load_arch("eyeriss")
    layer = next(p for p in load_network(net, batch).layers if p.name == name)
    return layer, eyeriss, dataflow_constraints("rs", layer, eyeriss)


def test_real_share_floors_the_layer_cost_of_sampled_variant_mappings(monkeypatch):
    """The bound a variant's search starts from is sound where the layer's cost of every mapping of
    the variant is at least ``real_share`` of its padded cost (docs/mapper.md). Checked on every
    mapping the heuristic evaluates for ResNet-50's conv1 (7 x 7 window, stride 2: a halo, where the
    share falls below n / N) on eyeriss, unconstrained: P 112 -> 120 on the 12-high y axis with
    M 64 -> 70 on the 14-wide x axis, energy and cycles each."""
    from loopnest.search import tilings
    from loopnest.search.padded import real_share
    from loopnest.model.costs import evaluate_batch

    layer, eyeriss, _ = _eyeriss_layer("resnet50", "conv1")
    energy = Objective.parse("energy")
    for sizes in ({"M": 70, "P": 120},):
        [(_, pad)] = [(s, c) for s, c in padded_variants(layer, eyeriss) if s == sizes and "GlobalBuffer" in c.levels]
        ratios, plain = [], tilings.TilingEvaluator._evaluate

        def both(self, batch):
            padded = plain(self, batch)
            real = evaluate_batch(layer, eyeriss, batch)
            ok = padded.valid & real.valid
            ratios.append((real.energy_pj[ok] / padded.energy_pj[ok], real.cycles[ok] / padded.cycles[ok]))
            return padded

        monkeypatch.setattr(tilings.TilingEvaluator, "_evaluate", both)
        search_layer(layer.with_dims(**sizes), eyeriss, pad, mode="heuristic", padded_folds=False, sample=20, top=2)
        monkeypatch.undo()
        e, c = (np.concatenate(x) for x in zip(*ratios))
        share = real_share(layer, sizes, energy)
        assert len(e) > 1000 and share == pytest.approx(np.prod([(layer.dims[d] - 1) / n for d, n in sizes.items()]))
        assert e.min() >= share and c.min() >= share, (sizes, e.min(), c.min(), share)
        assert real_share(layer, sizes, Objective.parse("edp")) == pytest.approx(share ** 2)


@pytest.mark.parametrize("net,name,objective", [("resnet50", "layer4.0.conv3", "energy"), ("alexnet", "conv3", "edp")])
def test_the_bound_changes_no_variant_search_outcome(net, name, objective, monkeypatch):
    """The fold variants searched from the best-so-far bound give the same winner, mapping and cost
    as searched without a bound (``real_share`` made ~0: a bound far above every cost), on eyeriss
    in its row-stationary dataflow, where a fold wins (M 2048 -> 2058 on the 14-wide x axis; M 384 -> 392)."""
    from loopnest.search import padded

    layer, eyeriss, rs = _eyeriss_layer(net, name)
    bounded = search_layer(layer, eyeriss, rs, objective=objective, remainder_folds=True)
    monkeypatch.setattr(padded, "real_share", lambda *a: 1e-200)
    free = search_layer(layer, eyeriss, rs, objective=objective, remainder_folds=True)
    assert bounded.folds and bounded.folds == free.folds
    assert bounded.result.mapping == free.result.mapping and bounded.result.energy_pj == free.result.energy_pj


@pytest.mark.parametrize("net,name,objective", [
    ("alexnet", "conv3", "energy"), ("alexnet", "conv3", "cycles"), ("alexnet", "conv3", "edp"),
    ("resnet50", "layer4.0.conv3", "energy"), ("resnet50", "layer4.0.conv3", "edp"), ("resnet50", "fc", "energy")])
def test_remainder_folds_are_never_above_the_exact_splits_on_eyeriss(net, name, objective):
    """The remainder-fold optimum (the best of the exact splits and the fold variants) is never above
    the exact-split optimum, under each objective, on AlexNet and ResNet-50 layers (batch 1) on
    eyeriss in its row-stationary dataflow. On ResNet-50's layer4.0.conv3 a fold wins the energy:
    M 2048 on the 14-wide x axis takes 256 folds in exact splits (8 divides it, 14 does not), 147
    with a partial last one."""
    layer, eyeriss, rs = _eyeriss_layer(net, name)
    obj = Objective.parse(objective)

    def key(s):
        return tuple(obj.values(np.array([s.result.energy_pj]), np.array([float(s.result.cycles)]))[0])

    exact = search_layer(layer, eyeriss, rs, objective=objective, remainder_folds=False)
    folds = search_layer(layer, eyeriss, rs, objective=objective, remainder_folds=True)
    assert key(folds) <= key(exact)
    assert bool(folds.folds) == (key(folds) < key(exact))  # the record names a fold exactly where one won
    if (name, objective) == ("layer4.0.conv3", "energy"):
        assert key(folds) < key(exact) and folds.folds["M"][0] == 2048 and folds.folds["M"][1] % 14 == 0


@pytest.mark.parametrize("mode", ["exact", "heuristic"])
def test_a_bound_keeps_the_optimum_at_or_below_it_and_nothing_else(mode):
    """``search_layer(bound=...)`` (a 10 x 13 x 5 GEMM on 12 x 3 PEs, fewest energy): from a bound
    at the exact optimum (ties pass), the same mapping; from a bound 1 pJ below it, no mapping,
    and the reason says so. The heuristic samples among what can beat its bound, so under a bound
    it is only held to the bound."""
    a = arch("DRAM", "Buf", "PE", fanout=Fanout(x=12, y=3, reduction=True))
    g = fc("g", C=10, M=13, N=5)
    best = search_layer(g, a, mode="exact", padded_folds=False).result
    at = search_layer(g, a, mode=mode, padded_folds=False, bound=best.energy_pj)
    below = search_layer(g, a, mode=mode, padded_folds=False, bound=best.energy_pj - 1.0)
    assert below.result is None and "at most" in below.reason
    assert at.result.energy_pj <= best.energy_pj
    if mode == "exact":
        assert at.result.mapping == best.mapping
