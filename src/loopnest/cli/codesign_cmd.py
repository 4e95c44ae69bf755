"""`loopnest codesign ...`: studies that pair a trained network's accuracy with the energy and
latency of its mapping (torch and scikit-learn: pip install 'loopnest[codesign]')."""

from __future__ import annotations

import csv
import sys
from importlib.util import find_spec
from pathlib import Path

import typer

from loopnest.cli.common import (
    check_outputs, console, constraints_option, err_console, fail, jobs_option, mode_option, precision_option, print_json, remainder_folds_option, seed_option,
    save_plots, table_option, user_constraints, widths)
from loopnest.cli.compare_cmd import PLOT_HELP
from loopnest.cli.tables import Column, print_table

app = typer.Typer(help="co-design studies: accuracy against energy and latency", no_args_is_help=True)


def _need_extras() -> None:
    missing = [m for m, pkg in (("torch", "torch"), ("sklearn", "scikit-learn")) if find_spec(m) is None]
    if missing:
        fail(f"the co-design studies need {' and '.join(missing)} (pip install 'loopnest[codesign]')")


def _bits(text: str) -> tuple[int, ...]:
    from loopnest.workload.precision import MAX_BITS, PrecisionError, check_bits

    out = []
    for part in (p.strip() for p in text.split(",")):
        try:
            out.append(check_bits(int(part), "--bits"))
        except ValueError as e:
            detail = str(e) if isinstance(e, PrecisionError) else f"--bits: a bit width must be an integer from 1 to {MAX_BITS}, got {part!r}"
            fail(detail)
    return tuple(out)


@app.command()
def precision(
    model: str = typer.Argument(..., help="A shipped trained model (digits-cnn2, digits-cnn4, ...; see `loopnest workload list`)."),
    arch: str = typer.Option("eyeriss", "--arch", help="Preset name or architecture YAML file."),
    bits: str = typer.Option("2,3,4,6,8,16", "--bits", help="Comma-separated bit widths, integers from 1 to 32."),
    method: str = typer.Option("uniform", "--method", help="uniform | log | binary | ternary (binary/ternary: weights at 1/2 bits, activations uniform at each width)."),
    asymmetric: bool = typer.Option(False, "--asymmetric", help="Uniform: asymmetric (zero point) instead of symmetric."),
    per_channel: bool = typer.Option(False, "--per-channel", help="One weight scale per output channel instead of per tensor."),
    per_layer: bool = typer.Option(False, "--per-layer", help="Also the sensitivity of each layer: only it quantized, at every width."),
    output_bits: int = typer.Option(None, "--output-bits", help="Width of each layer's stored outputs for the cost model (default: the width)."),
    finetune: int = typer.Option(0, "--finetune-epochs", help="Quantization-aware fine-tuning epochs per width (0: post-training only)."),
    budget: float = typer.Option(None, "--budget", help="Accuracy-drop budget (points) of the greedy mixed-precision search; none: no search."),
    weights: Path = typer.Option(None, "--weights", help="A state_dict (.pt) of the model to use instead of the shipped weights."),
    dataflow: str = typer.Option(None, "--dataflow", help="Dataflow constraints; default: the architecture's own."),
    mode: str = mode_option(),
    remainder_folds: bool = remainder_folds_option(),
    table: str = table_option(),
    constraints: str = constraints_option(),
    seed: int = seed_option("Seed of the fine-tuning and of the heuristic search."),
    jobs: int = jobs_option(),
    as_json: bool = typer.Option(False, "--json", help="Print every number as JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print one CSV row per bit width (and the float32 reference)."),
    plot: Path = typer.Option(None, "--plot", help=PLOT_HELP),
) -> None:
    """Quantize MODEL at each bit width, measure its test accuracy, map every layer at that width on
    the architecture; table (and figure) of accuracy against energy and latency, Pareto front marked."""
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.codesign import CodesignError
    from loopnest.codesign.models import check_model
    from loopnest.codesign.precision_study import PrecisionSpec
    from loopnest.mapping.constraints import ConstraintError
    from loopnest.workload.precision import PrecisionError

    widths = _bits(bits)
    try:
        spec = PrecisionSpec(widths, method, not asymmetric, per_channel, per_layer, output_bits, finetune, budget, seed)
        name = check_model(model)
        a = load_arch(arch, table=table)
    except (CodesignError, PrecisionError, ArchSpecError) as e:
        fail(str(e))
    user = user_constraints(constraints)
    _need_extras()
    from loopnest.codesign.models import digits_workload
    from loopnest.codesign.precision_study import run_precision_study

    quiet = as_json or as_csv
    try:
        module, network, data = digits_workload(name)
        if weights is not None:
            _load_weights(module, weights)
        study = run_precision_study(spec, module, network, data, a, dataflow=dataflow or a.dataflow, mode=mode, jobs=jobs,
                                    constraints=user, remainder_folds=remainder_folds,
                                    progress=None if quiet else (lambda m: err_console.print(m, highlight=False)))
    except (CodesignError, ConstraintError) as e:
        fail(str(e))
    out = study.to_dict()
    if plot is not None:
        from loopnest.report.codesign import precision_charts

        save_plots(precision_charts(out), plot)
    if as_json:
        print_json(out)
    elif as_csv:
        _csv(out)
    else:
        _tables(out)


