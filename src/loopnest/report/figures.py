"""Charts and tables of the analyses, built from their JSON exports only (so the HTML report,
the static PNG/SVG and ``--json`` always show the same numbers)."""

from __future__ import annotations

from loopnest.report.html import Section, Table
from loopnest.report.plots import DASHES, Chart, Series
from loopnest.report.units import energy_scale
from loopnest.sources import SHEET

LEVELS = ("DRAM", "buffer", "array", "RF", "ALU")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")  # levels, in their order
TYPES = ("inputs", "weights", "outputs", "computation")
# one colour per data type on every chart (bars and pies, HTML and static), apart from the levels' colours
TYPE_COLORS = {"inputs": "#17becf", "weights": "#bcbd22", "outputs": "#e377c2", "computation": "#7f7f7f"}


def level_colors(names) -> dict[str, str]:
    """One colour per level (or level category), by its order outer -> inner: the same level has
    the same colour on every chart of a page."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(dict.fromkeys(names))}
SEED_PIE = {"outputs": 43.0, "inputs": 25.0, "weights": 22.0, "computation": 10.0}  # seed 001, slide 29 (Yang, CVPR 2017)
SEED_PIE_TEXT = ("GoogLeNet in Yang et al., CVPR 2017, as quoted by Sze, 'How to Evaluate Efficient DNN Approaches' (2020): "
                 "outputs 43%, inputs 25%, weights 22%, computation 10%")


def published_pie(model: str) -> str:
    """The published GoogLeNet energy split, for GoogLeNet only: like is compared with like."""
    return f" (published: {SEED_PIE_TEXT})" if model.lower() == "googlenet" else ""


# ----- dataflow comparison --------------------------------------------------------------------

def dataflow_charts(data: dict) -> list[Chart]:
    """Grouped stacked bars: energy/MAC per dataflow within CONV and FC, by level and by data type;
    and DRAM accesses per MAC."""
    names = list(data["dataflows"])
    kinds = [k for k in ("conv", "fc") if any(data["dataflows"][n].get(k) for n in names)]
    cats = [(k.upper(), n) for k in kinds for n in names]
    unit = data.get("energy_units", "")

    def values(key: str, part: str) -> list[float]:
        return [(data["dataflows"][n].get(k) or {}).get(key, {}).get(part, 0.0) for k in kinds for n in names]

    title = f"{data['model']}, {data['pes']} PEs, batch {data['batch']}"
    by_level = Chart("dataflow-energy-by-level", f"Energy per MAC by level: {title}",
                     [Series(lv, values("energy_by_level_per_mac", lv), color=level_colors(LEVELS)[lv]) for lv in LEVELS],
                     y_label=f"energy per MAC ({unit})", categories=cats, hover_unit=unit)
    by_type = Chart("dataflow-energy-by-type", f"Energy per MAC by data type: {title}",
                    [Series(t, values("energy_by_type_per_mac", t), color=TYPE_COLORS[t]) for t in TYPES],
                    y_label=f"energy per MAC ({unit})", categories=cats, hover_unit=unit)
    dram = Chart("dataflow-dram-accesses", f"DRAM accesses per MAC: {title}",
                 [Series("DRAM accesses", [(data["dataflows"][n].get(k) or {}).get("dram_accesses_per_mac", 0.0)
                                           for k in kinds for n in names])],
                 y_label="DRAM accesses per MAC (words/MAC)", categories=cats, hover_unit="words/MAC")
    return [by_level, by_type, dram]


def dataflow_table(data: dict) -> Table:
    rows = []
    for n, d in data["dataflows"].items():
        for k in ("conv", "fc"):
            s = d.get(k)
            if s:
                rows.append([n, k.upper(), s["energy_per_mac"], data["ratios"][k].get(n),
                             *(s["energy_by_level_per_mac"][lv] for lv in LEVELS), s["dram_accesses_per_mac"]])
    unit = data.get("energy_units", "")
    return Table(f"Energy per MAC ({unit}) and DRAM accesses per MAC (words); ratio = energy / RS energy",
                 ["dataflow", "layers", "energy/MAC", "ratio to RS", *LEVELS, "DRAM acc./MAC"], rows)


def claim_lines(data: dict) -> list[str]:
    """The seed's claim next to our ratios (energy of each dataflow / energy of RS)."""
    out = [f"Published claim ({data['claim']['source']}): CONV: {data['claim']['conv']}; FC: {data['claim']['fc']}."]
    for kind in ("conv", "fc"):
        r = {n: v for n, v in data["ratios"].get(kind, {}).items() if n != "RS"}
        if r:
            lo, hi = min(r, key=r.get), max(r, key=r.get)
            out.append(f"Ours, {kind.upper()}: other dataflows use {r[lo]:.2f}x ({lo}) to {r[hi]:.2f}x ({hi}) the energy of RS: "
                       + ", ".join(f"{n} {v:.2f}x" for n, v in r.items()) + ".")
    return out


