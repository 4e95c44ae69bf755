"""Layer constructors: dimensions, sliding-window sizes, tensor sizes, kinds, shape keys.

Expected values are derived by hand in each test (formula written out) or taken from the
Eyeriss tutorial slides (seed 000, "AlexNet Convolutional Layer Configurations").
"""

import pytest

from loopnest.workload import layers as L
from loopnest.workload.stats import layer_stats

CONV_DIMS = ("N", "G", "M", "C", "P", "Q", "R", "S")


def test_alexnet_conv1_matches_the_slide():
    # seed 000, AlexNet layer 1: 11x11 filters, 96 filters, 3 channels, stride 4 on 227x227;
    # the slide prints "34k Params, 105M MACs".
    p = L.conv2d("conv1", C=3, M=96, H=227, W=227, R=11, stride=4)
    assert tuple(p.dims) == CONV_DIMS
    assert p.dims["P"] == p.dims["Q"] == (227 - 11) // 4 + 1 == 55
    assert p.macs == 55 * 55 * 96 * 3 * 11 * 11 == 105_415_200
    s = layer_stats(p)
    assert s.weights == 96 * 3 * 11 * 11 == 34_848
    assert round(s.weights / 1e3) == 35 and round(s.macs / 1e6) == 105  # slide: 34k (truncated), 105M
    assert s.input_activations == 3 * 227 * 227 and s.output_activations == 96 * 55 * 55


def test_grouped_conv_counts_per_group_channels():
    # AlexNet layer 2 (seed 000: 5x5, 256 filters, 48 channels): two groups of 128 filters over
    # 48 of the 96 input channels each; the slide prints "307k Params, 224M MACs".
    p = L.conv2d("conv2", C=96, M=256, H=27, W=27, R=5, padding=2, groups=2)
    assert (p.dims["G"], p.dims["M"], p.dims["C"]) == (2, 128, 48)
    assert p.dims["P"] == 27 + 2 * 2 - 5 + 1 == 27
    assert layer_stats(p).weights == 256 * 48 * 25 == 307_200
    assert p.macs == 27 * 27 * 256 * 48 * 25 == 223_948_800
    assert p.tensor("weights").static and not p.attrs["depthwise"]


def test_depthwise_conv():
    # depthwise 3x3 stride 2 on 32 channels of 112x112 with pad 1 (MobileNet-v1 conv2 dw):
    # P = floor((112 + 2 - 3) / 2) + 1 = 56; MACs = 32 * 56 * 56 * 9; weights 32 * 9.
    p = L.depthwise("dw", C=32, H=112, W=112, R=3, stride=2, padding=1)
    assert (p.dims["G"], p.dims["M"], p.dims["C"], p.dims["P"]) == (32, 1, 1, 56)
    assert p.attrs["depthwise"] and p.kind == "conv"
    assert p.macs == 32 * 56 * 56 * 9
    assert layer_stats(p).weights == 32 * 9


def test_padding_halo_and_true_extent():
    # ResNet-50 conv1: 7x7 stride 2 pad 3 on 224: P = floor((224 + 6 - 7) / 2) + 1 = 112.
    # The touched input rows are (P-1)*2 + (R-1) + 1 = 229 (padding included, halo rule);
    # statistics count the real 224 rows.
    p = L.conv2d("conv1", C=3, M=64, H=224, W=224, R=7, stride=2, padding=3)
    x = p.tensor("inputs")
    assert p.dims["P"] == 112
    assert x.extent(p.dims, 3) == 111 * 2 + 6 + 1 == 229
    assert p.size(x) == 3 * 229 * 229
    assert p.true_size(x) == layer_stats(p).input_activations == 3 * 224 * 224


def test_dilation_and_asymmetric_padding():
    # dilation 2, 3x3 on 10x10, no padding: effective window 2*(3-1)+1 = 5 -> P = 10 - 5 + 1 = 6.
    p = L.conv2d("d", C=1, M=1, H=10, W=10, R=3, dilation=2)
    assert p.dims["P"] == 6 and p.tensor("inputs").extent(p.dims, 3) == 5 * 1 + 4 + 1 == 10
    # TF "same" stride 2 on 7: pad (top 0, left 0, bottom 1, right 1) -> P = floor((7+1-3)/2)+1 = 3
    q = L.conv2d("s", C=1, M=1, H=7, W=7, R=3, stride=2, padding=(0, 0, 1, 1))
    assert q.dims["P"] == q.dims["Q"] == 3


def test_relevant_dimensions_of_conv():
    p = L.conv2d("c", C=4, M=8, H=8, W=8, R=3)
    assert set(p.relevant(p.tensor("weights"))) == {"G", "M", "C", "R", "S"}
    assert set(p.irrelevant(p.tensor("weights"))) == {"N", "P", "Q"}
    assert set(p.irrelevant(p.tensor("inputs"))) == {"M"}
    assert set(p.irrelevant(p.tensor("outputs"))) == {"C", "R", "S"}


