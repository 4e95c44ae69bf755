"""ONNX importer: graphs built here with onnx.helper (no downloads) must give the same per-layer
statistics and layer graph as the zoo; unsupported and malformed input is reported clearly.

The ResNet-50 and MobileNet-v2 graphs below are written from the papers' tables (He et al.
2016, Table 1; Sandler et al. 2018, Table 2) in the way exporters emit them (Conv, BN, Relu or
Clip, Add, pools, Flatten, Gemm). Initializers carry shapes only (no values): the importer
reads dims, and this keeps a 25M-parameter model out of the test's memory and disk.
"""

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper

from loopnest.workload import WorkloadError, load_network
from loopnest.workload.stats import network_stats


class Graph:
    """Tiny ONNX graph writer that tracks NCHW shapes only where a node needs them."""

    def __init__(self, input_shape, batch=1):
        self.nodes, self.inits = [], []
        self.input = helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, *input_shape])
        self.channels = {"image": input_shape[0]}

    def init(self, name, dims):
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(dims))
        self.inits.append(t)
        return name

    def node(self, op, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def conv(self, name, x, M, k, stride=1, pad=0, group=1, bn=True, act="Relu"):
        C = self.channels[x]
        w = self.init(f"{name}.weight", (M, C // group, k, k))
        y = self.node("Conv", [x, w], name, kernel_shape=[k, k], strides=[stride, stride],
                      pads=[pad] * 4, group=group)
        if bn:
            ps = [self.init(f"{name}.bn.{p}", (M,)) for p in ("scale", "bias", "mean", "var")]
            y = self.node("BatchNormalization", [y, *ps], f"{name}.bn")
        if act == "Relu":
            y = self.node("Relu", [y], f"{name}.relu")
        elif act == "Clip":
            lo, hi = self.init(f"{name}.min", ()), self.init(f"{name}.max", ())
            y = self.node("Clip", [y, lo, hi], f"{name}.relu6")
        self.channels[y] = M
        return y

    def head(self, x, classes, name):
        C = self.channels[x]
        y = self.node("Flatten", [self.node("GlobalAveragePool", [x], "avgpool")], "flatten")
        w, b = self.init(f"{name}.weight", (classes, C)), self.init(f"{name}.bias", (classes,))
        return self.node("Gemm", [y, w, b], name, transB=1)

    def save(self, path, out):
        g = helper.make_graph(self.nodes, "g", [self.input],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], self.inits)
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
        return path


def resnet50_onnx(path, batch=1):
    g = Graph((3, 224, 224), batch)
    x = g.conv("conv1", "image", 64, 7, 2, 3)
    x = g.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    g.channels[x] = 64
    for stage, (mid, n, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], 1):
        for i in range(n):
            p, s = f"layer{stage}.{i}", stride if i == 0 else 1
            y = g.conv(f"{p}.conv1", x, mid, 1, s)
            y = g.conv(f"{p}.conv2", y, mid, 3, 1, 1)
            y = g.conv(f"{p}.conv3", y, 4 * mid, 1, act=None)
            short = g.conv(f"{p}.downsample", x, 4 * mid, 1, s, act=None) if i == 0 else x
            x = g.node("Relu", [g.node("Add", [y, short], f"{p}.add")], f"{p}.relu")
            g.channels[x] = 4 * mid
    return g.save(path, g.head(x, 1000, "fc"))


def mobilenet_v2_onnx(path):
    g = Graph((3, 224, 224))
    x = g.conv("features.0", "image", 32, 3, 2, 1, act="Clip")
    idx = 1
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            p, C, stride = f"features.{idx}", g.channels[x], s if i == 0 else 1
            y = g.conv(f"{p}.expand", x, C * t, 1, act="Clip") if t > 1 else x
            y = g.conv(f"{p}.dw", y, C * t, 3, stride, 1, group=C * t, act="Clip")
            y = g.conv(f"{p}.project", y, c, 1, act=None)
            if stride == 1 and C == c:
                y = g.node("Add", [x, y], f"{p}.add")
                g.channels[y] = c
            x, idx = y, idx + 1
    x = g.conv(f"features.{idx}", x, 1280, 1, act="Clip")
    return g.save(path, g.head(x, 1000, "classifier"))


def per_layer(net):
    return {s.name: (s.kind, s.macs, s.weights, s.input_activations, s.output_activations)
            for s in network_stats(net).layers}


@pytest.mark.parametrize("model,build", [("resnet50", resnet50_onnx), ("mobilenet_v2", mobilenet_v2_onnx)])
def test_onnx_matches_zoo(tmp_path, model, build):
    path = build(tmp_path / f"{model}.onnx")
    imported, zoo = load_network(path, batch=2), load_network(model, batch=2)
    assert per_layer(imported) == per_layer(zoo)
    assert imported.layer_edges() == zoo.layer_edges()
    assert not imported.unsupported
    assert {o.kind for o in imported.ops} >= {"norm", "activation", "add", "pool"}


def test_symbolic_batch_axis_is_fixed_to_one(tmp_path):
    g = Graph((8, 10, 10), batch="N")
    y = g.conv("c", "image", 16, 3, pad=1, bn=False, act=None)
    net = load_network(g.save(tmp_path / "m.onnx", y), batch=3)
    assert net.batch == 3 and net.layers[0].dims["N"] == 3
    assert net.layers[0].macs == 3 * 16 * 8 * 10 * 10 * 9


def _model(path, nodes, inputs, output, inits=()):
    g = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
                          list(inits))
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_matmul_kinds_and_same_padding(tmp_path):
    # tokens [1, 16, 64] @ W[64, 32] (constant) -> matmul; then scores = h @ h^T (both
    # activations) -> attention with N=1, G=1, P=16, M=16, C=32; SAME_UPPER conv keeps 7x7.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 64])
    img = helper.make_tensor_value_info("img", TensorProto.FLOAT, [1, 4, 7, 7])
    inits = [TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[64, 32]),
             TensorProto(name="K", data_type=TensorProto.FLOAT, dims=[4, 4, 3, 3])]
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"], name="proj"),
             helper.make_node("Transpose", ["h"], ["ht"], name="t", perm=[0, 2, 1]),
             helper.make_node("MatMul", ["h", "ht"], ["s"], name="scores"),
             helper.make_node("Conv", ["img", "K"], ["c"], name="conv", auto_pad="SAME_UPPER", strides=[2, 2])]
    net = load_network(_model(tmp_path / "m.onnx", nodes, [x, img], "s", inits))
    proj, scores, conv = net.layers
    assert proj.kind == "matmul" and dict(proj.dims) == {"N": 1, "P": 16, "M": 32, "C": 64}
    assert scores.kind == "attention" and dict(scores.dims) == {"N": 1, "G": 1, "P": 16, "M": 16, "C": 32}
    # SAME_UPPER stride 2 on 7: output ceil(7/2) = 4, total pad (4-1)*2 + 3 - 7 = 2, 1 each side
    assert (conv.dims["P"], conv.attrs["padding"]) == (4, (1, 1, 1, 1))
    assert net.node("scores").inputs == ("proj", "t")


