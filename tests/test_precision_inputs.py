"""Precision inputs: --precision text and per-layer YAML on the commands, quantized ONNX graphs
(built here with onnx.helper) whose bit widths are read from the graph, and the bad-input lines."""

import json

import pytest
from typer.testing import CliRunner

from loopnest.cli import app
from loopnest.workload import load_network
from loopnest.workload.precision import Precision, PrecisionError, apply_precision, read_precision_file

MODEL = ["model", "--arch", "eyeriss", "--layer", "resnet50:layer1.0.conv2", "--mapping", "examples/resnet50_conv2_rs.yaml", "--json"]


def run(*args):
    return CliRunner().invoke(app, list(args))


def test_model_command_at_lower_precision():
    # ResNet-50 layer1.0.conv2 on eyeriss, the RS mapping: 64 * 64 * 3 * 3 = 36,864 weights.
    # At 16 bits DRAM moves 2 bytes each; 8-bit weights halve that, 4-bit quarter it (DRAM packs bits).
    base = json.loads(run(*MODEL).output)
    w8 = json.loads(run(*MODEL, "--precision", "weights=8,inputs=8").output)
    w4 = json.loads(run(*MODEL, "--precision", "weights=4,inputs=8").output)
    dram = [d["levels"][0]["traffic_bytes"]["weights"] for d in (base, w8, w4)]
    words = base["levels"][0]["counts_words"]["weights"]["reads"]  # weight values DRAM sends
    assert dram == pytest.approx([2 * words, words, words / 2])
    assert base["energy_pj"] > w8["energy_pj"] > w4["energy_pj"]
    assert w4["bits"] == {"weights": 4, "inputs": 8, "outputs": 16}


def test_per_layer_yaml(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("default: {weights: 8, inputs: 8}\nlayers:\n  conv1: {weights: 4}\n  fc3: w=2,o=8\n")
    default, layers = read_precision_file(str(f))
    assert default == Precision(weights=8, inputs=8) and layers == {"conv1": Precision(weights=4),
                                                                    "fc3": Precision(weights=2, outputs=8)}
    net = apply_precision(load_network("lenet5"), default, layers)
    bits = {p.name: (p.tensor("weights").bits, p.tensor("outputs").bits) for p in net.layers}
    assert bits == {"conv1": (4, 16), "conv2": (8, 16), "fc1": (8, 16), "fc2": (8, 16), "fc3": (2, 8)}
    # workload stats: model size in bytes at those widths (LeNet-5: 150 + 2,400 + 48,000 + 10,080 + 840 weights)
    out = run("workload", "stats", "lenet5", "--precision", str(f), "--format", "json")
    assert json.loads(out.output)["totals"]["model_bytes"] == 150 * 4 // 8 + (2400 + 48000 + 10080) + 840 * 2 // 8


@pytest.mark.parametrize("spec, words", [
    ("weights=0", "weights: a bit width must be an integer from 1 to 32, got 0"),
    ("weights=33", "got 33"),
    ("inputs=7.5", "got '7.5'"),
    ("psums=8", "roles weights, inputs, outputs, mac, accumulator"),
    ("outputs=16,accumulator=8", "accumulator width 8 is narrower than the 16-bit outputs"),
])
def test_bad_precision_text_one_line(spec, words):
    out = run("workload", "stats", "lenet5", "--precision", spec)
    assert out.exit_code != 0 and words in out.output and "Traceback" not in out.output
    assert len(out.output.strip().splitlines()) == 1


@pytest.mark.parametrize("text, words", [
    ("layers:\n  conv9: {weights: 4}\n", "'conv9': no such layer in 'lenet5'"),
    ("layers:\n  conv1: {psums: 4}\n", "layers.conv1.psums: no such tensor role"),
    ("default: {weights: 0}\n", "default.weights: a bit width must be an integer from 1 to 32, got 0"),
    ("default: {weights: 4.0}\n", "got 4.0"),
    ("nonsense: 1\n", "expected a mapping with 'default' and/or 'layers'"),
    ("layers: [1, 2\n", "not valid YAML"),
])
def test_bad_precision_file_one_line(tmp_path, text, words):
    f = tmp_path / "p.yaml"
    f.write_text(text)
    out = run("workload", "stats", "lenet5", "--precision", str(f))
    assert out.exit_code != 0 and words in out.output and "Traceback" not in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_a_layer_command_rejects_another_layers_entry(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("layers:\n  layer1.0.conv1: {weights: 4}\n")
    out = run(*MODEL, "--precision", str(f))
    assert out.exit_code != 0 and "no such layer (the layer is 'layer1.0.conv2')" in out.output


def test_precision_errors_in_the_library():
    with pytest.raises(PrecisionError, match="no such layer"):
        apply_precision(load_network("lenet5"), Precision(), {"nope": Precision(weights=4)})


# ---------------------------------------------------------------- quantized ONNX
onnx = pytest.importorskip("onnx")
from onnx import TensorProto as T  # noqa: E402
from onnx import helper as h  # noqa: E402


def _init(name, dtype, dims, vals=None):
    return T(name=name, data_type=dtype, dims=list(dims)) if vals is None else h.make_tensor(name, dtype, dims, vals)


def test_qlinear_and_integer_ops_import_with_their_widths(tmp_path):
    # QLinearConv: uint8 x, int8 w, uint8 y (y_zero_point), int32 accumulation by the operator's
    # definition; MatMulInteger: uint8 x int8 -> int32 outputs.
    inits = [_init("w", T.INT8, (4, 3, 3, 3)), _init("xs", T.FLOAT, [], [0.1]), _init("xz", T.UINT8, [], [0]),
             _init("ws", T.FLOAT, [], [0.1]), _init("wz", T.INT8, [], [0]), _init("ys", T.FLOAT, [], [0.1]),
             _init("yz", T.UINT8, [], [0]), _init("b", T.INT8, (256, 10)), _init("bz", T.INT8, [], [0]),
             _init("az", T.UINT8, [], [0])]
    nodes = [h.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"], name="qconv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             h.make_node("Flatten", ["y"], ["f"], name="flat"),
             h.make_node("MatMulInteger", ["f", "b", "az", "bz"], ["z"], name="mmi")]
    g = h.make_graph(nodes, "q", [h.make_tensor_value_info("x", T.UINT8, [1, 3, 8, 8])],
                     [h.make_tensor_value_info("z", T.INT32, None)], inits)
    path = tmp_path / "q.onnx"
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), str(path))
    net = load_network(str(path))
    assert not net.unsupported
    widths = {p.name: {t.role: (t.bits, t.mac_bits) for t in p.tensors} for p in net.layers}
    assert widths == {"qconv": {"inputs": (8, 8), "weights": (8, 8), "outputs": (8, 32)},
                      "mmi": {"inputs": (8, 8), "weights": (8, 8), "outputs": (32, 32)}}
    assert [p.kind for p in net.layers] == ["conv", "fc"] and net.layers[1].dims["C"] == 256


