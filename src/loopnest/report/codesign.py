"""Charts of the co-design studies, built from their JSON exports only."""

from __future__ import annotations

from loopnest.report.plots import Chart, Series


def precision_charts(data: dict) -> list[Chart]:
    """Accuracy against energy and against cycles, one dot per bit width, the float32 reference
    and the Pareto front (least cost, most accuracy) as a staircase through its points."""
    pts, unit = data["points"], data["energy_units"]
    ref = data["reference"]
    title = f"{data['model']} on {data['arch']}, {data['settings']['method']} quantization"
    charts = []
    for key, axis, label in (("energy_pj", "energy", f"energy per inference ({unit})"),
                             ("cycles", "cycles", "latency per inference (cycles)")):
        front = sorted((p for p in pts if p[f"pareto_{axis}"]), key=lambda p: (p[key], p["accuracy"]))
        series = [Series("bit widths", [100 * p["accuracy"] for p in pts], x=[p[key] for p in pts], mode="markers",
                         labels=[f"{p['bits']} bits" for p in pts], color="#1f77b4"),
                  Series("Pareto front", [100 * p["accuracy"] for p in front], x=[p[key] for p in front], mode="step",
                         labels=[f"{p['bits']} bits" for p in front], color="#d62728")]
        if ref[key] is not None:
            series.append(Series("float32 reference", [100 * ref["accuracy"]], x=[ref[key]], mode="markers",
                                 labels=["float32"], color="black", hollow=True))
        charts.append(Chart(f"precision-{axis}", f"Accuracy vs {axis}: {title}", series, x_label=label,
                            y_label="top-1 accuracy on the test split (%)", hover_unit="%", notes=list(data["notes"])))
    return charts


def accuracy_vs_bits_chart(curves: dict[str, dict[int, float]], title: str) -> Chart:
    """Accuracy (fraction per bit width) of several networks, one line each."""
    series = [Series(name, [100 * a for a in c.values()], x=list(c), mode="line") for name, c in curves.items()]
    return Chart("accuracy-vs-bits", title, series, x_label="bit width of weights and activations (bits)",
                 y_label="top-1 accuracy on the test split (%)", hover_unit="%")


