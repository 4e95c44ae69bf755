"""Auto mode never returns a mapping worse than the exact optimum of a cheap dataflow subspace
(search/subspaces.py), and every search reports a lower bound below the optimum (its gap)."""

from __future__ import annotations

import pytest

from loopnest.arch import load_arch
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.search import mapper
from loopnest.search.mapper import search_layer
from loopnest.search.subspaces import SUBSPACE_DATAFLOWS, dataflow_subspaces
from loopnest.workload.layers import conv2d, fc

LAYER, ARCH = conv2d("c", C=4, M=8, H=6, W=6, R=3), load_arch("eyeriss")
POOR = {"top": 1, "sample": 1, "sweeps": 0}  # a heuristic of least effort: far from the optimum


@pytest.fixture
def unproven(monkeypatch):
    """Auto mode on a space it cannot prove: the level-by-level exact search stops at once
    (budget 0), so the heuristic's mapping stands and the subspaces are searched."""
    monkeypatch.setattr(mapper, "AUTO_EXACT_RESTS", 0)
    monkeypatch.setattr(mapper, "AUTO_TREE_ROWS", 0)
    monkeypatch.setattr(mapper, "STREAM_RESTS", 0)


@pytest.mark.parametrize("objective", ["energy"])
def test_auto_is_never_worse_than_a_dataflow_subspace(unproven, objective):
    auto = search_layer(LAYER, ARCH, None, objective, mode="auto", **POOR)
    alone = search_layer(LAYER, ARCH, None, objective, mode="auto", subspaces=False, **POOR)
    assert auto.mode == alone.mode == "heuristic"
    names = [n for n, _ in dataflow_subspaces(LAYER, ARCH, None)]
    assert {"ws", "os", "rs"} <= set(names)  # eyeriss: every stationarity has storage inside the PEs

    def value(r):
        return {"energy": r.energy_pj, "edp": r.energy_pj * r.cycles}[objective]

    for name in SUBSPACE_DATAFLOWS:
        sub = search_layer(LAYER, ARCH, dataflow_constraints(name, LAYER, ARCH), objective, mode="exact")
        assert value(auto.result) <= value(sub.result) * (1 + 1e-12), name
        if name in names:
            assert auto.subspaces[name]["value"] == pytest.approx(value(sub.result), rel=1e-12)
    # the least-effort heuristic alone is beaten by a subspace's optimum (the guarantee is not void)
    assert value(auto.result) < value(alone.result)
    assert any("dataflow subspace" in n for n in auto.notes)


def test_subspaces_meet_the_spaces_own_constraints():
    """Under a user's constraints a subspace is the dataflow's met with them: a subspace of it."""
    ws = dataflow_constraints("ws", LAYER, ARCH)
    subs = dict(dataflow_subspaces(LAYER, ARCH, ws))
    assert "rs" not in subs or subs["rs"].source.startswith("dataflow")  # rs and ws may meet
    for c in subs.values():
        assert "ws" in c.source or c.source == ws.source


@pytest.mark.parametrize(("layer", "arch", "objective"), [
    (LAYER, ARCH, "energy"), (fc("f", C=8, M=8, N=2), load_arch("simple-ws"), "edp"),
    (fc("f", C=16, M=16, N=2), load_arch("simple-ws"), "energy"),
])
def test_lower_bound_is_below_the_optimum(layer, arch, objective):
    """The heuristic's lower bound (the least sound floor over every outer choice it priced) is
    at most the exact optimum; its gap is then at least the true excess over the optimum."""
    ex = search_layer(layer, arch, None, objective, mode="exact")
    h = search_layer(layer, arch, None, objective, mode="heuristic", **POOR)
    assert ex.gap == 0.0 and ex.mode == "exact"
    best = ex.lower_bound  # proven: the optimum's own value
    assert 0 < h.lower_bound <= best * (1 + 1e-12)
    value = h.lower_bound * (1 + h.gap)
    assert h.gap >= value / best - 1 - 1e-9
