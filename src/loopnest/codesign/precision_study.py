"""The precision study: accuracy against energy and latency as the bit width falls.

For each bit width b of the spec the network is quantized (weights and every MAC layer's input
activations; see :class:`PrecisionSpec` for what each method quantizes) and its top-1 accuracy
measured on the test split; the loopnest network with the same widths (``Precision`` applied
to every layer's tensors) is mapped on the architecture by ``loopnest.search.map_network``,
which gives its energy (pJ) and cycles. A float32 reference is measured and mapped at 32 bits.

Energy and cycles of a network are sums over its layers, each mapped on its own
(``loopnest.search.network``), so a network whose layers have different widths costs the sum
of each layer's cost in the uniform network of its width: the per-layer sensitivity and the
mixed-precision search reuse the uniform mappings instead of mapping again.

* ``per_layer``: for every layer and width, the accuracy with only that layer quantized (the
  others in float) and the network's energy then.
* ``budget`` (accuracy points): the greedy mixed-precision search (:func:`greedy_mixed`).
  It selects on the calibration split (the test split stays unseen) and reports test accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from loopnest.codesign import CodesignError
from loopnest.codesign.accuracy import LayerQuant, QuantScheme, accuracy, check_layers, finetune, quantize_module
from loopnest.codesign.quantize import Binary, Log, Ternary, Uniform
from loopnest.mapping.constraints import Constraints
from loopnest.names import plain
from loopnest.search.mapper import REMAINDER_FOLDS
from loopnest.workload.network import Network
from loopnest.workload.precision import MAX_BITS, Precision, apply_precision, check_bits

METHODS = ("uniform", "log", "binary", "ternary")
FLOAT = Precision(MAX_BITS, MAX_BITS, MAX_BITS)  # the float32 reference's stored widths
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PrecisionSpec:
    """What the study quantizes, per bit width b of ``bits``.

    uniform / log: weights and input activations at b bits (``symmetric`` and ``per_channel``
    apply to uniform; per channel means the weights' output channels). binary / ternary: weights
    at 1 / 2 bits, input activations uniform at b bits. The cost model sees weights at the
    weights' width, inputs at b and outputs at ``output_bits`` (default b: each layer's output is
    the next layer's quantized input). ``finetune_epochs`` > 0 fine-tunes the network quantized at
    each width on the train split (quantization-aware; the per-layer sensitivity and the mixed
    search stay post-training, so they need no training per trial); ``budget`` (accuracy points, float minus quantized)
    runs the mixed-precision search.
    """

    bits: tuple[int, ...]
    method: str = "uniform"
    symmetric: bool = True
    per_channel: bool = False
    per_layer: bool = False
    output_bits: int | None = None
    finetune_epochs: int = 0
    budget: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.bits:
            raise CodesignError("--bits: give at least one bit width")
        for b in self.bits:
            check_bits(b, "--bits")
        if len(set(self.bits)) != len(self.bits):
            raise CodesignError(f"--bits: a bit width is repeated in {plain(self.bits)}")
        if self.method not in METHODS:
            raise CodesignError(f"--method: {self.method!r} is not one of {', '.join(METHODS)}")
        if self.output_bits is not None:
            check_bits(self.output_bits, "--output-bits")
        if self.finetune_epochs < 0:
            raise CodesignError(f"--finetune-epochs: an integer >= 0, got {self.finetune_epochs}")
        if self.budget is not None and not (math.isfinite(self.budget) and self.budget >= 0):
            raise CodesignError(f"--budget: accuracy points >= 0, got {self.budget}")
        if self.method in ("uniform", "log") and min(self.bits) < 2:
            raise CodesignError(f"--bits: {self.method} quantization takes 2 to {MAX_BITS} bits; for 1-bit weights use --method binary")

    def layer_quant(self, b: int) -> LayerQuant:
        """The quantizers of every layer at width ``b``."""
        if self.method == "log":
            return LayerQuant(Log(b, self.per_channel), Log(b))
        acts = Uniform(b, self.symmetric)
        if self.method == "binary":
            return LayerQuant(Binary(self.per_channel), acts)
        if self.method == "ternary":
            return LayerQuant(Ternary(self.per_channel), acts)
        return LayerQuant(Uniform(b, self.symmetric, self.per_channel), acts)

    def precision(self, b: int) -> Precision:
        """The stored widths the cost model sees at width ``b``."""
        return Precision(self.layer_quant(b).weights.bits, b, self.output_bits or b)


@dataclass
class PrecisionStudy:
    """Everything the study measured; :meth:`to_dict` is the JSON the table and figures print."""

    model: str
    arch: str
    energy_units: str
    spec: PrecisionSpec
    mapping: dict
    data: dict
    reference: dict
    points: list[dict]
    per_layer: list[dict] = field(default_factory=list)
    mixed: dict | None = None
    versions: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        s = self.spec
        energies = {p["energy_pj"] for p in self.points}
        notes = list(self.notes)
        if len(self.points) > 1 and len(energies) == 1:
            notes.append("Energy is the same at every bit width: this cost model does not charge storage and "
                         "traffic by the tensors' bit widths (Tensor.bits); the widths were passed to it (see "
                         "each layer's 'bits').")
        return {
            "study": "precision", "model": self.model, "arch": self.arch, "energy_units": self.energy_units,
            "settings": {"bits": list(s.bits), "method": s.method, "symmetric": s.symmetric, "per_channel": s.per_channel,
                         "per_layer": s.per_layer, "output_bits": s.output_bits, "finetune_epochs": s.finetune_epochs,
                         "budget_points": s.budget, "seed": s.seed, **self.mapping},
            "data": self.data, "versions": self.versions,
            "accuracy_units": "fraction of the test split classified correctly (top-1)",
            "reference": self.reference, "points": self.points, "per_layer": self.per_layer, "mixed": self.mixed,
            "notes": notes,
        }


def pareto(costs: list[float], values: list[float]) -> list[bool]:
    """For each point, whether no other point has cost <= and value >= with one of them strict."""
    return [not any(c2 <= c and v2 >= v and (c2 < c or v2 > v) for c2, v2 in zip(costs, values))
            for c, v in zip(costs, values)]


def greedy_mixed(layers: list[str], widths: list[int], energy: Mapping[tuple[str, int], float],
                 accuracy_of: Callable[[Mapping[str, int]], float], reference: float, budget: float) -> tuple[dict, list[dict]]:
    """Per-layer widths chosen greedily by energy saved per accuracy lost, under a drop budget.

    Start with every layer at the widest of ``widths``. Each round, every layer not yet frozen is
    tried one width lower: saved = its energy there minus now (pJ, from ``energy``), lost = the
    accuracy now minus with the move (points; ``accuracy_of`` maps layer -> width to a fraction).
    A move whose total drop, ``reference`` minus the new accuracy, exceeds ``budget`` points
    freezes that layer; among the others the largest saved / max(lost, 1e-9) wins (ties: less
    lost, then the earlier layer); a move that costs energy (saved < 0) is never taken.
    Stops when no move is left. Returns the widths and one entry per move tried.
    """
    order = sorted(set(widths), reverse=True)
    now = {n: order[0] for n in layers}
    current = accuracy_of(now)
    frozen: set[str] = set()
    steps: list[dict] = []
    while True:
        best = None
        for i, n in enumerate(layers):
            k = order.index(now[n])
            if n in frozen or k + 1 == len(order):
                continue
            trial = {**now, n: order[k + 1]}
            acc = accuracy_of(trial)
            saved = energy[n, now[n]] - energy[n, order[k + 1]]
            lost = 100 * (current - acc)
            step = {"layer": n, "from_bits": now[n], "to_bits": order[k + 1], "saved_pj": saved, "lost_points": lost,
                    "drop_points": 100 * (reference - acc), "taken": False}
            steps.append(step)
            if step["drop_points"] > budget or saved < 0:
                frozen.add(n)
                continue
            key = (saved / max(lost, 1e-9), -lost, -i)
            if best is None or key > best[0]:
                best = (key, step, trial, acc)
        if best is None:
            return now, steps
        _, step, now, current = best
        step["taken"] = True


def run_precision_study(spec: PrecisionSpec, module, network: Network, data, arch, *, dataflow: str | None = None,
                        mode: str = "auto", objective: str = "energy", jobs: int | None = None,
                        progress: Progress | None = None, constraints: Constraints | None = None,
                        remainder_folds: bool = REMAINDER_FOLDS) -> PrecisionStudy:
    """Run the study of ``module`` (a trained torch module) whose loopnest network is ``network``
    (layer names must match) on ``data`` (a :class:`~loopnest.codesign.data.Splits`), costed on
    ``arch`` (an Architecture) by the mapper with ``dataflow``, ``mode``, ``objective``, ``jobs`` and
    the user's ``constraints`` (a ``Constraints``, met with the dataflow's); ``remainder_folds``:
    ``map_network``'s."""
    from loopnest.search.network import map_network

    say = progress or (lambda _: None)
    names = [p.name for p in network.layers]
    check_layers(module, names)

    def cost(precision: Precision) -> dict:
        say(f"mapping {network.name} at {precision} on {arch.name}")
        result = map_network(apply_precision(network, precision), arch, dataflow, constraints, objective, mode, spec.seed, jobs,
                             remainder_folds=remainder_folds)
        if result.unmapped:
            lo = result.unmapped[0]
            raise CodesignError(f"layer {lo.name} has no valid mapping on {arch.name} at {precision}: {lo.search.reason}")
        return {lo.name: {"name": lo.name, "bits": {t.role: t.bits for t in lo.problem.tensors},
                          "energy_pj": lo.result.energy_pj, "cycles": lo.result.cycles} for lo in result.layers}

    def measured(scheme: QuantScheme, split: str = "test", tune: bool = False) -> float:
        q = quantize_module(module, scheme, data.calibration)
        if tune and spec.finetune_epochs:
            finetune(q, data.train, spec.finetune_epochs, seed=spec.seed)
        return accuracy(q, getattr(data, split))

    say(f"measuring float accuracy of {network.name}")
    float_acc = accuracy(module, data.test)
    notes = []
    try:
        float_layers = cost(FLOAT)
    except CodesignError as e:  # the reference alone: the study at the widths asked for still stands
        float_layers = None
        notes.append(f"the float32 reference has no energy or cycles: {e}")
    reference = _point(float_acc, float_layers, precision=_widths(FLOAT))
    uniform: dict[int, dict] = {}
    points = []
    for b in spec.bits:
        say(f"quantizing {network.name} to {b} bits ({spec.method})")
        acc = measured(QuantScheme(spec.layer_quant(b)), tune=True)
        uniform[b] = cost(spec.precision(b))
        points.append(_point(acc, uniform[b], bits=b, precision=_widths(spec.precision(b)),
                            drop_points=100 * (float_acc - acc)))
    for axis in ("energy_pj", "cycles"):
        for p, on in zip(points, pareto([p[axis] for p in points], [p["accuracy"] for p in points])):
            p[f"pareto_{axis.split('_')[0]}"] = on
    study = PrecisionStudy(network.name, arch.name, arch.energy_units, spec,
                           {"dataflow": dataflow, "mode": mode, "objective": objective}, _sizes(data), reference, points,
                           versions=_versions(), notes=notes)
    if spec.per_layer:
        for n in names:
            say(f"sensitivity of {n} at {', '.join(map(str, spec.bits))} bits")
            for b in spec.bits:
                acc = measured(QuantScheme(LayerQuant(), {n: spec.layer_quant(b)}))
                row = _point(acc, float_layers and {**float_layers, n: uniform[b][n]}, layer=n, bits=b,
                             drop_points=100 * (float_acc - acc))
                del row["layers"]  # the network's layers: all float but this one
                study.per_layer.append(row)
    if spec.budget is not None:
        study.mixed = _mixed(spec, module, data, names, uniform, measured, say)
    return study