def pim_charts(data: dict) -> list[Chart]:
    """The PIM study: accuracy against noise and against weight bits (one line per network; the
    spread over seeds on hover), utilization and energy per MAC against array size, and the
    energy per MAC by component at the architecture's own array (stacked bars)."""
    s, acc, hw = data["settings"], data["accuracy"], data["hardware"]
    charts = []
    if acc:
        charts.append(Chart("pim-noise", f"Accuracy vs {s['noise']} noise on every layer's outputs ({data['arch']})",
                            [Series(n, [100 * p["mean"] for p in a["noise"]], x=[p["sigma"] for p in a["noise"]], mode="line",
                                    labels=[f"± {100 * p['std']:.1f} points over {len(p['values'])} seeds" for p in a["noise"]])
                             for n, a in acc.items()],
                            x_label=f"noise standard deviation ({'x max |output|' if s['noise'] == 'rescaled' else 'activation units'})",
                            y_label="top-1 accuracy on the test split (%)", hover_unit="%"))
        charts.append(Chart("pim-weight-bits", "Accuracy vs weight bits (no retraining)",
                            [Series(n, [100 * p["mean"] for p in a["weight_bits"]], x=[p["bits"] for p in a["weight_bits"]], mode="line")
                             for n, a in acc.items()],
                            x_label="weight bit width (bits)", y_label="top-1 accuracy on the test split (%)", hover_unit="%"))
        charts.append(Chart("pim-adc-bits", f"Accuracy vs ADC bits ({s['adc_rows']}-row arrays' partial sums)",
                            [Series(n, [100 * p["mean"] for p in a["adc_bits"]], x=[p["bits"] for p in a["adc_bits"]], mode="line")
                             for n, a in acc.items()],
                            x_label="ADC resolution (bits)", y_label="top-1 accuracy on the test split (%)", hover_unit="%"))
    for key, cid, label, adc in (("utilization", "pim-utilization", "crossbar utilization (fraction)", None),
                                 ("pj_per_mac", "pim-energy-per-mac", "energy per MAC (pJ)", "the preset's ADC"),
                                 ("pj_per_mac", "pim-energy-per-mac-sized-adc", "energy per MAC (pJ)", "ADCs sized to the sums")):
        get = (lambda p: p["sized_adc"]) if adc == "ADCs sized to the sums" else (lambda p: p)
        charts.append(Chart(cid, f"{label} vs array size, same total cells ({data['arch']}{', ' + adc if adc else ''})",
                            [Series(n, [get(p)[key] for p in pts], x=[p["side"] for p in pts], mode="line", dash=not n.startswith("digits"))
                             for n, pts in hw["sweep"].items() if all(get(p)[key] is not None for p in pts)],
                            x_label="array side (rows = columns, cells)", y_label=label, log_x=True, log_y=key == "pj_per_mac"))
    own = {n: v for n, v in hw["own_array"].items() if v is not None and v["macs"]}
    if own:
        comps = list(next(iter(own.values()))["energy_pj"])
        charts.append(Chart("pim-breakdown", f"Energy per MAC by component on {data['arch']}",
                            [Series(c, [v["energy_pj"][c] / v["macs"] for v in own.values()]) for c in comps],
                            y_label="energy per MAC (pJ)", categories=list(own), hover_unit=" pJ"))
    side = {n: v for n, v in (hw.get("digital") or {}).items() if v["pim"] is not None}
    if side:
        dig = next(iter(side.values()))["digital"]["arch"]
        charts.append(Chart("pim-vs-digital", f"Energy per MAC on chip: {data['arch']} beside the digital {dig} (same area)",
                            [Series(data["arch"], [v["pim"]["pj_per_mac"] for v in side.values()]),
                             Series(dig, [v["digital"]["on_chip_pj_per_mac"] for v in side.values()])],
                            y_label="energy per MAC, no DRAM (pJ)", categories=list(side), stacked=False, hover_unit=" pJ", log_y=True))
    return charts