def compare_sections(data: dict) -> list[Section]:
    layer_rows = [[n, l["layer"], l["kind"].upper(), l["energy_per_mac"], l["dram_accesses_per_mac"], l["utilization"]]
                  for n, d in data["dataflows"].items() for l in d["layers"]]
    unmapped = [f"{n}: {u['layer']}: {u['reason']}" for n, d in data["dataflows"].items() for u in d["unmapped"]]
    return [
        Section("Dataflow comparison at equal area", claim_lines(data) + unmapped, [dataflow_table(data)], dataflow_charts(data)),
        Section("Per layer", [f"Best mapping per layer for the {data['objective']} objective ({data['mode']} search)."],
                [Table(f"Per layer energy per MAC ({data.get('energy_units', '')})",
                       ["dataflow", "layer", "type", "energy/MAC", "DRAM acc./MAC", "PE utilization"], layer_rows,
                       sortable=True)]),
    ]


# ----- energy breakdown -----------------------------------------------------------------------

def breakdown_charts(data: dict, prefix: str = "breakdown", colors: dict[str, str] | None = None) -> list[Chart]:
    """Per-layer stacked bars by level and by data type, and the network's data-type pie next to
    the seed's GoogLeNet pie. ``data``: ``{"model", "energy_units", "layers": [{"layer",
    "by_level", "by_type"}], "total_by_type"}``. ``colors``: the page's colour per level.
    Energies are drawn in one engineering unit per chart (mJ, µJ, ...), named on the axis."""
    layers = [r["layer"] for r in data["layers"]]
    level_keys = list(dict.fromkeys(k for r in data["layers"] for k in r["by_level"]))
    colors = colors or level_colors(level_keys)
    div, unit = energy_scale(max([sum(r["by_level"].values()) for r in data["layers"]] + [0.0]), data.get("energy_units", ""))
    charts = [
        Chart(f"{prefix}-by-level", f"{data['model']}: energy per layer by level",
              [Series(k, [r["by_level"].get(k, 0.0) / div for r in data["layers"]], color=colors.get(k)) for k in level_keys],
              y_label=f"energy ({unit})", categories=layers, hover_unit=unit),
        Chart(f"{prefix}-by-type", f"{data['model']}: energy per layer by data type",
              [Series(t, [r["by_type"][t] / div for r in data["layers"]], color=TYPE_COLORS[t]) for t in TYPES],
              y_label=f"energy ({unit})", categories=layers, hover_unit=unit),
    ]
    total = data["total_by_type"]
    s = sum(total.values()) or 1.0
    pies = [Series(f"{data['model']} (ours)", [100.0 * total[t] / s for t in SEED_PIE], mode="pie")]
    if data["model"].lower() == "googlenet":
        pies.append(Series("GoogLeNet (Yang et al., CVPR 2017)", list(SEED_PIE.values()), mode="pie"))
    charts.append(Chart(f"{prefix}-pie", "Energy by data type (% of the network's energy)", pies,
                        categories=list(SEED_PIE), hover_unit="%", colors=[TYPE_COLORS[t] for t in SEED_PIE]))
    return charts


