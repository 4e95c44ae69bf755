"""NetAdapt (Yang et al., "NetAdapt: Platform-aware neural network adaptation for mobile
applications", ECCV 2018) on loopnest's cost model: shrink a trained digits CNN (residual blocks
included, depthwise layers not: :func:`~loopnest.codesign.structured.prunable_layers`), one
layer's filter count per iteration, until its energy (pJ) or latency (cycles) on an
architecture meets a budget.

The resource of a network is the sum over its MAC layers of each layer's best mapping on the
architecture (``loopnest.search``, as ``map_network`` does). It is read from a layer-wise
lookup table (:class:`LookupTable`, the paper's way of "measuring" quickly): entry (layer, M, C)
is the mapper's best energy and cycles of that layer with M output and C input channels,
searched once on first use and reused after.

Each iteration i has a target: the current resource minus ``step`` x (the starting resource)
x ``decay`` ** i, but never below the budget. For every prunable layer the proposal is the
largest filter count whose network meets the target (the layer's own M and its consumer's C
both shrink; filters of smallest L1 norm go, :mod:`loopnest.codesign.structured`); a layer
whose network with a single filter there misses the target is skipped without walking down
its counts (costs usually grow with M and C; where the mapper's best cost at a larger count
is lower than at one filter, that count is missed: the price of not mapping every count). Each
proposal is fine-tuned briefly (``short_epochs`` on the train split, seeded) and measured on the
calibration split; the most accurate is kept (ties: the smaller resource, then the earlier
layer). It stops when the budget holds, when no layer can meet the target (the budget is out
of reach: the closest network is returned) or after ``max_iterations``. The final network is
fine-tuned for ``long_epochs`` and measured on the test split.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from loopnest.codesign import CodesignError
from loopnest.codesign.accuracy import accuracy, finetune
from loopnest.codesign.structured import filter_counts, module_network, prune_filters, prunable_layers
from loopnest.mapping.constraints import Constraints
from loopnest.search.mapper import REMAINDER_FOLDS
from loopnest.workload.precision import Precision, apply_precision

METRICS = {"latency": "cycles", "energy": "energy_pj"}
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Budget:
    """``metric`` (latency in cycles or energy in pJ) at most ``value``: a multiple of the
    starting network's when ``relative`` (``latency=0.6x``), else absolute (``energy=2e6``)."""

    metric: str
    value: float
    relative: bool = True

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise CodesignError(f"--budget: metric {self.metric!r} is not one of {', '.join(METRICS)}")
        if not (math.isfinite(self.value) and self.value > 0):
            raise CodesignError(f"--budget: a positive number, got {self.value}")

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``latency=0.6x`` | ``energy=0.5x`` | ``latency=30000`` (cycles) | ``energy=1.5e6`` (pJ)."""
        m = re.fullmatch(r"\s*(\w+)\s*=\s*([0-9.eE+-]+)\s*(x?)\s*", text)
        if not m:
            raise CodesignError(f"--budget: expected latency=0.6x, energy=0.5x or an absolute value "
                                f"(latency=30000 cycles, energy=1.5e6 pJ), got {text!r}")
        try:
            value = float(m.group(2))
        except ValueError:
            raise CodesignError(f"--budget: {m.group(2)!r} is not a number") from None
        return cls(m.group(1), value, bool(m.group(3)))

    def limit(self, start: float) -> float:
        """The budget in the metric's units, given the starting network's value."""
        return self.value * start if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.metric}={self.value:g}{'x' if self.relative else ''}"


@dataclass(frozen=True)
class NetAdaptSpec:
    """The budget and the schedule (see the module docstring)."""

    budget: Budget
    step: float = 0.1
    decay: float = 0.96
    short_epochs: int = 1
    long_epochs: int = 5
    lr: float = 1e-3
    max_iterations: int = 50
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.step < 1:
            raise CodesignError(f"--step: a fraction of the starting resource in (0, 1), got {self.step}")
        if not 0 < self.decay <= 1:
            raise CodesignError(f"--decay: in (0, 1], got {self.decay}")
        for label, v in (("--short-epochs", self.short_epochs), ("--long-epochs", self.long_epochs)):
            if v < 0:
                raise CodesignError(f"{label}: an integer >= 0, got {v}")
        if self.max_iterations < 1:
            raise CodesignError(f"--max-iterations: an integer >= 1, got {self.max_iterations}")


class LookupTable:
    """Energy (pJ) and cycles of each MAC layer of ``network`` at (M, C), from the mapper on
    ``arch`` with ``dataflow`` (None: unconstrained) met with the user's ``constraints``, searched
    once per entry and kept.

    The paper builds its lookup table once per platform and reuses it; so does this one. An
    entry is keyed by the layer's loop nest (its name left out: two layers of one shape share an
    entry; the bit widths are part of the nest), and the search's context: the architecture's
    whole spec, the dataflow, the user's constraints, objective, mode, seed and ``remainder_folds``
    (``search_layer``'s), and a digest of
    loopnest's cost-model code (:func:`code_digest`). Entries are shared by every table of the
    process and, with ``persist``, kept in ``<cache>/netadapt/lut-<context>.json`` (:meth:`save`)
    for later runs: the mapper is deterministic, so a reused entry is the number a new search
    would give."""

    def __init__(self, network, arch, dataflow: str | None, objective: str = "energy", mode: str = "auto",
                 seed: int = 0, persist: bool = False, constraints: Constraints | None = None,
                 remainder_folds: bool = REMAINDER_FOLDS) -> None:
        self.layers = {p.name: p for p in network.layers}
        self.arch, self.dataflow, self.objective, self.mode, self.seed = arch, dataflow, objective, mode, seed
        self.constraints, self.remainder_folds = constraints, remainder_folds
        self.table: dict[tuple[str, int, int], tuple[float, float]] = {}
        self.lookups = 0
        self.searched = 0  # entries the mapper searched for this table (the rest were reused)
        self.seconds = 0.0  # spent in the mapper
        context = json.dumps([arch.model_dump(mode="json"), dataflow, repr(constraints), objective, mode, seed, remainder_folds,
                              code_digest()],
                             sort_keys=True)
        self.context = hashlib.sha256(context.encode()).hexdigest()[:16]
        self.shared = _SHARED.setdefault(self.context, {})
        self.path = None
        if persist:
            from loopnest.codesign.models import cache_dir

            self.path = cache_dir() / "netadapt" / f"lut-{self.context}.json"
            self.shared.update(_read_entries(self.path))

    def layer(self, name: str, m: int, c: int) -> tuple[float, float]:
        """(energy pJ, cycles) of layer ``name`` with M = ``m`` and C = ``c``."""
        self.lookups += 1
        key = (name, m, c)
        if key not in self.table:
            problem = self.layers[name].with_dims(M=m, C=c)
            shape = repr(replace(problem, name=""))
            if shape not in self.shared:
                self.shared[shape] = self._search(problem)
            self.table[key] = self.shared[shape]
        return self.table[key]

    def _search(self, problem) -> tuple[float, float]:
        from loopnest.mapping.dataflows import dataflow_constraints
        from loopnest.search.mapper import search_layer

        t0 = time.perf_counter()
        constraints = dataflow_constraints(self.dataflow, problem, self.arch) if self.dataflow else None
        if self.constraints is not None:
            constraints = self.constraints if constraints is None else constraints.meet(self.constraints)
        found = search_layer(problem, self.arch, constraints, self.objective, mode=self.mode, seed=self.seed,
                             remainder_folds=self.remainder_folds)
        if found.result is None:
            raise CodesignError(f"layer {problem.name} with M={problem.dims['M']}, C={problem.dims['C']} has no valid "
                                f"mapping on {self.arch.name}: {found.reason}")
        self.searched += 1
        self.seconds += time.perf_counter() - t0
        return (found.result.energy_pj, found.result.cycles)

    def network(self, dims: dict[str, tuple[int, int]]) -> dict[str, dict]:
        """Per layer {energy_pj, cycles} of the network whose layers have (M, C) = ``dims[name]``."""
        out = {}
        for name, (m, c) in dims.items():
            e, cyc = self.layer(name, m, c)
            out[name] = {"name": name, "M": m, "C": c, "energy_pj": e, "cycles": cyc}
        return out

    def save(self) -> None:
        """Write the shared entries of this context to the cache file (with ``persist``); a cache
        that cannot be written costs the searches next time, nothing else."""
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            entries = {**_read_entries(self.path), **self.shared}
            tmp = self.path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(entries))
            os.replace(tmp, self.path)  # readers never see a half-written file
        except OSError:
            pass


_SHARED: dict[str, dict[str, tuple[float, float]]] = {}  # context -> loop nest -> (energy pJ, cycles)


def _read_entries(path) -> dict[str, tuple[float, float]]:
    """The entries of a lookup-table cache file; none if it is missing or damaged."""
    try:
        data = json.loads(path.read_text())
        out = {k: (v[0], v[1]) for k, v in data.items()}
    except (OSError, ValueError, TypeError, IndexError, KeyError, AttributeError):
        return {}
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for v in out.values() for x in v)
    return out if numbers else {}


@functools.cache
def code_digest() -> str:
    """A digest of the code and data the mapper's numbers depend on (loopnest's arch, mapping,
    model, search and workload packages): any change to them starts a new lookup table."""
    import loopnest

    root = Path(loopnest.__file__).parent
    h = hashlib.sha256()
    for package in ("arch", "mapping", "model", "search", "workload"):
        for path in sorted((root / package).rglob("*")):
            if path.suffix in (".py", ".yaml", ".yml", ".csv", ".json") and path.is_file():
                h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def layer_dims(network, counts: dict[str, int], consumers: dict[str, str]) -> dict[str, tuple[int, int]]:
    """(M, C) of every MAC layer of ``network`` (the unpruned one) once each convolution has
    ``counts[conv]`` filters: M of a conv is its count, C of its consumer is that count (``fc``:
    that count times the H x W its input channels are flattened with)."""
    start = {p.name: (p.dims["M"], p.dims["C"]) for p in network.layers}
    dims = dict(start)
    for conv, consumer in consumers.items():
        m = counts[conv]
        dims[conv] = (m, dims[conv][1])
        per_channel = start[consumer][1] // start[conv][0]
        dims[consumer] = (dims[consumer][0], m * per_channel)
    return dims


def uniform_counts(counts: dict[str, int], resource: Callable[[dict[str, int]], float], limit: float):
    """The uniform width multiplier (MobileNet's) that meets ``limit``: every prunable layer keeps
    max(1, floor(M k / K)) of its M filters, K the widest layer's count, for the largest k in
    1..K whose ``resource(counts)`` is at most ``limit``. Every k is tried from K down: the
    mapper's cycles are not monotone in the width (on ``eyeriss``, ``digits-cnn4`` at 11/16 of its
    filters takes more cycles than at 16/16, at 12/16 fewer than at 10/16). Returns
    (k / K, counts), or None when no k meets the limit."""
    widest = max(counts.values())
    for k in range(widest, 0, -1):
        scaled = uniform_width(counts, k)
        if resource(scaled) <= limit:
            return k / widest, scaled
    return None


def uniform_width(counts: dict[str, int], k: int) -> dict[str, int]:
    """Filter counts at width k / K (K the widest layer's count): max(1, floor(M k / K)) each."""
    widest = max(counts.values())
    return {n: max(1, m * k // widest) for n, m in counts.items()}


def equal_accuracy(adapted: dict, sweep: list[dict], metric: str) -> dict | None:
    """NetAdapt's comparison with the width multipliers at equal accuracy (Yang et al., ECCV 2018,
    Table 1's "faster at the same accuracy"): the uniform network of least ``metric`` among those
    whose test accuracy is at least the adapted network's, and its ``metric`` over the adapted
    one's (``ratio`` above 1: NetAdapt is faster, or cheaper); None when no width reaches that
    accuracy."""
    ok = [p for p in sweep if p["accuracy_test"] >= adapted["accuracy_test"]]
    if not ok:
        return None
    best = min(ok, key=lambda p: (p[metric], -p["accuracy_test"]))
    return {"width_multiplier": best["width_multiplier"], "accuracy_test": best["accuracy_test"], metric: best[metric],
            "ratio": best[metric] / adapted[metric]}


def totals(layers: dict[str, dict]) -> dict:
    return {"energy_pj": sum(r["energy_pj"] for r in layers.values()), "cycles": sum(r["cycles"] for r in layers.values())}


@dataclass
class NetAdaptResult:
    """The adapted module and network, and every iteration; :meth:`to_dict` is what the CLI prints."""

    model: str
    arch: str
    energy_units: str
    spec: NetAdaptSpec
    settings: dict
    status: str  # "met", "already met", "out of reach", "iterations exhausted"
    limit: float
    start: dict
    final: dict
    trace: list[dict]
    lookup: dict
    module: object = None
    network: object = None
    notes: list[str] = field(default_factory=list)
    baseline: dict | None = None  # the uniform width multiplier at the final resource (run_netadapt's baseline)
    sweep: list[dict] | None = None  # every uniform width, fine-tuned as long as the adapted network
    matched: dict | None = None  # equal_accuracy's pick from the sweep

    @property
    def met(self) -> bool:
        return self.status in ("met", "already met")

    def to_dict(self) -> dict:
        s = self.spec
        return {"study": "netadapt", "model": self.model, "arch": self.arch, "energy_units": self.energy_units,
                "budget": {"text": str(s.budget), "metric": s.budget.metric, "limit": self.limit,
                           "units": "cycles" if s.budget.metric == "latency" else self.energy_units},
                "settings": {"step": s.step, "decay": s.decay, "short_epochs": s.short_epochs, "long_epochs": s.long_epochs,
                             "lr": s.lr, "max_iterations": s.max_iterations, "seed": s.seed, **self.settings},
                "accuracy_units": "fraction classified correctly (top-1); selection on the calibration split, "
                                  "start and final also on the test split",
                "status": self.status, "met": self.met, "start": self.start, "final": self.final,
                "trace": self.trace, "uniform_baseline": self.baseline, "uniform_sweep": self.sweep,
                "equal_accuracy": self.matched, "lookup_table": self.lookup, "notes": self.notes}


def run_netadapt(spec: NetAdaptSpec, module, name: str, data, arch, *, dataflow: str | None = None,
                 objective: str | None = None, mode: str = "auto", progress: Progress | None = None,
                 persist: bool = True, baseline: bool = False, sweep: bool = False, constraints: Constraints | None = None,
                 precision: Precision | None = None, layer_precision: Mapping[str, Precision] | None = None,
                 remainder_folds: bool = REMAINDER_FOLDS) -> NetAdaptResult:
    """NetAdapt on ``module`` (a trained digits CNN called ``name``) with ``data`` (Splits),
    costed on ``arch`` with ``dataflow`` and the user's ``constraints``, at the bit widths
    ``precision`` (every layer; ``layer_precision`` by layer name on top; default: the module's
    own); ``objective`` of the mapper defaults to the budget's metric (cycles for latency, energy
    for energy). ``persist``: keep the lookup table in the cache directory for later runs
    (:class:`LookupTable`). ``baseline``: also the uniform width-multiplier network at NetAdapt's
    final resource (:func:`uniform_counts`), its filters the largest by L1 norm, fine-tuned for as
    many epochs as the adapted network had in all (short-term ones along its path plus the
    long-term ones), in ``NetAdaptResult.baseline``. ``sweep``: every uniform width k / K likewise
    (``NetAdaptResult.sweep``) and the one of least resource at the adapted network's test accuracy
    or above (:func:`equal_accuracy`, ``NetAdaptResult.matched``). ``remainder_folds``: the mapper's
    (``search_layer``)."""
    say = progress or (lambda _: None)
    t0 = time.perf_counter()
    consumers = prunable_layers(module)
    metric = METRICS[spec.budget.metric]
    objective = objective or ("cycles" if spec.budget.metric == "latency" else "energy")
    network = module_network(module, name)
    if precision is not None or layer_precision:
        network = apply_precision(network, precision or Precision(), layer_precision)
    lut = LookupTable(network, arch, dataflow, objective, mode, spec.seed, persist=persist, constraints=constraints,
                      remainder_folds=remainder_folds)
    counts = filter_counts(module)

    def cost(c: dict[str, int]) -> dict:
        layers = lut.network(layer_dims(network, c, consumers))
        return {**totals(layers), "layers": list(layers.values())}

    def point(mod, c: dict[str, int], **extra) -> dict:
        return {**extra, "filters": dict(c), **cost(c), "accuracy_calibration": accuracy(mod, data.calibration),
                "accuracy_test": accuracy(mod, data.test)}

    say(f"mapping {name}'s layers on {arch.name}")
    start = point(module, counts)
    limit = spec.budget.limit(start[metric])
    current, now, trace = module, start, []
    status = "already met" if start[metric] <= limit else None
    delta = spec.step * start[metric]
    for i in range(spec.max_iterations):
        if status:
            break
        target = max(limit, now[metric] - delta)
        delta *= spec.decay
        proposals = []
        for layer in consumers:
            if counts[layer] == 1 or cost({**counts, layer: 1})[metric] > target:
                continue  # not even one filter meets the target: no walk down the counts
            for m in range(counts[layer] - 1, 0, -1):
                trial = {**counts, layer: m}
                c = cost(trial)
                if c[metric] <= target:
                    break
            else:
                continue
            say(f"iteration {i + 1}: {layer} {counts[layer]} -> {m} filters, short-term fine-tuning")
            pruned = finetune(prune_filters(current, {layer: m}), data.train, spec.short_epochs, spec.lr, seed=spec.seed)
            proposals.append({"layer": layer, "filters": m, "energy_pj": c["energy_pj"], "cycles": c["cycles"],
                              "accuracy_calibration": accuracy(pruned, data.calibration), "module": pruned})
        if not proposals:
            status = "out of reach"
            break
        best = max(enumerate(proposals), key=lambda ip: (ip[1]["accuracy_calibration"], -ip[1][metric], -ip[0]))[1]
        current, counts = best["module"], {**counts, best["layer"]: best["filters"]}
        now = point(current, counts)
        trace.append({"iteration": i + 1, "target": target, "layer": best["layer"], "filters": best["filters"],
                      "energy_pj": now["energy_pj"], "cycles": now["cycles"],
                      "accuracy_calibration": now["accuracy_calibration"], "accuracy_test": now["accuracy_test"],
                      "counts": dict(counts),
                      "proposals": [{k: v for k, v in p.items() if k != "module"} for p in proposals]})
        if now[metric] <= limit:
            status = "met"
    status = status or "iterations exhausted"
    if trace and spec.long_epochs:
        say(f"long-term fine-tuning ({spec.long_epochs} epochs)")
        current = finetune(current, data.train, spec.long_epochs, spec.lr, seed=spec.seed)
    final = point(current, counts)
    adapted = module_network(current, name)
    uniform = None
    if baseline and trace:
        found = uniform_counts(filter_counts(module), lambda c: cost(c)[metric], final[metric])
        if found is not None:
            epochs = len(trace) * spec.short_epochs + spec.long_epochs
            say(f"uniform width-multiplier baseline x{found[0]:.4g}: fine-tuning ({epochs} epochs)")
            scaled = finetune(prune_filters(module, found[1]), data.train, epochs, spec.lr, seed=spec.seed)
            uniform = point(scaled, found[1], width_multiplier=found[0], epochs=epochs)
    widths, matched = None, None
    if sweep and trace:
        epochs, full = len(trace) * spec.short_epochs + spec.long_epochs, filter_counts(module)
        widths, widest = [], max(full.values())
        for k in range(widest, 0, -1):
            say(f"uniform width {k}/{widest}: fine-tuning ({epochs} epochs)")
            scaled = finetune(prune_filters(module, uniform_width(full, k)), data.train, epochs, spec.lr, seed=spec.seed)
            widths.append(point(scaled, uniform_width(full, k), width_multiplier=k / widest, epochs=epochs))
        matched = equal_accuracy(final, widths, metric)
    notes = []
    if status == "out of reach":
        notes.append(f"no layer can shrink further toward the budget; the closest network reached has "
                     f"{final[metric]:.6g} {'cycles' if metric == 'cycles' else arch.energy_units} "
                     f"against a budget of {limit:.6g}")
    lut.save()
    lookup = {"entries": len(lut.table), "searched": lut.searched, "reused": len(lut.table) - lut.searched,
              "lookups": lut.lookups, "mapper_seconds": lut.seconds, "cache": None if lut.path is None else str(lut.path),
              "rows": [{"layer": k[0], "M": k[1], "C": k[2], "energy_pj": v[0], "cycles": v[1]} for k, v in lut.table.items()]}
    return NetAdaptResult(name, arch.name, arch.energy_units, spec,
                          {"dataflow": dataflow, "objective": objective, "mode": mode,
                           "seconds": time.perf_counter() - t0}, status, limit, start, final,
                          trace, lookup, current, adapted, notes, uniform, widths, matched)
