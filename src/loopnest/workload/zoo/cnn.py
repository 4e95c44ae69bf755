"""Convolutional networks of the zoo, as compact tables turned into graphs by the Builder.

Inference graphs: dropout is the identity and is omitted; auxiliary classifiers are omitted;
biases are not counted as weights (see docs/workload.md). Layer names follow torchvision
where it has the model.
"""

from __future__ import annotations

from loopnest.workload.builder import Builder
from loopnest.workload.network import Network


def lenet5(batch: int = 1) -> Network:
    """LeNet-5 on 28x28 MNIST digits, padded by 2 (the original 32x32 input); C5 is an FC layer."""
    b = Builder("lenet5", {"input": (1, 28, 28)})
    x = b.act("relu1", b.conv("conv1", "input", 6, 5, pad=2))
    x = b.pool("pool1", x, 2, 2, mode="avg")
    x = b.act("relu2", b.conv("conv2", x, 16, 5))
    x = b.pool("pool2", x, 2, 2, mode="avg")
    x = b.act("relu3", b.fc("fc1", x, 120))
    x = b.act("relu4", b.fc("fc2", x, 84))
    b.fc("fc3", x, 10)
    return b.build(batch)


def alexnet(batch: int = 1) -> Network:
    """AlexNet as in the Eyeriss papers: 227x227 input, two groups in conv2, conv4, conv5."""
    b = Builder("alexnet", {"input": (3, 227, 227)})
    x = "input"
    # name, filters M, kernel, stride, pad, groups, LRN after, max-pool after
    for name, M, k, s, p, g, lrn, pool in (("conv1", 96, 11, 4, 0, 1, True, True),
                                           ("conv2", 256, 5, 1, 2, 2, True, True),
                                           ("conv3", 384, 3, 1, 1, 1, False, False),
                                           ("conv4", 384, 3, 1, 1, 2, False, False),
                                           ("conv5", 256, 3, 1, 1, 2, False, True)):
        x = b.act(f"{name}.relu", b.conv(name, x, M, k, s, p, g))
        if lrn:
            x = b.lrn(f"{name}.lrn", x)
        if pool:
            x = b.pool(f"{name}.pool", x, 3, 2)
    for name, M in (("fc6", 4096), ("fc7", 4096)):
        x = b.act(f"{name}.relu", b.fc(name, x, M))
    b.fc("fc8", x, 1000)
    return b.build(batch)


def vgg16(batch: int = 1) -> Network:
    """VGG-16 (configuration D), 224x224 input."""
    b = Builder("vgg16", {"input": (3, 224, 224)})
    x = "input"
    for stage, (M, n) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
        for i in range(1, n + 1):
            x = b.act(f"conv{stage}_{i}.relu", b.conv(f"conv{stage}_{i}", x, M, 3, pad=1))
        x = b.pool(f"pool{stage}", x, 2, 2)
    for name, M in (("fc6", 4096), ("fc7", 4096)):
        x = b.act(f"{name}.relu", b.fc(name, x, M))
    b.fc("fc8", x, 1000)
    return b.build(batch)


def _conv_relu(b: Builder, name: str, x: str, M: int, k: int, stride: int = 1, pad: int = 0) -> str:
    return b.act(f"{name}.relu", b.conv(name, x, M, k, stride, pad))


# GoogLeNet inception modules: name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
# (Szegedy et al. 2015, Table 1), followed by a max-pool where marked.
_INCEPTION = (("3a", 64, 96, 128, 16, 32, 32, False), ("3b", 128, 128, 192, 32, 96, 64, True),
              ("4a", 192, 96, 208, 16, 48, 64, False), ("4b", 160, 112, 224, 24, 64, 64, False),
              ("4c", 128, 128, 256, 24, 64, 64, False), ("4d", 112, 144, 288, 32, 64, 64, False),
              ("4e", 256, 160, 320, 32, 128, 128, True), ("5a", 256, 160, 320, 32, 128, 128, False),
              ("5b", 384, 192, 384, 48, 128, 128, False))


