"""Model zoo against published figures.

Sources:
- seed 000 (Eyeriss tutorial), table "Summary of Popular DNNs": # of CONV/FC weights and MACs
  and totals of LeNet-5, AlexNet, VGG-16, GoogLeNet v1 and ResNet-50, printed to 2-3 digits.
- Howard et al. 2017 (MobileNets), 1.0 MobileNet-224: 569M mult-adds, 4.2M parameters.
- Sandler et al. 2018 (MobileNetV2), Table 4: 300M MAdds, 3.4M parameters.
- torchvision model documentation: parameter counts (which include biases and batch-norm
  scale/shift) and "GFLOPS" (which are multiply-accumulates): vgg16 138,357,544 / 15.47,
  resnet50 25,557,032, mobilenet_v2 3,504,872 / 0.30, squeezenet1_0 1,248,424 / 0.82,
  squeezenet1_1 1,235,496 / 0.35; resnet152 60,192,808, wide_resnet50_2 68,883,240.
- He et al. 2016 (Deep Residual Learning), Table 1: 152-layer 11.3 x 10^9 FLOPs (multiply-adds).
"""

import subprocess
import sys
from decimal import Decimal

import pytest

from loopnest.workload import WorkloadError, list_models, load_network
from loopnest.workload.stats import network_stats
from loopnest.workload.zoo import cnn

UNITS = {"k": 10**3, "M": 10**6, "G": 10**9}


def printed(value: int, text: str) -> bool:
    """True when ``value`` rounds to ``text`` (like '2.3M') at the precision printed there."""
    num, unit = Decimal(text[:-1]), UNITS[text[-1]]
    step = Decimal(1).scaleb(num.as_tuple().exponent)
    return (Decimal(value) / unit / step).quantize(Decimal(1), "ROUND_HALF_UP") * step == num


def by_kind(model: str) -> tuple[dict, dict]:
    st = network_stats(load_network(model))
    return st.totals_by_kind(), st.totals()


# (model, conv weights, conv MACs, fc weights, fc MACs, total weights, total MACs) from seed 000
SEED_TABLE = [
    ("alexnet", "2.3M", "666M", "58.6M", "58.6M", "61M", "724M"),
    ("vgg16", "14.7M", "15.3G", "124M", "124M", "138M", "15.5G"),
    ("resnet50", "23.5M", "3.86G", "2M", "2M", "25.5M", "3.9G"),
]


@pytest.mark.parametrize("model,cw,cm,fw,fm,tw,tm", SEED_TABLE)
def test_seed_summary_table(model, cw, cm, fw, fm, tw, tm):
    k, t = by_kind(model)
    assert printed(k["conv"]["weights"], cw) and printed(k["conv"]["macs"], cm)
    assert printed(k["fc"]["weights"], fw) and printed(k["fc"]["macs"], fm)
    assert printed(t["weights"], tw) and printed(t["macs"], tm)


def test_seed_layer_counts():
    # seed 000: AlexNet 5 CONV + 3 FC, VGG-16 13 CONV (+3 FC = 16 weight layers), ResNet-50
    # 49 CONV on the main path + 4 projection shortcuts, 1 FC.
    assert [by_kind(m)[0]["conv"]["layers"] for m in ("alexnet", "vgg16", "resnet50")] == [5, 13, 49 + 4]
    assert [by_kind(m)[0]["fc"]["layers"] for m in ("alexnet", "vgg16", "resnet50")] == [3, 3, 1]


def test_googlenet_weights_and_the_pooling_convention():
    k, t = by_kind("googlenet")
    assert printed(k["conv"]["weights"], "6.0M") and printed(k["fc"]["weights"], "1M")
    assert printed(k["fc"]["macs"], "1M") and printed(t["weights"], "7M")
    # Our default follows the paper's Table 1 (pool outputs 56, 28, 14, 7: Caffe's ceil rule).
    net = load_network("googlenet")
    assert [net.node(p).shape[1] for p in ("pool1", "pool2", "pool3", "pool4")] == [56, 28, 14, 7]
    # The seed's 1.43G CONV MACs is what the floor rule gives (55, 27, 13, 6), see docs/workload.md.
    floor = network_stats(cnn.googlenet(ceil_pool=False))
    assert printed(floor.totals_by_kind()["conv"]["macs"], "1.43G")
    assert [cnn.googlenet(ceil_pool=False).node("pool4").shape[1]] == [6]


