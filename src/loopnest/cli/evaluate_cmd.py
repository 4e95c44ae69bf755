"""`loopnest evaluate`: the main job. Map every layer of a network on an architecture (best
mapping for the objective) and print per-layer numbers, network totals and the
benchmarking sheet of eyeriss.mit.edu; --json / --csv export every number."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import typer

from loopnest.cli.common import (
    MODEL_HELP, check_folder, check_outputs, console, constraints_option, density_option, err_console, fail,
    jobs_option, mode_option, precision_option, print_json, remainder_folds_option, seed_option, table_option,
    user_constraints, warn, warn_wider, with_density, with_precision, write_layer_files)
from loopnest.cli.crossbar_cmd import MAPPER_HELP, evaluate_crossbar, refuse_loop_nest_options, route
from loopnest.cli.tables import Column, print_table
from loopnest.report.units import eng
from loopnest.sources import SHEET

PLOT_HELP = "Static plots (.png, .svg or .pdf): the first chart at this path, the others beside it as <stem>-<chart id>."


def evaluate(
    model: str = typer.Argument(..., help=MODEL_HELP),
    arch: str = typer.Option(..., "--arch", help="Preset name (see `loopnest arch list`) or architecture YAML file."),
    batch: int = typer.Option(1, "--batch", min=1, help="Batch size N."),
    dataflow: str = typer.Option(None, "--dataflow", help="Dataflow preset: ws, os, is, rs, rs+, nlr, os-a, os-b, os-c, or none; default: the architecture's own."),
    objective: str = typer.Option("energy", "--objective", help="energy | cycles | edp | 0.7*energy+0.3*cycles | cycles,energy (lexicographic)."),
    mapper: str = typer.Option("auto", "--mapper", help=MAPPER_HELP),
    mode: str = mode_option(),
    precision: str = precision_option(),
    density: str = density_option(),
    constraints: str = constraints_option(),
    table: str = table_option(),
    jobs: int = jobs_option(),
    seed: int = seed_option(),
    remainder_folds: bool = remainder_folds_option(),
    layer_timeout: float = typer.Option(None, "--layer-timeout", min=0.001, help="Seconds per layer shape's search; a search stopped there reports the best mapping found so far (marked timed_out, not proven optimal)."),
    as_json: bool = typer.Option(False, "--json", help="Print every number as JSON (stable interface)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the per-layer numbers and the totals as CSV."),
    report: str = typer.Option(None, "--report", help="Also write a self-contained HTML report (tables, interactive plots) here."),
    plot: str = typer.Option(None, "--plot", help=PLOT_HELP),
    wide: bool = typer.Option(False, "--wide", help="Table with every column (energy per level); split to fit the terminal."),
    mappings: str = typer.Option(None, "--mappings", help="Folder: write each layer's best mapping there as <layer>.yaml "
                                 "(the mapping file format; evaluate one again with `loopnest model --mapping`)."),
    export_timeloop: str = typer.Option(None, "--export-timeloop", help="Folder: write each layer's architecture, "
                                        "problem and best mapping there as Timeloop YAML, <layer>.yaml (docs/interop.md)."),
    export_zigzag: str = typer.Option(None, "--export-zigzag", help="Folder: write the ZigZag accelerator and each layer's "
                                      "workload and mapping there: accelerator.yaml, <layer>.workload.yaml, "
                                      "<layer>.mapping.yaml (docs/interop.md)."),
) -> None:
    """Map every layer of a network onto an architecture and report its costs.

    Per layer and in total: MACs, cycles, PE utilization, energy (by level with --wide), energy
    per MAC, DRAM accesses per MAC, what set the cycles, and which search ran (exact: proven
    best; heuristic: no optimality claim).

    On an architecture with a compute.pim block (an analog crossbar) the crossbar mapper runs
    instead (rows, columns and arrays; energy by DAC, ADC, cells, digital accumulation, buffers);
    --mapper loopnest maps such an architecture as loop nests.

    Example: loopnest evaluate resnet50 --arch eyeriss --report resnet50.html
    """
    check_outputs(report, plot)
    check_folder("--mappings", mappings)
    check_folder("--export-timeloop", export_timeloop)
    check_folder("--export-zigzag", export_zigzag)
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.mapping.constraints import ConstraintError
    from loopnest.model import CountLimitError, ModelInvariantError
    from loopnest.search.api import resolve_dataflow
    from loopnest.search.network import Interrupted, map_network
    from loopnest.search.objective import Objective, ObjectiveError
    from loopnest.search.summary import to_dict
    from loopnest.workload import WorkloadError, load_network

    try:
        a = load_arch(arch, table=table)
    except ArchSpecError as e:
        fail(str(e))
    if route(mapper, a) == "crossbar":
        refuse_loop_nest_options(a.name, {
            "--dataflow": dataflow is not None, "--constraints": constraints is not None, "--density": density is not None,
            "--mode": mode != "auto", "--jobs": jobs is not None, "--seed": seed != 0,
            "--layer-timeout": layer_timeout is not None, "--remainder-folds": remainder_folds, "--csv": as_csv, "--wide": wide,
            "--report": report is not None, "--plot": plot is not None, "--export-timeloop": export_timeloop is not None,
            "--export-zigzag": export_zigzag is not None})
        try:
            network = with_precision(load_network(model, batch=batch), precision)
        except WorkloadError as e:
            fail(str(e))
        evaluate_crossbar(network, a, objective, as_json, mappings)
        return
    try:
        chosen = resolve_dataflow(dataflow if dataflow is not None else a.dataflow)
    except ValueError as e:
        fail(f"--dataflow: {e}")
    user = user_constraints(constraints)
    try:
        Objective.parse(objective)
        network = with_density(with_precision(load_network(model, batch=batch), precision), density)
    except (WorkloadError, ConstraintError, ObjectiveError) as e:
        fail(str(e))
    if not network.layers:
        fail(f"{network.name}: no MAC layers to map")
    quiet = as_json or as_csv
    stopped = None
    try:
        result = _run(map_network, network, a, chosen, user, objective, mode, seed, jobs, quiet,
                      layer_timeout, remainder_folds)
    except (ConstraintError, CountLimitError, ModelInvariantError) as e:
        fail(str(e))
    except Interrupted as e:  # print what was finished, then one line and 128 + the signal number
        result, stopped = e.partial, e
        if not result.mapped:
            _stopped(stopped)
    data = to_dict(result)
    if not data["layers"] and stopped is None:  # one line: the first layer's reason stands for all
        u, more = data["unmapped"][0], len(data["unmapped"]) - 1
        fail(f"no layer of {network.name} can be mapped on {a.name}: layer {u['name']}: {u['reason']}"
             + (f" (and {more} more layer{'s' if more > 1 else ''})" if more else ""))
    for u in data["unmapped"]:
        warn(f"layer {u['name']}: no valid mapping on {a.name}: {u['reason']}")
    for row in data["layers"]:
        if row["search"]["timed_out"] and row["same_as"] is None:
            warn(f"layer {row['name']}: {row['search']['notes'][-1]}")
    _outputs(data, report, plot)
    if mappings is not None:
        _save_mappings(data, Path(mappings))
    if export_timeloop is not None:
        _export_timeloop(data, network, a, Path(export_timeloop))
    if export_zigzag is not None:
        _export_zigzag(data, network, a, Path(export_zigzag))
    warn_wider(network, a)
    if as_json:
        print_json(data)
    elif as_csv:
        _csv(data)
    else:
        _tables(data, a, wide)
    if stopped is not None:
        _stopped(stopped)


def _outputs(data: dict, report: str | None, plot: str | None) -> None:
    from loopnest.report.figures import evaluate_charts
    from loopnest.report.html import write_evaluate_report
    from loopnest.report.plots import OutputError, save_all

    try:
        if report is not None:
            err_console.print(f"report written to {write_evaluate_report(data, report)}")
        if plot is not None:
            for p in save_all(evaluate_charts(data), plot):
                err_console.print(f"plot: {p}")
    except OutputError as e:
        fail(str(e))
    except ValueError as e:  # a number strict JSON cannot hold (the report embeds its data as JSON)
        fail(f"internal error: the report's data cannot be written as JSON ({e}); please report it")


def _save_mappings(data: dict, folder: Path) -> None:
    """Each mapped layer's best mapping as ``<folder>/<layer>.yaml``, readable by ``loopnest model``."""
    import yaml

    write_layer_files(folder, [(r["name"], (
        f"# {data['model']}:{r['name']} on {data['arch']} (batch {data['batch']}): best mapping for "
        f"{data['objective']}, {r['search']['mode']} search; {r['energy_per_mac_pj']:.4g} {data['energy_units']}/MAC, "
        f"{r['cycles']:,.0f} cycles. Levels and loop orders outer -> inner.\n")
        + yaml.safe_dump({"mapping": r["mapping"]}, sort_keys=False, default_flow_style=None)) for r in data["layers"]])