# ----- Eyexam ---------------------------------------------------------------------------------

def eyexam_chart(data: dict) -> Chart:
    cats = [f"{s['step']}. {s['name']}" for s in data["steps"]]
    return Chart("eyexam-steps", f"Eyexam: {data['layer']} on {data['arch']} (peak {data['peak_macs_per_cycle']:g} MACs/cycle)",
                 [Series("bound", [s["bound_macs_per_cycle"] for s in data["steps"]], mode="step")],
                 y_label="performance bound (MACs/cycle, log)", categories=cats, log_y=True, hover_unit="MACs/cycle",
                 notes=[f"Burst model: {data['burst_model']}."])


def eyexam_sections(data: dict) -> list[Section]:
    text = [(f"Constraints: {data['constraints']}; chosen mapping: best for {data['objective']} ({data['mode']} search). "
             f"Achieved {data['achieved_macs_per_cycle']:.4g} of a peak {data['peak_macs_per_cycle']:g} MACs/cycle."),
            f"Burst model: {data['burst_model']} (no-overlap value: {data['no_overlap_macs_per_cycle']:.4g} MACs/cycle)."]
    return [Section("Eyexam performance bounds (Chen et al., arXiv:1807.07928)", text, [eyexam_table(data)], [eyexam_chart(data)])]


def eyexam_table(data: dict) -> Table:
    return Table(f"Eyexam bounds of {data['layer']} on {data['arch']} ({data['units']})",
                 ["step", "constraint added", "bound (MACs/cycle)", "why"],
                 [[s["step"], s["name"], s["bound_macs_per_cycle"], s["explanation"]] for s in data["steps"]])


# ----- roofline -------------------------------------------------------------------------------

def roofline_chart(data: dict, colors: dict[str, str] | None = None) -> Chart:
    """Log-log roofline: one roof per level port (read or write bandwidth x intensity, capped by
    the compute roof), the compute roof, and each layer's achieved point at its intensity there.
    Each roof has its own dash pattern, and a roof equal to another says so in its name: two ports
    with the same bandwidth draw one line, and neither hides the other."""
    peak = data["compute_roof_macs_per_cycle"]
    pts = data["layers"]
    xs = [v for p in pts for v in p["intensity_macs_per_word"].values() if v is not None]
    xs += [v for p in pts for v in p.get("compulsory_intensity_macs_per_word", {}).values() if v is not None]
    lo, hi = min(xs + [1.0]) / 2, max(xs + [1.0]) * 2
    series = [Series("compute roof", [peak, peak], x=[lo, hi], mode="line", color="black")]
    colors = colors or level_colors(r["level"] for r in data["roofs"])
    for i, r in enumerate(data["roofs"]):
        color = colors[r["level"]]
        bw, ridge = r["bandwidth_words_per_cycle"], r["ridge_macs_per_word"]
        x = [lo, max(min(ridge, hi), lo), hi]
        same = [o["name"] for o in data["roofs"] if o is not r and o["bandwidth_words_per_cycle"] == bw]
        name = f"{r['name']} roof ({bw:g} words/cycle{'; = ' + ', '.join(same) if same else ''})"
        series.append(Series(name, [min(bw * v, peak) for v in x], x=x, mode="line", dash=DASHES[i % len(DASHES)],
                             color=color))
        moved = [p for p in pts if p["intensity_macs_per_word"][r["name"]] is not None]
        series.append(Series(f"layers @ {r['name']} (actual traffic)", [p["achieved_macs_per_cycle"] for p in moved],
                             x=[p["intensity_macs_per_word"][r["name"]] for p in moved], mode="markers",
                             labels=[p["layer"] for p in moved], color=color))
        least = [p for p in pts if p.get("compulsory_intensity_macs_per_word", {}).get(r["name"]) is not None]
        if least:
            series.append(Series(f"layers @ {r['name']}: attainable at minimum traffic",
                                 [min(peak, bw * p["compulsory_intensity_macs_per_word"][r["name"]]) for p in least],
                                 x=[p["compulsory_intensity_macs_per_word"][r["name"]] for p in least], mode="markers",
                                 labels=[p["layer"] for p in least], color=color, hollow=True))
    return Chart("roofline", f"Roofline of {data['arch']} ({data['clock_mhz']:g} MHz)", series,
                 x_label="operational intensity (MACs per word through the port)",
                 y_label="performance (MACs/cycle; 1 MAC = 2 ops)", log_x=True, log_y=True, hover_unit="", height=640,
                 notes=[("One roof per port (a level's read or write bandwidth, all instances): a roof uses the bandwidth its traffic "
                         "uses; dots use the mapper's "
                         "actual traffic; the hollow 'minimum traffic' dots move every tensor once (compulsory traffic).")])