def test_unsupported_ops_reported_once_with_count(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 4, 2, 2])
    nodes = [helper.make_node("ConvTranspose", ["x", "W"], ["a"], name="up1", strides=[2, 2]),
             helper.make_node("ConvTranspose", ["a", "W"], ["b"], name="up2", strides=[2, 2]),
             helper.make_node("Relu", ["b"], ["y"], name="relu")]
    net = load_network(_model(tmp_path / "m.onnx", nodes, [x], "y", [w]))
    assert dict(net.unsupported) == {"ConvTranspose": ("up1", "up2")}
    assert [n.name for n in net.nodes] == ["up1", "up2", "relu"]  # kept in the graph, not dropped
    assert net.node("relu").inputs == ("up2",)


def test_malformed_and_missing_files(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\xffnot a protobuf at all")
    with pytest.raises(WorkloadError, match=r"bad\.onnx: not a valid ONNX model"):
        load_network(bad)
    with pytest.raises(WorkloadError, match=r"nope\.onnx: file not found"):
        load_network(tmp_path / "nope.onnx")
    sym = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "seq", 8])
    path = _model(tmp_path / "sym.onnx", [helper.make_node("Relu", ["x"], ["y"], name="r")], [sym], "y")
    with pytest.raises(WorkloadError, match="sym.onnx: graph input 'x' axis 1 has no fixed size"):
        load_network(path)


def _conv_model(path, xshape, wshape, name="conv", **attrs):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, xshape)
    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=wshape)
    return _model(path, [helper.make_node("Conv", ["x", "W"], ["y"], name=name, **attrs)], [x], "y", [w])


