"""`loopnest model`: the loop nest and the counts of one mapping, and its bad-input errors."""

import json

from typer.testing import CliRunner

from loopnest.cli import app

EXAMPLE = ["--arch", "eyeriss", "--layer", "resnet50:layer1.0.conv2", "--mapping", "examples/resnet50_conv2_rs.yaml"]


def test_model_prints_the_loop_nest_outer_to_inner():
    out = CliRunner().invoke(app, ["model", *EXAMPLE])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    first_m = next(i for i, l in enumerate(lines) if "M temporal @ DRAM" in l)
    first_s = next(i for i, l in enumerate(lines) if "S temporal @ RF" in l)
    assert "outer -> inner" in out.output and first_m < first_s


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
    assert out.exit_code != 0 and "multiply to" in out.output
    assert "Traceback" not in out.output
