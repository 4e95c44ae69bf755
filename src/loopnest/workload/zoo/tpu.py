"""The six production applications of the TPU v1 paper as stand-ins sized from its Table 1.

Source: N. Jouppi et al., "In-datacenter performance analysis of a tensor processing unit",
ISCA 2017, Table 1 (layers by kind, weights, TPU batch size, MACs per weight byte). The paper
gives totals only, so each application is a stack of equal layers whose sizes reproduce them:

* FC applications (MLP0, MLP1, LSTM0, LSTM1): L square FC layers of width
  w = the multiple of 16 nearest to sqrt(weights / L), each weight used once per sample, so the
  MACs per weight byte equal the batch, as Table 1's column does:
  MLP0 5 x 2000^2 = 20.0 M weights; MLP1 4 x 1120^2 = 5.02 M; LSTM0 24 x 1472^2 = 52.0 M;
  LSTM1 37 x 960^2 = 34.1 M (paper: 20, 5, 52, 34 M). The LSTMs' vector layers (34 and 19:
  gate nonlinearities and element-wise products) are element-wise ops on the FC outputs, spread
  in order over the FC layers.
* CNN0: 16 3x3 convolutions (padding 1) of C = M = 240 on 19 x 19 maps: 2,888 MACs per weight
  byte at batch 8 is 361 = 19^2 output positions per weight per sample (exact); 16 x 9 x 240^2
  = 8.29 M weights (paper: 8 M; 240 is the multiple of 16 nearest sqrt(8 M / 144) = 236).
* CNN1: 72 3x3 convolutions (padding 1) of C = M = 224 on 13 x 13 maps, 12 size-keeping 3x3 max
  pools, a global average pool (the 13th pool), then 4 FC layers of width 4736 (the first from
  the pooled 224 features): conv weights 72 x 9 x 224^2 = 32.5 M, FC 224 x 4736 + 3 x 4736^2 =
  68.4 M, 100.9 M in all (paper: 100 M). Choices: 224 is the multiple of 16 nearest the width
  that gives the convolutions a third of the weights (as in VGG-style stacks, where FC layers
  hold most weights); 13 x 13 is then the map that gives 54.7 MACs per weight per sample
  (1,750 / 32): 32 x (169 x 32.5 M + 68.4 M) / 100.9 M = 1,764 MACs per weight byte (+0.8 %).

Every tensor is 8-bit (the TPU's operands; its 32-bit accumulators are the architecture's).
Element-wise ops cost nothing in the cost model today (docs/model.md), as on the TPU, whose
activation pipeline overlaps them with the matrix unit.
"""

from __future__ import annotations

from loopnest.workload.builder import Builder
from loopnest.workload.network import Network

BITS = 8
# name: (FC layers, width, vector ops, batch of Table 1)
_FC_APPS = {"mlp0": (5, 2000, 0, 200), "mlp1": (4, 1120, 0, 168), "lstm0": (24, 1472, 34, 64), "lstm1": (37, 960, 19, 96)}
BATCH = {name: spec[3] for name, spec in _FC_APPS.items()} | {"cnn0": 8, "cnn1": 32}


def fc_app(name: str, batch: int | None = None) -> Network:
    """MLP0, MLP1, LSTM0 or LSTM1: a chain of equal FC layers (vector ops spread over them)."""
    layers, width, vector, default = _FC_APPS[name]
    b = Builder(f"tpu_{name}", {"input": (width,)}, bits=BITS)
    x = "input"
    for i in range(layers):
        x = b.fc(f"fc{i}", x, width)
        for j in range(vector // layers + (i < vector % layers)):
            x = b.act(f"fc{i}.vec{j}", x, "sigmoid" if j % 2 == 0 else "tanh")
    return b.build(batch or default)


def cnn0(batch: int | None = None) -> Network:
    """CNN0: 16 equal 3x3 convolutions on 19 x 19 maps."""
    b = Builder("tpu_cnn0", {"input": (240, 19, 19)}, bits=BITS)
    x = "input"
    for i in range(16):
        x = b.conv(f"conv{i}", x, 240, 3, pad=1)
    return b.build(batch or BATCH["cnn0"])


def cnn1(batch: int | None = None) -> Network:
    """CNN1: 72 equal 3x3 convolutions on 13 x 13 maps, a size-keeping max pool after every sixth
    (12), a global average pool, and 4 FC layers."""
    b = Builder("tpu_cnn1", {"input": (224, 13, 13)}, bits=BITS)
    x = "input"
    for i in range(72):
        x = b.conv(f"conv{i}", x, 224, 3, pad=1)
        if i % 6 == 5:
            x = b.pool(f"pool{i // 6}", x, 3, 1, pad=1)
    x = b.gap("gap", x)
    for i in range(4):
        x = b.fc(f"fc{i}", x, 4736)
    return b.build(batch or BATCH["cnn1"])


def build(name: str, batch: int | None = None) -> Network:
    """One of mlp0, mlp1, lstm0, lstm1, cnn0, cnn1 at ``batch`` (default: Table 1's batch)."""
    return {"cnn0": cnn0, "cnn1": cnn1}.get(name, lambda batch: fc_app(name, batch))(batch)