def test_fc_and_matmul():
    # FC after AlexNet's last pool: C = 256*6*6 = 9216 -> M = 4096 at batch 4.
    f = L.fc("fc6", C=256 * 6 * 6, M=4096, N=4, input_shape=(256, 6, 6))
    assert tuple(f.dims) == ("N", "M", "C")
    assert f.macs == 4 * 4096 * 9216 and layer_stats(f).weights == 4096 * 9216
    # transformer projection: 128 tokens x 768 -> 3072 for 2 sequences; weights shared.
    m = L.matmul("ffn", N=2, P=128, M=3072, C=768)
    s = layer_stats(m)
    assert tuple(m.dims) == ("N", "P", "M", "C") and m.kind == "matmul"
    assert s.macs == 2 * 128 * 3072 * 768 and s.weights == 3072 * 768
    assert s.input_activations == 2 * 128 * 768 and s.output_activations == 2 * 128 * 3072
    # activation x activation: the second operand has one copy per batch item, counted as activation
    d = layer_stats(L.matmul("bmm", N=2, P=4, M=5, C=3, static=False))
    assert d.weights == 0 and d.input_activations == 2 * 4 * 3 + 2 * 5 * 3


def test_attention_products():
    # BERT-base, 128 tokens, 12 heads of 64: Q.K^T has 12*128*128*64 MACs; Q and K (12*128*64
    # each) are activations, not weights. A.V: same MACs, A is 12*128*128, V 12*128*64.
    qk = L.attention_scores("qk", heads=12, queries=128, keys=128, head_dim=64)
    av = L.attention_context("av", heads=12, queries=128, keys=128, head_dim=64)
    assert tuple(qk.dims) == ("N", "G", "P", "M", "C") and qk.kind == av.kind == "attention"
    s, t = layer_stats(qk), layer_stats(av)
    assert s.macs == t.macs == 12 * 128 * 128 * 64
    assert s.weights == t.weights == 0
    assert s.input_activations == 2 * 12 * 128 * 64 and s.output_activations == 12 * 128 * 128
    assert t.input_activations == 12 * 128 * 128 + 12 * 128 * 64 and t.output_activations == 12 * 128 * 64
    assert not qk.tensor("weights").static


def test_product_from_operand_shapes():
    assert L.product("g", (8, 512), (512, 10), True).kind == "fc"
    m = L.product("l", (2, 128, 768), (768, 3072), True)
    assert m.kind == "matmul" and (m.dims["N"], m.dims["P"], m.dims["M"], m.dims["C"]) == (2, 128, 3072, 768)
    a = L.product("qk", (2, 12, 128, 64), (2, 12, 64, 128), False)
    assert a.kind == "attention" and dict(a.dims) == {"N": 2, "G": 12, "P": 128, "M": 128, "C": 64}
    with pytest.raises(L.LayerError, match="do not multiply"):
        L.product("bad", (2, 3), (4, 5), True)
    with pytest.raises(L.LayerError, match="broadcast"):
        L.product("bad", (2, 12, 8, 4), (4, 8), False)


def test_bits_argument():
    s = layer_stats(L.fc("f", C=10, M=10, bits=8))
    # 100 weights + 10 inputs + 10 outputs, one byte each
    assert s.min_traffic_bytes == 120


def test_bad_layers_are_rejected():
    with pytest.raises(L.LayerError, match="divide by groups"):
        L.conv2d("c", C=6, M=8, H=8, W=8, R=3, groups=4)
    with pytest.raises(L.LayerError, match="larger than padded input"):
        L.conv2d("c", C=1, M=1, H=2, W=2, R=5)
    with pytest.raises(L.LayerError, match="stride"):
        L.conv2d("c", C=1, M=1, H=8, W=8, R=3, stride=0)


def test_pool_ceil_rule():
    # Caffe ceil rule: 3x3 stride 2 on 112 -> ceil((112-3)/2)+1 = 56 (floor gives 55);
    # SqueezeNet 1.0 pool1 on 109: (109-3)/2+1 = 54 both ways.
    assert L.conv_out_size(112, 3, 2, 1, 0, 0, ceil_mode=True) == 56
    assert L.conv_out_size(112, 3, 2, 1, 0, 0) == 55
    assert L.conv_out_size(109, 3, 2, 1, 0, 0, ceil_mode=True) == 54
    # a last window that would start in the padding is dropped (PyTorch rule): 5, k2 s2 pad 1
    # -> ceil((5+2-2)/2)+1 = 4, but window 4 starts at 6 >= 5+1, so 3.
    assert L.conv_out_size(5, 2, 2, 1, 1, 1, ceil_mode=True) == 3


