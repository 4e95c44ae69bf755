"""The eie-like preset and the eie suite: EIE's 102 GOP/s on the compressed network (Han et al.,
ISCA 2016, abstract) and seed 002's "131K weights compressed storage per PE"."""

import json

import pytest
from typer.testing import CliRunner

from loopnest.arch import list_presets, load_arch
from loopnest.cli import app
from loopnest.model import evaluate
from loopnest.search.mapper import search_layer
from loopnest.validation import eie
from loopnest.workload.density import Density, with_densities
from loopnest.workload.layer_ref import load_layer
from loopnest.workload.precision import Precision


def test_structure_and_the_published_figures():
    a = load_arch("eie-like")
    assert "eie-like" in list_presets() and a.pes == 64 and (a.technology_nm, a.clock_mhz) == (45, 800)
    spmat = a.levels[a.level_index("SpmatSRAM")]
    assert spmat.resident == ("weights",) and spmat.word_bits == 4 and spmat.capacity_words == 64 * 131072
    # 2 x 64 x 0.8 GHz = 102.4 GOP/s; 131,072 weights per PE
    assert eie.ours() == {"peak": 102.4, "weights_per_pe": 131072}


def test_fc_layer_skips_zero_activations_and_weights():
    # AlexNet FC8 with 4-bit weights: at densities 0.5 (activations) and 0.25 (weights), independent,
    # 0.5 x 0.25 = 12.5 % of the cycles remain; resident weights are never fetched from DRAM
    a = load_arch("eie-like")
    layer = Precision.parse("weights=4,inputs=16,outputs=16,mac=16").apply(load_layer("alexnet:fc8", 1))
    dense = search_layer(layer, a, None, "cycles,energy", mode="heuristic").result
    sparse = evaluate(with_densities(layer, {"inputs": Density.uniform(0.5), "weights": Density.uniform(0.25)}),
                      a, dense.mapping)
    assert dense.cycles == layer.macs / 64  # every PE busy: 4,096,000 MACs / 64
    assert sparse.cycles == pytest.approx(0.125 * dense.cycles, rel=1e-12)
    assert dense.count("DRAM", "weights", "reads") == 0


def test_cli_suite_cases_are_within_tolerance():
    out = CliRunner().invoke(app, ["validate", "--json", "--suite", "eie"])
    assert out.exit_code == 0, out.output
    cases = json.loads(out.output)["cases"]
    assert [c["expected"] for c in cases] == [102.0, 131000.0]
    assert {c["status"] for c in cases} == {"within tolerance"}
