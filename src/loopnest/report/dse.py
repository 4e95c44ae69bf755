"""The sweep dashboard (``loopnest sweep report``): one self-contained HTML page of a store's rows.

Per workload: the Pareto scatter over the first two chosen metrics (every valid design, the front
drawn on top; hovering a point shows its axis values), per-axis plots of each metric's geometric
mean over the other axes, the sensitivity table, and the table of every row (invalid ones with
their reason). Presentation only: the numbers come from ``loopnest.dse.analysis``.
"""

from __future__ import annotations

from pathlib import Path

from loopnest.dse.analysis import axis_effects, by_workload, front_rows, sensitivity
from loopnest.dse.pareto import METRIC_COLUMNS
from loopnest.report.html import Section, Table, write_report
from loopnest.report.plots import Chart, Series

_NAMES = {v: k for k, v in METRIC_COLUMNS.items()}


def _label(metric: str, units: str) -> str:
    return {"energy_pj": f"energy ({units})", "cycles": "latency (cycles)", "area_um2": "area (um^2)",
            "edp": f"EDP ({units} x cycles)"}[metric]


def _wide(values: list[float]) -> bool:
    """Log axis for positive values spanning 8x or more (sizes swept in powers of two); the 1e-9
    slack keeps an exact 8x of geometric means (exp of a mean of logs rounds) on the log side."""
    return min(values) > 0 and max(values) >= 8 * min(values) * (1 - 1e-9)


def design_label(row: dict) -> str:
    """The hover text of a design: its axis values, one per line."""
    return "<br>".join(f"{k} = {v}" for k, v in row["params"].items()) or "the base architecture"


def _workload_sections(model: str, batch: int, group: list[dict], front: list[dict], metrics: list[str],
                       units: str, slug: str) -> Section:
    x, y = metrics[0], metrics[1]
    keys = {r["key"] for r in front}
    rest = [r for r in group if r["key"] not in keys]
    front = sorted(front, key=lambda r: (r[x], r[y]))
    series = [Series("designs", [r[y] for r in rest], x=[r[x] for r in rest], mode="markers",
                     labels=[design_label(r) for r in rest], hollow=True, color="#7f7f7f"),
              Series("Pareto front", [r[y] for r in front], x=[r[x] for r in front], mode="markers",
                     labels=[design_label(r) for r in front], color="#d62728")]
    over = ", ".join(_NAMES[m] for m in metrics)
    charts = [Chart(f"pareto-{slug}", f"{model} (batch {batch}): Pareto front over {over}", series,
                    x_label=_label(x, units), y_label=_label(y, units), log_x=True, log_y=True,
                    notes=[f"{len(front)} of {len(group)} valid designs are on the front over {over}"
                           + (" (the third metric is not drawn)." if len(metrics) == 3 else ".")])]
    axes = list(dict.fromkeys(k for r in group for k in r["params"]))
    for i, axis in enumerate(axes):
        for metric in metrics:
            eff = axis_effects(group, axis, metric)
            if len(eff) < 2:
                continue
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v, _ in eff)
            title = f"{model}: {_NAMES[metric]} against {axis}"
            if numeric:
                eff = sorted(eff, key=lambda e: e[0])
                s = Series(_NAMES[metric], [m for _, m in eff], x=[float(v) for v, _ in eff], mode="line")
                charts.append(Chart(f"axis-{slug}-{i}-{metric}", title, [s], x_label=axis, y_label=_label(metric, units),
                                    log_x=_wide([v for v, _ in eff]), log_y=_wide([m for _, m in eff])))
            else:
                s = Series(_NAMES[metric], [m for _, m in eff], mode="bar")
                charts.append(Chart(f"axis-{slug}-{i}-{metric}", title, [s], x_label=axis, y_label=_label(metric, units),
                                    categories=[str(v) for v, _ in eff]))
    text = [f"{len(group)} valid designs. Per-axis plots show each metric's geometric mean over the rows with that "
            "axis value (the other axes averaged out)."] if axes else [f"{len(group)} valid designs."]
    return Section(f"{model} (batch {batch})", text, [], charts)


def sweep_sections(rows: list[dict], metrics: list[str], store: str) -> tuple[list[Section], dict]:
    """The dashboard's sections and its JSON export (rows, front keys, sensitivity)."""
    units = ", ".join(sorted({r["energy_units"] for r in rows if r["energy_units"]})) or "pJ"
    front = front_rows(rows, metrics)
    sens = sensitivity(rows, metrics)
    invalid = sum(r["status"] != "ok" for r in rows)
    sections = [Section("Summary", [f"Store {store}: {len(rows)} rows, {invalid} invalid. Pareto fronts per workload over "
                                    f"{', '.join(_NAMES[m] for m in metrics)}, every metric minimized."])]
    for n, ((model, batch), group) in enumerate(by_workload(rows).items()):
        mine = [r for r in front if (r["model"], r["batch"]) == (model, batch)]
        sections.append(_workload_sections(model, batch, group, mine, metrics, units, f"w{n}"))
    if sens:
        sections.append(Section("Sensitivity", ["Largest over smallest per-value geometric mean of the metric "
                                                "(1.0: the metric does not move with this axis)."],
                                [Table("sensitivity of each metric to each axis",
                                       ["workload", "axis", "metric", "max / min", "lowest at", "highest at"],
                                       [[f"{s['model']} (N={s['batch']})", s["axis"], _NAMES[s["metric"]], s["ratio"],
                                         str(s["lowest_at"]), str(s["highest_at"])] for s in sens])]))
    params = list(dict.fromkeys(k for r in rows for k in r["params"]))
    keys = {r["key"] for r in front}
    table = Table(f"every row (energy in {units}, latency in cycles, area in um^2)",
                  ["#", *params, "workload", "status", "on front", "energy", "cycles", "area um^2", "EDP", "utilization", "reason"],
                  [[r["point"], *[str(r["params"].get(p, "")) for p in params], f"{r['model']} (N={r['batch']})", r["status"],
                    "yes" if r["key"] in keys else "", r["energy_pj"], r["cycles"], r["area_um2"], r["edp"],
                    r["utilization"], r["reason"] or ""] for r in rows])
    sections.append(Section("All designs", [], [table]))
    result = {"store": store, "metrics": metrics, "front": [r["key"] for r in front], "sensitivity": sens, "rows": rows}
    return sections, result


def sweep_charts(rows: list[dict], metrics: list[str]) -> list:
    """The dashboard's charts (Pareto scatter and per-axis plots of each workload), for static files."""
    return [c for sec in sweep_sections(rows, metrics, "")[0] for c in sec.charts]


def write_sweep_report(rows: list[dict], metrics: list[str], store: str, path: str | Path) -> Path:
    sections, result = sweep_sections(rows, metrics, store)
    return write_report(path, f"loopnest sweep: {store}", sections, result)