def breakdown_table(data: dict) -> Table:
    cats = ("DRAM", "buffer", "array", "RF", "ALU")
    rows = [[l["layer"], l["energy"], l["energy"] / l["macs"], *(l["by_category"][c] for c in cats), *(l["by_type"][t] for t in TYPES)]
            for l in data["layers"]]
    unit = data.get("energy_units", "")
    return Table(f"Energy per layer ({unit}) by level category and by data type",
                 ["layer", "energy", "per MAC", *cats, *TYPES], rows, sortable=True)


def roofline_charts(data: dict) -> list[Chart]:
    """The roofline and the energy breakdown of one ``loopnest roofline`` run, one colour per level."""
    rf, bd = data["roofline"], data["breakdown"]
    colors = level_colors([r["level"] for r in rf["roofs"]] + [k for l in bd["layers"] for k in l["by_level"]])
    return [roofline_chart(rf, colors), *breakdown_charts(bd, colors=colors)]


def roofline_sections(data: dict) -> list[Section]:
    rf, bd = data["roofline"], data["breakdown"]
    charts = roofline_charts(data)
    shares = ", ".join(f"{k} {v:.1f}%" for k, v in bd["type_shares_percent"].items())
    unmapped = [f"{u['layer']} not mapped: {u['reason']}" for u in data.get("unmapped", [])]
    return [  # headline and charts first, the per-layer tables last
        Section("Roofline (Williams, Waterman, Patterson 2009)",
                [(f"Best mapping per layer for {data['objective']} ({data['mode']} search). "
                  f"Units: {rf['units']['performance']}; intensity in {rf['units']['intensity']} at each level."), *unmapped],
                [], charts[:1]),
        Section("Energy breakdown", [f"{bd['model']} on {bd['arch']}: by data type {shares}{published_pie(bd['model'])}."],
                [], charts[1:]),
        Section("Per layer: numbers", ["Click a column's header to sort by it."],
                [roofline_table(rf), breakdown_table(bd)]),
    ]


def roofline_table(data: dict) -> Table:
    levels = [r["name"] for r in data["roofs"]]
    rows = [[p["layer"], p["achieved_macs_per_cycle"], p["bound"], *(p["intensity_macs_per_word"][l] for l in levels)]
            for p in data["layers"]]
    return Table(f"Achieved performance and intensity per level ({data['units']['intensity']})",
                 ["layer", "MACs/cycle", "bound", *(f"{l} intensity" for l in levels)], rows, sortable=True)


# ----- loopnest evaluate ----------------------------------------------------------------------

