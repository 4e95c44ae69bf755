"""Compact networks built from channel split, concatenation, shuffle and shift: ShuffleNet-v2,
SqueezeNext and DiracDeltaNet (the network of the Synetgy FPGA accelerator).

Same conventions as ``cnn.py`` (inference graphs, biases and batch-norm parameters not counted
as weights). Split, concatenation and DiracDeltaNet's channel rotation rename buffers; the
transpose-based shuffle and the shift copy every element (``workload.network``, ``COPY_KINDS``).
"""

from __future__ import annotations

from loopnest.workload.builder import Builder
from loopnest.workload.layers import DEFAULT_BITS
from loopnest.workload.network import Network
from loopnest.workload.zoo.cnn import _conv_bn

# ShuffleNet-v2 1.0x (Ma et al. 2018, Table 5): output channels and repeats of stages 2-4.
_SHUFFLENET_V2 = ((116, 4), (232, 8), (464, 4))


def shufflenet_v2(batch: int = 1) -> Network:
    """ShuffleNet-v2 1.0x, 224x224, as torchvision builds it: each unit splits its channels in
    two (a stride-2 unit feeds both branches the whole input), runs 1x1 -> depthwise 3x3 -> 1x1
    on one half, concatenates and shuffles the channels in 2 groups."""
    b = Builder("shufflenet_v2_x1_0", {"input": (3, 224, 224)})
    x = b.pool("maxpool", _conv_bn(b, "conv1", "input", 24, 3, 2, 1), 3, 2, 1)
    for stage, (out, repeats) in enumerate(_SHUFFLENET_V2, 2):
        half = out // 2
        for i in range(repeats):
            p, C = f"stage{stage}.{i}", b.shapes[x][0]
            if i == 0:  # stride 2: both branches read the whole input
                left = _conv_bn(b, f"{p}.branch1.dw", x, C, 3, 2, 1, groups=C, relu=None)
                left, right_in, s = _conv_bn(b, f"{p}.branch1.pw", left, half, 1), x, 2
            else:
                left, right_in, s = b.split(f"{p}.split0", x, 0, C // 2), b.split(f"{p}.split1", x, C // 2, C), 1
            y = _conv_bn(b, f"{p}.branch2.pw1", right_in, half, 1)
            y = _conv_bn(b, f"{p}.branch2.dw", y, half, 3, s, 1, groups=half, relu=None)
            y = _conv_bn(b, f"{p}.branch2.pw2", y, half, 1)
            x = b.shuffle(f"{p}.shuffle", b.concat(f"{p}.concat", left, y), 2)
    x = _conv_bn(b, "conv5", x, 1024, 1)
    b.fc("fc", b.gap("avgpool", x), 1000)
    return b.build(batch)


# 1.0-SqNxt-23 (Gholami et al. 2018; the authors' Caffe definition): stage channels and blocks.
_SQUEEZENEXT_23 = ((32, 6), (64, 6), (128, 8), (256, 1))


def squeezenext23(batch: int = 1) -> Network:
    """1.0-SqNxt-23 on 227x227 (the authors' Caffe crop). Each block: two 1x1 squeezes (to C/r and
    C/2r, r = 1 at a stride-2 block, 4 where the channels shrink, else 2), a 3x1 and a 1x3
    convolution to C/r, a 1x1 expansion, and a residual add (a 1x1 projection where the shape
    changes). Every convolution has batch norm and ReLU, as in the Caffe file."""
    b = Builder("squeezenext23", {"input": (3, 227, 227)})
    x = b.pool("pool1", _conv_bn(b, "conv1", "input", 64, 7, 2), 3, 2, ceil=True)
    for stage, (out, blocks) in enumerate(_SQUEEZENEXT_23, 1):
        for i in range(blocks):
            p, C = f"stage{stage}.{i}", b.shapes[x][0]
            s = 2 if i == 0 and stage > 1 else 1
            r = 1 if s == 2 else 4 if C > out else 2
            short = _conv_bn(b, f"{p}.shortcut", x, out, 1, s) if s == 2 or C != out else x
            y = _conv_bn(b, f"{p}.conv1", x, C // r, 1, s)
            y = _conv_bn(b, f"{p}.conv2", y, C // (2 * r), 1)
            y = _conv_bn(b, f"{p}.conv3", y, C // r, (3, 1), pad=(1, 0))
            y = _conv_bn(b, f"{p}.conv4", y, C // r, (1, 3), pad=(0, 1))
            y = _conv_bn(b, f"{p}.conv5", y, out, 1)
            x = b.act(f"{p}.relu", b.add(f"{p}.add", y, short))
    x = _conv_bn(b, "conv_final", x, 128, 1)
    b.fc("fc", b.gap("avgpool", x), 1000)
    return b.build(batch)


# DiracDeltaNet's shift: 5 offsets (up, left, none, right, down), channel c takes offset c % 5
# (Synetgy's reference code, Shift3x3).
_CROSS = ((-1, 0), (0, -1), (0, 0), (0, 1), (1, 0))


def diracdeltanet(batch: int = 1) -> Network:
    """DiracDeltaNet (Yang et al., Synetgy, FPGA 2019), 224x224, as its reference code builds it
    (expansion 2, base 116 channels, 4/8/4 blocks): ShuffleNet-v2's macro-architecture with every
    3x3 convolution replaced by a shift and 1x1 convolutions, 2x2 max-pools for downsampling, and
    the channel shuffle replaced by a rotation of the concatenated channels by a quarter (a
    rename: split and concatenate). 4-bit weights and activations; the first and last
    convolutions and the classifier keep the zoo's 16 bits (the reference leaves them unquantized)."""
    b = Builder("diracdeltanet", {"input": (3, 224, 224)})
    x = b.pool("pool1", _conv_bn(b, "conv1", "input", 32, 1), 2, 2, 1)
    b.bits = 4
    x = b.shift("shift1", x, _CROSS)
    x = b.shift("shift2", b.pool("pool2", _conv_bn(b, "conv2", x, 64, 1), 2, 2, 1), _CROSS)
    for stage, (planes, blocks) in enumerate(((116, 4), (232, 8), (464, 4)), 1):
        for i in range(blocks):
            p, C, half = f"layer{stage}.{i}", b.shapes[x][0], planes // 2
            down = i == 0
            if down and stage > 1:  # both branches read the whole input
                left, right = x, x
            else:
                left, right = b.split(f"{p}.split0", x, 0, C // 2), b.split(f"{p}.split1", x, C // 2, C)
            if down:
                left = _conv_bn(b, f"{p}.shortcut", b.pool(f"{p}.shortcut.pool", left, 2, 2), half, 1)
            else:
                left = b.act(f"{p}.shortcut.relu", left)
            y = _conv_bn(b, f"{p}.conv1", right, 2 * half, 1)
            if down:
                y = b.pool(f"{p}.pool", y, 2, 2)
            y = _conv_bn(b, f"{p}.conv3", b.shift(f"{p}.shift", y, _CROSS), half, 1)
            y = b.concat(f"{p}.concat", left, y)
            q = 3 * planes // 4  # rotate: the last quarter of the channels first
            x = b.concat(f"{p}.rotate", b.split(f"{p}.rotate.tail", y, q, planes), b.split(f"{p}.rotate.head", y, 0, q))
    b.bits = DEFAULT_BITS
    x = _conv_bn(b, "conv3", x, 1024, 1)
    b.fc("fc", b.gap("avgpool", x), 1000)
    return b.build(batch)
