"""Pruning under an accuracy-drop budget: magnitude (unstructured), energy-aware (unstructured,
layers by energy) and structured (whole filters, layers by energy).

* Magnitude (Han et al., "Deep Compression", ICLR 2016): the weights of smallest magnitude are
  set to zero. At sparsity s a tensor of n weights loses exactly floor(s n) of them (ties: the
  lower flat index goes first); per layer (each MAC layer's own threshold) or global (one
  threshold over all MAC layers' weights). Biases are kept.
* Energy-aware (Yang, Chen, Sze, "Designing energy-efficient convolutional neural networks using
  energy-aware pruning", CVPR 2017): layers are sorted by their energy on the target architecture
  (per-layer energy from ``loopnest.search.map_network``) and pruned highest first, each prune
  followed by restore and fine-tune steps, the whole sequence repeated until the accuracy target
  is reached (the paper's Fig. 4 loop). Here one pass raises each layer, highest energy first, by
  one level of ``SPARSITIES``; passes repeat while some layer can still go up. A layer's step is
  the paper's per-layer budget: a layer takes one level per pass, so the layers of most energy get
  the first claim on the accuracy budget in every pass, but cannot spend it all before the later
  layers are tried. A step that breaks the budget is undone whole (the layer's restore to its last
  accepted level). The paper's per-layer steps, per-weight restore by output error and the
  least-squares local fine-tune of the kept weights, are ``local_fit="least-squares"``
  (:mod:`loopnest.codesign.local_fit`), applied to each candidate before its short global
  fine-tune; with ``"none"`` (the default) a candidate is the magnitude-pruned network, fine-tuned.
* The drop-budget search (:func:`prune_to_budget`): a candidate applies the next level of
  ``levels`` to a layer; the network is fine-tuned briefly from the unpruned weights (seeded, on
  the train split, zeros kept zero) and measured on the calibration split; a level whose drop
  from the unpruned accuracy exceeds the budget is undone (restore) and the layer stays at its
  last accepted level for good. ``passes=False`` takes each layer to its last level before the
  next layer (one layer at a time: the magnitude method's one global sparsity and the structured
  method's filter cuts, :mod:`loopnest.codesign.structured`, which shrink the loop nest itself);
  ``passes=True`` is the energy-aware round of one level per layer per pass.

Every network (the unpruned one, which fixes the energy-aware order, and the pruned one) is
costed with its measured weight densities (:func:`weight_densities`: non-zero weights over
weights per layer, the numbers ``--densities`` writes) applied by ``workload.density`` before
mapping, so the sparse cost model credits pruned weights where the architecture exploits them
(compressed weight formats, skipping or gating on weights: e.g. the ``eyeriss-skipw`` preset). On
an architecture with no sparse features the densities change nothing: unstructured pruning then
leaves the modeled energy and cycles as they were, and only structured pruning lowers them. Each
point also counts the MACs whose weight is non-zero (``nonzero_weight_macs``: the work a design
that skips zero weights does). Inputs and outputs are dense by default; ``activations="measured"``
costs them too at the densities each network shows on the calibration split
(:func:`measured_densities`: a layer's inputs after the previous ReLU, its outputs before the
nonlinearity), which lowers the energy where the architecture compresses, gates or skips on
activations (``eyeriss-rlc``, ``eyeriss-v2-like``) and changes nothing elsewhere.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

from loopnest.codesign import CodesignError
from loopnest.codesign.accuracy import accuracy, finetune, mac_layers
from loopnest.codesign.local_fit import FIT_IMAGES, LOCAL_FITS, first_inputs
from loopnest.codesign.local_fit import local_fit as fit_layers
from loopnest.mapping.constraints import Constraints
from loopnest.search.mapper import REMAINDER_FOLDS
from loopnest.workload.density import Density, DensitySpec, apply_density
from loopnest.workload.precision import Precision, apply_precision

METHODS = ("magnitude", "energy", "structured")
ACTIVATIONS = ("dense", "measured")  # how inputs and outputs are costed
DENSITY_IMAGES = 1024  # calibration inputs (at most) the measured activation densities come from
SPARSITIES = (0.25, 0.5, 0.625, 0.75, 0.8125, 0.875, 0.9375)  # levels tried, in order
FILTER_FRACTIONS = (0.875, 0.75, 0.625, 0.5, 0.375, 0.25)  # structured: fraction of filters kept


def check_sparsity(s: float) -> float:
    if not 0 <= s < 1:
        raise CodesignError(f"sparsity: a fraction in [0, 1), got {s}")
    return s


def check_local_fit(local_fit: str, method: str) -> None:
    if local_fit not in LOCAL_FITS:
        raise CodesignError(f"--local-fit: {local_fit!r} is not one of {', '.join(LOCAL_FITS)}")
    if local_fit != "none" and method != "energy":
        raise CodesignError(f"--local-fit {local_fit}: only with --method energy (the paper's energy-aware steps)")


def check_prune_options(method: str, local_fit: str, activations: str, short_epochs: int = 0) -> None:
    """The options prune, prune-compare and ``run_prune`` share, one error line each."""
    if short_epochs < 0:
        raise CodesignError(f"--finetune-epochs: an integer >= 0, got {short_epochs}")
    check_local_fit(local_fit, method)
    if activations not in ACTIVATIONS:
        raise CodesignError(f"--activations: {activations!r} is not one of {', '.join(ACTIVATIONS)}")


def magnitude_masks(module, sparsity: float | dict[str, float], scope: str = "layer") -> dict:
    """Boolean keep-masks of each MAC layer's weight. ``sparsity``: one fraction for all layers,
    or per layer name (layers not named keep every weight); ``scope`` "global" ranks all the
    layers' weights together (one number only). floor(s n) weights are removed exactly."""
    import torch

    layers = mac_layers(module)
    if scope not in ("layer", "global"):
        raise CodesignError(f"scope: 'layer' or 'global', got {scope!r}")
    if scope == "global":
        if isinstance(sparsity, dict):
            raise CodesignError("global magnitude pruning takes one sparsity for all layers")
        flat = torch.cat([m.weight.detach().abs().flatten() for m in layers.values()])
        keep = _keep(flat, check_sparsity(sparsity))
        out, at = {}, 0
        for n, m in layers.items():
            out[n] = keep[at:at + m.weight.numel()].reshape(m.weight.shape)
            at += m.weight.numel()
        return out
    per = sparsity if isinstance(sparsity, dict) else dict.fromkeys(layers, sparsity)
    unknown = sorted(set(per) - set(layers))
    if unknown:
        raise CodesignError(f"sparsity given for {', '.join(map(repr, unknown))}: no such Conv2d/Linear layer")
    return {n: _keep(m.weight.detach().abs().flatten(), check_sparsity(per.get(n, 0.0))).reshape(m.weight.shape)
            for n, m in layers.items()}