# fuzz findings: each of these raised LayerError, ValueError, TypeError or IndexError out of the
# importer; each is now one line naming the file, the node and the problem
@pytest.mark.parametrize("wshape,attrs,message", [
    ([8, 2, 3, 3], {"group": 3}, "node 'conv' (Conv): group=3 does not match input channels C=8, filters M=8 and weight channels 2"),
    ([6, 2, 3, 3], {"group": 4}, "node 'conv' (Conv): group=4 does not match input channels C=8, filters M=6"),
    ([8, 8, 3, 3], {"group": 0}, "node 'conv' (Conv): attribute group is 0; allowed: an integer >= 1"),
    ([8, 8, 3, 3], {"group": -2}, "node 'conv' (Conv): attribute group is -2; allowed: an integer >= 1"),
    ([8, 2, 3, 3], {"group": "four"}, "node 'conv' (Conv): attribute group is 'four'; allowed: an integer >= 1"),
    ([8, 8, 3, 3], {"strides": [0, 0]}, "node 'conv' (Conv): attribute strides is [0, 0]; allowed: a list of 2 integers >= 1"),
    ([8, 8, 3, 3], {"pads": [1, 1, 1]}, "node 'conv' (Conv): attribute pads is [1, 1, 1]; allowed: a list of 4 integers >= 0"),
    ([8, 8, 3, 3], {"auto_pad": "SAME", "strides": [2, 2]}, "node 'conv' (Conv): attribute auto_pad is 'SAME'; allowed: NOTSET, SAME_UPPER, SAME_LOWER, VALID"),
    ([8, 8, 3, 3], {"kernel_shape": [5, 5]}, "node 'conv' (Conv): kernel_shape [5, 5] disagrees with the weight's [3, 3]"),
    ([8, 8, 9, 9], {}, "node 'conv' (Conv): window 9 (dilation 1) larger than padded input 8"),
    ([0, 8, 3, 3], {}, "node 'conv' (Conv): weight 'W' has a zero-size axis: shape (0, 8, 3, 3)"),
    ([8, 8, 3], {}, "node 'conv' (Conv): weight 'W' has shape (8, 8, 3); a 2-D Conv needs rank 4"),
])
def test_malformed_conv_nodes_are_one_error_line(tmp_path, wshape, attrs, message):
    path = _conv_model(tmp_path / "m.onnx", [1, 8, 8, 8], wshape, **attrs)
    with pytest.raises(WorkloadError) as e:
        load_network(path)
    assert str(e.value).startswith(f"{path}: {message}"), str(e.value)


def test_valid_grouped_conv_still_imports(tmp_path):
    # group 4 over C = 8: 2 channels per group in the weight, M = 8 filters, 2 per group
    net = load_network(_conv_model(tmp_path / "m.onnx", [1, 8, 8, 8], [8, 2, 3, 3], group=4, pads=[1, 1, 1, 1]))
    (conv,) = net.layers
    assert (conv.dims["G"], conv.dims["M"], conv.dims["C"], conv.dims["P"]) == (4, 2, 2, 8)


def test_node_name_not_utf8_is_one_error_line(tmp_path):
    # protobuf hands an invalid UTF-8 string field over as bytes; it reached the JSON output
    # ("Object of type bytes is not JSON serializable"). The 6-byte name is patched in place.
    from typer.testing import CliRunner

    from loopnest.cli import app

    path = _conv_model(tmp_path / "m.onnx", [1, 8, 8, 8], [8, 8, 3, 3], name="convQQ")
    raw = path.read_bytes()
    assert raw.count(b"convQQ") == 1
    path.write_bytes(raw.replace(b"convQQ", b"conv\xff\xfe"))
    with pytest.raises(WorkloadError, match=r"m\.onnx: node #0 \(Conv\): name b'conv\\xff\\xfe' is not valid UTF-8"):
        load_network(path)
    out = CliRunner().invoke(app, ["workload", "stats", str(path), "--format", "json"])
    assert out.exit_code == 2 and out.stdout == "" and len(out.stderr.strip().splitlines()) == 1, out.output


def test_attribute_of_the_wrong_type_on_other_operators(tmp_path):
    # the same typed reading covers LRN and Gemm (and pooling): a string where ONNX wants an integer
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    lrn = helper.make_node("LRN", ["x"], ["y"], name="lrn", size="five")
    with pytest.raises(WorkloadError, match=r"node 'lrn' \(LRN\): attribute size is 'five'; allowed: an integer >= 1"):
        load_network(_model(tmp_path / "n.onnx", [lrn], [x], "y"))
    v = helper.make_tensor_value_info("v", TensorProto.FLOAT, [2, 4])
    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[3, 4])
    gemm = helper.make_node("Gemm", ["v", "W"], ["y"], name="fc", transB="yes")
    with pytest.raises(WorkloadError, match=r"node 'fc' \(Gemm\): attribute transB is 'yes'; allowed: an integer >= 0"):
        load_network(_model(tmp_path / "g.onnx", [gemm], [v], "y", [w]))


