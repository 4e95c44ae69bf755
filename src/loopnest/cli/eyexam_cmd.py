"""`loopnest eyexam`: the Eyexam performance bounds of one layer on one architecture (seed 001)."""

from __future__ import annotations

from pathlib import Path

import typer

from loopnest.cli.common import console, err_console, fail, mode_option, precision_option, print_json, with_precision
from loopnest.cli.compare_cmd import PLOT_HELP


def eyexam(
    layer: str = typer.Argument(..., help="MODEL:LAYER (e.g. alexnet:conv3; MODEL may be an .onnx file) or a layer YAML spec."),
    arch: str = typer.Option("eyeriss", "--arch", help="Preset name or architecture YAML file."),
    batch: int = typer.Option(1, "--batch", min=1, help="Batch size N."),
    dataflow: str = typer.Option(None, "--dataflow", help="Dataflow constraints (ws, os-a, os-b, os-c, os, is, nlr, rs); "
                                 "default: the architecture's own dataflow, if it names one."),
    objective: str = typer.Option("energy", "--objective", help="Objective of the chosen mapping (the last step)."),
    mode: str = mode_option(),
    precision: str = precision_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the steps as JSON."),
    report: Path = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
    plot: Path = typer.Option(None, "--plot", help=PLOT_HELP),
) -> None:
    """Steps 1-7 of Eyexam in MACs/cycle: workload, dataflow, array size, array shape, storage,
    average bandwidth, instantaneous bandwidth (= the mapper's achieved value)."""
    from loopnest.analysis.eyexam import EyexamError, run_eyexam
    from loopnest.analysis.runs import constraints_for
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.mapping.constraints import ConstraintError
    from loopnest.model import CountLimitError, ModelInvariantError
    from loopnest.search.objective import ObjectiveError
    from loopnest.workload import WorkloadError
    from loopnest.workload.layer_ref import LayerRefError, load_layer

    try:
        a = load_arch(arch)
        problem = with_precision(load_layer(layer, batch), precision)
        data = run_eyexam(problem, a, constraints_for(dataflow or a.dataflow, problem, a), objective, mode)
    except (ArchSpecError, WorkloadError, LayerRefError, ConstraintError, ObjectiveError, EyexamError, CountLimitError,
            ModelInvariantError) as e:
        fail(str(e))
    _outputs(data, report, plot)
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    t = Table(title=f"Eyexam: {data['layer']} on {data['arch']} ({data['constraints']}); bounds in MACs/cycle")
    for c in ("step", "constraint added", "bound", "why"):
        t.add_column(c, justify="right" if c == "bound" else "left")
    for s in data["steps"]:
        t.add_row(str(s["step"]), s["name"], f"{s['bound_macs_per_cycle']:,.4g}", s["explanation"])
    console.print(t)
    console.print(f"achieved: {data['achieved_macs_per_cycle']:.4g} MACs/cycle of a peak {data['peak_macs_per_cycle']:g}; "
                  f"no-overlap burst model: {data['no_overlap_macs_per_cycle']:.4g}", highlight=False)


def _outputs(data: dict, report: Path | None, plot: Path | None) -> None:
    from loopnest.report.figures import eyexam_chart, eyexam_sections
    from loopnest.report.html import ReportError, write_report
    from loopnest.report.plots import save_all

    try:
        if report is not None:
            write_report(report, f"Eyexam: {data['layer']} on {data['arch']}", eyexam_sections(data), data)
            err_console.print(f"report: {report}")
        if plot is not None:
            for p in save_all([eyexam_chart(data)], plot):
                err_console.print(f"plot: {p}")
    except (ReportError, ValueError) as e:
        fail(str(e))