def _keep(magnitudes, sparsity: float):
    """Keep-mask of a flat tensor with floor(sparsity * n) smallest entries removed (ties: lower index first)."""
    import torch

    n = magnitudes.numel()
    drop = int(sparsity * n)
    order = torch.argsort(magnitudes, stable=True)  # stable: equal magnitudes in index order
    keep = torch.ones(n, dtype=torch.bool)
    keep[order[:drop]] = False
    return keep


def masked(module, masks: dict):
    """A copy of ``module`` whose weights are multiplied by ``masks`` on every forward (a
    parametrization, so fine-tuning keeps pruned weights at zero)."""
    from torch import nn
    from torch.nn.utils import parametrize

    out = copy.deepcopy(module)

    class Mask(nn.Module):
        def __init__(self, keep) -> None:
            super().__init__()
            self.register_buffer("keep", keep)

        def forward(self, w):
            return w * self.keep

    for n, m in mac_layers(out).items():
        if n in masks:
            if parametrize.is_parametrized(m, "weight"):  # a re-prune: the float weight underneath gets the new mask
                parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
            parametrize.register_parametrization(m, "weight", Mask(masks[n].to(m.weight.dtype)))
    return out


def baked(module):
    """A copy of a :func:`masked` module with plain weights (the masks multiplied in): what is
    saved, and what the torch importer can trace (it does not follow parametrizations). The
    original is unusable afterwards: torch removes the parametrization from the generated class
    that the copy shares with it."""
    from torch.nn.utils import parametrize

    out = copy.deepcopy(module)
    for m in mac_layers(out).values():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    return out


