"""The crossbar route of `loopnest evaluate` and `loopnest model`: on an architecture with a
``compute.pim`` block, layers are mapped by the crossbar mapper (``search.crossbar``), and the
output carries the energy by component (DAC, ADC, cells, digital accumulation, buffers)."""

from __future__ import annotations

from pathlib import Path

from loopnest.cli.common import console, fail, print_json, warn, warn_wider, write_layer_files
from loopnest.cli.tables import Column, print_table
from loopnest.report.units import eng

MAPPERS = ("auto", "loopnest", "crossbar")
MAPPER_HELP = ("auto (the crossbar mapper on an architecture with a compute.pim block, the loop-nest mapper otherwise) "
               "| loopnest (loop nests; on a PIM architecture the per-MAC energy folds the converters in at full "
               "utilization) | crossbar (docs/codesign.md, 'Crossbar mapping').")
OBJECTIVES = ("energy", "cycles", "edp")


def route(mapper: str, arch) -> str:
    """Which mapper runs: "crossbar" or "loopnest" (``--mapper``); one line on a bad choice."""
    if mapper not in MAPPERS:
        fail(f"--mapper: {mapper!r} is not one of {', '.join(MAPPERS)}")
    if mapper == "crossbar" and arch.compute.pim is None:
        fail(f"--mapper crossbar: architecture {arch.name!r} has no compute.pim block (an analog crossbar); "
             "use --mapper loopnest or a PIM preset such as pim-crossbar")
    return "crossbar" if mapper == "crossbar" or (mapper == "auto" and arch.compute.pim is not None) else "loopnest"


def refuse_loop_nest_options(arch_name: str, given: dict[str, bool]) -> None:
    """One line for the first loop-nest option given on the crossbar route (``given``: option -> set)."""
    for option, is_set in given.items():
        if is_set:
            fail(f"{option}: a loop-nest mapper option; {arch_name} is a PIM architecture, mapped by the crossbar "
                 "mapper (rows, columns and arrays); add --mapper loopnest to map it as a loop nest")


def evaluate_crossbar(network, arch, objective: str, as_json: bool, mappings: str | None) -> None:
    """`loopnest evaluate` on the crossbar route: map, then print the tables or the JSON."""
    from loopnest.model.crossbar import CrossbarError
    from loopnest.search.crossbar import map_network_crossbar
    from loopnest.search.summary import SCHEMA_VERSION

    if objective not in OBJECTIVES:
        fail(f"--objective: the crossbar mapper takes {', '.join(OBJECTIVES)}, got {objective!r}")
    try:
        data = map_network_crossbar(network, arch, objective)
    except CrossbarError as e:
        fail(str(e))
    if not data["layers"]:
        fail(f"no layer of {network.name} can be mapped on {arch.name}'s crossbars: no layer holds trained weights")
    data = {"schema_version": SCHEMA_VERSION, "batch": network.batch, **data}
    for name in data["skipped_layers"]:
        warn(f"layer {name}: no trained weights (both operands are activations); a crossbar holds static weights only: left out")
    if mappings is not None:
        _save_choices(data, Path(mappings))
    warn_wider(network, arch)
    if as_json:
        print_json(data)
    else:
        _tables(data)


def _save_choices(data: dict, folder: Path) -> None:
    """Each layer's crossbar choice as ``<folder>/<layer>.yaml``, readable by ``loopnest model --mapping``."""
    import yaml

    from loopnest.mapping.crossbar import FIELDS, CrossbarChoice

    write_layer_files(folder, [(r["layer"], (
        f"# {data['model']}:{r['layer']} on {data['arch']}: best crossbar mapping for {data['objective']}; "
        f"{r['pj_per_mac']:.4g} pJ/MAC, {r['cycles']:,} cycles, {r['tiles']} tile(s).\n")
        + yaml.safe_dump(CrossbarChoice(**{k: r["choice"][k] for k in FIELDS}).to_dict(), sort_keys=False))
        for r in data["layers"]], "crossbar files")


def _component_cells(energy: dict, total: float) -> list[str]:
    return [f"{eng(v, 'pJ')} ({100 * v / total:.0f}%)" if total else eng(v, "pJ") for v in energy.values()]


