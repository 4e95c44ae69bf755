"""`loopnest model`: the loop nest and the counts of one mapping, and its bad-input errors."""

import json

from typer.testing import CliRunner

from loopnest.cli import app

EXAMPLE = ["--arch", "eyeriss", "--layer", "resnet50:layer1.0.conv2", "--mapping", "examples/resnet50_conv2_rs.yaml"]


def test_model_prints_the_loop_nest_outer_to_inner():
    out = CliRunner().invoke(app, ["model", *EXAMPLE])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    first_p = next(i for i, l in enumerate(lines) if "P temporal @ DRAM" in l)
    first_s = next(i for i, l in enumerate(lines) if "S temporal @ RF" in l)
    assert "outer -> inner" in out.output and first_p < first_s


def test_the_shipped_example_is_the_mappers_best_mapping(tmp_path):
    # before: the example was a hand-made mapping at 30.18 pJ/MAC, DRAM-bound, 29.9 % of the PEs,
    # while the mapper's best for the same layer is 4.54 pJ/MAC with every PE busy. The example
    # must be what `evaluate --mappings` writes for that layer (exact search: proven optimal).
    from loopnest.analysis.runs import constraints_for
    from loopnest.arch import load_arch
    from loopnest.mapping.io import load_mapping
    from loopnest.model import evaluate
    from loopnest.search.mapper import search_layer
    from loopnest.workload.layer_ref import load_layer

    arch, layer = load_arch("eyeriss"), load_layer("resnet50:layer1.0.conv2", 1)
    best = search_layer(layer, arch, constraints_for("rs", layer, arch), "energy", "exact").result
    shipped = evaluate(layer, arch, load_mapping("examples/resnet50_conv2_rs.yaml", arch))
    assert shipped.energy_pj == best.energy_pj and shipped.cycles == best.cycles
    assert shipped.utilization == 1.0  # 64*64*56*56*9 MACs / (688,128 cycles * 168 PEs) = 1
    assert shipped.cycles * arch.pes == 64 * 64 * 56 * 56 * 9


def test_evaluate_writes_every_layers_best_mapping_and_model_reads_it_back(tmp_path):
    out = CliRunner().invoke(app, ["evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--json",
                                   "--mappings", str(tmp_path / "best")])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output[out.output.index("{"):])
    conv2 = next(r for r in data["layers"] if r["name"] == "conv2")
    again = CliRunner().invoke(app, ["model", "--arch", "eyeriss", "--layer", "lenet5:conv2", "--json",
                                     "--mapping", str(tmp_path / "best" / "conv2.yaml")])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["energy_pj"] == conv2["energy_pj"]


def test_model_json_counts_are_consistent():
    # ResNet-50 layer1.0.conv2: 64 x 64 x 56 x 56 x 3 x 3 = 115,605,504 MACs; the RF takes one
    # operand read per MAC for each operand (the MAC has no storage).
    out = CliRunner().invoke(app, ["model", *EXAMPLE, "--json"])
    d = json.loads(out.output)
    assert d["macs"] == 64 * 64 * 56 * 56 * 9
    rf = next(lv for lv in d["levels"] if lv["name"] == "RF")
    assert rf["counts_words"]["weights"]["reads"] == d["macs"]
    assert rf["counts_words"]["outputs"]["updates"] == d["macs"]


def test_model_bad_inputs_give_one_clear_line(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("mapping:\n  - level: Nowhere\n")
    out = CliRunner().invoke(app, ["model", "--arch", "eyeriss", "--layer", "resnet50:layer1.0.conv2", "--mapping", str(bad)])
    assert out.exit_code != 0 and "Nowhere" in out.output and "GlobalBuffer" in out.output
    out = CliRunner().invoke(app, ["model", "--arch", "eyeriss", "--layer", "resnet50:nope", "--mapping", str(bad)])
    assert out.exit_code != 0 and "no layer 'nope'" in out.output
    bad.write_text("mapping:\n  - level: DRAM\n    temporal: {M: 3}\n")
    out = CliRunner().invoke(app, ["model", *EXAMPLE[:4], "--mapping", str(bad)])
    # the file the user gave is named (docs/mapper.md, Mapping files): before, only the factors were
    assert out.exit_code != 0 and f"{bad}: factors of M multiply to" in " ".join(out.output.split())
    assert "Traceback" not in out.output


def test_gated_macs_keep_their_cycle_and_the_limit_says_so():
    # eyeriss-rlc gates the MAC on a zero input (docs/sparsity.md): at input density 0.4 the cycles
    # stay the dense 688,128 (every PE busy, as in the test above) while 60 % of the MACs do no
    # work, so utilization is 40 %; "every PE busy" alone read as a contradiction beside it
    dense = CliRunner().invoke(app, ["model", *EXAMPLE])
    gated = CliRunner().invoke(app, ["model", *EXAMPLE[:1], "eyeriss-rlc", *EXAMPLE[2:], "--density", "inputs=0.4"])
    assert dense.exit_code == gated.exit_code == 0, gated.output
    text = " ".join(gated.output.split())
    assert "cycles: 688,128 (set by: compute (every PE busy; gated MACs still take their cycle))" in text
    assert "PE utilization: 40.0%" in text
    assert "gated MACs" not in " ".join(dense.output.split())


def test_evaluate_rows_say_the_same_of_gated_macs():
    # the per-layer "limit" of evaluate comes from the same rule as model's line above: ResNet-50's
    # layer1.0.conv2 is compute bound with every PE busy on eyeriss (above), and gated at input density 0.4
    out = CliRunner().invoke(app, ["evaluate", "resnet50", "--arch", "eyeriss-rlc", "--density", "inputs=0.4", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["name"]: r for r in json.loads(out.stdout)["layers"]}
    assert rows["layer1.0.conv2"]["limit"] == "compute (every PE busy; gated MACs still take their cycle)"