def nonzero_weights(module) -> dict[str, int]:
    """Non-zero weights of each MAC layer (as the forward pass sees them)."""
    return {n: int((m.weight != 0).sum()) for n, m in mac_layers(module).items()}


def weight_densities(module, label: str = "pruned weights") -> DensitySpec:
    """Each MAC layer's weight density (non-zero weights / weights, as :func:`nonzero_weights`
    counts them; the ``weights`` entry ``--densities`` writes), zeros placed uniformly at random."""
    nz = nonzero_weights(module)
    return DensitySpec({}, {n: {"weights": Density.uniform(nz[n] / m.weight.numel())} for n, m in mac_layers(module).items()},
                       label, "measured weight densities of the pruned module")


def measured_densities(module, x) -> DensitySpec:
    """Each MAC layer's weights, inputs and outputs at their densities measured by
    :func:`loopnest.codesign.densities.torch_densities` over the inputs ``x`` (inputs after the
    previous ReLU, outputs before the nonlinearity), zeros placed uniformly at random."""
    from loopnest.codesign.densities import torch_densities

    return DensitySpec({}, {n: {t: Density.uniform(getattr(d, t)) for t in ("weights", "inputs", "outputs")}
                            for n, d in torch_densities(module, x).items()},
                       "measured densities", f"measured densities of the module over {len(x)} inputs")


def arch_exploits_weight_zeros(arch) -> bool:
    """Whether any level stores weights compressed or gates/skips on weights, or the MACs do."""
    for lv in arch.levels:
        sp = lv.sparse
        if sp is not None and (sp.format_of("weights") not in ("uncompressed", "uop")
                               or any("weights" in a.condition_on for a in sp.gating + sp.skipping)):
            return True
    cs = arch.compute.sparse
    return cs is not None and "weights" in cs.gating + cs.skipping


def energy_order(layer_energy: dict[str, float]) -> list[str]:
    """Layer names by energy, highest first (ties: network order) -- Yang et al. 2017's order."""
    names = list(layer_energy)
    return sorted(names, key=lambda n: (-layer_energy[n], names.index(n)))


def prune_to_budget(order: Sequence[str], levels: Sequence, build: Callable[[dict], object], measure: Callable[[object], float],
                    reference: float, budget: float, tune: Callable[[object], object],
                    passes: bool = False) -> tuple[dict, object, list[dict]]:
    """The drop-budget search of the module docstring. ``build(state)`` makes the pruned module of
    a state (layer -> level), ``tune`` fine-tunes it, ``measure`` gives its accuracy (0..1);
    ``budget`` in accuracy points; ``passes``: one level per layer per pass (energy-aware) rather
    than each layer to its end in turn. Returns the accepted state, its module and every step
    tried (each with its ``pass``, from 1)."""
    state: dict = {}
    module = None  # None: nothing accepted, the caller's unpruned module stands
    steps = []
    open_layers = list(order)  # layers that may still go up a level
    round_ = 0
    while open_layers:
        round_ += 1
        for layer in list(open_layers):
            at = levels.index(state[layer]) + 1 if layer in state else 0
            while at < len(levels):
                trial = {**state, layer: levels[at]}
                candidate = tune(build(trial))
                acc = measure(candidate)
                drop = 100 * (reference - acc)
                ok = drop <= budget
                steps.append({"pass": round_, "layer": layer, "level": levels[at], "accuracy_calibration": acc,
                              "drop_points": drop, "accepted": ok})
                if not ok:
                    break  # restore: the layer stays at its last accepted level
                state, module = trial, candidate
                at += 1
                if passes:
                    break
            if at == len(levels) or not steps[-1]["accepted"] or not passes:
                open_layers.remove(layer)
    return state, module, steps