def _study_options(constraints: str | None, precision: str | None, quiet: bool, remainder_folds: bool) -> dict:
    """What the pruning and NetAdapt runs take from the shared options: the user's constraints,
    the bit widths (default and per layer), the mapper's remainder folds, and progress lines on
    stderr unless ``quiet``."""
    user, bits = user_constraints(constraints), widths(precision)
    return {"constraints": user, "precision": bits and bits[0], "layer_precision": bits and bits[1],
            "remainder_folds": remainder_folds,
            "progress": None if quiet else (lambda m: err_console.print(m, highlight=False))}


def _trained(name: str, weights: Path | None, no_depthwise: bool):
    """The shipped model's torch module (trained, or ``weights`` loaded into it) and its data;
    ``no_depthwise`` rejects networks with depthwise layers before any training."""
    from loopnest.codesign.models import digits_module, digits_workload
    from loopnest.codesign.structured import prunable_layers

    if no_depthwise:
        prunable_layers(digits_module(name))
    module, _, data = digits_workload(name)
    if weights is not None:
        _load_weights(module, weights)
    return module, data


def _load_weights(module, path: Path) -> None:
    """Load a state_dict into ``module``; its Conv2d/Linear layers must be the module's."""
    import torch

    from loopnest.codesign import CodesignError

    try:
        state = torch.load(path, weights_only=True)
    except Exception as e:  # unreadable or not a tensor-only pickle: torch raises many types
        raise CodesignError(f"{path}: not a readable state_dict ({type(e).__name__})") from None
    if not isinstance(state, dict):
        raise CodesignError(f"{path}: expected a state_dict (a mapping of parameter names to tensors)")
    have = {k.rsplit(".", 1)[0] for k in module.state_dict()}
    given = {k.rsplit(".", 1)[0] for k in state}
    if have != given:
        parts = [f"{label}: {', '.join(sorted(s))}" for label, s in (("missing", have - given), ("not in the model", given - have)) if s]
        raise CodesignError(f"{path}: its layers do not match the model's ({'; '.join(parts)})")
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        raise CodesignError(f"{path}: {str(e).splitlines()[-1].strip()}") from None


def _row(label: str, p: dict) -> dict:
    w = p["precision"]
    return {"bits": label, "weights_bits": w["weights"], "inputs_bits": w["inputs"], "outputs_bits": w["outputs"],
            "accuracy": p["accuracy"], "drop_points": p.get("drop_points", 0.0), "energy_pj": p["energy_pj"],
            "cycles": p["cycles"], "pareto_energy": p.get("pareto_energy", ""), "pareto_cycles": p.get("pareto_cycles", "")}


