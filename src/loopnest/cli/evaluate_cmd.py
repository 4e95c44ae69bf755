"""`loopnest evaluate`: the main job. Map every layer of a network on an architecture (best
mapping for the objective) and print per-layer numbers, network totals and the seed-000
benchmarking sheet; --json / --csv export every number."""

from __future__ import annotations

import csv
import json
import sys

import typer

from loopnest.cli.common import console, err_console, fail, mode_option


def evaluate(
    model: str = typer.Argument(..., help="Zoo model name (see `loopnest workload list`) or an .onnx file."),
    arch: str = typer.Option(..., "--arch", help="Preset name (see `loopnest arch list`) or architecture YAML file."),
    batch: int = typer.Option(1, "--batch", min=1, help="Batch size N."),
    dataflow: str = typer.Option(None, "--dataflow", help="Dataflow preset: ws, os, is, rs, nlr, os-a, os-b, os-c, or none; default: the architecture's own."),
    objective: str = typer.Option("energy", "--objective", help="energy | cycles | edp | 0.7*energy+0.3*cycles | cycles,energy (lexicographic)."),
    mode: str = mode_option(),
    constraints: str = typer.Option(None, "--constraints", help="YAML file of mapspace constraints (mapping syntax)."),
    table: str = typer.Option(None, "--table", help="Energy table used to resolve the architecture."),
    jobs: int = typer.Option(None, "--jobs", min=1, help="Worker processes (default: all CPUs)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the heuristic mode."),
    layer_timeout: float = typer.Option(None, "--layer-timeout", min=0.001, help="Seconds per layer shape's search; a search stopped there reports the best mapping found so far (marked timed_out, not proven optimal)."),
    as_json: bool = typer.Option(False, "--json", help="Print every number as JSON (stable interface)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the per-layer numbers and the totals as CSV."),
    report: str = typer.Option(None, "--report", help="Also write a self-contained HTML report (tables, interactive plots) here."),
) -> None:
    """Map every layer and report MACs, cycles, PE utilization, energy by level, pJ/MAC, DRAM
    accesses per MAC and the bound that set the cycles, with network totals."""
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.mapping.constraints import ConstraintError, load_constraints
    from loopnest.mapping.dataflows import DATAFLOWS
    from loopnest.search.network import Interrupted, map_network
    from loopnest.search.objective import Objective, ObjectiveError
    from loopnest.search.summary import to_dict
    from loopnest.workload import WorkloadError, load_network

    try:
        a = load_arch(arch, table=table)
    except ArchSpecError as e:
        fail(str(e))
    chosen = dataflow if dataflow is not None else a.dataflow
    if chosen is not None and chosen.lower() == "none":
        chosen = None
    if chosen is not None and chosen.lower() not in DATAFLOWS:
        fail(f"--dataflow: unknown dataflow {chosen!r}; valid: {', '.join(DATAFLOWS)}, none")
    try:
        Objective.parse(objective)
        network = load_network(model, batch=batch)
        user = load_constraints(constraints) if constraints else None
    except (WorkloadError, ConstraintError, ObjectiveError) as e:
        fail(str(e))
    if not network.layers:
        fail(f"{network.name}: no MAC layers to map")
    quiet = as_json or as_csv
    stopped = None
    try:
        result = _run(map_network, network, a, chosen and chosen.lower(), user, objective, mode, seed, jobs, quiet,
                      layer_timeout)
    except ConstraintError as e:
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
        err_console.print(f"[bold yellow]warning:[/] layer {u['name']}: no valid mapping on {a.name}: {u['reason']}",
                          highlight=False, soft_wrap=True)
    for row in data["layers"]:
        if row["search"]["timed_out"] and row["same_as"] is None:
            err_console.print(f"[bold yellow]warning:[/] layer {row['name']}: {row['search']['notes'][-1]}", highlight=False,
                              soft_wrap=True)
    if report is not None:
        from loopnest.report.html import write_evaluate_report

        try:
            written = write_evaluate_report(data, report)
        except OSError as e:
            fail(f"{report}: cannot write the report: {e.strerror}")
        err_console.print(f"report written to {written}", highlight=False)
    if as_json:
        print(json.dumps(data, indent=1))
    elif as_csv:
        _csv(data)
    else:
        _tables(data, a)
    if stopped is not None:
        _stopped(stopped)