def test_lenet5_counting_convention():
    # Our LeNet-5: 28x28 input padded by 2, conv1 6@5x5 -> 28x28, pool, conv2 16@5x5 -> 10x10,
    # pool, FC 400-120-84-10. CONV weights match the seed (2.6k); CONV MACs are
    # 28*28*6*25 + 10*10*16*6*25 = 357,600 (seed: 283k, see docs/workload.md).
    k, _ = by_kind("lenet5")
    assert k["conv"]["weights"] == 6 * 25 + 16 * 6 * 25 == 2550 and printed(2550, "2.6k")
    assert k["conv"]["macs"] == 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 == 357_600
    # The seed's 58k FC weights are C5 + F6 without the 84x10 output layer that we include.
    assert 400 * 120 + 120 * 84 == 58_080
    assert k["fc"]["weights"] == k["fc"]["macs"] == 400 * 120 + 120 * 84 + 84 * 10


def test_mobilenets_published_figures():
    _, t = by_kind("mobilenet_v1")
    assert printed(t["macs"], "569M") and printed(t["weights"], "4.2M")
    _, t = by_kind("mobilenet_v2")
    # the paper's 300M and 3.4M are truncated: 300.8M MACs, 3.47M weights (3.50M with BN and bias)
    assert 300e6 <= t["macs"] < 301e6 and 3.4e6 <= t["weights"] < 3.5e6
    assert printed(t["macs"], "0.30G")  # torchvision: 0.30 GFLOPS


def _bias_and_bn(net, bn: bool) -> int:
    """Parameters torchvision counts beyond ours: a bias per output channel (conv without BN,
    and FC), or BN scale+shift (2 per channel) where a BN follows the conv (then no bias)."""
    extra = 0
    for p in net.layers:
        channels = p.dims["M"] * p.dims.get("G", 1)
        extra += 2 * channels if (bn and p.kind == "conv") else channels
    return extra


@pytest.mark.parametrize("model,params,bn", [("vgg16", 138_357_544, False), ("resnet50", 25_557_032, True),
                                             ("resnet152", 60_192_808, True), ("wide_resnet50_2", 68_883_240, True),
                                             ("mobilenet_v2", 3_504_872, True),
                                             ("squeezenet1_0", 1_248_424, False),
                                             ("squeezenet1_1", 1_235_496, False)])
def test_torchvision_parameter_counts(model, params, bn):
    net = load_network(model)
    assert network_stats(net).totals()["weights"] + _bias_and_bn(net, bn) == params


@pytest.mark.parametrize("model,gmacs", [("vgg16", "15.47G"), ("squeezenet1_0", "0.82G"), ("squeezenet1_1", "0.35G")])
def test_torchvision_macs(model, gmacs):
    assert printed(network_stats(load_network(model)).totals()["macs"], gmacs)


def test_transformer_blocks():
    # BERT-base layer: Q, K, V, O projections 768x768 and FFN 768x3072, 3072x768 (no biases).
    w = 4 * 768 * 768 + 2 * 768 * 3072
    for L in (128, 512):
        k, t = by_kind(f"bert_base_{L}")
        assert k["matmul"]["weights"] == t["weights"] == w == 7_077_888
        assert k["matmul"]["macs"] == L * w
        assert k["attention"]["macs"] == 2 * 12 * L * L * 64 and k["attention"]["weights"] == 0
    # GPT-2 small decode: one token through the same projections, against 1024 keys/values.
    k, t = by_kind("gpt2_decode_1024")
    assert k["matmul"]["macs"] == w and k["attention"]["macs"] == 2 * 12 * 1024 * 64
    qk = next(s for s in network_stats(load_network("gpt2_decode_1024")).layers if s.name == "attn.qk")
    assert qk.input_activations == 768 + 1024 * 768  # this token's query + all keys
    k, t = by_kind("gpt2_prefill_1024")
    assert t["macs"] == 1024 * w + 2 * 12 * 1024 * 1024 * 64


