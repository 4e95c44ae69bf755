"""The accuracy harness: top-1 accuracy of a torch module on a data set, as given or with its
MAC layers' weights and inputs quantized (post-training, calibrated, optionally fine-tuned).

Data is a :class:`~loopnest.codesign.data.Split`, a pair of numpy arrays ``(x, y)`` or a torch
DataLoader yielding ``(x, y)`` batches; arrays are fed in batches of ``batch`` samples on the CPU.

The MAC layers are the module's ``nn.Conv2d`` and ``nn.Linear`` submodules, named by their
qualified names (``conv1``, ``block1.conv2``): the names the torch importer gives the layers of
the loopnest network, so one per-layer setting applies to both (:func:`check_layers`).
A :class:`QuantScheme` says, per layer, how its weights and its input activations are quantized.
:func:`quantize_module` returns a quantized copy: weights pass through their quantizer on every
forward (a parametrization, so fine-tuning updates the float weights underneath), and each
layer's input is quantized over the range seen on the calibration data (per tensor: a
per-channel input scale could not be folded into an integer MAC). Biases and the network's
output stay in floating point. Rounding passes gradients straight through (Bengio et al. 2013),
which is what :func:`finetune` (quantization-aware training) relies on.
"""

from __future__ import annotations

import functools

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from loopnest.codesign import CodesignError
from loopnest.codesign.quantize import Quantizer, value_range

BATCH = 1024


@dataclass(frozen=True)
class LayerQuant:
    """How one MAC layer is quantized: its weights and its input activations (None: float)."""

    weights: Quantizer | None = None
    inputs: Quantizer | None = None

    def __post_init__(self) -> None:
        if self.inputs is not None and (self.inputs.weights_only or self.inputs.per_channel):
            raise CodesignError(f"input activations: {type(self.inputs).__name__}"
                                f"{' per channel' if self.inputs.per_channel else ''} quantizes weights only; "
                                "activations take a per-tensor uniform or log quantizer")


@dataclass(frozen=True)
class QuantScheme:
    """``default`` for every MAC layer, ``per_layer[name]`` instead for the layers it names."""

    default: LayerQuant = LayerQuant()
    per_layer: Mapping[str, LayerQuant] = field(default_factory=dict)

    def layer(self, name: str) -> LayerQuant:
        return self.per_layer.get(name, self.default)


def mac_layers(module) -> dict:
    """The module's Conv2d and Linear submodules by qualified name, in definition order."""
    from torch import nn

    return {n: m for n, m in module.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}


def check_layers(module, layer_names) -> None:
    """CodesignError unless the module's MAC layers are exactly ``layer_names`` (a network's layers)."""
    have, want = set(mac_layers(module)), set(layer_names)
    if have != want:
        parts = [f"{label}: {', '.join(sorted(s))}" for label, s in (("only in the network", want - have),
                                                                     ("only in the module", have - want)) if s]
        raise CodesignError(f"the torch module's Conv2d/Linear layers do not match the network's layers ({'; '.join(parts)})")


def batches(data, batch: int = BATCH) -> Iterator:
    """(x, y) torch batches of ``data`` (a Split, a pair of arrays, or a DataLoader)."""
    import torch

    if isinstance(data, torch.utils.data.DataLoader):
        yield from data
        return
    x, y = (data.x, data.y) if hasattr(data, "x") else data
    if len(x) != len(y) or not len(x):
        raise CodesignError(f"dataset: {len(x)} inputs and {len(y)} labels; need the same positive number of each")
    for i in range(0, len(y), batch):
        yield torch.as_tensor(np.asarray(x[i:i + batch], np.float32)), torch.as_tensor(np.asarray(y[i:i + batch]))


def accuracy(module, data, batch: int = BATCH) -> float:
    """Top-1 accuracy (fraction 0..1) of ``module`` on ``data``, in eval mode, without gradients."""
    import torch

    was_training = module.training
    module.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in batches(data, batch):
            right += int((module(x).argmax(dim=1) == y).sum())
            total += len(y)
    module.train(was_training)
    return right / total


def _ste(x, q):
    """q in the forward pass, exactly (``x + (q - x).detach()`` rounds in the last bit), and the
    identity's gradient in the backward pass (the straight-through estimator)."""
    return _straight_through().apply(x, q)


@functools.cache
def _straight_through():
    import torch

    class StraightThrough(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, q):
            return q.clone()

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    return StraightThrough


def _weight_parametrization(quantizer: Quantizer):
    """A torch parametrization: the weight as its quantizer rounds it, over its own range."""
    from torch import nn

    class QuantizedWeight(nn.Module):
        def forward(self, w):
            lo, hi = value_range(w, quantizer.per_channel)
            return _ste(w, quantizer.quantize(w, lo, hi))

    return QuantizedWeight()