def test_qdq_graph_imports_per_tensor_widths(tmp_path):
    # x (float) -> QuantizeLinear (uint8) -> DequantizeLinear -> Conv <- DequantizeLinear <- int4
    # weights; the Conv's output -> QuantizeLinear with a uint16 zero point: inputs 8, weights 4,
    # outputs 16 bits. The weights' DequantizeLinear folds into the constant.
    inits = [_init("w", T.INT4, (4, 3, 3, 3)), _init("ws", T.FLOAT, [], [0.1]), _init("wz", T.INT4, [], [0]),
             _init("xs", T.FLOAT, [], [0.1]), _init("xz", T.UINT8, [], [0]), _init("ys", T.FLOAT, [], [0.1]),
             _init("yz", T.UINT16, [], [0])]
    nodes = [h.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="qx"),
             h.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], name="dqx"),
             h.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"], name="dqw"),
             h.make_node("Conv", ["xd", "wd"], ["y"], name="conv", kernel_shape=[3, 3]),
             h.make_node("QuantizeLinear", ["y", "ys", "yz"], ["yq"], name="qy")]
    g = h.make_graph(nodes, "qdq", [h.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])],
                     [h.make_tensor_value_info("yq", T.UINT16, None)], inits)
    path = tmp_path / "qdq.onnx"
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 21)]), str(path))
    net = load_network(str(path))
    (conv,) = net.layers
    assert {t.role: t.bits for t in conv.tensors} == {"inputs": 8, "weights": 4, "outputs": 16}
    assert conv.tensor("outputs").mac_bits == 32
    assert [o.kind for o in net.ops] == ["quantize"] * 3  # qx, dqx, qy; dqw folded
    # the model size: 4 * 3 * 3 * 3 = 108 int4 weights = 54 bytes
    out = run("workload", "stats", str(path), "--format", "json")
    assert json.loads(out.output)["totals"]["model_bytes"] == 54


def test_wider_tensors_than_the_design_computes_on_are_warned_about(capsys):
    # zoo networks are 16-bit; tpu-v1 computes on 8-bit operands (Jouppi et al., ISCA 2017)
    from loopnest.arch import load_arch
    from loopnest.cli.common import warn_wider
    from loopnest.workload import load_network

    net = load_network("lenet5")
    warn_wider(net, load_arch("tpu-v1"))
    err = capsys.readouterr().err
    assert "16-bit" in err and "--precision weights=8,inputs=8,outputs=8" in err
    warn_wider(net, load_arch("eyeriss"))  # 16-bit design: nothing to say
    assert capsys.readouterr().err == ""
