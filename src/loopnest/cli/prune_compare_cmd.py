"""`loopnest codesign prune-compare`: energy-aware against magnitude pruning at equal accuracy
(Yang, Chen, Sze, CVPR 2017): each method swept over accuracy-drop budgets, matched at equal test
accuracy (rule: ``loopnest.codesign.prune_compare``)."""

from __future__ import annotations

from pathlib import Path

import typer

from loopnest.cli.codesign_cmd import _need_extras, _study_options, _trained, _write_report, activations_option, local_fit_option
from loopnest.cli.common import (
    check_outputs, console, constraints_option, fail, jobs_option, mode_option, precision_option, print_json,
    remainder_folds_option, save_plots, seed_option, table_option)
from loopnest.cli.compare_cmd import PLOT_HELP
from loopnest.cli.tables import Column, print_table


def _points(text: str, option: str) -> tuple[float, ...]:
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            v = float(part)
        except ValueError:
            v = -1.0
        if not v >= 0:
            fail(f"{option}: comma-separated accuracy points >= 0, got {part!r}")
        out.append(v)
    if not out and option == "--budgets":
        fail(f"{option}: at least one accuracy-drop budget (points), got {text!r}")
    return tuple(out)


def prune_compare(
    model: str = typer.Argument(..., help="A shipped trained model (digits-cnn2, digits-cnn4, ...)."),
    arch: str = typer.Option("eyeriss-skipw", "--arch", help="Preset name or architecture YAML file (one that exploits zero weights, "
                                                            "or unstructured pruning saves no modeled energy)."),
    budgets: str = typer.Option("0,1,1.5,2,3,5", "--budgets", help="Comma-separated accuracy-drop budgets swept for each method "
                                                                  "(points on the calibration split)."),
    targets: str = typer.Option("0.5,1,2", "--targets", help="Comma-separated test-accuracy drops (points) to match the methods at."),
    short_epochs: int = typer.Option(1, "--finetune-epochs", help="Fine-tuning epochs of each candidate."),
    local_fit: str = local_fit_option(),
    activations: str = activations_option(),
    seed: int = seed_option("Seed of the fine-tuning and of the heuristic search."),
    weights: Path = typer.Option(None, "--weights", help="A state_dict (.pt) of the model to use instead of the shipped weights."),
    dataflow: str = typer.Option(None, "--dataflow", help="Dataflow constraints; default: the architecture's own."),
    mode: str = mode_option(),
    remainder_folds: bool = remainder_folds_option(),
    jobs: int = jobs_option(),
    table: str = table_option(),
    constraints: str = constraints_option(),
    precision: str = precision_option(),
    plot: Path = typer.Option(None, "--plot", help=PLOT_HELP),
    report: Path = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
    as_json: bool = typer.Option(False, "--json", help="Print every number as JSON."),
) -> None:
    """Energy-aware against magnitude pruning of MODEL at equal accuracy: both swept over --budgets,
    each point costed at its measured weight densities; per --targets drop, each method's lowest energy
    at or above that test accuracy, and their ratio."""
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.codesign import CodesignError
    from loopnest.codesign.models import check_model
    from loopnest.codesign.pruning import check_prune_options

    b, t = _points(budgets, "--budgets"), _points(targets, "--targets")
    try:
        check_prune_options("energy", local_fit, activations, short_epochs)
        name = check_model(model)
        a = load_arch(arch, table=table)
    except (CodesignError, ArchSpecError) as e:
        fail(str(e))
    check_outputs(report, plot)
    options = _study_options(constraints, precision, as_json, remainder_folds)
    _need_extras()
    from loopnest.codesign.prune_compare import run_prune_compare
    from loopnest.mapping.constraints import ConstraintError
    from loopnest.workload.precision import PrecisionError

    try:
        module, data = _trained(name, weights, no_depthwise=False)
        out = run_prune_compare(module, name, data, a, budgets=b, targets=t, dataflow=dataflow or a.dataflow, mode=mode,
                                short_epochs=short_epochs, seed=seed, jobs=jobs, local_fit=local_fit, activations=activations, **options)
    except (CodesignError, ConstraintError, PrecisionError) as e:
        fail(str(e))
    from loopnest.report.pruning import prune_compare_charts, prune_compare_sections

    if plot is not None:
        save_plots(prune_compare_charts(out), plot)
    if report is not None:
        _write_report(report, f"Pruning methods at equal accuracy: {out['model']} on {out['arch']}", prune_compare_sections(out), out)
    if as_json:
        print_json(out)
        return
    unit, u = out["energy_units"], out["unpruned"]
    print_table(console, f"{name} on {a.name}: energy at equal test accuracy (unpruned {100 * u['accuracy_test']:.2f} %, "
                         f"{u['energy_pj']:.4g} {unit}); ratio = magnitude / energy-aware",
                [Column("drop <= (points)"), Column("magnitude"), Column("test acc."), Column("energy-aware"), Column("test acc."),
                 Column("ratio")],
                [[f"{r['target_drop_points']:g}", f"{r['magnitude']['energy_reduction']:.3f}x",
                  f"{100 * r['magnitude']['accuracy_test']:.2f}%", f"{r['energy']['energy_reduction']:.3f}x",
                  f"{100 * r['energy']['accuracy_test']:.2f}%", f"{r['energy_ratio']:.3f}"] for r in out["matched"]])
    console.print(f"matching: {out['settings']['matching']}", highlight=False)
    for note in out["notes"]:
        console.print(f"note: {note}", highlight=False)
