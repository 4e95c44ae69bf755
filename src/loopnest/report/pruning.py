"""HTML report sections and charts of ``codesign prune``, ``codesign prune-compare`` and
``codesign netadapt``, built from their JSON exports only (what ``--json`` prints is what the
report shows and embeds). Headline table first, charts next, per-layer and per-step tables last."""

from __future__ import annotations

from loopnest.report.codesign import netadapt_charts
from loopnest.report.figures import TYPE_COLORS, level_colors
from loopnest.report.html import Section, Table
from loopnest.report.plots import Chart, Series

METHOD_NAMES = {"magnitude": "magnitude (one global threshold)", "energy": "energy-aware (layers by energy)"}
METHOD_COLORS = {"magnitude": "#1f77b4", "energy": "#d62728"}


def _network_row(label: str, p: dict) -> list:
    return [label, 100 * p["accuracy_calibration"], 100 * p["accuracy_test"], sum(p["nonzero_weights"].values()), p["weights"],
            p["macs"], p["nonzero_weight_macs"], p["cycles"], p["energy_pj"]]


def prune_charts(data: dict) -> list[Chart]:
    """Energy per layer before and after (side by side), and the pruned network's energy per
    layer by data type and by level (stacked)."""
    unit, before = data["energy_units"], {r["name"]: r for r in data["start"]["layers"]}
    after = data["final"]["layers"]
    names = [r["name"] for r in after]
    title = f"{data['model']} on {data['arch']}, {data['method']} pruning"
    levels = list(after[0]["energy_by_level_pj"]) if after else []
    return [Chart("prune-layer-energy", f"Energy per layer before and after: {title}",
                  [Series("before", [before[n]["energy_pj"] for n in names], color="#7f7f7f"),
                   Series("after", [r["energy_pj"] for r in after], color="#d62728")],
                  y_label=f"energy per inference ({unit})", categories=names, stacked=False, hover_unit=f" {unit}"),
            Chart("prune-energy-by-type", f"Energy per layer after pruning, by data type: {title}",
                  [Series(t, [r["energy_by_tensor_pj"].get(t, 0.0) for r in after], color=TYPE_COLORS[t])
                   for t in ("inputs", "weights", "outputs")],
                  y_label=f"energy per inference ({unit}; storage and networks)", categories=names, hover_unit=f" {unit}"),
            Chart("prune-energy-by-level", f"Energy per layer after pruning, by level: {title}",
                  [Series(lv, [r["energy_by_level_pj"][lv] for r in after], color=level_colors(levels)[lv]) for lv in levels],
                  y_label=f"energy per inference ({unit})", categories=names, hover_unit=f" {unit}")]


def prune_sections(data: dict) -> list[Section]:
    """The report of one ``codesign prune`` run."""
    unit, s = data["energy_units"], data["settings"]
    key = "filters_kept_fraction" if data["method"] == "structured" else "sparsity"
    start, final = data["start"], data["final"]
    head = Table(f"before and after (energy in {unit}, accuracy in %)",
                 ["network", "cal. acc. %", "test acc. %", "non-zero weights", "weights", "MACs", "MACs, weight != 0",
                  "cycles", f"energy ({unit})"], [_network_row("unpruned", start), _network_row("pruned", final)])
    text = [f"{data['method']} pruning of {data['model']} on {data['arch']}, budget {s['accuracy_drop_points']:g} accuracy points "
            f"(calibration split), {s['short_epochs']} fine-tuning epoch(s) per candidate, seed {s['seed']}.",
            f"Energy {start['energy_pj']:.4g} -> {final['energy_pj']:.4g} {unit} "
            f"({start['energy_pj'] / final['energy_pj']:.3f}x lower); {s['densities']}.",
            f"{key.replace('_', ' ')} per layer: " + (", ".join(f"{n}={v:g}" for n, v in data[key].items()) or "none"),
            *(f"note: {n}" for n in data["notes"])]
    before = {r["name"]: r for r in start["layers"]}
    levels = list(final["layers"][0]["energy_by_level_pj"]) if final["layers"] else []
    layers = Table(f"per layer (energy in {unit}; after: by data type, storage and networks, and by level)",
                   ["layer", "weight density", f"before ({unit})", f"after ({unit})", "after / before", "weights", "inputs",
                    "outputs", *levels],
                   [[r["name"], r["weight_density"], before[r["name"]]["energy_pj"], r["energy_pj"],
                     r["energy_pj"] / before[r["name"]]["energy_pj"],
                     *(r["energy_by_tensor_pj"].get(t, 0.0) for t in ("weights", "inputs", "outputs")),
                     *(r["energy_by_level_pj"][lv] for lv in levels)] for r in final["layers"]], sortable=True)
    steps = Table("every candidate tried, in order (drop: calibration-split points below the unpruned network)",
                  ["pass", "layer", "level", "cal. acc. %", "drop (points)", "accepted"],
                  [[st.get("pass", ""), st["layer"], st["level"], 100 * st["accuracy_calibration"], st["drop_points"],
                    "yes" if st["accepted"] else "restored"] for st in data["steps"]], sortable=True)
    return [Section("Summary", text, [head]), Section("Energy per layer", [], [], prune_charts(data)),
            Section("Layers", [], [layers]), Section("Pruning steps", [], [steps])]