def evaluate_sections(data: dict) -> list[Section]:
    """The report of ``loopnest evaluate --json`` output, headline first: totals and the
    benchmarking sheet, then the charts (utilization, energy by level and by data type), then the
    per-layer table."""
    from loopnest.analysis.breakdown import by_data_type, shares, total
    from loopnest.report.explain import mapping_lines

    unit = data["energy_units"]
    t, s = data["totals"], data["sheet"]
    summary = Table("Network totals (layers run one after another)",
                    ["MACs", "cycles", "PE utilization", f"energy ({unit})", f"energy/MAC ({unit})", "DRAM accesses/MAC (words)"],
                    [[t["macs"], t["cycles"], t["utilization"], t["energy_pj"], t["energy_per_mac_pj"], t["dram_accesses_per_mac"]]])
    sheet = Table(f"Benchmarking sheet ({SHEET})", ["metric", "value"], [
        ["Process technology", s["process_technology"]], ["Core area, modeled (mm²)", s["core_area_mm2"]], ["# of PEs", s["pes"]], ["On-chip memory (KiB)", s["on_chip_memory_KiB"]],
        ["Bits per operand", s["bits_per_operand"]], ["Batch size", s["batch_size"]], ["# of non-zero MACs (actual; dense: all)", s["non_zero_macs"]],
        ["Runtime (ms)", s["runtime_ms"]], ["Power (mW)", s["power_mW"] if s["power_mW"] is not None else f"n/a (energies in {unit})"],
        [f"Energy / non-zero MAC ({unit})", s["energy_per_non_zero_mac"]], ["DRAM access / non-zero MAC", s["dram_accesses_per_non_zero_mac"]]])
    rows = data["layers"]
    per_layer = Table("Per layer (mappings in the JSON export list loops outer -> inner; search: exact = the proven "
                      "best mapping in the mapspace, heuristic = the best found, not proven optimal)",
                      ["layer", "kind", "MACs", "cycles", "utilization", f"energy/MAC ({unit})", "DRAM acc./MAC",
                       "cycles set by", "search"],
                      [[r["name"], r["kind"], r["macs"], r["cycles"], r["utilization"], r["energy_per_mac_pj"],
                        r["dram_accesses_per_mac"], r["limit"], r["search"]["mode"]] for r in rows], sortable=True)
    nests = [(f"{r['name']}: loop nest, outer -> inner ({r['search']['mode']} search, {r['energy_per_mac_pj']:.4g} "
              f"{unit}/MAC)", mapping_lines(r["mapping"])) for r in rows]
    util = Chart("evaluate-utilization", f"{data['model']} on {data['arch']}: PE utilization per layer",
                 [Series("utilization", [100.0 * r["utilization"] for r in rows])],
                 y_label="PE utilization (%)", categories=[r["name"] for r in rows], hover_unit="%")
    bd = {"model": data["model"], "energy_units": unit,
          "layers": [{"layer": r["name"], "by_level": r["energy_by_level_pj"], "by_type": by_data_type(r)} for r in rows]}
    bd["total_by_type"] = total([l["by_type"] for l in bd["layers"]])
    pie = ", ".join(f"{k} {v:.1f}%" for k, v in shares(bd["total_by_type"]).items())
    unmapped = [f"{u['name']}: no valid mapping ({u['reason']})" for u in data.get("unmapped", [])]
    return [
        Section(f"{data['model']} (batch {data['batch']}) on {data['arch']}",
                [f"Dataflow {data['dataflow'] or 'any'}, {data['mode']} search for {data['objective']}."] + unmapped,
                [summary, sheet], []),
        Section("Per layer: utilization and energy", [f"Energy by data type: {pie}{published_pie(data['model'])}."], [],
                [util, *breakdown_charts(bd)]),
        Section("Per layer: numbers", ["Click a column's header to sort by it. Each layer's mapping below, as its loop "
                                       "nest (outer -> inner: the first line is the outermost loop)."],
                [per_layer], [], nests),
    ]


def evaluate_charts(data: dict) -> list[Chart]:
    """Every chart of the ``loopnest evaluate`` report (for ``--plot``)."""
    return [c for s in evaluate_sections(data) for c in s.charts]
