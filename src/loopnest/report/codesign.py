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
    return charts


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