def _mixed(spec: PrecisionSpec, module, data, names: list[str], uniform: dict[int, dict], measured, say) -> dict:
    say(f"mixed-precision search under a {spec.budget:g}-point budget")
    cache: dict[tuple, float] = {}

    def on_calibration(widths: Mapping[str, int]) -> float:
        key = tuple(widths[n] for n in names)
        if key not in cache:
            cache[key] = measured(QuantScheme(LayerQuant(), {n: spec.layer_quant(b) for n, b in widths.items()}), "calibration")
        return cache[key]

    energy = {(n, b): uniform[b][n]["energy_pj"] for n in names for b in spec.bits}
    widths, steps = greedy_mixed(names, list(spec.bits), energy, on_calibration, accuracy(module, data.calibration), spec.budget)
    test = measured(QuantScheme(LayerQuant(), {n: spec.layer_quant(b) for n, b in widths.items()}))
    return {**_point(test, {n: uniform[widths[n]][n] for n in names}, budget_points=spec.budget, widths=widths,
                     accuracy_calibration=on_calibration(widths)), "steps": steps}


def _point(acc: float, layers: dict | None, **extra) -> dict:
    """A measured point: accuracy, and energy (pJ) and cycles summed over ``layers`` (None: not mapped)."""
    if layers is None:
        return {**extra, "accuracy": acc, "energy_pj": None, "cycles": None, "layers": []}
    return {**extra, "accuracy": acc, "energy_pj": sum(r["energy_pj"] for r in layers.values()),
            "cycles": sum(r["cycles"] for r in layers.values()), "layers": list(layers.values())}


def _widths(p: Precision) -> dict:
    return {"weights": p.weights, "inputs": p.inputs, "outputs": p.outputs}


def _sizes(data) -> dict:
    def size(split) -> int | None:
        try:
            return len(split.dataset) if hasattr(split, "dataset") else len(split.y if hasattr(split, "y") else split[1])
        except TypeError:
            return None
    return {f"{k}_samples": size(getattr(data, k)) for k in ("train", "calibration", "test")}


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("loopnest", "torch", "scikit-learn", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out