def _csv(out: dict) -> None:
    rows = [_row("float32", out["reference"])] + [_row(str(p["bits"]), p) for p in out["points"]]
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def _tables(out: dict) -> None:
    s, unit = out["settings"], out["energy_units"]
    title = (f"{out['model']} on {out['arch']}: {s['method']} quantization"
             f"{', per channel' if s['per_channel'] else ''}{'' if s['symmetric'] else ', asymmetric'}"
             f"{', %d fine-tuning epochs' % s['finetune_epochs'] if s['finetune_epochs'] else ''}; "
             f"test accuracy on {out['data']['test_samples']} images; * = on the Pareto front")
    rows = [[r["bits"], f"{r['weights_bits']}/{r['inputs_bits']}/{r['outputs_bits']}", f"{100 * r['accuracy']:.2f}%",
             f"{r['drop_points']:.2f}", "-" if r["energy_pj"] is None else f"{r['energy_pj']:.4g}",
             "-" if r["cycles"] is None else f"{r['cycles']:,.0f}",
             "*" if r["pareto_energy"] is True else "", "*" if r["pareto_cycles"] is True else ""]
            for r in [_row("float32", out["reference"])] + [_row(str(p["bits"]), p) for p in out["points"]]]
    print_table(console, title, [Column(c) for c in ("bits", "W/I/O bits", "accuracy", "drop (points)", f"energy ({unit})",
                                                      "cycles", "Pareto E", "Pareto cycles")], rows)
    if out["per_layer"]:
        widths = s["bits"]
        layers = dict.fromkeys(r["layer"] for r in out["per_layer"])
        acc = {(r["layer"], r["bits"]): r["accuracy"] for r in out["per_layer"]}
        print_table(console, "Per-layer sensitivity: test accuracy (%) with only this layer quantized at each width",
                    [Column("layer", "left"), *(Column(f"{b} bits") for b in widths)],
                    [[n, *(f"{100 * acc[n, b]:.2f}" for b in widths)] for n in layers])
    m = out["mixed"]
    if m:
        console.print(f"mixed precision (budget {m['budget_points']:g} points on the calibration split): "
                      + ", ".join(f"{n}={b}" for n, b in m["widths"].items())
                      + f"; test accuracy {100 * m['accuracy']:.2f}% (drop {100 * (out['reference']['accuracy'] - m['accuracy']):.2f} "
                        f"points on the test split), energy {m['energy_pj']:.4g} {unit}, "
                        f"{m['cycles']:,.0f} cycles", highlight=False)
    for note in out["notes"]:
        console.print(f"note: {note}", highlight=False)


def _save_module(module, path: Path) -> None:
    import torch

    try:
        torch.save(module.state_dict(), path)
    except OSError as e:
        fail(f"--save: {path}: {e.strerror}")
    err_console.print(f"saved the adapted module's state_dict to {path}", highlight=False)


