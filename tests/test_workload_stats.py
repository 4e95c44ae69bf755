"""Statistics (traffic bounds, intensity, JSON interface) and the `loopnest workload` CLI.

Expected values are derived by hand in each test.
"""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from loopnest.cli import app
from loopnest.workload import layers as L
from loopnest.workload.builder import Builder
from loopnest.workload.stats import layer_stats, network_stats

runner = CliRunner()


def test_layer_min_traffic_and_intensity():
    # 3x3 conv, 8 -> 16 channels on 10x10 with pad 1, 16-bit: weights 16*8*9 = 1152,
    # input 8*10*10 = 800 (real size, not the 12x12 padded one), output 16*10*10 = 1600.
    # Each moved once at 2 bytes: (1152 + 800 + 1600) * 2 = 7104 bytes; MACs 1600*72 = 115200.
    s = layer_stats(L.conv2d("c", C=8, M=16, H=10, W=10, R=3, padding=1))
    assert (s.weights, s.input_activations, s.output_activations) == (1152, 800, 1600)
    assert s.min_traffic_bytes == 7104 and s.macs == 115_200
    assert s.max_intensity == 115_200 / 7104


def test_network_traffic_bounds():
    # two FCs 100 -> 50 -> 10 at batch 3, 16-bit. Fused bound: weights 5000 + 500, network input
    # 3*100, output 3*10 -> (5500 + 300 + 30) * 2 = 11660 bytes. Layer by layer adds the 3*50
    # intermediate twice (written, read back): 11660 + 2 * 150 * 2 = 12260 bytes.
    b = Builder("two_fc", {"input": (100,)})
    b.fc("fc2", b.act("relu", b.fc("fc1", "input", 50)), 10)
    st = network_stats(b.build(batch=3))
    t = st.totals()
    assert t["macs"] == 3 * (100 * 50 + 50 * 10)
    assert t["min_traffic_bytes"] == 11660 and t["layerwise_traffic_bytes"] == 12260
    assert t["max_intensity"] == t["macs"] / 11660
    assert t["elem_ops"] == 3 * 50  # the ReLU, one op per element


def test_cli_json_interface():
    r = runner.invoke(app, ["workload", "stats", "alexnet", "--batch", "2", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["model"] == "alexnet" and d["batch"] == 2
    first = d["layers"][0]
    assert {"name", "kind", "macs", "weights", "input_activations", "output_activations"} <= set(first)
    # AlexNet conv1 at batch 2: 2 * 55*55*96*363 MACs, 96*363 weights (all plain integers)
    assert (first["name"], first["kind"], first["macs"], first["weights"]) == ("conv1", "conv", 2 * 105_415_200, 34_848)
    assert all(type(v) is int for v in (first["macs"], first["weights"], d["totals"]["macs"], d["totals"]["weights"]))
    assert set(d["totals_by_kind"]) == {"conv", "fc"}
    assert d["totals_by_kind"]["conv"]["macs"] + d["totals_by_kind"]["fc"]["macs"] == d["totals"]["macs"]


def test_cli_csv_and_table():
    r = runner.invoke(app, ["workload", "stats", "lenet5", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert r.exit_code == 0 and [x["name"] for x in rows] == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert int(rows[0]["macs"]) == 28 * 28 * 6 * 25
    r = runner.invoke(app, ["workload", "stats", "resnet50"])
    assert r.exit_code == 0 and "3.86G" in r.stdout and "25.5M" in r.stdout and "non-MAC operators" in r.stdout
    r = runner.invoke(app, ["workload", "list"])
    assert r.exit_code == 0 and "mobilenet_v2" in r.stdout and "gpt2_decode_1024" in r.stdout


def test_cli_bad_input_is_one_line_and_nonzero(tmp_path):
    r = runner.invoke(app, ["workload", "stats", "resnet51"])
    assert r.exit_code != 0 and "unknown model 'resnet51'" in r.output and "resnet50" in r.output
    assert "Traceback" not in r.output
    bad = tmp_path / "broken.onnx"
    bad.write_text("this is not onnx")
    r = runner.invoke(app, ["workload", "stats", str(bad)])
    assert r.exit_code != 0 and "broken.onnx" in r.output and "not a valid ONNX model" in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_import_stays_light():
    import subprocess
    import sys

    code = ("import sys, loopnest.workload, loopnest.cli; loopnest.workload.load_network('resnet50'); "
            "print(sorted(m for m in ('onnx', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_warns_once_per_unsupported_op_type(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 4, 3, 3])
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("ConvTranspose", ["c", "W"], ["a"], name="up1"),
             helper.make_node("ConvTranspose", ["a", "W"], ["y"], name="up2")]
    g = helper.make_graph(nodes, "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    path = tmp_path / "up.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    r = runner.invoke(app, ["workload", "stats", str(path), "--format", "json"])
    assert r.exit_code == 0
    warnings = [line for line in r.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "2 'ConvTranspose' node(s)" in warnings[0] and "'up1'" in warnings[0]
    d = json.loads(r.stdout)
    assert d["unsupported"] == {"ConvTranspose": ["up1", "up2"]}
    assert d["totals"]["macs"] == 4 * 4 * 8 * 8 * 9  # the conv alone: M*C*P*Q*R*S


def test_stats_takes_json_and_csv_like_every_command():
    # issue 11, item 13: one option style; workload stats was the one command with --format
    runner = CliRunner()
    assert runner.invoke(app, ["workload", "stats", "lenet5", "--json"]).stdout == \
        runner.invoke(app, ["workload", "stats", "lenet5", "--format", "json"]).stdout
    rows = runner.invoke(app, ["workload", "stats", "lenet5", "--csv"]).stdout.splitlines()
    assert rows[0].startswith("name,kind,macs") and rows[1].startswith("conv1,conv,117600,")  # 28x28x6 outputs x 25 MACs
    both = runner.invoke(app, ["workload", "stats", "lenet5", "--json", "--csv"])
    assert both.exit_code == 2 and "give one output format; got csv, json" in both.output
    assert "--format" not in runner.invoke(app, ["workload", "stats", "--help"]).stdout