def _export_timeloop(data: dict, network, a, folder: Path) -> None:
    """Each mapped layer's architecture, problem and best mapping as ``<folder>/<layer>.yaml`` in Timeloop's
    syntax; what Timeloop cannot express (an architecture with partitions, a dimension on both spatial axes
    that no placement fits) is a warning, and the rest is written."""
    import re

    from loopnest.interop import InteropError
    from loopnest.interop.export import timeloop_arch, write_timeloop
    from loopnest.mapping.io import parse_mapping

    problems = {p.name: p for p in network.layers}
    written, with_arch = 0, bool(data["layers"])
    try:
        if data["layers"]:
            timeloop_arch(a, problems[data["layers"][0]["name"]])
    except InteropError as e:
        warn(f"--export-timeloop: the architecture is not written (problems and mappings are): {e}")
        with_arch = False
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(f"--export-timeloop: {folder}: cannot write ({e.strerror})")
    for r in data["layers"]:
        path = folder / (re.sub(r"[^A-Za-z0-9._-]", "_", r["name"]) + ".yaml")
        try:
            write_timeloop(problems[r["name"]], a, parse_mapping({"mapping": r["mapping"]}, a), path, with_arch)
            written += 1
        except InteropError as e:
            warn(f"--export-timeloop: layer {r['name']}: {e}")
    err_console.print(f"timeloop: {written} files in {folder}")