def run_prune(method: str, module, name: str, data, arch, budget: float, *, dataflow: str | None = None,
              mode: str = "auto", short_epochs: int = 1, lr: float = 1e-3, seed: int = 0,
              progress: Callable[[str], None] | None = None, constraints: Constraints | None = None,
              jobs: int | None = 1, precision: Precision | None = None,
              layer_precision: Mapping[str, Precision] | None = None, start: dict | None = None,
              memo: dict | None = None, local_fit: str = "none", activations: str = "dense",
              remainder_folds: bool = REMAINDER_FOLDS) -> tuple[dict, object]:
    """Prune ``module`` (the trained digits CNN ``name``) by ``method`` under a ``budget`` of
    accuracy points on the calibration split; energy and cycles on ``arch`` by the mapper with
    ``dataflow`` met with the user's ``constraints``, over ``jobs`` processes, at the bit widths
    ``precision`` (every layer; ``layer_precision`` by layer name on top; default: the module's own);
    ``start``: the unpruned network's point of an earlier run with the same settings (a sweep maps
    it once); ``memo``: fine-tuned candidates and final points by (method, state), shared by the
    runs of one sweep with the same module, data and settings (fine-tuning is seeded, so a
    candidate made again would be the same); ``local_fit``: "least-squares" (``energy`` only) gives
    each candidate the paper's restore and least-squares steps (module docstring). Returns (the
    study as a JSON-ready dict, the pruned module); ``activations``: "measured" costs every
    network's inputs and outputs at their densities measured on the calibration split (module
    docstring), "dense" (the default) at density 1; ``remainder_folds``: ``map_network``'s."""
    from loopnest.codesign.structured import filter_counts, module_network, prune_filters, prunable_layers
    from loopnest.search.network import map_network

    if method not in METHODS:
        raise CodesignError(f"--method: {method!r} is not one of {', '.join(METHODS)}")
    if not budget >= 0:
        raise CodesignError(f"--accuracy-drop: accuracy points >= 0, got {budget}")
    check_prune_options(method, local_fit, activations)
    density_inputs = first_inputs(data.calibration, DENSITY_IMAGES) if activations == "measured" else None
    say = progress or (lambda _: None)

    def cost(mod) -> dict:
        spec = weight_densities(mod) if density_inputs is None else measured_densities(mod, density_inputs)
        network = apply_density(module_network(mod, name), spec)
        if precision is not None or layer_precision:
            network = apply_precision(network, precision or Precision(), layer_precision)
        result = map_network(network, arch, dataflow, constraints, "energy", mode, seed, jobs, remainder_folds=remainder_folds)
        if result.unmapped:
            lo = result.unmapped[0]
            raise CodesignError(f"layer {lo.name} has no valid mapping on {arch.name}: {lo.search.reason}")
        layers = [{"name": lo.name, "M": lo.problem.dims["M"], "C": lo.problem.dims["C"], "macs": lo.problem.macs,
                   "actual_macs": lo.result.actual_macs, "energy_pj": lo.result.energy_pj, "cycles": lo.result.cycles,
                   "energy_by_level_pj": lo.result.energy_by_level_pj(), "energy_by_tensor_pj": lo.result.energy_by_tensor_pj()}
                  for lo in result.layers]
        return {"energy_pj": sum(r["energy_pj"] for r in layers), "cycles": sum(r["cycles"] for r in layers),
                "macs": sum(r["macs"] for r in layers), "actual_macs": sum(r["actual_macs"] for r in layers), "layers": layers}

    def point(mod) -> dict:
        nz, layers = nonzero_weights(mod), mac_layers(mod)
        total = sum(m.weight.numel() for m in layers.values())
        c = cost(mod)
        for r in c["layers"]:  # each weight is in macs / numel MACs, so this count is exact
            r["nonzero_weight_macs"] = r["macs"] * nz[r["name"]] // layers[r["name"]].weight.numel()
            r["weight_density"] = nz[r["name"]] / layers[r["name"]].weight.numel()
        c["nonzero_weight_macs"] = sum(r["nonzero_weight_macs"] for r in c["layers"])
        return {"accuracy_calibration": accuracy(mod, data.calibration), "accuracy_test": accuracy(mod, data.test),
                "nonzero_weights": nz, "weights": total, **c}

    if method == "structured":
        counts = filter_counts(module)  # rejects residual / depthwise networks
    if start is None:
        say(f"mapping {name} on {arch.name}")
        start = point(module)
    layer_energy = {r["name"]: r["energy_pj"] for r in start["layers"]}
    if method == "magnitude":
        order, levels = ["all layers"], SPARSITIES

        def build(state):
            return masked(module, magnitude_masks(module, state.get("all layers", 0.0), "global"))
    elif method == "energy":
        order, levels = energy_order(layer_energy), SPARSITIES
        images = first_inputs(data.train) if local_fit == "least-squares" else None

        def build(state):
            masks = magnitude_masks(module, state, "layer")
            if images is None:
                return masked(module, masks)
            return masked(*fit_layers(module, {n: masks[n] for n in state}, images))
    else:
        order = energy_order({n: e for n, e in layer_energy.items() if n in prunable_layers(module)})
        levels = FILTER_FRACTIONS

        def build(state):
            return prune_filters(module, {n: max(1, round(f * counts[n])) for n, f in state.items()})

    memo = {} if memo is None else memo

    def candidate(state):  # build and fine-tune, once per state
        key = (method, "candidate", local_fit, *sorted(state.items()))
        if key not in memo:
            say(f"fine-tuning a candidate ({short_epochs} epochs)")
            # baked at once: torch's remove_parametrizations edits the class a deepcopy shares, so a
            # parametrized module must not outlive its one bake
            memo[key] = baked(finetune(build(state), data.train, short_epochs, lr, seed=seed))
        return memo[key]

    state, pruned, steps = prune_to_budget(order, levels, lambda s: s, lambda m: accuracy(m, data.calibration),
                                           start["accuracy_calibration"], budget, candidate, passes=method == "energy")
    pruned = module if pruned is None else pruned
    key = (method, "final", local_fit, activations, *sorted(state.items()))
    if key not in memo:
        memo[key] = point(pruned)
    final = copy.deepcopy(memo[key])
    notes = []
    if method != "structured" and not arch_exploits_weight_zeros(arch):
        notes.append(f"{arch.name} has no sparse feature on weights (compressed weights, skipping or gating on weights): "
                     "unstructured sparsity does not lower its modeled energy or cycles; try --arch eyeriss-skipw.")
    if method == "energy":
        notes.append("energy-aware pruning as Yang et al. (CVPR 2017): one sparsity level per layer per pass, highest "
                     "energy first; a step that breaks the budget is undone whole; "
                     + ("each candidate's layers get the paper's per-weight restore by output error and least-squares local "
                        f"fit (on {FIT_IMAGES} train images) before the short global fine-tune."
                        if local_fit == "least-squares" else
                        "simplified: no per-weight restore and no least-squares local fit (--local-fit least-squares "
                        "adds them), only the short global fine-tune."))
    levels_key = "filters_kept_fraction" if method == "structured" else "sparsity"
    study = {"study": "prune", "method": method, "model": name, "arch": arch.name, "energy_units": arch.energy_units,
             "compute": arch.compute.name,
             "settings": {"accuracy_drop_points": budget, "local_fit": local_fit, "short_epochs": short_epochs, "lr": lr, "seed": seed,
                          "dataflow": dataflow, "mode": mode, "order": order, "levels": list(levels),
                          "activations": activations,
                          "densities": "each network costed at its measured weight densities (non-zero / weights per "
                                       "layer, zeros uniformly placed); inputs and outputs "
                                       + ("dense" if activations == "dense" else
                                          f"at their densities measured on {len(density_inputs)} calibration inputs "
                                          "(inputs after the previous ReLU, outputs before the nonlinearity)")},
             "accuracy_units": "fraction classified correctly (top-1); budget checked on the calibration split",
             levels_key: state, "start": start, "final": final, "steps": steps, "notes": notes}
    return study, pruned
