"""`loopnest compare-dataflows`: WS, OS-A/B/C, NLR and RS at equal area (Chen, Emer, Sze, ISCA 2016)."""

from __future__ import annotations

from pathlib import Path

import typer

from loopnest.cli.common import (
    MODEL_HELP, check_outputs, console, constraints_option, did_you_mean, err_console, fail, jobs_option,
    mode_option, precision_option, print_json, remainder_folds_option, seed_option, table_option, user_constraints, warn,
    with_precision)
from loopnest.cli.tables import Column, print_table

PLOT_HELP = "Static plots (.png, .svg or .pdf): the first chart at this path, the others beside it as <stem>-<chart id>."


def compare_dataflows(
    model: str = typer.Argument(..., help=MODEL_HELP),
    pes: int = typer.Option(256, "--pes", min=1, help="PE count: the equal-area family eyeriss<PEs>-* (any count: the array is the most square X x Y; docs/arch.md)."),
    batch: int = typer.Option(16, "--batch", min=1, help="Batch size N."),
    dataflows: str = typer.Option("ws,os-a,os-b,os-c,nlr,rs", "--dataflows", help="Comma-separated subset to compare (RS is the reference)."),
    mode: str = mode_option(),
    remainder_folds: bool = remainder_folds_option(),
    precision: str = precision_option(),
    table: str = table_option(),
    constraints: str = constraints_option(),
    seed: int = seed_option(),
    jobs: int = jobs_option(),
    bypass: bool = typer.Option(False, "--bypass", help="Let the mapper bypass levels (default: every level keeps what its "
                                "hardware holds, as in the ISCA 2016 framework; bypass search is slower)."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
    report: Path = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
    plot: Path = typer.Option(None, "--plot", help=PLOT_HELP),
) -> None:
    """Compare dataflows (WS, OS, NLR, RS) at equal chip area, as in Chen et al., ISCA 2016.

    Maps every layer under each dataflow on its equal-area architecture (best mapping for
    energy); prints energy per MAC by level and data type, CONV and FC apart, and DRAM accesses per MAC.

    Example: loopnest compare-dataflows alexnet --pes 256 --batch 16 --report cmp.html
    """
    check_outputs(report, plot)
    from loopnest.analysis.dataflow_compare import DATAFLOWS
    from loopnest.analysis.dataflow_compare import compare_dataflows as run
    from loopnest.arch import ArchSpecError
    from loopnest.mapping.constraints import ConstraintError
    from loopnest.model import CountLimitError, ModelInvariantError
    from loopnest.workload import WorkloadError, load_network

    names = [d.strip().upper() for d in dataflows.split(",") if d.strip()]
    bad = [d for d in names if d not in DATAFLOWS]
    valid = [d.lower() for d in DATAFLOWS]
    if bad or not names:
        what = f"unknown dataflow {bad[0].lower()!r}{did_you_mean(bad[0].lower(), valid)}" if bad else "empty list"
        fail(f"--dataflows: {what}; choose from {', '.join(valid)}")
    user = user_constraints(constraints)
    try:
        network = with_precision(load_network(model, batch=batch), precision)
        data = run(network, pes, tuple(names), mode, jobs, progress=err_console.print, bypass=bypass, table=table,
                   constraints=user, seed=seed, remainder_folds=remainder_folds)
    except (WorkloadError, ArchSpecError, ConstraintError, CountLimitError, ModelInvariantError) as e:
        fail(str(e))
    _outputs(data, report, plot)
    if as_json:
        print_json(data)
        return
    _print(data)


def _outputs(data: dict, report: Path | None, plot: Path | None) -> None:
    from loopnest.report.figures import compare_sections, dataflow_charts
    from loopnest.report.html import write_report
    from loopnest.report.plots import OutputError, save_all

    try:
        if report is not None:
            write_report(report, f"Dataflow comparison: {data['model']}, {data['pes']} PEs, batch {data['batch']}",
                         compare_sections(data), data)
            err_console.print(f"report: {report}")
        if plot is not None:
            for p in save_all(dataflow_charts(data), plot):
                err_console.print(f"plot: {p}")
    except OutputError as e:
        fail(str(e))


def _print(data: dict) -> None:
    from loopnest.report.figures import LEVELS, claim_lines

    unit = data.get("energy_units", "")
    rows = []
    for n, d in data["dataflows"].items():
        for k in ("conv", "fc"):
            s = d[k]
            if s:
                rows.append([n, k.upper(), f"{s['energy_per_mac']:.3f}", f"{data['ratios'][k].get(n, float('nan')):.2f}",
                             *(f"{s['energy_by_level_per_mac'][lv]:.3f}" for lv in LEVELS), f"{s['dram_accesses_per_mac']:.4f}"])
    print_table(console, f"{data['model']}, {data['pes']} PEs, batch {data['batch']}: energy per MAC ({unit}), by level; "
                         "x RS = energy / energy of RS; DRAM/MAC in words per MAC",
                [Column("dataflow", "left"), Column("layers", "left"), Column("energy/MAC"), Column("x RS"),
                 *(Column(lv) for lv in LEVELS), Column("DRAM/MAC")], rows, key=2)
    for line in claim_lines(data):
        console.print(line)
    heuristic = [n for n, d in data["dataflows"].items() if any(r["search_mode"] == "heuristic" for r in d["layers"])]
    console.print(f"search: {data['mode']}; " + (f"heuristic (not proven optimal) on {', '.join(heuristic)}, exact elsewhere"
                                                 if heuristic else "exact on every layer"))
    for n, d in data["dataflows"].items():
        for u in d["unmapped"]:
            warn(f"{n}: {u['layer']} not mapped: {u['reason']}")
