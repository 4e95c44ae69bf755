"""Small CNNs for scikit-learn's 8x8 handwritten digits (upsampled to 16x16), as plain tables.

The same table builds the loopnest network here and the torch module in
``loopnest.codesign.models`` (which trains it), so layer names correspond one to one and a
per-layer setting (a bit width, a pruning ratio) applies to both. Every convolution keeps the
map size (padding k // 2) and is followed by a ReLU; a pool halves the map (2x2 max); the
network ends with flatten and the linear classifier ``fc`` (10 classes).

Steps of a table:

* ``("conv", name, M, k)``: k x k convolution to M channels, then ReLU;
* ``("dw", name, k)``: k x k depthwise convolution (one filter per channel), then ReLU;
* ``("res", a, b, k)``: residual block on the same channels, relu(x + b(relu(a(x))));
* ``("pool", name)``: 2x2 max pooling, stride 2.
"""

from __future__ import annotations

from dataclasses import dataclass

from loopnest.workload.builder import Builder
from loopnest.workload.network import Network

SIZE = 16  # input height and width (the 8x8 digits, each pixel repeated 2x2)
CLASSES = 10


@dataclass(frozen=True)
class DigitsCNN:
    """One network of the family: its steps (see the module docstring) and a one-line description."""

    name: str
    description: str
    steps: tuple[tuple, ...]


_FAMILY = (
    DigitsCNN("digits-cnn2", "digits CNN, 2 conv 3x3, plain",
              (("conv", "conv1", 8, 3), ("pool", "pool1"), ("conv", "conv2", 16, 3), ("pool", "pool2"))),
    DigitsCNN("digits-cnn4", "digits CNN, 4 conv 3x3, plain",
              (("conv", "conv1", 8, 3), ("conv", "conv2", 8, 3), ("pool", "pool1"),
               ("conv", "conv3", 16, 3), ("conv", "conv4", 16, 3), ("pool", "pool2"))),
    DigitsCNN("digits-cnn8", "digits CNN, 8 conv 3x3, plain",
              (("conv", "conv1", 8, 3), ("conv", "conv2", 8, 3), ("conv", "conv3", 8, 3), ("pool", "pool1"),
               ("conv", "conv4", 16, 3), ("conv", "conv5", 16, 3), ("conv", "conv6", 16, 3), ("pool", "pool2"),
               ("conv", "conv7", 32, 3), ("conv", "conv8", 32, 3), ("pool", "pool3"))),
    DigitsCNN("digits-k5", "digits CNN, 3 conv 5x5, plain",
              (("conv", "conv1", 8, 5), ("pool", "pool1"), ("conv", "conv2", 16, 5), ("pool", "pool2"),
               ("conv", "conv3", 16, 5))),
    DigitsCNN("digits-k7", "digits CNN, 2 conv 7x7, plain",
              (("conv", "conv1", 8, 7), ("pool", "pool1"), ("conv", "conv2", 16, 7), ("pool", "pool2"))),
    DigitsCNN("digits-res6", "digits CNN, 6 conv 3x3, two residual blocks",
              (("conv", "conv1", 8, 3), ("res", "conv2", "conv3", 3), ("pool", "pool1"),
               ("conv", "conv4", 16, 3), ("res", "conv5", "conv6", 3), ("pool", "pool2"))),
    DigitsCNN("digits-dws", "digits CNN, depthwise-separable (conv 3x3, then 2 x depthwise 3x3 + pointwise)",
              (("conv", "conv1", 8, 3), ("dw", "dw2", 3), ("conv", "pw2", 16, 1), ("pool", "pool1"),
               ("dw", "dw3", 3), ("conv", "pw3", 32, 1), ("pool", "pool2"))),
)
DIGITS_CNNS: dict[str, DigitsCNN] = {d.name: d for d in _FAMILY}


def build(name: str, batch: int = 1) -> Network:
    """The loopnest network of the digits CNN ``name`` (input 1 x 16 x 16) at ``batch``."""
    spec = DIGITS_CNNS[name]
    b = Builder(name, {"input": (1, SIZE, SIZE)})
    x = "input"
    for step in spec.steps:
        kind, label = step[0], step[1]
        if kind == "conv":
            x = b.act(f"{label}.relu", b.conv(label, x, step[2], step[3], pad=step[3] // 2))
        elif kind == "dw":
            x = b.act(f"{label}.relu", b.dwconv(label, x, step[2], pad=step[2] // 2))
        elif kind == "res":
            _, a, c, k = step
            M = b.shapes[x][0]
            y = b.act(f"{a}.relu", b.conv(a, x, M, k, pad=k // 2))
            x = b.act(f"{c}.relu", b.add(f"{c}.add", x, b.conv(c, y, M, k, pad=k // 2)))
        else:
            x = b.pool(label, x, 2, 2)
    b.fc("fc", x, CLASSES)
    return b.build(batch)