@app.command()
def netadapt(
    model: str = typer.Argument(..., help="A shipped digits CNN without depthwise layers (digits-cnn2, -cnn4, -cnn8, -k5, -k7, -res6)."),
    arch: str = typer.Option("eyeriss", "--arch", help="Preset name or architecture YAML file."),
    budget: str = typer.Option(..., "--budget", help="latency=0.6x | energy=0.5x (times the starting network), or absolute: latency=30000 (cycles), energy=1.5e6 (pJ)."),
    step: float = typer.Option(0.1, "--step", help="First iteration's reduction, a fraction of the starting resource."),
    decay: float = typer.Option(0.96, "--decay", help="Each iteration's reduction is the previous one times this."),
    short_epochs: int = typer.Option(1, "--short-epochs", help="Short-term fine-tuning epochs per proposal."),
    long_epochs: int = typer.Option(5, "--long-epochs", help="Long-term fine-tuning epochs of the final network."),
    max_iterations: int = typer.Option(50, "--max-iterations", help="Stop after this many iterations."),
    seed: int = seed_option("Seed of the fine-tuning and of the heuristic search."),
    weights: Path = typer.Option(None, "--weights", help="A state_dict (.pt) of the model to use instead of the shipped weights."),
    save: Path = typer.Option(None, "--save", help="Write the adapted module's state_dict (.pt) here."),
    uniform_baseline: bool = typer.Option(False, "--uniform-baseline", help="Also the uniform width-multiplier network (MobileNet's) "
                                                                           "at the adapted network's latency or energy, fine-tuned as long."),
    uniform_sweep: bool = typer.Option(False, "--uniform-sweep", help="Also every uniform width k/K, fine-tuned as long as the adapted "
                                                                     "network, and the least latency (or energy) among them at "
                                                                     "NetAdapt's test accuracy: NetAdapt's gain at equal accuracy."),
    plot: Path = typer.Option(None, "--plot", help="A static plot (.png, .svg or .pdf) of the trace: test accuracy against the budget's resource."),
    report: Path = typer.Option(None, "--report", help="Write a self-contained HTML report here (the table, the trace chart, every iteration)."),
    dataflow: str = typer.Option(None, "--dataflow", help="Dataflow constraints; default: the architecture's own."),
    mode: str = mode_option(),
    remainder_folds: bool = remainder_folds_option(),
    table: str = table_option(),
    constraints: str = constraints_option(),
    precision: str = precision_option(),
    as_json: bool = typer.Option(False, "--json", help="Print every number as JSON."),
) -> None:
    """NetAdapt (Yang et al., ECCV 2018): shrink MODEL one layer's filter count per iteration until its
    latency or energy on the architecture (per-layer lookup table from the mapper) meets the budget.
    Exit 0 when the budget is met (or already was), 1 when it is out of reach (the closest network is reported)."""
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.codesign import CodesignError
    from loopnest.codesign.models import check_model
    from loopnest.codesign.netadapt import Budget, NetAdaptSpec

    try:
        spec = NetAdaptSpec(Budget.parse(budget), step, decay, short_epochs, long_epochs, 1e-3, max_iterations, seed)
        name = check_model(model)
        a = load_arch(arch, table=table)
    except (CodesignError, ArchSpecError) as e:
        fail(str(e))
    check_outputs(report, plot)
    options = _study_options(constraints, precision, as_json, remainder_folds)
    _need_extras()
    from loopnest.codesign.netadapt import run_netadapt
    from loopnest.mapping.constraints import ConstraintError
    from loopnest.workload.precision import PrecisionError

    try:
        module, data = _trained(name, weights, no_depthwise=True)
        result = run_netadapt(spec, module, name, data, a, dataflow=dataflow or a.dataflow, mode=mode, **options,
                              baseline=uniform_baseline, sweep=uniform_sweep)
    except (CodesignError, ConstraintError, PrecisionError) as e:
        fail(str(e))
    out = result.to_dict()
    if save is not None:
        _save_module(result.module, save)
    if plot is not None:
        from loopnest.report.codesign import netadapt_charts

        save_plots(netadapt_charts(out), plot)
    if report is not None:
        from loopnest.report.pruning import netadapt_sections

        _write_report(report, f"NetAdapt: {out['model']} on {out['arch']} to {out['budget']['text']}", netadapt_sections(out), out)
    if as_json:
        print_json(out)
    else:
        _netadapt_table(out)
    if not result.met:
        raise typer.Exit(1)


def _write_report(path: Path, title: str, sections: list, data: dict) -> None:
    """Write an HTML report; one error line if it cannot be written."""
    from loopnest.report.html import ReportError, write_report

    try:
        write_report(path, title, sections, data)
    except ReportError as e:
        fail(f"--report: {e}")
    err_console.print(f"report: {path}", highlight=False)