def _tables(data: dict) -> None:
    arr, t = data["array"], data["totals"]
    comps = list(t["energy_pj"])
    cols = [Column("layer", "left"), Column("MACs"), Column("tiles"), Column("arrays used"), Column("rows/array"),
            Column("groups/array"), Column("copies"), Column("util"), Column("cycles"), Column("energy"), Column("pJ/MAC"),
            *(Column(c) for c in comps)]
    rows = [[r["layer"], f"{r['macs']:,}", f"{r['tiles']:,}", f"{r['arrays_used']:,}", f"{r['choice']['rows_per_array']}",
             f"{r['choice']['groups_per_array']}", f"{r['choice']['replication']}", f"{r['utilization']:.3f}",
             f"{r['cycles']:,}", eng(r["total_pj"], "pJ"), f"{r['pj_per_mac']:.3f}", *_component_cells(r["energy_pj"], r["total_pj"])]
            for r in data["layers"]]
    total = ["TOTAL", f"{t['macs']:,}", "", "", "", "", "", f"{t['utilization']:.3f}", f"{t['cycles']:,}", eng(t["total_pj"], "pJ"),
             f"{t['pj_per_mac']:.3f}", *_component_cells(t["energy_pj"], t["total_pj"])]
    print_table(console, f"{data['model']} on {data['arch']}: crossbar mapper for {data['objective']} "
                f"({arr['arrays']} arrays of {arr['rows']}x{arr['columns']} cells, {arr['bits_per_cell']}-bit cells, "
                f"{arr['dac_bits']}-bit DACs, {arr['adc_bits']}-bit ADCs); energies in joules with SI prefixes, "
                "each component with its share of the row's energy; util = useful weight cells / cells of the arrays used",
                cols, rows, total)
    console.print(f"activation movement (DAC, ADC, digital, buffers): {100 * t['movement_share']:.1f}% of the energy; "
                  "weights stay in the cells (programming not costed), DRAM not costed; "
                  "--mapper loopnest maps the layers as loop nests instead.", highlight=False)


def model_crossbar(problem, arch, choice, source: str, as_json: bool) -> None:
    """`loopnest model` with a crossbar mapping file: that choice's counts and energy by component."""
    from loopnest.model.crossbar import CrossbarError, map_crossbar
    from loopnest.search.summary import SCHEMA_VERSION

    try:
        m = map_crossbar(problem, arch, choice=choice)
    except CrossbarError as e:
        fail(f"{source}: {e} (layer {problem.name} on {arch.name})")
    d = m.to_dict()
    if as_json:
        print_json({"schema_version": SCHEMA_VERSION, "arch": arch.name, "mapper": "crossbar", **d})
        return
    mat, ch = d["matrix"], d["choice"]
    console.print(f"{problem.name} on {arch.name} as crossbar matrices: {mat['G_blocks']} block(s) of {mat['K_rows']} rows x "
                  f"{mat['M_columns']} weights, {mat['V_vectors']:,} input vectors; {d['array']['cells_per_weight']} cells "
                  f"per {mat['weight_bits']}-bit weight, {d['passes_per_vector']} passes per {mat['input_bits']}-bit input", highlight=False)
    console.print(f"choice: {ch['rows_per_array']} rows per array, {ch['groups_per_array']} group(s) per array, "
                  f"{ch['replication']} cop{'y' if ch['replication'] == 1 else 'ies'}: {d['row_tiles']} row x "
                  f"{d['column_tiles']} column tiles = {d['tiles']} tile(s) on {d['arrays_used']} of {d['array']['arrays']} arrays, "
                  f"{d['rounds']} round(s)", highlight=False)
    print_table(console, "Counts and energy by component (pJ)", [Column("component", "left"), Column("count"), Column("energy"), Column("share")],
                [[c, f"{n:,}", eng(d["energy_pj"][c], "pJ"), f"{100 * d['energy_pj'][c] / d['total_pj']:.1f}%"]
                 for c, n in zip(d["energy_pj"], (d["counts"]["dac_conversions"], d["counts"]["adc_conversions"],
                                                   d["counts"]["cell_reads"], d["counts"]["digital_adds"],
                                                   d["counts"]["input_words_in"] + d["counts"]["output_words_out"]))],
                ["total", "", eng(d["total_pj"], "pJ"), "100%"])
    console.print(f"{d['macs']:,} MACs, {d['pj_per_mac']:.4g} pJ/MAC, {d['cycles']:,} cycles, utilization {d['utilization']:.3f} "
                  f"(rows {d['row_utilization']:.3f}, columns {d['column_utilization']:.3f}); ADC needs {d['adc_bits_needed']} bits, "
                  f"{d['adc_lost_bits']} lost (counts: buffers = input words in + output words out)", highlight=False)
