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
