"""Densities of a layer's tensors (fraction of nonzero values): what the sparse cost model scales by.

A :class:`Density` is one tensor's statistical model of where its nonzeros lie:

- ``dense``: every value nonzero (density 1).
- ``uniform`` (d): d * T of its T values are nonzero, placed uniformly at random (Sparseloop's
  ``hypergeometric`` model). A tile of t values then holds k nonzeros with the hypergeometric
  probability C(dT, k) C(T - dT, t - k) / C(T, t): expected occupancy t * d, and the tile is
  empty with probability prod_{i<t} (T - dT - i) / (T - i) (the same product with a
  non-integer dT where d * T is not whole).
- ``fixed`` (d): every tile holds exactly its share t * d (Sparseloop's ``fixed_structured``):
  a tile is nonempty with probability min(1, t * d).
- ``structured`` (N:M): N nonzeros in every block of M consecutive values (2:4 sparsity); a
  tile of t < M values inside a block is empty with the hypergeometric probability over the
  block (T = M, N nonzeros), a tile of M or more values never is.

Applying densities to a layer sets ``Tensor.density``; the cost model reads them there and
nowhere else, so one network can be costed at many densities (as ``workload.precision``).
Specs are text such as ``weights=0.45,inputs=0.3`` or ``weights=2:4`` (roles may be
abbreviated to ``w``, ``i``, ``o``), or a per-layer YAML file (``read_density_file``)::

    source: free text saying where the densities come from
    layers:
      conv1: {weights: 0.45, inputs: 1.0, outputs: 0.52}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from loopnest.workload.network import Network
from loopnest.workload.problem import ROLES, Problem

_ALIASES = {"w": "weights", "i": "inputs", "o": "outputs"}
ALLOWED = "a number in [0, 1] or N:M with 0 <= N <= M (e.g. 2:4)"


class DensityError(ValueError):
    """A density spec that names an unknown role or layer, or a density outside [0, 1]."""


@dataclass(frozen=True)
class Density:
    """One tensor's density model (module docstring); immutable, checked where it is made."""

    kind: str = "dense"  # dense | uniform | fixed | structured
    value: float = 1.0  # fraction of nonzero values
    n: int = 0  # structured: N nonzeros per block of M
    m: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("dense", "uniform", "fixed", "structured"):
            raise DensityError(f"density kind {self.kind!r}: expected dense, uniform, fixed or structured")
        v = self.value
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise DensityError(f"density {v!r}: expected {ALLOWED}")
        if self.kind == "structured" and not (0 <= self.n <= self.m and self.m >= 1 and self.value == self.n / self.m):
            raise DensityError(f"density {self.n}:{self.m}: expected N:M with 0 <= N <= M and M >= 1")
        if self.kind == "dense" and v != 1.0:
            raise DensityError(f"a dense tensor has density 1, got {v!r}")

    @staticmethod
    def uniform(d: float) -> Density:
        return Density("dense") if d == 1 else Density("uniform", float(d))

    @staticmethod
    def fixed(d: float) -> Density:
        return Density("dense") if d == 1 else Density("fixed", float(d))

    @staticmethod
    def structured(n: int, m: int) -> Density:
        if not (isinstance(n, int) and isinstance(m, int) and 0 <= n <= m and m >= 1):
            raise DensityError(f"density {n}:{m}: expected N:M with 0 <= N <= M and M >= 1")
        return Density("dense") if n == m else Density("structured", n / m, n, m)

    @staticmethod
    def parse(text: str) -> Density:
        """``0.45`` (uniform random) or ``2:4`` (N:M structured)."""
        s = str(text).strip()
        try:
            if ":" in s:
                n, m = s.split(":")
                return Density.structured(int(n), int(m))
            return Density.uniform(float(s))
        except (ValueError, DensityError):
            raise DensityError(f"density {s!r}: expected {ALLOWED}") from None

    @property
    def is_dense(self) -> bool:
        return self.value == 1.0

    def __str__(self) -> str:
        return f"{self.n}:{self.m}" if self.kind == "structured" else f"{self.value:g}" + ("" if self.kind != "fixed" else " (fixed)")

    def expected(self, tile):
        """Expected nonzeros in a tile of ``tile`` values (array or number): tile * density."""
        return tile * self.value

    def rle_entries(self, run_bits: int) -> float:
        """Expected run-length entries per dense position with a run field of ``run_bits`` bits
        (Eyeriss' RLC): an entry is a run of at most R - 1 zeros (R = 2**run_bits) and one value,
        so a run of r zeros before a nonzero takes floor(r / R) extra entries, each R - 1 zeros and
        an explicit zero. With zeros placed independently (uniform, fixed), r is geometric,
        P(r >= k) = (1 - d)**k, and the entries per position are d / (1 - (1 - d)**R) (d plus
        the fillers d * q / (1 - q), q = (1 - d)**R; 1 / R at d = 0). N:M tensors whose longest
        zero run, 2 (M - N), is below R need no fillers (d). Zeros after the last nonzero are
        not counted."""
        d, big_r = self.value, 2 ** run_bits
        if self.is_dense or (self.kind == "structured" and self.n > 0 and 2 * (self.m - self.n) < big_r):
            return d
        if d == 0.0:
            return 1.0 / big_r
        return d / -math.expm1(big_r * math.log1p(-d))

    def p_nonempty(self, tile, total: int) -> np.ndarray:
        """Probability that a tile of ``tile`` values (an array; a tensor of ``total`` values)
        holds at least one nonzero (module docstring)."""
        t = np.asarray(tile, dtype=np.int64)
        if self.is_dense:
            return np.where(t > 0, 1.0, 0.0)
        if self.kind == "fixed":
            return np.minimum(1.0, t * self.value)
        if self.kind == "structured":
            table = _empty_table(float(self.n), self.m)
            return 1.0 - table[np.minimum(t, len(table) - 1)]
        table = _empty_table(self.value * total, total)
        return 1.0 - table[np.minimum(t, len(table) - 1)]

    def occupancy_pmf(self, tile: int, total: int) -> np.ndarray:
        """P(k nonzeros) for k = 0..tile in one tile of a uniform tensor (hypergeometric, integer
        d * total only): for tests and reports, not the hot path."""
        nnz = self.value * total
        if self.kind != "uniform" or nnz != int(nnz):
            raise DensityError("occupancy_pmf: uniform densities with a whole number of nonzeros only")
        K = int(nnz)
        return np.array([math.comb(K, k) * math.comb(total - K, tile - k) / math.comb(total, tile) for k in range(tile + 1)])

    def worst_occupancy(self, tile):
        """The most nonzeros a tile can hold: the tile itself for uniform (any placement),
        ceil(t * d) for fixed, N per started block of M for structured."""
        if self.kind == "fixed":
            return np.ceil(np.asarray(tile) * self.value)
        if self.kind == "structured":
            t = np.asarray(tile)
            return np.minimum(t, -(-t // self.m) * self.n)
        return tile

    def occupancy_bound(self, tile, total: int, rule: str = "expected", quantile: float = 0.99) -> np.ndarray:
        """Nonzeros a capacity check reserves for a tile of ``tile`` values (an array; a tensor of
        ``total``), by ``rule``: ``expected`` ceil(t * d); ``worst`` the most it can hold
        (uniform: min(t, round(d * total)), the tensor's nonzeros; else ``worst_occupancy``);
        ``quantile`` the least k with P(nonzeros <= k) >= ``quantile`` (uniform: hypergeometric with
        round(d * total) nonzeros in the tensor; fixed and N:M are deterministic: their worst)."""
        t = np.asarray(tile, dtype=np.int64)
        if rule == "expected" or self.is_dense:
            return np.ceil(t * self.value).astype(np.int64)
        if self.kind == "uniform":  # the tensor holds round(d * total) nonzeros in all
            k = int(round(self.value * total))
            if rule == "worst":
                return np.minimum(t, k)
        else:
            return np.asarray(self.worst_occupancy(t)).astype(np.int64)
        from scipy.stats import hypergeom  # lazily: keeps `import loopnest` fast

        uniq, inv = np.unique(t, return_inverse=True)
        return hypergeom.ppf(quantile, total, k, uniq).astype(np.int64)[inv].reshape(t.shape)


NORMAL_SD = 50.0  # expected_max_binomial: the sd from which the normal approximation is used


@lru_cache(maxsize=1 << 16)  # a search meets many (n, instances) pairs: each miss costs up to ~1,200 terms
def expected_max_binomial(n: int, p: float, instances: int) -> float:
    """E[max of ``instances`` independent Binomial(n, p)]. Below ``NORMAL_SD`` standard deviations
    exactly: the sum over k of P(max > k) = 1 - F(k)^instances, F the binomial CDF, over k within
    mean +- 12 sd (+ 12), the terms below that window being 1 (to 1e-30) and those above 0. From
    ``NORMAL_SD`` on (n p (1 - p) >= 2,500) the normal approximation with the skewness term of
    Cornish-Fisher, mean + sd (E[Zmax] + g (E[Zmax^2] - 1) / 6), Zmax the largest of
    ``instances`` standard normals and g = (1 - 2p) / sd (relative error below 1e-4 there,
    tested): the exact sum would take 24 sd terms per call. Never below the mean."""
    if n <= 0 or p <= 0.0:
        return 0.0
    if p >= 1.0 or instances == 1:
        return n * p
    mean, sd = n * p, math.sqrt(n * p * (1.0 - p))
    if sd >= NORMAL_SD:  # Cornish-Fisher: X ~ mean + sd (Z + g (Z^2 - 1) / 6), g the skewness (1 - 2p) / sd
        m1, m2 = _max_of_normals(instances)
        return max(mean, mean + sd * (m1 + (1.0 - 2.0 * p) / sd * (m2 - 1.0) / 6.0))
    lo = max(0, int(mean - 12 * sd) - 12)
    hi = min(n, int(mean + 12 * sd) + 12)
    k = np.arange(lo, hi + 1, dtype=float)
    # pmf over the window from pmf(lo) by the ratio pmf(k + 1) / pmf(k) = (n - k) / (k + 1) x p / (1 - p)
    log_lo = math.lgamma(n + 1) - math.lgamma(lo + 1) - math.lgamma(n - lo + 1) + lo * math.log(p) + (n - lo) * math.log1p(-p)
    steps = np.log((n - k[:-1]) / (k[:-1] + 1)) + math.log(p) - math.log1p(-p)
    pmf = np.exp(log_lo + np.concatenate([[0.0], np.cumsum(steps)]))
    cdf = np.minimum(np.cumsum(pmf), 1.0)[:-1]  # F(k) for k = lo .. hi - 1 (the mass below lo: < 1e-30)
    return max(mean, lo + float(-np.expm1(instances * np.log(np.maximum(cdf, 1e-300))).sum()))


@lru_cache(maxsize=256)
def _max_of_normals(instances: int) -> tuple[float, float]:
    """E[Zmax] and E[Zmax^2], Zmax the largest of ``instances`` independent standard normals: the
    integrals of x and x^2 times N phi(x) Phi(x)^(N-1) over [-12, 12] (trapezoid rule, 40,001 points)."""
    x = np.linspace(-12.0, 12.0, 40001)
    cdf = 0.5 * (1.0 + np.frompyfunc(math.erf, 1, 1)(x / math.sqrt(2.0)).astype(float))
    density = instances * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi) * cdf ** (instances - 1)
    h = x[1] - x[0]
    return tuple(float(np.sum((y[1:] + y[:-1]) * 0.5 * h)) for y in (x * density, x * x * density))


@lru_cache(maxsize=64)
def _empty_table(nnz: float, total: int) -> np.ndarray:
    """P(a tile of t values is empty) for t = 0, 1, ...: prod_{i<t} (total - nnz - i) / (total - i),
    up to the first t where it is 0 (or below 1e-300), then one 0 (lookups clamp to the end)."""
    zeros = total - nnz
    n = int(min(total, math.floor(zeros) + 1 if zeros == int(zeros) else math.ceil(zeros) + 1))
    if nnz > 0:  # stop once the product underflows: each factor is at most (1 - nnz / total)
        n = min(n, int(700 / -math.log1p(-nnz / total)) + 2 if nnz < total else 1)
    i = np.arange(n, dtype=float)
    factors = np.clip((zeros - i) / np.maximum(total - i, 1), 0.0, 1.0)
    out = np.empty(n + 2)
    out[0] = 1.0
    np.cumprod(factors, out=out[1:n + 1])
    out[n + 1] = 0.0
    return out


Densities = Mapping[str, Density]  # role -> density (roles left out are dense)


def _role(key: object, where: str) -> str:
    role = _ALIASES.get(str(key).strip(), str(key).strip())
    if role not in ROLES:
        raise DensityError(f"{where}: no tensor {key!r}; tensors are {', '.join(ROLES)}")
    return role


def parse_densities(text: str) -> dict[str, Density]:
    """``weights=0.45,inputs=2:4`` (or ``w=0.45``) -> {role: Density}."""
    out: dict[str, Density] = {}
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise DensityError(f"density {text!r}: expected tensor=density with tensors {', '.join(ROLES)}; got {part!r}")
        role = _role(key, f"density {text!r}")
        if role in out:
            raise DensityError(f"density {text!r}: {role} is given twice")
        try:
            out[role] = Density.parse(value)
        except DensityError:
            raise DensityError(f"density {text!r}: {role}: expected {ALLOWED}, got {value.strip()!r}") from None
    if not out:
        raise DensityError(f"density {text!r}: give at least one of weights=, inputs=, outputs=")
    return out


@dataclass(frozen=True)
class DensitySpec:
    """Densities for every layer (``default``) and per layer; ``where`` names the file (or the
    option) for error messages."""

    default: Mapping[str, Density]
    layers: Mapping[str, Mapping[str, Density]]
    where: str = "--density"
    source: str = ""


def _value(value: object, where: str) -> Density:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DensityError(f"{where}: expected {ALLOWED}, got {value!r}")
    try:
        return Density.parse(str(value))
    except DensityError:
        raise DensityError(f"{where}: expected {ALLOWED}, got {value!r}") from None


def read_density_file(path: str) -> DensitySpec:
    """A per-layer density file: ``source:`` (free text) and ``layers: {name: {tensor: density}}``;
    tensors left out are dense."""
    from loopnest.datafile import read_yaml

    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("layers"), dict):
        raise DensityError(f"{path}: layers: expected a mapping of layer name: {{tensor: density}}")
    extra = sorted(set(map(str, data)) - {"source", "layers"})
    if extra:
        raise DensityError(f"{path}: {extra[0]}: unknown field; allowed fields are source, layers")
    layers: dict[str, dict[str, Density]] = {}
    for name, entry in data["layers"].items():
        where = f"{path}: layers.{name}"
        if not isinstance(entry, dict):
            raise DensityError(f"{where}: expected a mapping of tensor: density with tensors {', '.join(ROLES)}, got {entry!r}")
        layers[str(name)] = {_role(k, f"{where}.{k}"): _value(v, f"{where}.{k}") for k, v in entry.items()}
    return DensitySpec({}, layers, path, str(data.get("source") or ""))