def _netadapt_table(out: dict) -> None:
    unit, b = out["energy_units"], out["budget"]
    rows = []

    def row(label: str, p: dict, layer: str = "", filters: str = "") -> None:
        rows.append([label, layer, filters, f"{100 * p['accuracy_calibration']:.2f}%", f"{100 * p['accuracy_test']:.2f}%",
                     f"{p['cycles']:,.0f}", f"{p['energy_pj']:.4g}"])

    row("start", out["start"], "", " ".join(map(str, out["start"]["filters"].values())))
    for it in out["trace"]:
        row(str(it["iteration"]), it, it["layer"], str(it["filters"]))
    if out["trace"]:
        row("final", out["final"], "long-term fine-tuned", " ".join(map(str, out["final"]["filters"].values())))
    u = out["uniform_baseline"]
    if u:
        row("uniform", u, f"width x{u['width_multiplier']:.4g}, {u['epochs']} epochs", " ".join(map(str, u["filters"].values())))
    print_table(console, f"NetAdapt of {out['model']} on {out['arch']} to {b['text']} (limit {b['limit']:.6g} {b['units']}); "
                         f"accuracy: calibration split (selection) and test split",
                [Column("iteration"), Column("layer changed", "left", text=True), Column("filters"), Column("cal. acc."),
                 Column("test acc."), Column("cycles"), Column(f"energy ({unit})")], rows)
    if out["uniform_sweep"]:
        metric = "cycles" if b["metric"] == "latency" else "energy_pj"
        print_table(console, f"Uniform width multipliers, each fine-tuned {out['uniform_sweep'][0]['epochs']} epochs",
                    [Column("width"), Column("filters"), Column("cal. acc."), Column("test acc."), Column("cycles"),
                     Column(f"energy ({unit})")],
                    [[f"{p['width_multiplier']:.4g}", " ".join(map(str, p["filters"].values())),
                      f"{100 * p['accuracy_calibration']:.2f}%", f"{100 * p['accuracy_test']:.2f}%", f"{p['cycles']:,.0f}",
                      f"{p['energy_pj']:.4g}"] for p in out["uniform_sweep"]])
        m, f = out["equal_accuracy"], out["final"]
        what = "cycles" if metric == "cycles" else unit
        console.print(f"at NetAdapt's test accuracy ({100 * f['accuracy_test']:.2f}%) or above: " +
                      (f"the least uniform width network is x{m['width_multiplier']:.4g} at {m[metric]:,.6g} {what} "
                       f"against NetAdapt's {f[metric]:,.6g}: {m['ratio']:.3f}x" if m else
                       "no uniform width reaches it"), highlight=False)
    lut = out["lookup_table"]
    status = {"met": "budget met", "already met": "the network already meets the budget: unchanged",
              "out of reach": "budget out of reach", "iterations exhausted": "budget not met within --max-iterations"}
    console.print(f"{status[out['status']]}; lookup table: {lut['entries']} layer mappings ({lut['searched']} searched now, "
                  f"{lut['reused']} reused from earlier runs) for {lut['lookups']} lookups "
                  f"({lut['mapper_seconds']:.1f} s in the mapper); {out['settings']['seconds']:.1f} s in all", highlight=False)
    for note in out["notes"]:
        console.print(f"note: {note}", highlight=False)


def local_fit_option() -> typer.models.OptionInfo:
    """--local-fit of prune and prune-compare: the CVPR 2017 paper's per-layer steps, or none."""
    return typer.Option("none", "--local-fit", help="Energy-aware only: 'least-squares' adds the paper's per-layer steps to "
                                                     "each candidate (per-weight restore by output error, least-squares fit "
                                                     "of the kept weights) before its fine-tune; 'none': fine-tune only.")


def activations_option() -> typer.models.OptionInfo:
    """--activations of prune and prune-compare: activations costed dense or at measured densities."""
    return typer.Option("dense", "--activations", help="Cost each network's inputs and outputs 'dense' or at their "
                                                        "densities 'measured' on the calibration split (lowers the energy "
                                                        "where the architecture exploits zero activations).")