def _stopped(e) -> None:
    """One line on how far the interrupted run got; exit 128 + the signal (130 SIGINT, 143 SIGTERM)."""
    import signal

    net = e.partial
    done = len(net.layers)
    fail(f"interrupted by {signal.Signals(e.signum).name}: {net.searches} of {net.shapes_total} layer shapes searched "
         f"({done} of {done + len(net.pending)} layers); "
         + ("the results printed are those layers only" if net.mapped else "no result to print"), 128 + e.signum)


def _run(map_network, network, a, dataflow, user, objective, mode, seed, jobs, quiet, layer_timeout):
    if quiet:
        return map_network(network, a, dataflow, user, objective, mode, seed, jobs, layer_timeout_s=layer_timeout)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("mapping {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(f"{network.name} on {a.name}", total=None)

        def tick(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{network.name} on {a.name} ({name})")

        return map_network(network, a, dataflow, user, objective, mode, seed, jobs, progress=tick,
                           layer_timeout_s=layer_timeout)


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


def _tables(data: dict, a) -> None:
    from rich.table import Table

    unit = data["energy_units"]
    short = "pJ" if unit == "pJ" else "E"
    parts = list(data["totals"]["energy_by_level_pj"])
    t = Table(title=f"{data['model']} (batch {data['batch']}) on {data['arch']}: dataflow {data['dataflow'] or 'any'}, "
                    f"{data['mode']} search for {data['objective']}; energies (E) in {unit}")
    for col in ["layer", "MACs", "cycles", "util", *[f"{p} {short}" for p in parts], f"{short}/MAC", "DRAM/MAC", "bound"]:
        t.add_column(col, justify="left" if col in ("layer", "bound") else "right")
    for r in data["layers"]:
        t.add_row(r["name"], f"{r['macs']:,}", f"{r['cycles']:,.0f}", f"{r['utilization']:.1%}",
                  *[f"{r['energy_by_level_pj'].get(p, 0):.3g}" for p in parts],
                  f"{r['energy_per_mac_pj']:.3f}", f"{r['dram_accesses_per_mac']:.4f}", r["bound"])
    tot = data["totals"]
    t.add_row("TOTAL", f"{tot['macs']:,}", f"{tot['cycles']:,.0f}", f"{tot['utilization']:.1%}",
              *[f"{tot['energy_by_level_pj'][p]:.3g}" for p in parts],
              f"{tot['energy_per_mac_pj']:.3f}", f"{tot['dram_accesses_per_mac']:.4f}", "", style="bold")
    from rich.console import Console

    (console if console.is_terminal else Console(width=220)).print(t)  # files and pipes: no truncated columns
    s = data["sheet"]
    sheet = Table(title="Benchmarking sheet (seed 000: 'Website to summarize DNN results')", show_header=True)
    sheet.add_column("metric")
    sheet.add_column("value", justify="right")
    power = f"{s['power_mW']:.1f} mW" if s["power_mW"] is not None else f"n/a (energies in {unit})"
    for k, v in [("Process technology", s["process_technology"]), ("# of PEs", f"{s['pes']}"),
                 ("On-chip memory", f"{s['on_chip_memory_kB']:.1f} kB"), ("Bits per operand", f"{s['bits_per_operand']}"),
                 ("Batch size", f"{s['batch_size']}"), ("# of non-zero MACs (dense: all MACs)", f"{s['non_zero_macs']:,}"),
                 ("Runtime", f"{s['runtime_ms']:.3f} ms at {s['clock_mhz']:g} MHz"), ("Power", power),
                 ("Energy / non-zero MAC", f"{s['energy_per_non_zero_mac']:.3f} {unit}/MAC"),
                 ("DRAM access / non-zero MAC", f"{s['dram_accesses_per_non_zero_mac']:.4f} operands/MAC")]:
        sheet.add_row(k, v)
    console.print(sheet)
    srch, timing = data["search"], data["timing"]
    modes = ", ".join(f"{n} {m}" + (" (not proven optimal)" if m == "heuristic" else "")
                      for m, n in srch["shapes_by_mode"].items())
    console.print(f"{srch['distinct_shapes']} distinct layer shapes searched in {timing['seconds']:.1f} s on {timing['jobs']} processes "
                  f"({modes}); loop orders in mappings are outer -> inner.", highlight=False)
