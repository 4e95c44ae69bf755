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