def test_shape_key_identifies_identical_loop_nests():
    a = L.conv2d("a", C=64, M=64, H=56, W=56, R=3, padding=1)
    b = L.conv2d("b", C=64, M=64, H=56, W=56, R=3, padding=1)
    c = L.conv2d("c", C=64, M=64, H=56, W=56, R=3, padding=1, stride=2)
    assert a.shape_key() == b.shape_key() != c.shape_key()
    assert a.shape_key() != a.with_dims(N=2).shape_key()
    assert isinstance(a.shape_key(), str) and len(a.shape_key()) == 16


# ----- YAML layer specs (loopnest model --layer / loopnest eyexam): one pydantic schema per
# constructor; fuzz findings: `type: [conv2d]` raised TypeError, a size >= 2^63 OverflowError ---------

BASE = "type: conv2d, C: 4, M: 4, H: 8, W: 8, R: 3"


@pytest.mark.parametrize("body,message", [
    ("type: [conv2d], C: 4, M: 4, H: 8, W: 8, R: 3",
     "field layer.type: Input should be 'conv2d', 'pointwise', 'depthwise', 'fc', 'matmul' or 'einsum' (got ['conv2d'])"),
    ("type: fc, C: 9223372036854775808, M: 4", "field layer.C: Input should be less than or equal to 9223372036854775807"),
    ("type: fc, C: 4.0, M: 4", "field layer.C: Input should be a valid integer (got 4.0)"),
    ("type: fc, C: true, M: 4", "field layer.C: Input should be a valid integer (got True)"),
    ("type: fc, C: '4', M: 4", "field layer.C: Input should be a valid integer (got '4')"),
    ("type: fc, C: 0, M: 4", "field layer.C: Input should be greater than or equal to 1 (got 0)"),
    ("type: fc, C: 4, M: 4, input_shape: [4, 0]", "field layer.input_shape[1]: Input should be greater than or equal to 1"),
    ("type: matmul, P: 2, M: 2, C: 2, static: 1", "field layer.static: Input should be a valid boolean (got 1)"),
    (BASE + ", stride: [1, 0]", "field layer.stride[1]: Input should be greater than or equal to 1 (got 0)"),
    (BASE + ", stride: 1.5", "field layer.stride: Input should be a valid tuple (got 1.5); allowed: an integer from 1"),
    (BASE + ", padding: [1, 1, 1]", "field layer.padding: a list of 3 items, not 2 or 4 (got [1, 1, 1])"),
    (BASE + ", padding: -1", "field layer.padding[0]: Input should be greater than or equal to 0"),
    (BASE + ", foo: 1", "field layer.foo: unknown for conv2d; allowed: name, N, bits, C, M, H, W, R, S, stride"),
    ("type: conv2d, C: 4, M: 4, H: 8, W: 8", "field layer.R: required field is missing"),
    ("C: 4", "field layer.type: required field is missing; allowed: conv2d, pointwise, depthwise, fc, matmul"),
    (BASE + ", groups: 3", "layer: layer 'spec': channels C=4, M=4 must divide by groups=3"),
    (BASE + ", name: ''", "field layer.name: String should have at least 1 character"),
])
def test_layer_spec_errors_name_the_file_and_the_field(tmp_path, body, message):
    from loopnest.workload.layer_ref import LayerRefError, load_layer

    path = tmp_path / "spec.yaml"
    path.write_text(f"layer: {{{body}}}\n")
    with pytest.raises(LayerRefError) as e:
        load_layer(str(path))
    assert str(e.value).startswith(f"{path}: ") and message in str(e.value), str(e.value)


def test_layer_spec_builds_what_the_constructor_builds(tmp_path):
    from loopnest.workload.layer_ref import load_layer

    path = tmp_path / "c.yaml"
    path.write_text("layer: {type: conv2d, C: 4, M: 8, H: 8, W: 8, R: 3, padding: [1, 2], stride: [1, 2], bits: 8}\n")
    # padding [h, w] = (top h, left w, bottom h, right w); Q = (8 + 2 + 2 - 3) // 2 + 1 = 5
    assert load_layer(str(path)) == L.conv2d("c", C=4, M=8, H=8, W=8, R=3, padding=(1, 2), stride=(1, 2), bits=8)
    path.write_text("layer: {type: matmul, name: proj, P: 16, M: 32, C: 64, static: false}\n")
    assert load_layer(str(path)) == L.matmul("proj", P=16, M=32, C=64, static=False)


def test_layer_spec_schemas_follow_the_constructors():
    # one schema per constructor, with exactly its keyword arguments (no drift when one changes)
    import inspect

    from loopnest.workload.layer_ref import SPECS

    for kind, (model, build) in SPECS.items():
        assert build.__name__ == kind
        assert set(model.model_fields) - {"type"} == set(inspect.signature(build).parameters), kind