def _input_hook(quantizer: Quantizer, lo: float, hi: float):
    """A forward pre-hook: the layer's input rounded by ``quantizer`` over the calibrated range."""
    import torch

    lo_t, hi_t = torch.tensor(lo), torch.tensor(hi)

    def hook(_, args):
        return (_ste(args[0], quantizer.quantize(args[0], lo_t, hi_t)), *args[1:])

    return hook


def calibrate(module, scheme: QuantScheme, data, batch: int = BATCH) -> dict[str, tuple[float, float]]:
    """(lo, hi) of each MAC layer's input over ``data`` (float module), for layers whose inputs
    the scheme quantizes; ranges include 0."""
    import torch

    layers = {n: m for n, m in mac_layers(module).items() if scheme.layer(n).inputs is not None}
    seen: dict[str, list[float]] = {}

    def hook(name):
        def record(_, args):
            x = args[0].detach()
            lo, hi = seen.get(name, [0.0, 0.0])
            seen[name] = [min(lo, float(x.min())), max(hi, float(x.max()))]
        return record

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in layers.items()]
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            for x, _ in batches(data, batch):
                module(x)
    finally:
        for h in handles:
            h.remove()
        module.train(was_training)
    return {n: tuple(v) for n, v in seen.items()}


def quantize_module(module, scheme: QuantScheme, calibration=None, batch: int = BATCH):
    """A quantized copy of ``module`` (the original is untouched); ``calibration`` data sets the
    input ranges and is needed when the scheme quantizes any layer's inputs."""
    from torch.nn.utils import parametrize

    layers = mac_layers(module)
    unknown = sorted(set(scheme.per_layer) - set(layers))
    if unknown:
        raise CodesignError(f"quantization given for {', '.join(map(repr, unknown))}: no such Conv2d/Linear layer in the module")
    needs_inputs = any(scheme.layer(n).inputs is not None for n in layers)
    if needs_inputs and calibration is None:
        raise CodesignError("quantizing input activations needs calibration data")
    ranges = calibrate(module, scheme, calibration, batch) if needs_inputs else {}
    out = copy.deepcopy(module)
    for name, m in mac_layers(out).items():
        lq = scheme.layer(name)
        if lq.weights is not None:
            parametrize.register_parametrization(m, "weight", _weight_parametrization(lq.weights))
        if lq.inputs is not None:
            m.register_forward_pre_hook(_input_hook(lq.inputs, *ranges[name]))
    return out.eval()


def fit(module, data, epochs: int, lr: float, batch: int, seed: int) -> None:
    """Train ``module`` in place with Adam on cross-entropy (cosine-decaying learning rate from
    ``lr``). Arrays are reshuffled each epoch by a generator seeded with ``seed`` and cut into
    batches of ``batch``; a DataLoader is used as it comes. Call it inside
    :func:`~loopnest.codesign.determinism.deterministic` for reproducible weights."""
    import torch

    if isinstance(data, torch.utils.data.DataLoader):
        def epoch():
            return iter(data)
        per_epoch = len(data)
    else:
        x, y = (data.x, data.y) if hasattr(data, "x") else data
        x, y = torch.as_tensor(np.asarray(x, np.float32)), torch.as_tensor(np.asarray(y))
        gen = torch.Generator().manual_seed(seed)
        per_epoch = -(-len(y) // batch)

        def epoch():
            order = torch.randperm(len(y), generator=gen)
            return ((x[order[i:i + batch]], y[order[i:i + batch]]) for i in range(0, len(y), batch))
    opt = torch.optim.Adam(module.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, epochs * per_epoch))
    loss_fn = torch.nn.CrossEntropyLoss()
    module.train()
    for _ in range(epochs):
        for xb, yb in epoch():
            opt.zero_grad()
            loss_fn(module(xb), yb).backward()
            opt.step()
            schedule.step()
    module.eval()


def finetune(quantized, data, epochs: int, lr: float = 1e-3, batch: int = 32, seed: int = 0):
    """Quantization-aware fine-tuning of a :func:`quantize_module` copy, in place and seeded:
    ``epochs`` passes over ``data`` with the quantizers in the forward pass and straight-
    through gradients; input ranges stay those of calibration. Returns the module."""
    from loopnest.codesign.determinism import deterministic

    if epochs < 0:
        raise CodesignError(f"fine-tuning epochs: an integer >= 0, got {epochs}")
    if epochs:
        with deterministic(seed):
            fit(quantized, data, epochs, lr, batch, seed)
    return quantized.eval()