def prune_compare_charts(data: dict) -> list[Chart]:
    """Test accuracy against modeled energy, both methods on the same axes, one dot per budget
    (hover: the budget), the unpruned network as a hollow dot."""
    unit, u = data["energy_units"], data["unpruned"]
    series = [Series(METHOD_NAMES[m], [100 * p["accuracy_test"] for p in pts], x=[p["energy_pj"] for p in pts],
                     mode="markers", labels=[f"budget {p['budget_points']:g} points" for p in pts], color=METHOD_COLORS[m])
              for m, pts in data["points"].items()]
    series.append(Series("unpruned", [100 * u["accuracy_test"]], x=[u["energy_pj"]], mode="markers", labels=["unpruned"],
                         color="black", hollow=True))
    return [Chart("prune-compare", f"Pruning {data['model']} on {data['arch']}: accuracy against energy", series,
                  x_label=f"energy per inference ({unit}), at the measured weight densities",
                  y_label="top-1 accuracy on the test split (%)", hover_unit="%", notes=list(data["notes"]))]


def prune_compare_sections(data: dict) -> list[Section]:
    """The report of one ``codesign prune-compare`` run: the matched rows first."""
    unit, s = data["energy_units"], data["settings"]
    matched = Table(f"energy at equal accuracy ({unit}; ratio: magnitude energy / energy-aware energy, above 1: energy-aware lower)",
                    ["target drop (points)", "min test acc. %", "magnitude energy", "reduction", "test acc. %",
                     "energy-aware energy", "reduction", "test acc. %", "ratio"],
                    [[r["target_drop_points"], 100 * r["min_accuracy_test"], r["magnitude"]["energy_pj"],
                      r["magnitude"]["energy_reduction"], 100 * r["magnitude"]["accuracy_test"], r["energy"]["energy_pj"],
                      r["energy"]["energy_reduction"], 100 * r["energy"]["accuracy_test"], r["energy_ratio"]]
                     for r in data["matched"]])
    points = Table(f"every point (energy in {unit})",
                   ["method", "budget (points)", "cal. acc. %", "test acc. %", "non-zero weights", "MACs, weight != 0",
                    f"energy ({unit})", "candidates"],
                   [[m, p["budget_points"], 100 * p["accuracy_calibration"], 100 * p["accuracy_test"], p["nonzero_weights"],
                     p["nonzero_weight_macs"], p["energy_pj"], p["candidates"]] for m, pts in data["points"].items() for p in pts],
                   sortable=True)
    u = data["unpruned"]
    text = [f"{data['model']} on {data['arch']}: unpruned {100 * u['accuracy_test']:.2f} % test accuracy, {u['energy_pj']:.4g} {unit}.",
            f"Both methods swept over budgets {', '.join(f'{b:g}' for b in s['budgets_points'])} points, seed {s['seed']}, "
            f"{s['short_epochs']} fine-tuning epoch(s) per candidate. Matching: {s['matching']}.",
            *(f"note: {n}" for n in data["notes"])]
    return [Section("Energy at equal accuracy", text, [matched]), Section("Accuracy against energy", [], [], prune_compare_charts(data)),
            Section("Points", [], [points])]


def netadapt_sections(data: dict) -> list[Section]:
    """The report of one ``codesign netadapt`` run: start, final and baseline first, then the
    trace chart and every iteration."""
    unit, b = data["energy_units"], data["budget"]
    cols = ["network", "filters", "cal. acc. %", "test acc. %", "cycles", f"energy ({unit})"]

    def row(label: str, p: dict, filters: str) -> list:
        return [label, filters, 100 * p["accuracy_calibration"], 100 * p["accuracy_test"], p["cycles"], p["energy_pj"]]

    rows = [row("start", data["start"], " ".join(map(str, data["start"]["filters"].values())))]
    if data["trace"]:
        rows.append(row("final (long-term fine-tuned)", data["final"], " ".join(map(str, data["final"]["filters"].values()))))
    u = data.get("uniform_baseline")
    if u:
        rows.append(row(f"uniform width x{u['width_multiplier']:.4g}", u, " ".join(map(str, u["filters"].values()))))
    lut = data["lookup_table"]
    text = [f"NetAdapt of {data['model']} on {data['arch']} to {b['text']} (limit {b['limit']:.6g} {b['units']}): {data['status']}.",
            f"Lookup table: {lut['entries']} layer mappings ({lut['searched']} searched now, {lut['reused']} reused) for "
            f"{lut['lookups']} lookups.", *(f"note: {n}" for n in data["notes"])]
    trace = Table("every iteration (short-term fine-tuned; accuracy: calibration split selects, test split reports)",
                  ["iteration", "layer changed", "filters", "cal. acc. %", "test acc. %", "cycles", f"energy ({unit})"],
                  [[it["iteration"], it["layer"], it["filters"], 100 * it["accuracy_calibration"], 100 * it["accuracy_test"],
                    it["cycles"], it["energy_pj"]] for it in data["trace"]], sortable=True)
    return [Section("Summary", text, [Table(f"networks (energy in {unit})", cols, rows)]),
            Section("Trace", [], [], netadapt_charts(data)), Section("Iterations", [], [trace])]