@app.command()
def prune(
    model: str = typer.Argument(..., help="A shipped trained model (digits-cnn2, digits-cnn4, ...); structured: not digits-dws (depthwise)."),
    arch: str = typer.Option("eyeriss", "--arch", help="Preset name or architecture YAML file."),
    method: str = typer.Option("energy", "--method", help="magnitude (one global sparsity) | energy (per-layer sparsity, layers by energy, "
                                                          "highest first) | structured (whole filters, layers by energy)."),
    accuracy_drop: float = typer.Option(1.0, "--accuracy-drop", help="Budget: accuracy points lost at most (calibration split)."),
    short_epochs: int = typer.Option(1, "--finetune-epochs", help="Fine-tuning epochs of each candidate."),
    local_fit: str = local_fit_option(),
    activations: str = activations_option(),
    seed: int = seed_option("Seed of the fine-tuning and of the heuristic search."),
    weights: Path = typer.Option(None, "--weights", help="A state_dict (.pt) of the model to use instead of the shipped weights."),
    dataflow: str = typer.Option(None, "--dataflow", help="Dataflow constraints; default: the architecture's own."),
    mode: str = mode_option(),
    remainder_folds: bool = remainder_folds_option(),
    densities_out: Path = typer.Option(None, "--densities", help="Also write the pruned model's measured per-layer densities "
                                                                  "(YAML, for the sparse cost model) to this file."),
    report: Path = typer.Option(None, "--report", help="Write a self-contained HTML report here (tables, per-layer energy charts, every step)."),
    table: str = table_option(),
    constraints: str = constraints_option(),
    precision: str = precision_option(),
    jobs: int = jobs_option(),
    as_json: bool = typer.Option(False, "--json", help="Print every number as JSON."),
) -> None:
    """Prune MODEL as far as an accuracy-drop budget allows (fine-tuning each step), then map it on the
    architecture at its measured weight densities (the sparse cost model credits pruned weights where the
    architecture exploits them, e.g. eyeriss-skipw): table of accuracy, non-zero weights, MACs (all, and
    those with a non-zero weight), energy and cycles before and after."""
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.codesign import CodesignError
    from loopnest.codesign.models import check_model
    from loopnest.codesign.pruning import METHODS, check_prune_options
    from loopnest.report.plots import OutputError, check_writable

    try:
        if method not in METHODS:
            raise CodesignError(f"--method: {method!r} is not one of {', '.join(METHODS)}")
        if not accuracy_drop >= 0:
            raise CodesignError(f"--accuracy-drop: accuracy points >= 0, got {accuracy_drop}")
        check_prune_options(method, local_fit, activations, short_epochs)
        name = check_model(model)
        a = load_arch(arch, table=table)
        if densities_out is not None:
            check_writable(densities_out, (".yaml", ".yml"), "a density file")
    except (CodesignError, ArchSpecError) as e:
        fail(str(e))
    except OutputError as e:
        fail(f"--densities: {e}")
    check_outputs(report)
    options = _study_options(constraints, precision, as_json, remainder_folds)
    _need_extras()
    from loopnest.codesign.pruning import run_prune
    from loopnest.mapping.constraints import ConstraintError
    from loopnest.workload.precision import PrecisionError

    try:
        module, data = _trained(name, weights, no_depthwise=method == "structured")
        out, pruned = run_prune(method, module, name, data, a, accuracy_drop, dataflow=dataflow or a.dataflow, mode=mode,
                                short_epochs=short_epochs, seed=seed, jobs=jobs, local_fit=local_fit, activations=activations, **options)
    except (CodesignError, ConstraintError, PrecisionError) as e:
        fail(str(e))
    if densities_out is not None:
        from loopnest.codesign.densities import module_densities

        label = f"{name}{f' (weights {weights.name})' if weights else ''} pruned by 'loopnest codesign prune --method {method} --accuracy-drop {accuracy_drop:g} --arch {a.name}'"
        try:
            module_densities(pruned, label, data.test.x, "the digits test split").save(densities_out)
        except OSError as e:
            fail(f"--densities: {densities_out}: {e.strerror}")
        out["densities_file"] = str(densities_out)
    if report is not None:
        from loopnest.report.pruning import prune_sections

        _write_report(report, f"Pruning: {out['model']} on {out['arch']}, {method}, budget {accuracy_drop:g} points",
                      prune_sections(out), out)
    if as_json:
        print_json(out)
        return
    unit = out["energy_units"]
    rows = [[label, f"{100 * p['accuracy_calibration']:.2f}%", f"{100 * p['accuracy_test']:.2f}%",
             f"{sum(p['nonzero_weights'].values()):,} / {p['weights']:,}", f"{p['macs']:,}", f"{p['nonzero_weight_macs']:,}",
             f"{p['cycles']:,.0f}", f"{p['energy_pj']:.4g}"] for label, p in ((label, out[label]) for label in ("start", "final"))]
    print_table(console, f"{out['model']} on {out['arch']}: {method} pruning, budget {accuracy_drop:g} accuracy points",
                [Column(c) for c in ("network", "cal. acc.", "test acc.", "non-zero weights", "MACs",
                                     "MACs, weight != 0", "cycles", f"energy ({unit})")], rows)
    before = {r["name"]: r for r in out["start"]["layers"]}
    print_table(console, f"Energy per layer ({unit}), before and after; after, by data type (storage and networks) and the MACs",
                [Column("layer", "left", text=True), Column("before"), Column("after"), Column("after / before"),
                 Column("weights"), Column("inputs"), Column("outputs"), Column("MACs")],
                [[r["name"], f"{before[r['name']]['energy_pj']:.4g}", f"{r['energy_pj']:.4g}",
                  f"{r['energy_pj'] / before[r['name']]['energy_pj']:.3f}",
                  *(f"{r['energy_by_tensor_pj'][t]:.4g}" for t in ("weights", "inputs", "outputs")),
                  f"{r['energy_by_level_pj'][out['compute']]:.4g}"] for r in out["final"]["layers"]])
    key = "filters_kept_fraction" if method == "structured" else "sparsity"
    console.print(f"{key.replace('_', ' ')} per layer: " + (", ".join(f"{n}={v:g}" for n, v in out[key].items()) or "none"),
                  highlight=False)
    for note in out["notes"]:
        console.print(f"note: {note}", highlight=False)
    if densities_out is not None:
        console.print(f"measured densities written to {densities_out}", highlight=False)