def _export_zigzag(data: dict, network, a, folder: Path) -> None:
    """The architecture as ``<folder>/accelerator.yaml`` and each mapped layer's ZigZag workload and best
    mapping as ``<layer>.workload.yaml`` and ``<layer>.mapping.yaml``; what ZigZag cannot take (an
    architecture in normalized units, colliding dimension names) is a warning and the rest is written."""
    import re

    from loopnest.interop import InteropError
    from loopnest.interop.zigzag_export import write_zigzag
    from loopnest.mapping.io import parse_mapping

    from loopnest.interop.zigzag_export import accelerator_text

    problems = {p.name: p for p in network.layers}
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(f"--export-zigzag: {folder}: cannot write ({e.strerror})")
    try:
        (folder / "accelerator.yaml").write_text(accelerator_text(a))
    except InteropError as e:
        warn(f"--export-zigzag: the accelerator is not written (workloads and mappings are): {e}")
    except OSError as e:
        fail(f"--export-zigzag: {folder}: cannot write ({e.strerror})")
    written = 0
    for r in data["layers"]:
        path = folder / (re.sub(r"[^A-Za-z0-9._-]", "_", r["name"]) + ".yaml")
        try:
            write_zigzag(problems[r["name"]], a, parse_mapping({"mapping": r["mapping"]}, a), path)
            written += 1
        except InteropError as e:
            warn(f"--export-zigzag: layer {r['name']}: {e}")
    err_console.print(f"zigzag: {written} layers (workload and mapping each) in {folder}")


