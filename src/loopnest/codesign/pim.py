"""PIM non-idealities on the accuracy harness, without retraining (Yang and Sze, IEDM 2019):
Gaussian noise on every MAC layer's output activations, low-bit weights, and an ADC of limited
resolution reading each array's partial sums.

* :class:`Noise`: zero-mean Gaussian noise added to each Conv2d/Linear output (before the
  nonlinearity), standing for the noise of inputs, weights and the analog sum. ``fixed``: one
  standard deviation ``sigma`` for every layer. ``rescaled``: ``sigma`` times the layer's
  largest |output| on the calibration split of the noise-free network (Gokmen and Vlasov 2016,
  as Yang and Sze use it). Draws come from a torch generator seeded per evaluation, so a seed gives
  the same accuracy on any machine.
* weight bits: the harness's :class:`~loopnest.codesign.quantize.Uniform` quantizer, symmetric,
  per tensor, on the weights only (activations stay float: the study isolates the weights).
* :class:`Adc`: a layer's reduction (C*R*S inputs per output) is split over arrays of ``rows``
  rows (whole input channels per array, as the crossbar mapping tiles them); each array's
  partial sum is rounded by a ``bits``-bit symmetric uniform quantizer over its full scale,
  the largest |partial sum| of that array on the calibration split (an ADC range set once, per
  array), then the partial sums are added in digital. This reads the whole multi-bit partial sum
  with one conversion (no bit slicing): a simplification of ISAAC's bit-serial, bit-sliced reads.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

from loopnest.codesign import CodesignError
from loopnest.codesign.accuracy import LayerQuant, QuantScheme, accuracy, batches, mac_layers, quantize_module
from loopnest.codesign.quantize import Uniform

NOISE_MODES = ("fixed", "rescaled")


@dataclass(frozen=True)
class Noise:
    """Gaussian noise of standard deviation ``sigma`` (fixed) or ``sigma`` x max|output| (rescaled)."""

    sigma: float
    mode: str = "fixed"

    def __post_init__(self) -> None:
        if isinstance(self.sigma, bool) or not isinstance(self.sigma, (int, float)) or not (math.isfinite(self.sigma) and self.sigma >= 0):
            raise CodesignError(f"--sigma: a noise standard deviation must be a finite number >= 0, got {self.sigma!r}")
        if self.mode not in NOISE_MODES:
            raise CodesignError(f"--noise: {self.mode!r} is not one of {', '.join(NOISE_MODES)}")


@dataclass(frozen=True)
class Adc:
    """Partial sums of ``rows``-row arrays read by a ``bits``-bit ADC (see the module docstring)."""

    bits: int
    rows: int

    def __post_init__(self) -> None:
        Uniform(self.bits)  # its check: an integer from 2 to 32
        if isinstance(self.rows, bool) or not isinstance(self.rows, int) or self.rows < 1:
            raise CodesignError(f"ADC rows: an integer >= 1, got {self.rows!r}")


def _max_abs_outputs(module, data) -> dict[str, float]:
    """Largest |output| of each MAC layer of ``module`` over ``data`` (its hooks run too)."""
    import torch

    seen: dict[str, float] = {}

    def hook(name):
        def record(_, args, out):
            seen[name] = max(seen.get(name, 0.0), float(out.detach().abs().max()))
        return record

    layers = mac_layers(module)
    handles = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            for x, _ in batches(data):
                module(x)
    finally:
        for h in handles:
            h.remove()
        module.train(was_training)
    return seen


def _adc_hook(adc: Adc, full_scale: dict):
    """A forward hook recomputing the layer's output from ADC-read partial sums; while
    ``full_scale['calibrating']`` it records each array's largest |partial sum| instead."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    q = Uniform(adc.bits)

    def hook(m, args, out):
        x, w = args[0], m.weight
        per_in, in_group = w[0].numel() // w.shape[1], w.shape[1]  # R*S (1 for linear), C/G
        chunk = max(1, adc.rows // per_in)
        starts = range(0, in_group, chunk)
        if isinstance(m, nn.Conv2d) and m.groups > 1 and len(starts) > 1:
            raise CodesignError(f"ADC partial sums: a grouped convolution with more than {adc.rows} rows per group")
        total = 0
        for k, s in enumerate(starts):
            ws = w[:, s:s + chunk]
            if isinstance(m, nn.Conv2d):
                xs = x if len(starts) == 1 else x[:, s:s + chunk]
                ps = F.conv2d(xs, ws, None, m.stride, m.padding, m.dilation, m.groups)
            else:
                ps = F.linear(x[..., s:s + chunk], ws)
            if full_scale["calibrating"]:
                full_scale[k] = max(full_scale.get(k, 0.0), float(ps.detach().abs().max()))
                total = total + ps
            else:
                fs = torch.as_tensor(full_scale.get(k, 0.0))
                total = total + q.quantize(ps, -fs, fs)
        return total if m.bias is None else total + (m.bias.view(1, -1, 1, 1) if isinstance(m, nn.Conv2d) else m.bias)

    return hook


def _noise_hook(std: float, gen):
    import torch

    def hook(_, args, out):
        return out + std * torch.randn(out.shape, generator=gen, dtype=out.dtype)

    return hook


def pim_module(module, calibration, weight_bits: int | None = None, noise: Noise | None = None,
               adc: Adc | None = None, seed: int = 0):
    """A copy of ``module`` with the non-idealities applied (the original is untouched); noise
    draws come from a generator seeded with ``seed``. ``calibration`` sets the ranges."""
    import torch

    out = (quantize_module(module, QuantScheme(LayerQuant(Uniform(weight_bits))))
           if weight_bits is not None else copy.deepcopy(module).eval())
    layers = mac_layers(out)
    if adc is not None:
        scales = [{"calibrating": True} for _ in layers]
        for fs, m in zip(scales, layers.values()):
            m.register_forward_hook(_adc_hook(adc, fs))
        _max_abs_outputs(out, calibration)  # one pass over the calibration split sets every ADC's range
        for fs in scales:
            fs["calibrating"] = False
    if noise is not None and noise.sigma > 0:
        scale = _max_abs_outputs(module, calibration) if noise.mode == "rescaled" else {}
        gen = torch.Generator().manual_seed(seed)
        for n, m in layers.items():
            m.register_forward_hook(_noise_hook(noise.sigma * scale.get(n, 1.0), gen))
    return out.eval()


def pim_accuracy(module, data, calibration, weight_bits: int | None = None, noise: Noise | None = None,
                 adc: Adc | None = None, seeds: Sequence[int] = (0,)) -> dict:
    """Test accuracy with the non-idealities, over ``seeds`` (noise draws): mean, spread
    (population standard deviation) and every seed's value, as fractions 0..1."""
    from loopnest.codesign.determinism import deterministic

    if not seeds:
        raise CodesignError("--seeds: give at least one seed")
    random = noise is not None and noise.sigma > 0
    values = []
    for s in seeds if random else seeds[:1]:
        with deterministic(s):
            values.append(accuracy(pim_module(module, calibration, weight_bits, noise, adc, s), data))
    mean = sum(values) / len(values)
    return {"mean": mean, "std": math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)), "values": values}