@app.command()
def densities(
    model: str = typer.Argument(..., help="A shipped trained model (digits-cnn2, digits-cnn4, ...) or an ONNX file (.onnx)."),
    output: Path = typer.Option(..., "-o", "--output", help="Write the per-layer densities here (YAML)."),
    data: str = typer.Option("digits", "--data", help="digits (the digits test split) or a numpy batch (.npy, samples along the first axis)."),
    prune_sparsity: float = typer.Option(None, "--prune-sparsity", help="Magnitude-prune each layer's weights at this sparsity first (0 <= s < 1)."),
    as_json: bool = typer.Option(False, "--json", help="Print the densities as JSON."),
) -> None:
    """Measure the density (fraction of non-zeros) of each MAC layer's weights, input activations and
    output activations (before the nonlinearity) by running MODEL on a batch; write them as YAML."""
    from loopnest.codesign import CodesignError
    from loopnest.codesign.densities import measure
    from loopnest.datafile import DataFileError

    onnx_model = model.lower().endswith(".onnx")
    if not onnx_model or prune_sparsity is not None:
        _need_extras()
    try:
        result = measure(model, data, prune_sparsity)
    except (CodesignError, DataFileError) as e:
        fail(str(e))
    try:
        result.save(output)
    except OSError as e:
        fail(f"-o: {output}: {e.strerror}")
    out = result.to_dict()
    if as_json:
        print_json(out)
        return
    print_table(console, f"Measured densities (fraction non-zero; outputs before the nonlinearity) of {model}",
                [Column("layer", "left", text=True), Column("weights"), Column("inputs"), Column("outputs")],
                [[n, f"{d['weights']:.4f}", f"{d['inputs']:.4f}", f"{d['outputs']:.4f}"] for n, d in out["layers"].items()])
    console.print(f"source: {out['source']}", highlight=False)
    console.print(f"written to {output}", highlight=False)
