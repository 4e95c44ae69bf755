"""Quantizers: small immutable objects, checked where they are made, with one method,
``quantize(x, lo, hi)``, that returns ``x`` rounded onto the quantizer's grid (in x's own units:
"fake quantization", so the network runs unchanged in floating point).

``lo`` and ``hi`` are the range the grid must cover: a tensor's own minimum and maximum (weights)
or the ones seen on a calibration split (activations); per tensor they are scalars, per channel
they have the channel axis and size 1 elsewhere (see :func:`value_range`). A range is widened to
include 0 so that zero (ReLU outputs, padding) stays exact.

* :class:`Uniform` (``bits`` >= 2): evenly spaced levels. Symmetric: zero point 0, scale
  max(|lo|, |hi|) / (2^(b-1) - 1) and levels -(2^(b-1) - 1)..2^(b-1) - 1 for signed data; data
  with lo >= 0 (after a ReLU) uses the unsigned levels 0..2^b - 1 with scale hi / (2^b - 1).
  Asymmetric: scale (hi - lo) / (2^b - 1) and an integer zero point round(-lo / scale), levels
  0..2^b - 1 (Jacob et al., CVPR 2018, eq. 1).
* :class:`Log` (``bits`` >= 2): LogNet / logarithmic data representation (Miyashita, Lee and
  Murmann, arXiv:1603.01025, eq. 3; Lee et al., ICASSP 2017): |x| rounded in the log domain to
  2^e, e = round(log2 |x|) clipped above at e_max = round(log2 max |x|), and 0 where e falls
  below the lowest level. One code is zero, one bit is the sign for signed data, so there are
  2^(b-1) - 1 exponent levels (signed) or 2^b - 1 (lo >= 0).
* :class:`Binary` (1 bit, weights): BinaryConnect scaled as in XNOR-Net's binary-weight networks
  (Rastegari et al., ECCV 2016): alpha * sign(w), alpha = mean |w| (sign(0) = +1).
* :class:`Ternary` (2 bits, weights): ternary weight networks (Li, Zhang and Liu,
  arXiv:1605.04711, eqs. 9-10): threshold delta = 0.7 mean |w|, alpha = mean |w| over
  |w| > delta, alpha * sign(w) where |w| > delta and 0 elsewhere.

Binary and ternary derive their scale from the tensor itself and ignore ``lo`` and ``hi``.
``per_channel`` asks for one scale per output channel (axis 0 of a weight tensor).
"""

from __future__ import annotations

from dataclasses import dataclass

from loopnest.workload.precision import MAX_BITS, PrecisionError

TERNARY_THRESHOLD = 0.7  # delta = 0.7 * mean |w|: Li, Zhang and Liu 2016, eq. 10


def _check(bits: object, lowest: int, what: str) -> None:
    if isinstance(bits, bool) or not isinstance(bits, int) or not lowest <= bits <= MAX_BITS:
        raise PrecisionError(f"{what} quantization: a bit width must be an integer from {lowest} to {MAX_BITS}, got {bits!r}")


def value_range(x, per_channel: bool):
    """(lo, hi) of ``x`` widened to include 0: scalars, or per channel of axis 0 (shape C x 1 x ...)."""
    import torch

    if per_channel:
        flat = x.detach().reshape(x.shape[0], -1)
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        lo, hi = flat.amin(dim=1).reshape(shape), flat.amax(dim=1).reshape(shape)
    else:
        lo, hi = x.detach().min(), x.detach().max()
    return torch.clamp(lo, max=0.0), torch.clamp(hi, min=0.0)


def _positive(scale):
    """A scale with zeros (an all-zero tensor or channel) replaced by 1: such data stays 0."""
    import torch

    return torch.where(scale > 0, scale, torch.ones_like(scale))


@dataclass(frozen=True)
class Uniform:
    """Uniform quantization to ``bits`` bits, symmetric or asymmetric (see the module docstring)."""

    bits: int
    symmetric: bool = True
    per_channel: bool = False
    weights_only = False

    def __post_init__(self) -> None:
        _check(self.bits, 2, "uniform")

    def quantize(self, x, lo, hi):
        import torch

        top = 2 ** self.bits - 1
        if not self.symmetric:
            scale = _positive((hi - lo) / top)
            zero = torch.round(-lo / scale)
            return (torch.clamp(torch.round(x / scale) + zero, 0, top) - zero) * scale
        if bool((lo >= 0).all()):  # unsigned data: the sign bit becomes a level bit
            return torch.clamp(torch.round(x / _positive(hi / top)), 0, top) * _positive(hi / top)
        half = 2 ** (self.bits - 1) - 1
        scale = _positive(torch.maximum(-lo, hi) / half)
        return torch.clamp(torch.round(x / scale), -half, half) * scale


@dataclass(frozen=True)
class Log:
    """Logarithmic (power-of-two) quantization to ``bits`` bits (see the module docstring)."""

    bits: int
    per_channel: bool = False
    weights_only = False

    def __post_init__(self) -> None:
        _check(self.bits, 2, "log")

    def quantize(self, x, lo, hi):
        import torch

        signed = not bool((lo >= 0).all())
        levels = 2 ** (self.bits - 1) - 1 if signed else 2 ** self.bits - 1
        top = torch.maximum(-lo, hi)
        e_max = torch.round(torch.log2(torch.where(top > 0, top, torch.ones_like(top))))
        e_min = e_max - (levels - 1)
        mag = x.abs()
        e = torch.round(torch.log2(torch.where(mag > 0, mag, torch.ones_like(mag))))
        q = torch.pow(2.0, torch.minimum(e, e_max))
        return torch.where((mag > 0) & (e >= e_min), torch.sign(x) * q, torch.zeros_like(x))


@dataclass(frozen=True)
class Binary:
    """Binary weights alpha * sign(w), alpha = mean |w| (see the module docstring); 1 bit."""

    per_channel: bool = False
    bits = 1
    weights_only = True

    def quantize(self, x, lo=None, hi=None):
        import torch

        alpha = _mean_abs(x, self.per_channel, torch.ones_like(x, dtype=torch.bool))
        return torch.where(x >= 0, alpha, -alpha).expand_as(x)


@dataclass(frozen=True)
class Ternary:
    """Ternary weights {-alpha, 0, +alpha} (see the module docstring); 2 bits."""

    per_channel: bool = False
    bits = 2
    weights_only = True

    def quantize(self, x, lo=None, hi=None):
        import torch

        delta = TERNARY_THRESHOLD * _mean_abs(x, self.per_channel, torch.ones_like(x, dtype=torch.bool))
        keep = x.abs() > delta
        alpha = _mean_abs(x, self.per_channel, keep)
        return torch.sign(x) * alpha * keep


def _mean_abs(x, per_channel: bool, mask):
    """Mean of |x| over ``mask``, per tensor or per channel of axis 0 (broadcastable to x); 0 where
    the mask is empty."""
    m = mask.to(x.dtype)
    a = x.abs() * m
    if per_channel:
        dims = tuple(range(1, x.dim()))
        return a.sum(dim=dims, keepdim=True) / m.sum(dim=dims, keepdim=True).clamp(min=1)
    return a.sum() / m.sum().clamp(min=1)


Quantizer = Uniform | Log | Binary | Ternary
