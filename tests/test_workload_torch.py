"""PyTorch importer: torch modules defined here give the same per-layer statistics and layer
graph as the zoo. Modules are built on the meta device (shapes only, no memory for weights).

The modules follow the same sources as the zoo: AlexNet as in the Eyeriss papers (grouped
conv2/4/5), ResNet-50 v1 (He et al. 2016, Table 1), a BERT-base encoder layer and a GPT-2
small block decoding one token against a K/V cache.
"""

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from loopnest.workload import WorkloadError, load_network
from loopnest.workload.stats import network_stats
from loopnest.workload.torch_import import import_torch


def stats_list(net):
    return [(s.kind, s.macs, s.weights, s.input_activations, s.output_activations)
            for s in network_stats(net).layers]


def imported(module_cls, *shapes):
    with torch.device("meta"):
        return import_torch(module_cls(), tuple(torch.empty(*s) for s in shapes))


class AlexNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 96, 11, 4), nn.Conv2d(96, 256, 5, padding=2, groups=2)
        self.conv3 = nn.Conv2d(256, 384, 3, padding=1)
        self.conv4 = nn.Conv2d(384, 384, 3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(384, 256, 3, padding=1, groups=2)
        self.lrn, self.pool = nn.LocalResponseNorm(5), nn.MaxPool2d(3, 2)
        self.fc6, self.fc7, self.fc8 = nn.Linear(9216, 4096), nn.Linear(4096, 4096), nn.Linear(4096, 1000)

    def forward(self, x):
        x = self.pool(self.lrn(torch.relu(self.conv1(x))))
        x = self.pool(self.lrn(torch.relu(self.conv2(x))))
        x = self.pool(torch.relu(self.conv5(torch.relu(self.conv4(torch.relu(self.conv3(x)))))))
        x = torch.relu(self.fc7(torch.relu(self.fc6(torch.flatten(x, 1)))))
        return self.fc8(x)


class Bottleneck(nn.Module):
    def __init__(self, cin, mid, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, mid, 1, stride, bias=False), nn.BatchNorm2d(mid)
        self.conv2, self.bn2 = nn.Conv2d(mid, mid, 3, 1, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = nn.Conv2d(mid, 4 * mid, 1, bias=False), nn.BatchNorm2d(4 * mid)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, 4 * mid, 1, stride, bias=False), nn.BatchNorm2d(4 * mid))
                           if stride > 1 or cin != 4 * mid else None)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin, stages = 64, []
        for mid, n, s in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            stages.append(nn.Sequential(*(Bottleneck(cin if i == 0 else 4 * mid, mid, s if i == 0 else 1)
                                          for i in range(n))))
            cin = 4 * mid
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(2048, 1000)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Attention(nn.Module):
    def __init__(self, d=768, heads=12):
        super().__init__()
        self.h = heads
        self.q, self.k, self.v, self.out = (nn.Linear(d, d) for _ in range(4))

    def split(self, t):  # [B, L, D] -> [B, heads, L, D/heads]
        return t.view(t.shape[0], t.shape[1], self.h, -1).transpose(1, 2)

    def forward(self, x, k_cache=None, v_cache=None):
        q, k, v = self.split(self.q(x)), self.k(x), self.v(x)
        if k_cache is not None:
            k, v = torch.cat([k_cache, k], 1), torch.cat([v_cache, v], 1)
        k, v = self.split(k), self.split(v)
        a = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        c = (a @ v).transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)
        return self.out(c)


class FFN(nn.Module):
    def __init__(self, d=768, ff=3072):
        super().__init__()
        self.fc1, self.gelu, self.fc2 = nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d)

    def forward(self, x):
        return self.fc2(self.gelu(self.fc1(x)))


class BertLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn, self.ffn = Attention(), FFN()
        self.ln1, self.ln2 = nn.LayerNorm(768), nn.LayerNorm(768)

    def forward(self, x):
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.ffn(x))


class GPT2Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn, self.ffn = Attention(), FFN()
        self.ln_1, self.ln_2 = nn.LayerNorm(768), nn.LayerNorm(768)

    def forward(self, x, k_cache, v_cache):
        x = x + self.attn(self.ln_1(x), k_cache, v_cache)
        return x + self.ffn(self.ln_2(x))


@pytest.mark.parametrize("model,module,shapes", [
    ("alexnet", AlexNet, [(2, 3, 227, 227)]),
    ("resnet50", ResNet50, [(2, 3, 224, 224)]),
    ("bert_base_128", BertLayer, [(2, 128, 768)]),
    ("gpt2_decode_1024", GPT2Block, [(2, 1, 768), (2, 1023, 768), (2, 1023, 768)]),
])
def test_torch_matches_zoo(model, module, shapes):
    net, zoo = imported(module, *shapes), load_network(model, batch=2)
    assert net.batch == 2 and not net.unsupported
    assert stats_list(net) == stats_list(zoo)
    assert len(net.layer_edges()) == len(zoo.layer_edges())


