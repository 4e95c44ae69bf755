"""The scnn-like preset (Parashar et al., ISCA 2017) and the scnn suite: its structure, the
Cartesian product's count of products, and the PEs waiting for the slowest."""

import json

import pytest
from test_sparse_balance import exact_by_full_sum
from typer.testing import CliRunner

from loopnest.arch import list_presets, load_arch
from loopnest.cli import app
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
from loopnest.workload.density import Density, with_densities
from loopnest.workload.layers import conv2d


def planar_mapping() -> Mapping:
    """SCNN's planar tiling: a 16 x 16 output plane over the 8 x 8 PEs (2 x 2 per PE), in a PE 4
    output channels x 4 output positions on the 4 x 4 multipliers; C, M in the activation RAMs,
    the filter taps at the accumulators."""
    return Mapping((
        LevelMapping(spatial_x={"P": 8}, spatial_y={"Q": 8}),
        LevelMapping(temporal={"M": 2, "C": 4}, order=("M", "C")),
        LevelMapping(),
        LevelMapping(temporal={"R": 3, "S": 3}, order=("R", "S"), spatial_x={"M": 4}, spatial_y={"P": 2, "Q": 2}),
    ))


LAYER = conv2d("c", C=4, M=8, H=18, W=18, R=3, S=3)  # P = Q = 16: 73,728 MACs, 72 per multiplier


def test_structure_and_suite():
    a = load_arch("scnn-like")
    assert "scnn-like" in list_presets() and a.pes == 1024 and (a.technology_nm, a.clock_mhz) == (16, 1000)
    assert a.compute.sparse.skipping == ("inputs", "weights") and a.compute.sparse.load_balance == "expected_max"
    out = CliRunner().invoke(app, ["validate", "--json", "--suite", "scnn"])
    assert out.exit_code == 0, out.output
    cases = json.loads(out.output)["cases"]
    assert [c["expected"] for c in cases] == [64, 16, 1024, 2**20] and {c["status"] for c in cases} == {"exact"}


def test_cartesian_product_and_the_slowest_pe():
    # every one of the 1,024 multipliers busy for 72 cycles dense. At weights and activations 1/2
    # (independent), the products of two non-zeros are 1/4 of the MACs; with perfect balance 18
    # cycles. The 64 PEs synchronize once (one fold: no temporal loop at DRAM); each PE's work is
    # Binomial(72 x 16 = 1152, 1/4) spread over its 16 multipliers: E[max of 64] / 16 cycles.
    a = load_arch("scnn-like")
    dense = evaluate(LAYER, a, planar_mapping())
    assert dense.cycles == 72 and dense.utilization == 1.0
    sparse = with_densities(LAYER, {"weights": Density.uniform(0.5), "inputs": Density.uniform(0.5)})
    r = evaluate(sparse, a, planar_mapping())
    assert r.actual_macs == pytest.approx(LAYER.macs / 4, rel=1e-12)
    assert r.cycles == pytest.approx(exact_by_full_sum(1152, 0.25, 64) / 16, rel=1e-9)
    ideal = a.model_copy(update={"compute": a.compute.model_copy(update={"sparse": a.compute.sparse.model_copy(
        update={"load_balance": "ideal"})})})
    assert evaluate(sparse, ideal, planar_mapping()).cycles == pytest.approx(18.0, rel=1e-12)
    assert 18.0 < r.cycles < 1.2 * 18.0
    assert r.energy_pj < dense.energy_pj
