"""`loopnest eyexam`: the Eyexam performance bounds of one layer on one architecture (Chen et al., arXiv:1807.07928)."""

from __future__ import annotations

from pathlib import Path

import typer

from loopnest.cli.common import (
    LAYER_HELP, check_outputs, console, constraints_option, density_option, err_console, fail, mode_option,
    precision_option, print_json, remainder_folds_option, seed_option, table_option, user_constraints, warn_wider, with_density,
    with_precision)
from loopnest.cli.tables import Column, print_table
from loopnest.cli.compare_cmd import PLOT_HELP


def eyexam(
    layer: str = typer.Argument(..., help=LAYER_HELP),
    arch: str = typer.Option("eyeriss", "--arch", help="Preset name or architecture YAML file."),
    table: str = table_option(),
    batch: int = typer.Option(1, "--batch", min=1, help="Batch size N."),
    dataflow: str = typer.Option(None, "--dataflow", help="Dataflow constraints (ws, os-a, os-b, os-c, os, is, nlr, rs, rs+); "
                                 "default: the architecture's own dataflow, if it names one."),
    objective: str = typer.Option("energy", "--objective", help="Objective of the chosen mapping (the last step)."),
    mode: str = mode_option(),
    remainder_folds: bool = remainder_folds_option(),
    precision: str = precision_option(),
    density: str = density_option(),
    constraints: str = constraints_option(),
    seed: int = seed_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the steps as JSON."),
    report: Path = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
    plot: Path = typer.Option(None, "--plot", help=PLOT_HELP),
) -> None:
    """The Eyexam performance bounds of one layer, step by step (Chen et al., arXiv:1807.07928).

    Steps 1-7 in MACs/cycle: workload, dataflow, array size, array shape, storage, average
    bandwidth, instantaneous bandwidth (= the mapper's achieved value).

    Example: loopnest eyexam alexnet:conv3 --arch eyeriss --plot conv3.png
    """
    check_outputs(report, plot)
    from loopnest.analysis.eyexam import EyexamError, run_eyexam
    from loopnest.analysis.runs import constraints_for
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.mapping.constraints import ConstraintError
    from loopnest.model import CountLimitError, ModelInvariantError
    from loopnest.search.objective import ObjectiveError
    from loopnest.workload import WorkloadError
    from loopnest.workload.layer_ref import LayerRefError, load_layer

    user = user_constraints(constraints)
    try:
        a = load_arch(arch, table=table)
        problem = with_density(with_precision(load_layer(layer, batch), precision), density)
        rules = constraints_for(dataflow or a.dataflow, problem, a)
        data = run_eyexam(problem, a, rules if user is None else rules.meet(user), objective, mode, seed, remainder_folds)
    except (ArchSpecError, WorkloadError, LayerRefError, ConstraintError, ObjectiveError, EyexamError, CountLimitError,
            ModelInvariantError) as e:
        fail(str(e))
    _outputs(data, report, plot)
    warn_wider(problem, a)
    if as_json:
        print_json(data)
        return
    print_table(console, f"Eyexam: {data['layer']} on {data['arch']} ({data['constraints']}); bounds in MACs/cycle",
                [Column("step"), Column("constraint added", "left", text=True), Column("bound"), Column("why", "left", text=True)],
                [[str(s["step"]), s["name"], f"{s['bound_macs_per_cycle']:,.4g}", s["explanation"]] for s in data["steps"]])
    console.print(f"achieved: {data['achieved_macs_per_cycle']:.4g} MACs/cycle of a peak {data['peak_macs_per_cycle']:g}; "
                  f"no-overlap burst model: {data['no_overlap_macs_per_cycle']:.4g}"
                  + (f"; non-zero MACs: {data['achieved_actual_macs_per_cycle']:.4g} per cycle"
                     if "achieved_actual_macs_per_cycle" in data else ""))


def _outputs(data: dict, report: Path | None, plot: Path | None) -> None:
    from loopnest.report.figures import eyexam_chart, eyexam_sections
    from loopnest.report.html import write_report
    from loopnest.report.plots import OutputError, save_all

    try:
        if report is not None:
            write_report(report, f"Eyexam: {data['layer']} on {data['arch']}", eyexam_sections(data), data)
            err_console.print(f"report: {report}")
        if plot is not None:
            for p in save_all([eyexam_chart(data)], plot):
                err_console.print(f"plot: {p}")
    except OutputError as e:
        fail(str(e))
