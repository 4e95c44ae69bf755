"""`loopnest roofline`: per-layer roofline and energy breakdown of a network on one architecture."""

from __future__ import annotations

from pathlib import Path

import typer

from loopnest.cli.common import (
    MODEL_HELP, check_outputs, console, constraints_option, density_option, err_console, fail, jobs_option, mode_option,
    precision_option, print_json, remainder_folds_option, seed_option, table_option, user_constraints, warn, warn_wider,
    with_density, with_precision)
from loopnest.cli.tables import Column, print_table
from loopnest.cli.compare_cmd import PLOT_HELP


def roofline(
    model: str = typer.Argument(..., help=MODEL_HELP),
    arch: str = typer.Option("eyeriss", "--arch", help="Preset name or architecture YAML file."),
    table: str = table_option(),
    batch: int = typer.Option(1, "--batch", min=1, help="Batch size N."),
    dataflow: str = typer.Option(None, "--dataflow", help="Dataflow constraints; default: the architecture's own."),
    objective: str = typer.Option("energy", "--objective", help="Mapper objective: energy, cycles, edp, ..."),
    mode: str = mode_option(),
    remainder_folds: bool = remainder_folds_option(),
    precision: str = precision_option(),
    density: str = density_option(),
    constraints: str = constraints_option(),
    seed: int = seed_option(),
    jobs: int = jobs_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the roofline and the energy breakdown as JSON."),
    report: Path = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
    plot: Path = typer.Option(None, "--plot", help=PLOT_HELP),
) -> None:
    """Roofline of a network per memory level, and its energy by level and data type.

    Maps each layer (best mapping for the objective); plots achieved MACs/cycle against every
    level's bandwidth roof and the compute roof.

    Example: loopnest roofline googlenet --arch eyeriss --plot googlenet.png
    """
    check_outputs(report, plot)
    from loopnest.analysis.breakdown import network_breakdown
    from loopnest.analysis.roofline import roofline as build
    from loopnest.analysis.runs import best_records
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.mapping.constraints import ConstraintError
    from loopnest.model import CountLimitError, ModelInvariantError
    from loopnest.search.objective import ObjectiveError
    from loopnest.workload import WorkloadError, load_network

    user = user_constraints(constraints)
    try:
        a = load_arch(arch, table=table)
        network = with_density(with_precision(load_network(model, batch=batch), precision), density)
        records, unmapped = best_records(network, a, dataflow or a.dataflow, objective, mode, jobs,
                                         progress=err_console.print, constraints=user, seed=seed,
                                         remainder_folds=remainder_folds)
    except (ArchSpecError, WorkloadError, ConstraintError, ObjectiveError, CountLimitError, ModelInvariantError) as e:
        fail(str(e))
    problems = {p.name: p for p in network.layers}
    data = {"model": network.name, "batch": batch, "objective": objective, "mode": mode, "unmapped": unmapped,
            "roofline": build(records, a, [problems[r["layer"]] for r in records]),
            "breakdown": network_breakdown(network.name, records, a)}
    _outputs(data, report, plot)
    warn_wider(network, a)
    if as_json:
        print_json(data)
        return
    rf = data["roofline"]
    levels = [r["name"] for r in rf["roofs"]]
    sparse = any("actual_macs" in p for p in rf["layers"])
    print_table(console, f"Roofline of {network.name} on {a.name}: compute roof {rf['compute_roof_macs_per_cycle']:g} MACs/cycle; "
                + "; ".join(f"{r['name']} {r['bandwidth_words_per_cycle']:g} words/cycle" for r in rf["roofs"])
                + "; intensity per port in MACs per word through it (- where no word passes)"
                + ("; sparse layers: non-zero MACs per cycle and per word actually moved (after /)" if sparse else ""),
                [Column("layer", "left"), Column("MACs/cycle"), *([Column("non-zero MACs/cycle")] if sparse else []),
                 Column("bound", "left", text=True), *(Column(l) for l in levels)],
                [[p["layer"], f"{p['achieved_macs_per_cycle']:.4g}",
                  *([_num(p.get("achieved_actual_macs_per_cycle"))] if sparse else []), p["bound"],
                  *(_num(p["intensity_macs_per_word"][l]) + (f" / {_num(p['actual_intensity_macs_per_word'][l])}"
                                                             if "actual_macs" in p else "") for l in levels)]
                 for p in rf["layers"]])
    shares = data["breakdown"]["type_shares_percent"]
    console.print("energy by data type: " + ", ".join(f"{k} {v:.1f}%" for k, v in shares.items()))
    for u in unmapped:
        warn(f"{u['layer']} not mapped: {u['reason']}")


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def _outputs(data: dict, report: Path | None, plot: Path | None) -> None:
    from loopnest.report.figures import roofline_charts, roofline_sections
    from loopnest.report.html import write_report
    from loopnest.report.plots import OutputError, save_all

    try:
        if report is not None:
            write_report(report, f"Roofline and energy: {data['model']} on {data['roofline']['arch']}", roofline_sections(data), data)
            err_console.print(f"report: {report}")
        if plot is not None:
            for p in save_all(roofline_charts(data), plot):
                err_console.print(f"plot: {p}")
    except OutputError as e:
        fail(str(e))