def _stopped(e) -> None:
    """One line on how far the interrupted run got; exit 128 + the signal (130 SIGINT, 143 SIGTERM)."""
    import signal

    net = e.partial
    done = len(net.layers)
    fail(f"interrupted by {signal.Signals(e.signum).name}: {net.searches} of {net.shapes_total} layer shapes searched "
         f"({done} of {done + len(net.pending)} layers); "
         + ("the results printed are those layers only" if net.mapped else "no result to print"), 128 + e.signum)


def _run(map_network, network, a, dataflow, user, objective, mode, seed, jobs, quiet, layer_timeout, remainder_folds):
    if quiet:
        return map_network(network, a, dataflow, user, objective, mode, seed, jobs, layer_timeout_s=layer_timeout,
                           remainder_folds=remainder_folds)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("mapping {task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(f"{network.name} on {a.name}", total=None)

        def tick(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{network.name} on {a.name} ({name})")

        return map_network(network, a, dataflow, user, objective, mode, seed, jobs, progress=tick,
                           layer_timeout_s=layer_timeout, remainder_folds=remainder_folds)


def _flat(row: dict, levels: list[str]) -> dict:
    out = {k: row[k] for k in ("name", "kind", "macs", "cycles", "bound", "utilization", "active_pes", "energy_pj",
                               "energy_per_mac_pj", "dram_accesses_per_mac")}
    for k, v in row["energy_by_level_pj"].items():
        out[f"energy_pj.{k}"] = v
    for k in levels:
        out[f"accesses.{k}"] = row["accesses_by_level"].get(k, 0)
    return out


def _csv(data: dict) -> None:
    levels = list(data["totals"]["accesses_by_level"])
    rows = [_flat(r, levels) for r in data["layers"]]
    t = data["totals"]
    total = {"name": "TOTAL", "kind": "", "macs": t["macs"], "cycles": t["cycles"], "bound": "", "utilization": t["utilization"],
             "active_pes": "", "energy_pj": t["energy_pj"], "energy_per_mac_pj": t["energy_per_mac_pj"],
             "dram_accesses_per_mac": t["dram_accesses_per_mac"],
             **{f"energy_pj.{k}": v for k, v in t["energy_by_level_pj"].items()},
             **{f"accesses.{k}": v for k, v in t["accesses_by_level"].items()}}
    writer = csv.DictWriter(sys.stdout, fieldnames=list(total))
    writer.writeheader()
    writer.writerows(rows + [total])


def _search_cell(search: dict) -> str:
    """The search that ran, and where not proven, its gap to the lower bound it knows: the
    mapping is at most that much above the optimum ("heuristic (<=12%)")."""
    gap = search.get("gap")
    cell = search["mode"] if not gap else f"{search['mode']} (<={gap:.0%})"
    folds = ", ".join(f"{d} {n}->{padded}" for d, (n, padded) in search.get("folds", {}).items())
    return f"{cell}, fold {folds}" if folds else cell


def _tables(data: dict, a, wide: bool = False) -> None:
    unit = data["energy_units"]
    parts = list(data["totals"]["energy_by_level_pj"]) if wide else []
    cols = [Column("layer", "left"), Column("MACs"), Column("cycles"), Column("PE util"), Column("energy"),
            Column(f"{unit}/MAC"), Column("DRAM/MAC"), *(Column(p) for p in parts),
            Column("search", "left"), Column("cycles set by", "left", text=True)]

    def cells(r: dict, limit: str, search: str) -> list[str]:
        return [f"{r['macs']:,}", f"{r['cycles']:,.0f}", f"{r['utilization']:.1%}", eng(r["energy_pj"], unit),
                f"{r['energy_per_mac_pj']:.3f}", f"{r['dram_accesses_per_mac']:.4f}",
                *(eng(r["energy_by_level_pj"].get(p, 0), unit) for p in parts), search, limit]

    rows = [[r["name"], *cells(r, r["limit"], _search_cell(r["search"]))] for r in data["layers"]]
    total = ["TOTAL", *cells(data["totals"], "", "")]
    title = (f"{data['model']} (batch {data['batch']}) on {data['arch']}: dataflow {data['dataflow'] or 'any'}, "
             f"{data['mode']} search for {data['objective']}; energies in "
             + ("joules with SI prefixes" if unit == "pJ" else f"{unit} (normalized) with SI prefixes")
             + ("; energy per level after the totals" if wide else "; --wide adds the energy per level")
             + "; DRAM/MAC in words per MAC")
    print_table(console, title, cols, rows, total)
    ops = data["totals"]["element_ops"]
    if ops.get("count"):
        both = data["totals"]["with_element_ops"]
        copied = f", {ops['copied_elements']:,} elements copied by shifts and shuffles" if ops.get("copied_elements") else ""
        console.print(f"non-MAC operators ({ops['count']}, {ops['elem_ops']:,} element ops{copied}; docs/model.md): "
                      f"{eng(ops['energy_pj'], unit)}, {ops['cycles']:,.0f} cycles; with them the network takes "
                      f"{eng(both['energy_pj'], unit)} and {both['cycles']:,.0f} cycles")
    elif ops.get("note"):
        console.print(f"non-MAC operators not costed: {ops['note']}")
    s = data["sheet"]
    power = f"{s['power_mW']:.1f} mW" if s["power_mW"] is not None else f"n/a (energies in {unit})"
    print_table(console, f"Benchmarking sheet ({SHEET})", [Column("metric", "left"), Column("value")], [
        ["Process technology", s["process_technology"]], ["Core area (modeled)", f"{s['core_area_mm2']:.2f} mm²"],
        ["# of PEs", f"{s['pes']}"],
        ["On-chip memory", f"{s['on_chip_memory_KiB']:.1f} KiB"], ["Bits per operand", f"{s['bits_per_operand']}"],
        ["Batch size", f"{s['batch_size']}"], ["# of non-zero MACs (actual; dense: all MACs)", f"{s['non_zero_macs']:,.0f} of {data['totals']['macs']:,}"],
        ["Runtime", f"{s['runtime_ms']:.3f} ms at {s['clock_mhz']:g} MHz"], ["Power (dynamic)", power],
        ["Static power (leakage)", f"{s['static_power_mW']:g} mW" + (
            f": {eng(data['totals']['leakage_energy_pj'], 'pJ')} over the runtime, total energy "
            f"{eng(data['totals']['total_energy_pj'], 'pJ')}" if s["static_power_mW"] else " (no component states leakage_mw)")],
        ["Energy / non-zero MAC", f"{s['energy_per_non_zero_mac']:.3f} {unit}/MAC"],
        ["DRAM access / non-zero MAC", f"{s['dram_accesses_per_non_zero_mac']:.4f} operands/MAC"]])
    srch, timing = data["search"], data["timing"]
    if any(r["search"]["mode"] == "heuristic" for r in data["layers"]):
        console.print("search: exact = the proven best mapping in the mapspace; heuristic = best found, not proven optimal.")
    if any(r["search"].get("folds") for r in data["layers"]):
        console.print("fold D n->N: a partial last fold beat the exact splits (D padded to N on a fanout axis, the last fold "
                      "partial; the best of the fold variants searched, not proven optimal over all of them: docs/mapper.md).")
    modes = ", ".join(f"{n} {m}" + (" (not proven optimal)" if m == "heuristic" else "")
                      for m, n in srch["shapes_by_mode"].items())
    console.print(f"{srch['distinct_shapes']} distinct layer shapes searched in {timing['seconds']:.1f} s on {timing['jobs']} processes "
                  f"({modes}); loop orders in mappings are outer -> inner.")
