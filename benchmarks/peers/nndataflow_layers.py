"""nn-dataflow 2.1's AlexNet (``nn_dataflow/nns/alex_net.py``) as plain data, and its layers matched to
loopnest's zoo AlexNet, for benchmarks/peer_nndataflow.py. Pure Python: nn_dataflow is not imported.

nn-dataflow keeps the two towers of Krizhevsky et al. (2012) as separate layers (``conv1_a``,
``conv1_b``, ...): conv1 and conv3 as two layers that read the same input (conv3's towers both read
``pool2_a`` and ``pool2_b``), conv2, conv4 and conv5 as two layers on disjoint halves of the
channels (the zoo's groups, G = 2), and the FC layers as convolutions on a 1 x 1 output whose
filter covers the whole input map (``fc1``: 256 channels of 6 x 6). Its pooling layers and the
network's input layer are left out here (loopnest's zoo compares MAC layers). A ConvLayer's input
side is ``filter + (output - 1) * stride``: the padding included, as loopnest's touched extent.
"""

from __future__ import annotations

from dataclasses import dataclass

NNDATAFLOW_NET = "alex_net"


@dataclass(frozen=True)
class Tower:
    """One nn-dataflow ConvLayer or FCLayer: ``ConvLayer(nifm, nofm, sofm, sfil, strd)``; an FC layer
    is ``FCLayer(nifm, nofm, sfil)``, a ConvLayer with sofm = 1 and stride 1."""

    name: str
    nifm: int
    nofm: int
    sofm: int
    sfil: int
    strd: int = 1

    @property
    def sifm(self) -> int:
        return self.sfil + (self.sofm - 1) * self.strd

    def counts(self) -> dict[str, int]:
        """MACs and words of each tensor (batch 1)."""
        return {"macs": self.nofm * self.nifm * self.sofm ** 2 * self.sfil ** 2,
                "weights": self.nofm * self.nifm * self.sfil ** 2,
                "inputs": self.nifm * self.sifm ** 2,
                "outputs": self.nofm * self.sofm ** 2}


# nn_dataflow/nns/alex_net.py (nn-dataflow 2.1): the MAC layers, in order.
ALEXNET_TOWERS = (
    Tower("conv1_a", 3, 48, 55, 11, 4), Tower("conv1_b", 3, 48, 55, 11, 4),
    Tower("conv2_a", 48, 128, 27, 5), Tower("conv2_b", 48, 128, 27, 5),
    Tower("conv3_a", 256, 192, 13, 3), Tower("conv3_b", 256, 192, 13, 3),
    Tower("conv4_a", 192, 192, 13, 3), Tower("conv4_b", 192, 192, 13, 3),
    Tower("conv5_a", 192, 128, 13, 3), Tower("conv5_b", 192, 128, 13, 3),
    Tower("fc1", 256, 4096, 1, 6), Tower("fc2", 4096, 4096, 1, 1), Tower("fc3", 4096, 1000, 1, 1),
)

# loopnest zoo layer -> (its nn-dataflow layers, whether they read one and the same input).
ZOO_TO_TOWERS = {
    "conv1": (("conv1_a", "conv1_b"), True),
    "conv2": (("conv2_a", "conv2_b"), False),
    "conv3": (("conv3_a", "conv3_b"), True),
    "conv4": (("conv4_a", "conv4_b"), False),
    "conv5": (("conv5_a", "conv5_b"), False),
    "fc6": (("fc1",), False),
    "fc7": (("fc2",), False),
    "fc8": (("fc3",), False),
}


def zoo_counts(problem) -> dict[str, int]:
    """MACs and words of each tensor of a loopnest zoo layer (conv or fc, the input extent with its
    padding: ``stride * (P - 1) + dilation * (R - 1) + 1``)."""
    d = problem.dims
    g, n = d.get("G", 1), d.get("N", 1)
    if problem.kind == "fc":
        return {"macs": n * d["M"] * d["C"], "weights": d["M"] * d["C"], "inputs": n * d["C"], "outputs": n * d["M"]}
    (sh, sw), (dh, dw) = problem.attrs.get("stride", (1, 1)), problem.attrs.get("dilation", (1, 1))
    h = sh * (d["P"] - 1) + dh * (d["R"] - 1) + 1
    w = sw * (d["Q"] - 1) + dw * (d["S"] - 1) + 1
    return {"macs": n * g * d["M"] * d["C"] * d["P"] * d["Q"] * d["R"] * d["S"],
            "weights": g * d["M"] * d["C"] * d["R"] * d["S"],
            "inputs": n * g * d["C"] * h * w, "outputs": n * g * d["M"] * d["P"] * d["Q"]}


def towers_counts(zoo_name: str) -> dict[str, int]:
    """The same counts summed over a zoo layer's nn-dataflow layers (a shared input counted once)."""
    names, shared_input = ZOO_TO_TOWERS[zoo_name]
    towers = {t.name: t for t in ALEXNET_TOWERS}
    per = [towers[n].counts() for n in names]
    out = {k: sum(c[k] for c in per) for k in per[0]}
    if shared_input:
        out["inputs"] = per[0]["inputs"]
    return out


def mismatches(layers) -> list[str]:
    """One line per zoo layer whose MACs or tensor sizes differ from its nn-dataflow layers'
    (empty: the two networks are the same work); a zoo layer nn-dataflow lacks is one line too."""
    out = []
    for p in layers:
        if p.name not in ZOO_TO_TOWERS:
            out.append(f"{p.name}: no nn-dataflow counterpart")
            continue
        ours, theirs = zoo_counts(p), towers_counts(p.name)
        out += [f"{p.name}: {k} {ours[k]} (loopnest) vs {theirs[k]} (nn-dataflow)" for k in ours if ours[k] != theirs[k]]
    return out