def test_batch_scales_compute_and_activations_not_weights():
    one, four = (network_stats(load_network("resnet50", batch=b)).totals() for b in (1, 4))
    assert four["macs"] == 4 * one["macs"] and four["weights"] == one["weights"]
    assert four["input_activations"] == 4 * one["input_activations"]
    assert four["elem_ops"] == 4 * one["elem_ops"]
    assert load_network("resnet50", batch=4).with_batch(1).layers == load_network("resnet50").layers


def test_graph_is_kept():
    net = load_network("resnet50")
    assert net.outputs == ("fc",)
    edges = set(net.layer_edges())
    # both branches of the first block feed the second block (through add and relu)
    assert {("layer1.0.conv3", "layer1.1.conv1"), ("layer1.0.downsample", "layer1.1.conv1")} <= edges
    # an identity shortcut: block 1's output reaches block 2 as well as block 1's conv3
    assert ("layer1.0.conv3", "layer1.2.conv1") in edges
    g = load_network("googlenet")
    branches = {c for p, c in g.layer_edges() if p == "inception3a.3x3"}
    assert {"inception3b.1x1", "inception3b.3x3_reduce", "inception3b.5x5_reduce"} <= branches
    assert "inception3b.pool_proj" in branches  # through the branch's max-pool


def test_non_mac_operators_are_recorded():
    net = load_network("alexnet")
    kinds = {o.kind for o in net.ops}
    assert {"activation", "norm", "pool"} <= kinds
    pool1 = net.node("conv1.pool").op
    # 3x3 max-pool, stride 2, on 96x55x55 -> 96x27x27, one op per window element
    assert pool1.output_elements == 96 * 27 * 27 and pool1.elem_ops == 96 * 27 * 27 * 9
    sm = load_network("bert_base_128").node("attn.softmax").op
    assert sm.elem_ops == 3 * 12 * 128 * 128


def test_every_model_loads_and_shape_keys_dedupe():
    for m in list_models():
        assert load_network(m).layers
    layers = load_network("resnet50").layers
    # ResNet-50 v1, by hand: stage 1 has 4 distinct shapes (64->64 1x1, 3x3, 64->256 1x1 shared by
    # conv3 and the projection, 256->64 1x1); stages 2-4 have 5 each (strided first 1x1, 3x3,
    # expanding 1x1, strided projection, later blocks' first 1x1); plus conv1 and fc: 21 of 54.
    assert len(layers) == 54 and len({p.shape_key() for p in layers}) == 4 + 3 * 5 + 2


def test_shape_key_is_stable_across_processes():
    code = "from loopnest.workload import load_network as l; print(l('alexnet').layers[0].shape_key())"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(seed)}).stdout for seed in (1, 2)}
    assert len(runs) == 1


def test_names_are_normalized_and_unknown_names_listed():
    assert load_network("ResNet-50").name == "resnet50"
    with pytest.raises(WorkloadError, match="unknown model 'resnet51'.*available: .*resnet50"):
        load_network("resnet51")
    with pytest.raises(WorkloadError, match="batch"):
        load_network("resnet50", batch=0)


def test_wide_and_deep_resnet_pair():
    # Yang and Sze's wide-and-shallow vs deep-and-thin pair: ResNet-152 at He et al.'s 11.3 GMACs;
    # Wide ResNet-50-2 is ResNet-50 with every block's 1x1-in and 3x3 twice as wide: the 1x1 convs
    # in and out of the widened channels cost 2x, the 3x3 (widened on both sides) 4x, the rest 1x.
    assert printed(network_stats(load_network("resnet152")).totals()["macs"], "11.3G")
    r50 = {p.name: p.macs for p in load_network("resnet50").layers}
    wide = {p.name: p.macs for p in load_network("wide_resnet50_2").layers}
    factor = {"conv1": 2, "conv2": 4, "conv3": 2}
    assert wide.keys() == r50.keys()
    for name, macs in r50.items():
        assert wide[name] == macs * (factor.get(name.split(".")[-1], 1) if name.startswith("layer") else 1), name