def googlenet(batch: int = 1, ceil_pool: bool = True) -> Network:
    """GoogLeNet (Inception v1), 224x224 input, no auxiliary heads.

    ``ceil_pool`` (default, as Caffe and the paper's Table 1: 56, 28, 14, 7) rounds the stride-2
    max-pool outputs up; False rounds down (55, 27, 13, 6), the convention behind the 1.43G
    MACs of the Eyeriss tutorial's table (see docs/workload.md).
    """
    b = Builder("googlenet", {"input": (3, 224, 224)})
    x = _conv_relu(b, "conv1", "input", 64, 7, 2, 3)
    x = b.lrn("lrn1", b.pool("pool1", x, 3, 2, ceil=ceil_pool))
    x = _conv_relu(b, "conv2_reduce", x, 64, 1)
    x = b.pool("pool2", b.lrn("lrn2", _conv_relu(b, "conv2", x, 192, 3, 1, 1)), 3, 2, ceil=ceil_pool)
    for name, n1, n3r, n3, n5r, n5, proj, pool_after in _INCEPTION:
        m = f"inception{name}"
        y1 = _conv_relu(b, f"{m}.1x1", x, n1, 1)
        y3 = _conv_relu(b, f"{m}.3x3", _conv_relu(b, f"{m}.3x3_reduce", x, n3r, 1), n3, 3, 1, 1)
        y5 = _conv_relu(b, f"{m}.5x5", _conv_relu(b, f"{m}.5x5_reduce", x, n5r, 1), n5, 5, 1, 2)
        yp = _conv_relu(b, f"{m}.pool_proj", b.pool(f"{m}.pool", x, 3, 1, 1, ceil=True), proj, 1)
        x = b.concat(f"{m}.concat", y1, y3, y5, yp)
        if pool_after:
            x = b.pool(f"pool{name[0]}", x, 3, 2, ceil=ceil_pool)
    b.fc("fc", b.gap("avgpool", x), 1000)
    return b.build(batch)


def _conv_bn(b: Builder, name: str, x: str, M: int, k: int | tuple[int, int], stride: int = 1,
             pad: int | tuple[int, int] = 0, groups: int = 1, relu: str | None = "relu") -> str:
    y = b.norm(f"{name}.bn", b.conv(name, x, M, k, stride, pad, groups))
    return b.act(f"{name}.{relu}", y, relu) if relu else y


def _bottleneck_resnet(name: str, blocks: tuple[int, ...], width: int, batch: int) -> Network:
    """A bottleneck ResNet v1 (He et al. 2016), torchvision's layout: stage s has ``blocks[s]``
    blocks of 1x1 (``width`` x the stage's base channels), 3x3, 1x1 (4 x base) convolutions; the
    stride-2 of a stage sits in its first block's first 1x1."""
    b = Builder(name, {"input": (3, 224, 224)})
    x = b.pool("maxpool", _conv_bn(b, "conv1", "input", 64, 7, 2, 3), 3, 2, 1)
    C = 64
    for stage, (base, n, stride) in enumerate(zip((64, 128, 256, 512), blocks, (1, 2, 2, 2)), 1):
        mid = width * base
        for i in range(n):
            s, p = (stride if i == 0 else 1), f"layer{stage}.{i}"
            y = _conv_bn(b, f"{p}.conv1", x, mid, 1, s)
            y = _conv_bn(b, f"{p}.conv2", y, mid, 3, 1, 1)
            y = _conv_bn(b, f"{p}.conv3", y, 4 * base, 1, relu=None)
            short = _conv_bn(b, f"{p}.downsample", x, 4 * base, 1, s, relu=None) if C != 4 * base or s > 1 else x
            x = b.act(f"{p}.relu", b.add(f"{p}.add", y, short))
            C = 4 * base
    b.fc("fc", b.gap("avgpool", x), 1000)
    return b.build(batch)


def resnet50(batch: int = 1) -> Network:
    """ResNet-50 v1 (He et al. 2016): 3, 4, 6, 3 bottleneck blocks."""
    return _bottleneck_resnet("resnet50", (3, 4, 6, 3), 1, batch)


def resnet152(batch: int = 1) -> Network:
    """ResNet-152 v1 (He et al. 2016): 3, 8, 36, 3 bottleneck blocks (deep and thin)."""
    return _bottleneck_resnet("resnet152", (3, 8, 36, 3), 1, batch)


def wide_resnet50_2(batch: int = 1) -> Network:
    """Wide ResNet-50-2 (Zagoruyko and Komodakis 2016, torchvision's variant): ResNet-50 with
    twice the channels in every block's 1x1 and 3x3 convolutions (wide and shallow)."""
    return _bottleneck_resnet("wide_resnet50_2", (3, 4, 6, 3), 2, batch)