def pim_sections(data: dict) -> list:
    """The PIM study's HTML report (``codesign pim-study --report``): the claims first, then the
    charts of :func:`pim_charts` with the tables of the same numbers."""
    from loopnest.report.html import Section, Table

    s, acc, hw = data["settings"], data["accuracy"], data["hardware"]
    charts = {c.id: c for c in pim_charts(data)}
    claims = Section("Yang and Sze's claims (IEDM 2019) on these numbers",
                     [f"Architecture {data['arch']}: {data['array']['arrays']} arrays of {data['array']['rows']}x{data['array']['columns']} "
                      f"cells; the numbers behind each verdict are in the embedded JSON ('claims')."],
                     [Table("Claims", ["claim", "statement", "verdict"], [[k, c["claim"], c["verdict"]] for k, c in data["claims"].items()])])
    out = [claims]
    if acc:
        out.append(Section("Accuracy under noise, weight bits and ADC bits", [
            f"{s['noise']} Gaussian noise on every layer's outputs, mean over seeds {s['seeds']}; no retraining."],
            [Table(f"Test accuracy (%) at each noise sigma ({s['noise']})", ["network", *(f"sigma {x:g}" for x in s["sigmas"])],
                   [[n, *(100 * p["mean"] for p in a["noise"])] for n, a in acc.items()]),
             Table("Test accuracy (%) at each weight bit width", ["network", *(f"{b} bits" for b in s["weight_bits"])],
                   [[n, *(100 * p["mean"] for p in a["weight_bits"])] for n, a in acc.items()])],
            [charts[i] for i in ("pim-noise", "pim-weight-bits", "pim-adc-bits")]))
    sides = [f"{n}x{n}" for n in s["array_sizes"]]
    out.append(Section("Utilization and energy per MAC against array size", [
        f"Same total cells ({hw['total_cells']:,}) at every size; utilization = useful weight cells / cells of the arrays used."],
        [Table("Crossbar utilization (fraction)", ["network", *sides], [[n, *(p["utilization"] for p in pts)] for n, pts in hw["sweep"].items()]),
         Table("Energy per MAC (pJ), the preset's ADC", ["network", *sides], [[n, *(p["pj_per_mac"] for p in pts)] for n, pts in hw["sweep"].items()]),
         Table("Energy per MAC (pJ), ADCs sized to the column sums", ["network", *sides],
               [[n, *(p["sized_adc"]["pj_per_mac"] for p in pts)] for n, pts in hw["sweep"].items()])],
        [charts[i] for i in ("pim-utilization", "pim-energy-per-mac", "pim-energy-per-mac-sized-adc")]))
    own = {n: v for n, v in hw["own_array"].items() if v is not None and v["macs"]}
    if own:
        comps = list(next(iter(own.values()))["energy_pj"])
        out.append(Section(f"Energy by component on {data['arch']}", [], [
            Table("Share of the energy (%) by component", ["network", "pJ/MAC", "utilization", *comps, "movement"],
                  [[n, v["pj_per_mac"], v["utilization"], *(100 * v["energy_pj"][c] / v["total_pj"] for c in comps), 100 * v["movement_share"]]
                   for n, v in own.items()])], [charts["pim-breakdown"]]))
    if "pim-vs-digital" in charts:
        side = {n: v for n, v in hw["digital"].items() if v["pim"] is not None}
        out.append(Section("The same networks on a digital array of the same area", [
            "The crossbar model costs no DRAM (weights stay in the cells), so the ratio is taken on chip; utilization is the "
            "cells of the arrays used for the crossbars and the active PEs for the digital array."], [
            Table("PIM beside digital", ["network", "PIM pJ/MAC", "PIM utilization", "digital pJ/MAC on chip", "digital pJ/MAC with DRAM",
                                         "digital utilization", "digital / PIM"],
                  [[n, v["pim"]["pj_per_mac"], v["pim"]["utilization"], v["digital"]["on_chip_pj_per_mac"], v["digital"]["pj_per_mac"],
                    v["digital"]["utilization"], v["digital_over_pim_on_chip"]] for n, v in side.items()])], [charts["pim-vs-digital"]]))
    return out


def netadapt_charts(data: dict) -> list[Chart]:
    """NetAdapt's trace: test accuracy against the budget's resource (cycles or energy), one dot
    per iteration joined in order from the start, the long-term fine-tuned final network, and the
    uniform width-multiplier baseline where the study has one."""
    key, unit = ("cycles", "cycles") if data["budget"]["metric"] == "latency" else ("energy_pj", data["energy_units"])
    steps = [data["start"], *data["trace"]]
    labels = ["start", *(f"{it['iteration']}: {it['layer']} -> {it['filters']}" for it in data["trace"])]
    series = [Series("NetAdapt iterations (short-term fine-tuned)", [100 * p["accuracy_test"] for p in steps],
                     x=[p[key] for p in steps], mode="line", labels=labels, color="#1f77b4")]
    if data["trace"]:
        f = data["final"]
        series.append(Series("NetAdapt, long-term fine-tuned", [100 * f["accuracy_test"]], x=[f[key]], mode="markers",
                             labels=["final"], color="#d62728"))
    u = data.get("uniform_baseline")
    if u:
        series.append(Series(f"uniform width x{u['width_multiplier']:.4g}", [100 * u["accuracy_test"]], x=[u[key]],
                             mode="markers", labels=[" ".join(map(str, u["filters"].values()))], color="black", hollow=True))
    b = data["budget"]
    return [Chart("netadapt-trace", f"NetAdapt of {data['model']} on {data['arch']} to {b['text']}", series,
                  x_label=f"{'latency' if key == 'cycles' else 'energy'} per inference ({unit}); budget {b['limit']:.6g}",
                  y_label="top-1 accuracy on the test split (%)", hover_unit="%", notes=list(data["notes"]))]