def load_density(spec: str) -> DensitySpec:
    """``--density``'s value: a per-layer file (a path ending in .yaml, .yml or .json) or the text
    form for every layer."""
    if spec.lower().endswith((".yaml", ".yml", ".json")):
        return read_density_file(spec)
    return DensitySpec(parse_densities(spec), {})


def with_densities(layer: Problem, densities: Densities) -> Problem:
    """The layer with each named role's tensor at that density (roles left out unchanged)."""
    tensors = tuple(replace(t, density=None if densities[t.role].is_dense else densities[t.role])
                    if t.role in densities else t for t in layer.tensors)
    return replace(layer, tensors=tensors)


def _check_layers(spec: DensitySpec, names: set[str], what: str) -> None:
    unknown = sorted(set(spec.layers) - names)
    if unknown:
        raise DensityError(f"{spec.where}: layers.{unknown[0]}: no such layer in {what}; layers are "
                           f"{', '.join(sorted(names)) if len(names) <= 12 else ', '.join(sorted(names)[:12]) + ', ...'}")


def apply_density(network: Network, spec: DensitySpec) -> Network:
    """The network with the default densities on every MAC layer, then each layer's own entry.
    A layer name that is no layer of the network is an error (never ignored)."""
    _check_layers(spec, {n.name for n in network.nodes if n.is_layer}, repr(network.name))
    nodes = []
    for n in network.nodes:
        if n.is_layer:
            n = replace(n, op=with_densities(with_densities(n.op, spec.default), spec.layers.get(n.name, {})))
        nodes.append(n)
    return replace(network, nodes=tuple(nodes))


def apply_to_layer(layer: Problem, spec: DensitySpec) -> Problem:
    """One layer at the default densities, then its own entry; an entry for another layer is an error."""
    _check_layers(spec, {layer.name}, f"the layer (it is {layer.name!r})")
    return with_densities(with_densities(layer, spec.default), spec.layers.get(layer.name, {}))