def test_module_names_and_graph():
    net = imported(ResNet50, (1, 3, 224, 224))
    names = [p.name for p in net.layers]
    assert names[:5] == ["conv1", "layer1.0.conv1", "layer1.0.conv2", "layer1.0.conv3", "layer1.0.downsample.0"]
    edges = set(net.layer_edges())
    assert {("layer1.0.conv3", "layer1.1.conv1"), ("layer1.0.downsample.0", "layer1.1.conv1")} <= edges


def test_unsupported_module_reported_and_kept():
    class Up(nn.Module):
        def __init__(self):
            super().__init__()
            self.up1, self.up2 = nn.ConvTranspose2d(4, 4, 2, 2), nn.ConvTranspose2d(4, 4, 2, 2)
            self.conv = nn.Conv2d(4, 8, 3, padding="same")

        def forward(self, x):
            return self.conv(self.up2(self.up1(x)))

    net = imported(Up, (1, 4, 8, 8))
    assert dict(net.unsupported) == {"ConvTranspose2d": ("up1", "up2")}
    conv = net.node("conv")
    assert conv.inputs == ("up2",) and conv.op.dims["P"] == 32  # 'same' keeps 8*2*2
    assert conv.op.macs == 8 * 4 * 32 * 32 * 9


def test_untraceable_module_is_one_clear_error():
    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(WorkloadError, match="Branchy: cannot trace the module with torch.fx"):
        import_torch(Branchy(), torch.ones(1, 3))


class Shuffled(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.shuffle = nn.Conv2d(4, 8, 1), nn.ChannelShuffle(2)

    def forward(self, x):
        return torch.nn.functional.channel_shuffle(self.shuffle(self.conv(x)), 4)


def test_channel_shuffle_is_a_copy():
    # both the module and the function: 8 channels of 5x5 copied, zero element ops
    net = imported(Shuffled, (1, 4, 5, 5))
    shuffles = [o for o in net.ops if o.kind == "shuffle"]
    assert len(shuffles) == 2 and all(o.copies and o.elem_ops == 0 and o.output_elements == 200 for o in shuffles)


def _torchvision_channel_shuffle(x, groups: int):
    """torchvision.models.shufflenetv2.channel_shuffle, written out (torchvision is not a dependency)."""
    b, c, h, w = x.size()
    x = torch.transpose(x.view(b, groups, c // groups, h, w), 1, 2).contiguous()
    return x.view(b, -1, h, w)


class ViewTransposeShuffle(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 1)

    def forward(self, x):
        y = _torchvision_channel_shuffle(self.conv(x), 2)
        z = y.reshape(2, 4, 2, 5, 5).permute(0, 2, 1, 3, 4).reshape(2, 8, 5, 5)  # 4 groups, by permute
        return z.view(2, 2, 4, 5, 5).transpose(3, 4).reshape(2, 8, 5, 5)  # a spatial transpose: no shuffle


def test_view_transpose_view_channel_shuffle_is_a_copy():
    net = imported(ViewTransposeShuffle, (2, 4, 5, 5))
    kinds = {n.name: n.op.kind for n in net.nodes if not n.is_layer}
    shuffles = [o for o in net.ops if o.kind == "shuffle"]
    assert [o.name for o in shuffles] == ["transpose", "permute"]  # the third transpose swaps H and W
    assert kinds["transpose_1"] == "reshape"
    assert [o.attrs["groups"] for o in shuffles] == [2, 4]
    # 8 channels x 5 x 5 = 200 copied per sample, batch 2
    assert all(o.copies and o.elem_ops == 0 and o.output_elements == o.input_elements == 400 for o in shuffles)


class Dilated(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, stride=1, dilation=3)

    def forward(self, x):
        return self.conv(x)


def test_dilation_reaches_the_input_index():
    """nn.Conv2d(dilation=3), 3 x 3 on 16 x 16, stride 1, no padding: window 3 * 2 + 1 = 7,
    P = 16 - 7 + 1 = 10; the input row is p + 3r."""
    (layer,) = [p for p in imported(Dilated, (1, 4, 16, 16)).layers]
    assert (layer.dims["P"], layer.dims["Q"]) == (10, 10)
    assert {"P": 1, "R": 3} in [dict(i) for i in layer.tensor("inputs").indices]