def _shuffle_nodes(split, perm, back):
    """Reshape [1, 8, 6, 6] -> split, Transpose(perm), Reshape -> back: torchvision's ShuffleNet
    ``channel_shuffle`` as its ONNX export writes it (shape constants as initializers)."""
    shape = lambda n, v: helper.make_tensor(n, TensorProto.INT64, [len(v)], v)
    nodes = [helper.make_node("Reshape", ["x", "s1"], ["a"], name="r1"),
             helper.make_node("Transpose", ["a"], ["b"], name="t", perm=perm),
             helper.make_node("Reshape", ["b", "s2"], ["y"], name="r2")]
    return nodes, [shape("s1", split), shape("s2", back)]


@pytest.mark.parametrize("split,perm,back,kind", [
    ([1, 2, 4, 6, 6], [0, 2, 1, 3, 4], [1, 8, 6, 6], "shuffle"),  # channel c = g*4 + i moves to i*2 + g
    ([1, 2, 4, 6, 6], [0, 1, 2, 4, 3], [1, 8, 6, 6], "reshape"),  # spatial transpose: not a shuffle
    ([1, 2, 4, 6, 6], [0, 2, 1, 3, 4], [1, 8, 36], "reshape"),    # not reshaped back: not the pattern
    ([1, 1, 8, 6, 6], [0, 2, 1, 3, 4], [1, 8, 6, 6], "reshape"),  # one group: moves nothing
])
def test_reshape_transpose_reshape_channel_shuffle(tmp_path, split, perm, back, kind):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 6, 6])
    nodes, inits = _shuffle_nodes(split, perm, back)
    net = load_network(_model(tmp_path / "m.onnx", nodes, [x], "y", inits), batch=2)
    t = net.node("t").op
    assert [net.node(n).op.kind for n in ("r1", "t", "r2")] == ["reshape", kind, "reshape"]
    if kind == "shuffle":  # every element copied once: 8*6*6 = 288 per sample, 2 samples
        assert t.copies and t.elem_ops == 0 and t.attrs["groups"] == 2
        assert (t.input_elements, t.output_elements) == (576, 576)


def test_exported_channel_shuffle_costs_as_the_builder_shuffle(tmp_path):
    """A small torch model with torchvision's ``channel_shuffle`` (view, transpose, contiguous,
    view), exported by torch.onnx: its Transpose is a shuffle that costs what ``Builder.shuffle``
    of the same tensor costs (model.elementwise), and the network's copied elements are 8*6*6."""
    torch = pytest.importorskip("torch")
    from loopnest.arch import load_arch
    from loopnest.model.elementwise import evaluate_element_op
    from loopnest.workload.builder import Builder

    class Shuffle(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(8, 8, 1)

        def forward(self, x):
            x = self.conv(x)
            b, c, h, w = x.size()
            x = torch.transpose(x.view(b, 2, c // 2, h, w), 1, 2).contiguous()
            return x.view(b, -1, h, w)

    path = tmp_path / "shuffle.onnx"
    try:
        torch.onnx.export(Shuffle().eval(), (torch.zeros(1, 8, 6, 6),), str(path), dynamo=False)
    except Exception as e:  # the TorchScript exporter is deprecated and may be gone
        pytest.skip(f"torch.onnx.export unavailable: {type(e).__name__}")
    net = load_network(path)
    (shuffle,) = [o for o in net.ops if o.kind == "shuffle"]
    assert [o.kind for o in net.ops] == ["reshape", "shuffle", "reshape"]
    b = Builder("ref", {"input": (8, 6, 6)})
    b.shuffle("s", b.conv("conv", "input", 8, 1), 2)
    ref = b.build().node("s").op
    arch = load_arch("eyeriss")
    assert (shuffle.input_elements, shuffle.output_elements) == (ref.input_elements, ref.output_elements) == (288, 288)
    ours, theirs = evaluate_element_op(shuffle, arch), evaluate_element_op(ref, arch)
    assert (ours.energy_pj, ours.cycles, ours.accesses) == (theirs.energy_pj, theirs.cycles, theirs.accesses)


def test_dilations_reach_the_input_index(tmp_path):
    """A 3 x 3 Conv with dilations 2 and stride 2 on 17 x 17, no padding (the ONNX ``dilations``
    attribute): window 2 * (3 - 1) + 1 = 5, P = (17 - 5) // 2 + 1 = 7; the input row is 2p + 2r."""
    g = Graph((4, 17, 17))
    w = g.init("conv.weight", (8, 4, 3, 3))
    y = g.node("Conv", ["image", w], "conv", kernel_shape=[3, 3], strides=[2, 2], dilations=[2, 2], pads=[0] * 4)
    (layer,) = load_network(g.save(tmp_path / "d.onnx", y)).layers
    assert (layer.dims["P"], layer.dims["Q"], layer.dims["R"]) == (7, 7, 3)
    assert {"P": 2, "R": 2} in [dict(i) for i in layer.tensor("inputs").indices]