def mobilenet_v1(batch: int = 1, width: float = 1.0) -> Network:
    """MobileNet-v1 224 (Howard et al. 2017): depthwise 3x3 + pointwise 1x1 pairs. ``width`` is
    the width multiplier alpha: every layer's channels times alpha (int(32 * alpha) and so on;
    the paper's Table 6 has 1.0, 0.75, 0.5 and 0.25); the classifier stays 1000-way."""
    name = "mobilenet_v1" if width == 1.0 else f"mobilenet_v1_x{str(width).replace('.', '_')}"
    b = Builder(name, {"input": (3, 224, 224)})
    x = _conv_bn(b, "conv0", "input", int(32 * width), 3, 2, 1)
    table = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)) + ((512, 1),) * 5 + ((1024, 2), (1024, 1))
    for i, (M, s) in enumerate(table, 1):
        x = _conv_bn(b, f"conv{i}.dw", x, b.shapes[x][0], 3, s, 1, groups=b.shapes[x][0])
        x = _conv_bn(b, f"conv{i}.pw", x, int(M * width), 1)
    b.fc("fc", b.gap("avgpool", x), 1000)
    return b.build(batch)


# MobileNet-v2 inverted residual stages: expansion t, output channels c, repeats n, stride s
# (Sandler et al. 2018, Table 2).
_MBV2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def mobilenet_v2(batch: int = 1) -> Network:
    """MobileNet-v2 1.0-224: inverted residual blocks with ReLU6, linear bottlenecks."""
    b = Builder("mobilenet_v2", {"input": (3, 224, 224)})
    x = _conv_bn(b, "features.0", "input", 32, 3, 2, 1, relu="relu6")
    idx = 1
    for t, c, n, s in _MBV2:
        for i in range(n):
            p, C, stride = f"features.{idx}", b.shapes[x][0], (s if i == 0 else 1)
            y = _conv_bn(b, f"{p}.expand", x, C * t, 1, relu="relu6") if t != 1 else x
            y = _conv_bn(b, f"{p}.dw", y, C * t, 3, stride, 1, groups=C * t, relu="relu6")
            y = _conv_bn(b, f"{p}.project", y, c, 1, relu=None)
            x = b.add(f"{p}.add", x, y) if stride == 1 and C == c else y
            idx += 1
    x = _conv_bn(b, f"features.{idx}", x, 1280, 1, relu="relu6")
    b.fc("classifier", b.gap("avgpool", x), 1000)
    return b.build(batch)


def _fire(b: Builder, name: str, x: str, squeeze: int, e1: int, e3: int) -> str:
    s = _conv_relu(b, f"{name}.squeeze", x, squeeze, 1)
    return b.concat(f"{name}.concat", _conv_relu(b, f"{name}.expand1x1", s, e1, 1),
                    _conv_relu(b, f"{name}.expand3x3", s, e3, 3, 1, 1))


def _squeezenet(name: str, stem: tuple[int, int], pools_after: tuple[int, ...], batch: int) -> Network:
    """SqueezeNet (Iandola et al. 2016) on 224x224 as torchvision builds it (ceil-rule pooling)."""
    b = Builder(name, {"input": (3, 224, 224)})
    x = b.pool("pool1", _conv_relu(b, "conv1", "input", stem[0], stem[1], 2), 3, 2, ceil=True)
    # fire modules 2..9: squeeze, expand 1x1, expand 3x3
    for i, (sq, e) in enumerate(((16, 64), (16, 64), (32, 128), (32, 128),
                                 (48, 192), (48, 192), (64, 256), (64, 256)), 2):
        x = _fire(b, f"fire{i}", x, sq, e, e)
        if i in pools_after:
            x = b.pool(f"pool{i}", x, 3, 2, ceil=True)
    b.gap("avgpool", _conv_relu(b, "conv10", x, 1000, 1))
    return b.build(batch)


def squeezenet1_0(batch: int = 1) -> Network:
    """SqueezeNet 1.0: 96 7x7 stem filters, pooling after fire4 and fire8."""
    return _squeezenet("squeezenet1_0", (96, 7), (4, 8), batch)


def squeezenet1_1(batch: int = 1) -> Network:
    """SqueezeNet 1.1: 64 3x3 stem filters, pooling after fire3 and fire5 (2.4x less compute)."""
    return _squeezenet("squeezenet1_1", (64, 3), (3, 5), batch)
